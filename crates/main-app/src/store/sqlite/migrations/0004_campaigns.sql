-- Contacts, the do-not-call list, campaigns, their members (the unit the engine claims) and dial
-- attempts.

CREATE TABLE contacts (
    id            TEXT PRIMARY KEY NOT NULL,
    phone         TEXT NOT NULL UNIQUE,      -- E.164
    first_name    TEXT,
    last_name     TEXT,
    name          TEXT,
    email         TEXT,
    time_zone     TEXT,
    tags          TEXT NOT NULL,             -- JSON array of strings
    custom_fields TEXT NOT NULL,             -- JSON object of strings
    notes         TEXT,
    search        TEXT NOT NULL,             -- lower-cased name, number and email, for LIKE
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX contacts_created ON contacts (created_at DESC, id DESC);

CREATE TABLE dnc (
    phone      TEXT PRIMARY KEY NOT NULL,   -- E.164
    reason     TEXT,
    source     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX dnc_created ON dnc (created_at DESC, phone DESC);

CREATE TABLE campaigns (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT,
    status        TEXT NOT NULL,
    status_reason TEXT,
    settings      TEXT NOT NULL,             -- JSON CampaignSettings
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER
) STRICT;
CREATE INDEX campaigns_created ON campaigns (created_at DESC, id DESC);
CREATE INDEX campaigns_status ON campaigns (status, created_at DESC);

CREATE TABLE campaign_members (
    id           TEXT PRIMARY KEY NOT NULL,
    campaign_id  TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id   TEXT NOT NULL,              -- no foreign key: a deleted contact is skipped
    seq          INTEGER NOT NULL,
    state        TEXT NOT NULL,
    due_at       INTEGER,                    -- pending: due; claimed: lease expiry; else NULL
    lease_owner  TEXT,
    lease_until  INTEGER,
    attempts     INTEGER NOT NULL,
    attempt_id   TEXT,
    call_id      TEXT,
    last_outcome TEXT,
    note         TEXT,
    updated_at   INTEGER NOT NULL,
    UNIQUE (campaign_id, contact_id)
) STRICT;
CREATE INDEX campaign_members_due ON campaign_members (campaign_id, due_at, seq) WHERE due_at IS NOT NULL;
CREATE INDEX campaign_members_state ON campaign_members (campaign_id, state, seq);
CREATE INDEX campaign_members_in_flight ON campaign_members (updated_at) WHERE state IN ('dialing', 'live');
CREATE INDEX campaign_members_contact ON campaign_members (contact_id);
CREATE INDEX campaign_members_attempt ON campaign_members (attempt_id) WHERE attempt_id IS NOT NULL;

CREATE TABLE campaign_attempts (
    id            TEXT PRIMARY KEY NOT NULL,
    campaign_id   TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    contact_id    TEXT NOT NULL,
    member_id     TEXT NOT NULL,
    number        INTEGER NOT NULL,
    instance_id   TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    call_id       TEXT,
    ended_at      INTEGER,
    outcome       TEXT,
    outcome_final INTEGER NOT NULL,
    result        TEXT NOT NULL,
    detail        TEXT
) STRICT;
CREATE INDEX campaign_attempts_campaign ON campaign_attempts (campaign_id, started_at, id);
CREATE INDEX campaign_attempts_contact ON campaign_attempts (campaign_id, contact_id, started_at);
CREATE INDEX campaign_attempts_ended ON campaign_attempts (campaign_id, ended_at) WHERE result = 'dialled';
CREATE INDEX campaign_attempts_unsettled ON campaign_attempts (ended_at) WHERE outcome_final = 0 AND ended_at IS NOT NULL;

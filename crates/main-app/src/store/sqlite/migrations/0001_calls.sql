-- Calls, their audit log, and exactly-once keys.
-- Times are INTEGER milliseconds since the Unix epoch; structured values are JSON text.

CREATE TABLE calls (
    id                   TEXT PRIMARY KEY NOT NULL,
    call_sid             TEXT,
    to_number            TEXT NOT NULL,
    from_number          TEXT NOT NULL,
    direction            TEXT NOT NULL,
    status               TEXT NOT NULL,
    -- CallStatus::rank() of `status`; the monotonic update compares against it.
    status_rank          INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    answered_at          INTEGER,
    ended_at             INTEGER,
    twilio_duration_secs INTEGER,
    answered_by          TEXT,
    outcome              TEXT,
    terminated_by        TEXT,
    conversation_id      TEXT,
    stream_sid           TEXT,
    name                 TEXT,
    prompt               TEXT,
    first_message        TEXT,
    language             TEXT,
    dynamic_variables    TEXT NOT NULL,
    contact_id           TEXT,
    campaign_id          TEXT,
    idempotency_key      TEXT,
    error                TEXT
) STRICT;

CREATE UNIQUE INDEX calls_call_sid ON calls (call_sid) WHERE call_sid IS NOT NULL;
CREATE UNIQUE INDEX calls_idempotency_key ON calls (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX calls_created_at ON calls (created_at DESC, id DESC);
CREATE INDEX calls_status ON calls (status, created_at DESC);
CREATE INDEX calls_campaign ON calls (campaign_id, created_at DESC) WHERE campaign_id IS NOT NULL;
CREATE INDEX calls_contact ON calls (contact_id, created_at DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX calls_unfinished ON calls (created_at) WHERE status_rank < 4;

CREATE TABLE call_events (
    id         TEXT PRIMARY KEY NOT NULL,
    call_id    TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    source     TEXT NOT NULL,
    data       TEXT NOT NULL,
    dedupe_key TEXT
) STRICT;

CREATE INDEX call_events_call_at ON call_events (call_id, at, id);
CREATE UNIQUE INDEX call_events_dedupe ON call_events (call_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE once_keys (
    key        TEXT PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

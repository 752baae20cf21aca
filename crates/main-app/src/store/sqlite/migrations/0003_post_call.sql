-- Live events and post-call processing: live transcript lines, the conversation link and the
-- post-call record, recordings, the CRM outbox, the webhook inbox and per-call follow-ups.

CREATE TABLE transcript_lines (
    call_id    TEXT NOT NULL REFERENCES calls(id),
    idx        INTEGER NOT NULL,
    line       TEXT NOT NULL,            -- JSON TranscriptLine
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (call_id, idx)
) STRICT;

CREATE TABLE conversations (
    call_id         TEXT PRIMARY KEY NOT NULL REFERENCES calls(id),
    conversation_id TEXT NOT NULL UNIQUE,
    linked_at       INTEGER NOT NULL,
    post_call       TEXT,                -- JSON PostCall
    post_call_at    INTEGER
) STRICT;
CREATE INDEX conversations_missing_post_call ON conversations (linked_at) WHERE post_call IS NULL;

CREATE TABLE recordings (
    sid           TEXT PRIMARY KEY NOT NULL,
    call_id       TEXT NOT NULL REFERENCES calls(id),
    call_sid      TEXT,
    status        TEXT NOT NULL,
    status_rank   INTEGER NOT NULL,
    duration_secs INTEGER,
    channels      INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    to_number     TEXT,
    name          TEXT,
    error_code    TEXT
) STRICT;
CREATE INDEX recordings_by_call ON recordings (call_id, created_at);
CREATE INDEX recordings_listed ON recordings (created_at DESC, sid DESC) WHERE status <> 'deleted';

CREATE TABLE crm_deliveries (
    id              TEXT PRIMARY KEY NOT NULL,
    call_id         TEXT NOT NULL UNIQUE REFERENCES calls(id),
    idempotency_key TEXT NOT NULL,
    payload         TEXT NOT NULL,       -- JSON
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT,
    log             TEXT NOT NULL,       -- JSON array of attempts
    lease_owner     TEXT,
    lease_until     INTEGER
) STRICT;
CREATE INDEX crm_deliveries_due ON crm_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX crm_deliveries_listed ON crm_deliveries (created_at DESC, id DESC);

CREATE TABLE webhook_inbox (
    id           TEXT PRIMARY KEY NOT NULL,
    source       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL UNIQUE,
    received_at  INTEGER NOT NULL,
    body         TEXT NOT NULL,
    processed_at INTEGER,
    error        TEXT
) STRICT;
CREATE INDEX webhook_inbox_unprocessed ON webhook_inbox (received_at) WHERE processed_at IS NULL;

CREATE TABLE call_followups (
    call_id         TEXT PRIMARY KEY NOT NULL REFERENCES calls(id),
    amd_policy      TEXT,                -- JSON AmdPolicy
    finalize_due_at INTEGER,
    lease_until     INTEGER,
    finalized_at    INTEGER
) STRICT;
CREATE INDEX call_followups_due ON call_followups (finalize_due_at)
    WHERE finalized_at IS NULL AND finalize_due_at IS NOT NULL;

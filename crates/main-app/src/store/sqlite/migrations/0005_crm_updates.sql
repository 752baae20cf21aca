-- CRM updates: a call may now have a second delivery, an `update` carrying post-call data that
-- arrived after its final report went out without it. Uniqueness moves from the call to the
-- idempotency key (`call-<id>` for the final report, `call-<id>:update:<conversation>` for an
-- update); `kind` and the conversation whose post-call data a payload carries are recorded.
-- SQLite cannot drop a column constraint, so the table is rebuilt (nothing references it).

CREATE TABLE crm_deliveries_v5 (
    id                     TEXT PRIMARY KEY NOT NULL,
    call_id                TEXT NOT NULL REFERENCES calls(id),
    kind                   TEXT NOT NULL,       -- final | update
    idempotency_key        TEXT NOT NULL UNIQUE,
    payload                TEXT NOT NULL,       -- JSON
    post_call_conversation TEXT,
    status                 TEXT NOT NULL,
    attempts               INTEGER NOT NULL,
    next_attempt_at        INTEGER NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    delivered_at           INTEGER,
    last_error             TEXT,
    log                    TEXT NOT NULL,       -- JSON array of attempts
    lease_owner            TEXT,
    lease_until            INTEGER
) STRICT;

INSERT INTO crm_deliveries_v5 (id, call_id, kind, idempotency_key, payload, post_call_conversation, status,
    attempts, next_attempt_at, created_at, updated_at, delivered_at, last_error, log, lease_owner, lease_until)
SELECT id, call_id, 'final', idempotency_key, payload, NULL, status, attempts, next_attempt_at, created_at,
    updated_at, delivered_at, last_error, log, lease_owner, lease_until
FROM crm_deliveries;

DROP TABLE crm_deliveries;
ALTER TABLE crm_deliveries_v5 RENAME TO crm_deliveries;
CREATE INDEX crm_deliveries_due ON crm_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX crm_deliveries_listed ON crm_deliveries (created_at DESC, id DESC);
CREATE INDEX crm_deliveries_by_call ON crm_deliveries (call_id, created_at);

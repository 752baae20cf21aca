-- Bulk transcript recovery remembers its failures, so a conversation ElevenLabs no longer has
-- (404 forever) is given up instead of being fetched first on every run and starving the rest.

ALTER TABLE conversations ADD COLUMN recovery_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN recovery_error TEXT;
ALTER TABLE conversations ADD COLUMN recovery_given_up_at INTEGER;
DROP INDEX conversations_missing_post_call;
CREATE INDEX conversations_missing_post_call ON conversations (recovery_attempts, linked_at)
    WHERE post_call IS NULL AND recovery_given_up_at IS NULL;

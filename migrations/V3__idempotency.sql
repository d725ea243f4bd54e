-- Responses to requests sent with an Idempotency-Key, kept 24 h so that a retry replays them.
-- A success is stored in the same transaction as the write it answers.
CREATE TABLE idempotency_keys (
    api_key_id  TEXT NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    idem_key    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      INTEGER NOT NULL,
    location    TEXT,
    body        BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (api_key_id, method, path, idem_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Webhooks and their outbox. A write adds one event row per journal entry that some enabled
-- hook wants, in its own transaction (so a committed change is announced even across a crash);
-- the worker turns events into per-hook deliveries behind each hook's cursor, off the write path.
CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL,      -- JSON array of entity_type.action patterns
    network_ids          TEXT NOT NULL,      -- JSON array; empty: every network
    format               TEXT NOT NULL CHECK (format IN ('json', 'ntfy', 'discord')),
    secret               TEXT,
    enabled              INTEGER NOT NULL,
    last_delivery_status INTEGER,
    failing_since        TEXT,
    cursor               INTEGER NOT NULL DEFAULT 0,   -- the last webhook_events.seq handed out
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
);

CREATE TABLE webhook_events (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL,             -- the journal entry's id
    event_type  TEXT NOT NULL,
    network_id  TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE webhook_deliveries (
    seq              INTEGER PRIMARY KEY,    -- journal order, per hook by (webhook_id, seq)
    id               TEXT NOT NULL UNIQUE,
    webhook_id       TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL,          -- the journal entry's id
    event_type       TEXT NOT NULL,          -- the body is built from the journal entry when sent
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL,
    response_status  INTEGER,
    latency_ms       INTEGER,
    error            TEXT,
    next_attempt_at  TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, webhook_id, seq);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, seq);

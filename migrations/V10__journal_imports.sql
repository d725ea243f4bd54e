-- An import is journaled as one entry of its own (action 'import'), and journal entries that
-- came in with an import are marked as such: they keep the actor they name, but nobody vouches
-- that it made them. SQLite cannot widen a CHECK in place, so the table is rebuilt, keeping
-- every entry's seq (webhook cursors point at it).
CREATE TABLE changes_rebuilt (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL,
    time           TEXT NOT NULL,
    action         TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'import')),
    entity_type    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    network_id     TEXT,
    host_id        TEXT,
    service_id     TEXT,
    actor_type     TEXT NOT NULL CHECK (actor_type IN ('api_key', 'discovery', 'cli', 'system')),
    actor_id       TEXT,
    actor_name     TEXT,
    request_id     TEXT,
    changed_fields TEXT NOT NULL DEFAULT '[]',
    before         TEXT,
    after          TEXT,
    imported       INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1))
);
INSERT INTO changes_rebuilt (seq, id, time, action, entity_type, entity_id, network_id, host_id,
                             service_id, actor_type, actor_id, actor_name, request_id,
                             changed_fields, before, after)
SELECT seq, id, time, action, entity_type, entity_id, network_id, host_id, service_id,
       actor_type, actor_id, actor_name, request_id, changed_fields, before, after
FROM changes;
DROP TABLE changes;
ALTER TABLE changes_rebuilt RENAME TO changes;
CREATE INDEX changes_entity ON changes (entity_id, seq);
CREATE INDEX changes_network ON changes (network_id, seq);
CREATE INDEX changes_host ON changes (host_id, seq) WHERE host_id IS NOT NULL;
CREATE INDEX changes_service ON changes (service_id, seq) WHERE service_id IS NOT NULL;
CREATE INDEX changes_request ON changes (request_id);
CREATE INDEX changes_time ON changes (time);

-- Dependencies between services: a request path (each member depends on the next) or a hub and
-- its spokes (every other member depends on the first). Members live in the row as JSON
-- ([{service_id, binding_id}], in order), so that a closed version keeps them as they were.
CREATE TABLE dependencies (
    id                 TEXT PRIMARY KEY,
    network_id         TEXT NOT NULL REFERENCES networks (id),
    name               TEXT NOT NULL,
    description        TEXT,
    dependency_type    TEXT NOT NULL CHECK (dependency_type IN ('RequestPath', 'HubAndSpoke')),
    members            TEXT NOT NULL,
    color              TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    first_discovery_id TEXT,
    last_discovery_id  TEXT
);
CREATE INDEX dependencies_order ON dependencies (created_at, id);
CREATE INDEX dependencies_network ON dependencies (network_id, created_at, id);

CREATE TABLE dependency_tags (
    entity_id TEXT NOT NULL REFERENCES dependencies (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (entity_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX dependency_tags_tag ON dependency_tags (tag_id);

CREATE TABLE dependency_versions (
    id                 TEXT NOT NULL,
    lineage_id         TEXT NOT NULL,
    valid_to           TEXT NOT NULL,
    network_id         TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT,
    dependency_type    TEXT NOT NULL,
    members            TEXT NOT NULL,
    color              TEXT NOT NULL,
    tags               TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    first_discovery_id TEXT,
    last_discovery_id  TEXT
);
CREATE INDEX dependency_versions_lineage ON dependency_versions (lineage_id, valid_from);
CREATE INDEX dependency_versions_network ON dependency_versions (network_id, valid_to);
CREATE INDEX dependency_versions_valid_to ON dependency_versions (valid_to);

CREATE TRIGGER dependencies_delete_needs_version BEFORE DELETE ON dependencies
WHEN NOT EXISTS (SELECT 1 FROM dependency_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a dependency was deleted without closing its last version');
END;

-- History (seed 002's temporal fields made real).
--
-- `changes` is the journal: one row per object a write changed, with the objects as the API shows
-- them. The closed versions of the six tracked entities are derived from it: the one function that
-- writes an entry (`ops::journal::Writer::record`) turns the `before` image of every update or
-- delete of a tracked entity into a row of `<entity>_versions` (`db::versions::close`), whose id
-- is the entry's id and whose `valid_to` is the entry's time. Nothing else writes the versions
-- tables, so versions and journal cannot disagree. (A trigger on `changes` could do the same, but
-- a statement with triggers makes SQLite journal every page it touches, per entry.) Live tables
-- keep only live rows, so the indexes live reads use never hold closed versions.
--
-- Versions are rowid tables appended in journal order; their id (the entry's) is not indexed.
--
-- A guard on each live table refuses to delete a row whose current state was not closed first
-- (a delete, or a cascade, that the journal did not see).

CREATE TABLE changes (
    seq            INTEGER PRIMARY KEY,
    -- Nothing is looked up by this id (versions are found by lineage), so it has no index: every
    -- index on a random key costs a page per write.
    id             TEXT NOT NULL,
    time           TEXT NOT NULL,
    action         TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    entity_type    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    network_id     TEXT,
    -- The host and service an entry belongs to, so that a host's or a service's timeline
    -- includes its parts (also the ones deleted since).
    host_id        TEXT,
    service_id     TEXT,
    actor_type     TEXT NOT NULL CHECK (actor_type IN ('api_key', 'discovery', 'cli', 'system')),
    actor_id       TEXT,
    actor_name     TEXT,
    request_id     TEXT,
    changed_fields TEXT NOT NULL DEFAULT '[]',
    before         TEXT,
    after          TEXT
);
CREATE INDEX changes_entity ON changes (entity_id, seq);
CREATE INDEX changes_network ON changes (network_id, seq);
CREATE INDEX changes_host ON changes (host_id, seq) WHERE host_id IS NOT NULL;
CREATE INDEX changes_service ON changes (service_id, seq) WHERE service_id IS NOT NULL;
CREATE INDEX changes_request ON changes (request_id);
CREATE INDEX changes_time ON changes (time);

ALTER TABLE hosts ADD COLUMN valid_from TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE hosts SET valid_from = created_at, last_seen_at = updated_at;
ALTER TABLE hosts ADD COLUMN first_discovery_id TEXT;
ALTER TABLE hosts ADD COLUMN last_discovery_id TEXT;

ALTER TABLE subnets ADD COLUMN valid_from TEXT NOT NULL DEFAULT '';
ALTER TABLE subnets ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE subnets SET valid_from = created_at, last_seen_at = updated_at;
ALTER TABLE subnets ADD COLUMN first_discovery_id TEXT;
ALTER TABLE subnets ADD COLUMN last_discovery_id TEXT;

ALTER TABLE ip_addresses ADD COLUMN valid_from TEXT NOT NULL DEFAULT '';
ALTER TABLE ip_addresses ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE ip_addresses SET valid_from = created_at, last_seen_at = updated_at;
ALTER TABLE ip_addresses ADD COLUMN first_discovery_id TEXT;
ALTER TABLE ip_addresses ADD COLUMN last_discovery_id TEXT;

ALTER TABLE ports ADD COLUMN valid_from TEXT NOT NULL DEFAULT '';
ALTER TABLE ports ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE ports SET valid_from = created_at, last_seen_at = updated_at;
ALTER TABLE ports ADD COLUMN first_discovery_id TEXT;
ALTER TABLE ports ADD COLUMN last_discovery_id TEXT;

ALTER TABLE services ADD COLUMN valid_from TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
UPDATE services SET valid_from = created_at, last_seen_at = updated_at;
ALTER TABLE services ADD COLUMN first_discovery_id TEXT;
ALTER TABLE services ADD COLUMN last_discovery_id TEXT;

ALTER TABLE bindings ADD COLUMN first_discovery_id TEXT;
ALTER TABLE bindings ADD COLUMN last_discovery_id TEXT;

CREATE TABLE host_versions (
    id                 TEXT NOT NULL,
    lineage_id         TEXT NOT NULL,
    valid_to           TEXT NOT NULL,
    network_id         TEXT NOT NULL,
    name               TEXT NOT NULL,
    hostname           TEXT,
    description        TEXT,
    hidden             INTEGER NOT NULL,
    virtualization     TEXT,
    source             TEXT NOT NULL,
    tags               TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    first_discovery_id TEXT,
    last_discovery_id  TEXT
);
CREATE INDEX host_versions_lineage ON host_versions (lineage_id, valid_from);
CREATE INDEX host_versions_network ON host_versions (network_id, valid_to);
CREATE INDEX host_versions_valid_to ON host_versions (valid_to);

CREATE TRIGGER hosts_delete_needs_version BEFORE DELETE ON hosts
WHEN NOT EXISTS (SELECT 1 FROM host_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a host was deleted without closing its last version');
END;

CREATE TABLE subnet_versions (
    id                 TEXT NOT NULL,
    lineage_id         TEXT NOT NULL,
    valid_to           TEXT NOT NULL,
    network_id         TEXT NOT NULL,
    cidr               TEXT NOT NULL,
    name               TEXT NOT NULL,
    description        TEXT,
    subnet_type        TEXT NOT NULL,
    tags               TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    first_discovery_id TEXT,
    last_discovery_id  TEXT
);
CREATE INDEX subnet_versions_lineage ON subnet_versions (lineage_id, valid_from);
CREATE INDEX subnet_versions_network ON subnet_versions (network_id, valid_to);
CREATE INDEX subnet_versions_valid_to ON subnet_versions (valid_to);

CREATE TRIGGER subnets_delete_needs_version BEFORE DELETE ON subnets
WHEN NOT EXISTS (SELECT 1 FROM subnet_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a subnet was deleted without closing its last version');
END;

CREATE TABLE ip_address_versions (
    id                 TEXT NOT NULL,
    lineage_id         TEXT NOT NULL,
    valid_to           TEXT NOT NULL,
    host_id            TEXT NOT NULL,
    network_id         TEXT NOT NULL,
    subnet_id          TEXT,
    ip_address         TEXT NOT NULL,
    mac_address        TEXT,
    name               TEXT,
    position           INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    first_discovery_id TEXT,
    last_discovery_id  TEXT
);
CREATE INDEX ip_address_versions_lineage ON ip_address_versions (lineage_id, valid_from);
CREATE INDEX ip_address_versions_host ON ip_address_versions (host_id, valid_to);
CREATE INDEX ip_address_versions_valid_to ON ip_address_versions (valid_to);

CREATE TRIGGER ip_addresses_delete_needs_version BEFORE DELETE ON ip_addresses
WHEN NOT EXISTS (SELECT 1 FROM ip_address_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a ip address was deleted without closing its last version');
END;

CREATE TABLE port_versions (
    id                 TEXT NOT NULL,
    lineage_id         TEXT NOT NULL,
    valid_to           TEXT NOT NULL,
    host_id            TEXT NOT NULL,
    network_id         TEXT NOT NULL,
    number             INTEGER NOT NULL,
    protocol           TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    first_discovery_id TEXT,
    last_discovery_id  TEXT
);
CREATE INDEX port_versions_lineage ON port_versions (lineage_id, valid_from);
CREATE INDEX port_versions_host ON port_versions (host_id, valid_to);
CREATE INDEX port_versions_valid_to ON port_versions (valid_to);

CREATE TRIGGER ports_delete_needs_version BEFORE DELETE ON ports
WHEN NOT EXISTS (SELECT 1 FROM port_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a port was deleted without closing its last version');
END;

CREATE TABLE service_versions (
    id                 TEXT NOT NULL,
    lineage_id         TEXT NOT NULL,
    valid_to           TEXT NOT NULL,
    host_id            TEXT NOT NULL,
    network_id         TEXT NOT NULL,
    name               TEXT NOT NULL,
    service_definition TEXT NOT NULL,
    position           INTEGER NOT NULL,
    virtualization     TEXT,
    source             TEXT NOT NULL,
    tags               TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    first_discovery_id TEXT,
    last_discovery_id  TEXT
);
CREATE INDEX service_versions_lineage ON service_versions (lineage_id, valid_from);
CREATE INDEX service_versions_host ON service_versions (host_id, valid_to);
CREATE INDEX service_versions_valid_to ON service_versions (valid_to);

CREATE TRIGGER services_delete_needs_version BEFORE DELETE ON services
WHEN NOT EXISTS (SELECT 1 FROM service_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a service was deleted without closing its last version');
END;

CREATE TABLE binding_versions (
    id                 TEXT NOT NULL,
    lineage_id         TEXT NOT NULL,
    valid_to           TEXT NOT NULL,
    service_id         TEXT NOT NULL,
    network_id         TEXT NOT NULL,
    type               TEXT NOT NULL,
    port_id            TEXT,
    ip_address_id      TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    first_discovery_id TEXT,
    last_discovery_id  TEXT
);
CREATE INDEX binding_versions_lineage ON binding_versions (lineage_id, valid_from);
CREATE INDEX binding_versions_service ON binding_versions (service_id, valid_to);
CREATE INDEX binding_versions_valid_to ON binding_versions (valid_to);

CREATE TRIGGER bindings_delete_needs_version BEFORE DELETE ON bindings
WHEN NOT EXISTS (SELECT 1 FROM binding_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a binding was deleted without closing its last version');
END;

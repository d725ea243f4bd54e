-- History stored once (see `domain::journal_image`). A versioned object's state is stored
-- whole once, as its version row when closed. The journal entry that closed it keeps its
-- `before` folded onto that row, and in `prior` the `after` of the entry that began the state,
-- folded onto the same row; that earlier entry's `after` column is then NULL. While a state is
-- live, the `after` of the entry that began it is kept whole in `journal_open_afters`, the one
-- place an image is stored beside the live row (one per live object, not per change).
--
-- Each versions table is rebuilt with `seq`, the seq of the entry that closed the row (an
-- explicit INTEGER PRIMARY KEY, so that VACUUM keeps it); a version whose entry is gone gets a
-- negative seq, out of the journal's way. Folding the existing entries' images happens after
-- this file, in `db::history_fold::fold_existing` (it needs the images' key orders).

-- The key orders of folded images: one row per distinct order.
CREATE TABLE journal_shapes (
    id   INTEGER PRIMARY KEY,
    keys TEXT NOT NULL UNIQUE
);
CREATE TABLE journal_open_afters (
    seq   INTEGER PRIMARY KEY,
    after TEXT NOT NULL
);
ALTER TABLE changes ADD COLUMN prior TEXT;
INSERT INTO settings (key, value) VALUES ('journal_folded', '0');

CREATE INDEX changes_id_for_migration ON changes (id);


DROP TRIGGER hosts_delete_needs_version;
CREATE TABLE host_versions_keyed (
    seq                INTEGER PRIMARY KEY,
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
INSERT INTO host_versions_keyed (seq, id, lineage_id, valid_to, network_id, name, hostname, description, hidden, virtualization, source, tags, created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id)
SELECT coalesce((SELECT c.seq FROM changes c WHERE c.id = v.id), -v.rowid), v.id, v.lineage_id, v.valid_to, v.network_id, v.name, v.hostname, v.description, v.hidden, v.virtualization, v.source, v.tags, v.created_at, v.updated_at, v.valid_from, v.last_seen_at, v.first_discovery_id, v.last_discovery_id FROM host_versions v;
DROP TABLE host_versions;
ALTER TABLE host_versions_keyed RENAME TO host_versions;
CREATE INDEX host_versions_lineage ON host_versions (lineage_id, valid_from);
CREATE INDEX host_versions_network ON host_versions (network_id, valid_to);
CREATE INDEX host_versions_valid_to ON host_versions (valid_to);
CREATE TRIGGER hosts_delete_needs_version BEFORE DELETE ON hosts
WHEN NOT EXISTS (SELECT 1 FROM host_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a host was deleted without closing its last version');
END;

DROP TRIGGER subnets_delete_needs_version;
CREATE TABLE subnet_versions_keyed (
    seq                INTEGER PRIMARY KEY,
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
INSERT INTO subnet_versions_keyed (seq, id, lineage_id, valid_to, network_id, cidr, name, description, subnet_type, tags, created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id)
SELECT coalesce((SELECT c.seq FROM changes c WHERE c.id = v.id), -v.rowid), v.id, v.lineage_id, v.valid_to, v.network_id, v.cidr, v.name, v.description, v.subnet_type, v.tags, v.created_at, v.updated_at, v.valid_from, v.last_seen_at, v.first_discovery_id, v.last_discovery_id FROM subnet_versions v;
DROP TABLE subnet_versions;
ALTER TABLE subnet_versions_keyed RENAME TO subnet_versions;
CREATE INDEX subnet_versions_lineage ON subnet_versions (lineage_id, valid_from);
CREATE INDEX subnet_versions_network ON subnet_versions (network_id, valid_to);
CREATE INDEX subnet_versions_valid_to ON subnet_versions (valid_to);
CREATE TRIGGER subnets_delete_needs_version BEFORE DELETE ON subnets
WHEN NOT EXISTS (SELECT 1 FROM subnet_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a subnet was deleted without closing its last version');
END;

DROP TRIGGER ip_addresses_delete_needs_version;
CREATE TABLE ip_address_versions_keyed (
    seq                INTEGER PRIMARY KEY,
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
INSERT INTO ip_address_versions_keyed (seq, id, lineage_id, valid_to, host_id, network_id, subnet_id, ip_address, mac_address, name, position, created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id)
SELECT coalesce((SELECT c.seq FROM changes c WHERE c.id = v.id), -v.rowid), v.id, v.lineage_id, v.valid_to, v.host_id, v.network_id, v.subnet_id, v.ip_address, v.mac_address, v.name, v.position, v.created_at, v.updated_at, v.valid_from, v.last_seen_at, v.first_discovery_id, v.last_discovery_id FROM ip_address_versions v;
DROP TABLE ip_address_versions;
ALTER TABLE ip_address_versions_keyed RENAME TO ip_address_versions;
CREATE INDEX ip_address_versions_lineage ON ip_address_versions (lineage_id, valid_from);
CREATE INDEX ip_address_versions_host ON ip_address_versions (host_id, valid_to);
CREATE INDEX ip_address_versions_valid_to ON ip_address_versions (valid_to);
CREATE TRIGGER ip_addresses_delete_needs_version BEFORE DELETE ON ip_addresses
WHEN NOT EXISTS (SELECT 1 FROM ip_address_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a ip address was deleted without closing its last version');
END;

DROP TRIGGER ports_delete_needs_version;
CREATE TABLE port_versions_keyed (
    seq                INTEGER PRIMARY KEY,
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
INSERT INTO port_versions_keyed (seq, id, lineage_id, valid_to, host_id, network_id, number, protocol, created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id)
SELECT coalesce((SELECT c.seq FROM changes c WHERE c.id = v.id), -v.rowid), v.id, v.lineage_id, v.valid_to, v.host_id, v.network_id, v.number, v.protocol, v.created_at, v.updated_at, v.valid_from, v.last_seen_at, v.first_discovery_id, v.last_discovery_id FROM port_versions v;
DROP TABLE port_versions;
ALTER TABLE port_versions_keyed RENAME TO port_versions;
CREATE INDEX port_versions_lineage ON port_versions (lineage_id, valid_from);
CREATE INDEX port_versions_host ON port_versions (host_id, valid_to);
CREATE INDEX port_versions_valid_to ON port_versions (valid_to);
CREATE TRIGGER ports_delete_needs_version BEFORE DELETE ON ports
WHEN NOT EXISTS (SELECT 1 FROM port_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a port was deleted without closing its last version');
END;

DROP TRIGGER services_delete_needs_version;
CREATE TABLE service_versions_keyed (
    seq                INTEGER PRIMARY KEY,
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
INSERT INTO service_versions_keyed (seq, id, lineage_id, valid_to, host_id, network_id, name, service_definition, position, virtualization, source, tags, created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id)
SELECT coalesce((SELECT c.seq FROM changes c WHERE c.id = v.id), -v.rowid), v.id, v.lineage_id, v.valid_to, v.host_id, v.network_id, v.name, v.service_definition, v.position, v.virtualization, v.source, v.tags, v.created_at, v.updated_at, v.valid_from, v.last_seen_at, v.first_discovery_id, v.last_discovery_id FROM service_versions v;
DROP TABLE service_versions;
ALTER TABLE service_versions_keyed RENAME TO service_versions;
CREATE INDEX service_versions_lineage ON service_versions (lineage_id, valid_from);
CREATE INDEX service_versions_host ON service_versions (host_id, valid_to);
CREATE INDEX service_versions_valid_to ON service_versions (valid_to);
CREATE TRIGGER services_delete_needs_version BEFORE DELETE ON services
WHEN NOT EXISTS (SELECT 1 FROM service_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a service was deleted without closing its last version');
END;

DROP TRIGGER bindings_delete_needs_version;
CREATE TABLE binding_versions_keyed (
    seq                INTEGER PRIMARY KEY,
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
INSERT INTO binding_versions_keyed (seq, id, lineage_id, valid_to, service_id, network_id, type, port_id, ip_address_id, created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id)
SELECT coalesce((SELECT c.seq FROM changes c WHERE c.id = v.id), -v.rowid), v.id, v.lineage_id, v.valid_to, v.service_id, v.network_id, v.type, v.port_id, v.ip_address_id, v.created_at, v.updated_at, v.valid_from, v.last_seen_at, v.first_discovery_id, v.last_discovery_id FROM binding_versions v;
DROP TABLE binding_versions;
ALTER TABLE binding_versions_keyed RENAME TO binding_versions;
CREATE INDEX binding_versions_lineage ON binding_versions (lineage_id, valid_from);
CREATE INDEX binding_versions_service ON binding_versions (service_id, valid_to);
CREATE INDEX binding_versions_valid_to ON binding_versions (valid_to);
CREATE TRIGGER bindings_delete_needs_version BEFORE DELETE ON bindings
WHEN NOT EXISTS (SELECT 1 FROM binding_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a binding was deleted without closing its last version');
END;

DROP TRIGGER dependencies_delete_needs_version;
CREATE TABLE dependency_versions_keyed (
    seq                INTEGER PRIMARY KEY,
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
INSERT INTO dependency_versions_keyed (seq, id, lineage_id, valid_to, network_id, name, description, dependency_type, members, color, tags, created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id)
SELECT coalesce((SELECT c.seq FROM changes c WHERE c.id = v.id), -v.rowid), v.id, v.lineage_id, v.valid_to, v.network_id, v.name, v.description, v.dependency_type, v.members, v.color, v.tags, v.created_at, v.updated_at, v.valid_from, v.last_seen_at, v.first_discovery_id, v.last_discovery_id FROM dependency_versions v;
DROP TABLE dependency_versions;
ALTER TABLE dependency_versions_keyed RENAME TO dependency_versions;
CREATE INDEX dependency_versions_lineage ON dependency_versions (lineage_id, valid_from);
CREATE INDEX dependency_versions_network ON dependency_versions (network_id, valid_to);
CREATE INDEX dependency_versions_valid_to ON dependency_versions (valid_to);
CREATE TRIGGER dependencies_delete_needs_version BEFORE DELETE ON dependencies
WHEN NOT EXISTS (SELECT 1 FROM dependency_versions WHERE lineage_id = OLD.id AND valid_from = OLD.valid_from)
BEGIN
    SELECT RAISE(ABORT, 'history: a dependency was deleted without closing its last version');
END;

DROP INDEX changes_id_for_migration;

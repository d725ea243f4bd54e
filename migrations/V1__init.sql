-- Portolan schema. Ids are UUID text; timestamps are fixed-width RFC 3339 UTC text, so they sort.
-- Deletes that the API protects (409 unless ?cascade=true) are checked in src/ops before any
-- DELETE runs; the ON DELETE actions below only carry out a delete that was already allowed.

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    permissions TEXT NOT NULL CHECK (permissions IN ('Viewer', 'Member', 'Admin', 'Owner')),
    network_ids TEXT NOT NULL DEFAULT '[]',
    key_hash    TEXT NOT NULL UNIQUE,
    expires_at  TEXT,
    is_enabled  INTEGER NOT NULL DEFAULT 1,
    last_used   TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE tags (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    color       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX tags_order ON tags (created_at, id);

CREATE TABLE networks (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX networks_order ON networks (created_at, id);

CREATE TABLE subnets (
    id          TEXT PRIMARY KEY,
    network_id  TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    cidr        TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    subnet_type TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (network_id, cidr)
);
CREATE INDEX subnets_order ON subnets (created_at, id);

CREATE TABLE hosts (
    id             TEXT PRIMARY KEY,
    network_id     TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    hostname       TEXT,
    description    TEXT,
    hidden         INTEGER NOT NULL DEFAULT 0,
    virtualization TEXT,
    source         TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX hosts_order ON hosts (created_at, id);
CREATE INDEX hosts_network ON hosts (network_id, created_at, id);

CREATE TABLE ip_addresses (
    id          TEXT PRIMARY KEY,
    host_id     TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    network_id  TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    subnet_id   TEXT REFERENCES subnets (id) ON DELETE SET NULL,
    ip_address  TEXT NOT NULL,
    mac_address TEXT,
    name        TEXT,
    position    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (host_id, ip_address)
);
CREATE INDEX ip_addresses_order ON ip_addresses (created_at, id);
CREATE INDEX ip_addresses_network ON ip_addresses (network_id, created_at, id);
CREATE INDEX ip_addresses_subnet ON ip_addresses (subnet_id);

CREATE TABLE ports (
    id         TEXT PRIMARY KEY,
    host_id    TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    network_id TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    number     INTEGER NOT NULL CHECK (number BETWEEN 1 AND 65535),
    protocol   TEXT NOT NULL CHECK (protocol IN ('Tcp', 'Udp')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (host_id, number, protocol)
);
CREATE INDEX ports_order ON ports (created_at, id);
CREATE INDEX ports_network ON ports (network_id, created_at, id);

CREATE TABLE service_types (
    id            TEXT PRIMARY KEY,
    category      TEXT NOT NULL,
    description   TEXT,
    generic       INTEGER NOT NULL DEFAULT 0,
    default_ports TEXT NOT NULL DEFAULT '[]',
    builtin       INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE services (
    id                 TEXT PRIMARY KEY,
    host_id            TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    network_id         TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    service_definition TEXT NOT NULL REFERENCES service_types (id),
    position           INTEGER NOT NULL,
    virtualization     TEXT,
    source             TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX services_order ON services (created_at, id);
CREATE INDEX services_host ON services (host_id, position, created_at);
CREATE INDEX services_network ON services (network_id, created_at, id);
CREATE INDEX services_definition ON services (service_definition);

-- Live bindings only; `ord` keeps the order in which the client listed them.
CREATE TABLE bindings (
    id                 TEXT PRIMARY KEY,
    service_id         TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    network_id         TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    type               TEXT NOT NULL CHECK (type IN ('IPAddress', 'Port')),
    port_id            TEXT REFERENCES ports (id) ON DELETE CASCADE,
    ip_address_id      TEXT REFERENCES ip_addresses (id) ON DELETE CASCADE,
    ord                INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    last_seen_at       TEXT NOT NULL,
    CHECK ((type = 'Port' AND port_id IS NOT NULL)
        OR (type = 'IPAddress' AND port_id IS NULL AND ip_address_id IS NOT NULL))
);
CREATE INDEX bindings_order ON bindings (created_at, id);
CREATE INDEX bindings_service ON bindings (service_id, ord);
CREATE INDEX bindings_port ON bindings (port_id);
CREATE INDEX bindings_ip_address ON bindings (ip_address_id);
CREATE INDEX bindings_network ON bindings (network_id, created_at, id);

-- Tags attached to objects, in the order the client gave them.
CREATE TABLE network_tags (
    entity_id TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (entity_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX network_tags_tag ON network_tags (tag_id);

CREATE TABLE subnet_tags (
    entity_id TEXT NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (entity_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX subnet_tags_tag ON subnet_tags (tag_id);

CREATE TABLE host_tags (
    entity_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (entity_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX host_tags_tag ON host_tags (tag_id);

CREATE TABLE service_tags (
    entity_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (entity_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX service_tags_tag ON service_tags (tag_id);

-- Discovery: each run of a source (a scan, an nmap upload, pushed observations), its progress,
-- its outcome, and for a plan the observations it will apply; and the schedules that start
-- scans. Entities a discovery created or saw carry its id in their temporal columns.
CREATE TABLE discoveries (
    id            TEXT PRIMARY KEY,
    network_id    TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
    source        TEXT NOT NULL CHECK (source IN ('scan', 'nmap', 'observations')),
    mode          TEXT NOT NULL CHECK (mode IN ('apply', 'plan')),
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    targets       TEXT NOT NULL,              -- JSON array of addresses and CIDR blocks
    ports         TEXT NOT NULL,              -- JSON array of port numbers scanned
    options       TEXT NOT NULL,              -- JSON object
    progress      TEXT NOT NULL,              -- JSON object
    summary       TEXT,                       -- JSON object, once finished
    plan          TEXT,                       -- JSON array, mode plan
    observations  TEXT,                       -- JSON array kept for a plan's apply
    applied_at    TEXT,
    error         TEXT,
    schedule_id   TEXT,
    created_by    TEXT NOT NULL,              -- JSON actor
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT
);
CREATE INDEX discoveries_network ON discoveries (network_id, created_at);
CREATE INDEX discoveries_status ON discoveries (status);

CREATE TABLE discovery_schedules (
    id                 TEXT PRIMARY KEY,
    network_id         TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    targets            TEXT NOT NULL,
    ports              TEXT NOT NULL,          -- JSON: what the user asked for (list, range or "catalog")
    options            TEXT NOT NULL,
    mode               TEXT NOT NULL CHECK (mode IN ('apply', 'plan')),
    interval_minutes   INTEGER NOT NULL CHECK (interval_minutes >= 5),
    enabled            INTEGER NOT NULL,
    last_run_at        TEXT,
    next_run_at        TEXT NOT NULL,
    last_discovery_id  TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX discovery_schedules_due ON discovery_schedules (enabled, next_run_at);

-- Matching an observation: an address in a network, a MAC in a network.
CREATE INDEX ip_addresses_network_address ON ip_addresses (network_id, ip_address);
CREATE INDEX ip_addresses_network_mac ON ip_addresses (network_id, mac_address) WHERE mac_address IS NOT NULL;

INSERT INTO settings (key, value) VALUES ('stale_after_hours', '168');

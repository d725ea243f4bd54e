-- Agents: `portolan agent` on a host reports what the host knows, with a token of its own.
-- Only the token's SHA-256 is stored, as for API keys.
CREATE TABLE agents (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    network_id   TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    enabled      INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    token_hash   TEXT NOT NULL UNIQUE,
    host_id      TEXT REFERENCES hosts (id) ON DELETE SET NULL,
    machine_id   TEXT,
    version      TEXT,
    capabilities TEXT NOT NULL DEFAULT '{"docker": false, "scan": false, "deploy": false}',
    interval_s   INTEGER NOT NULL DEFAULT 60,
    last_seen_at TEXT,
    last_report  TEXT,                       -- JSON object
    -- The last reconciled report's digest, and the host's newest journal entry after it: the
    -- same report again, with the host untouched since, needs no reconciliation.
    report_digest TEXT,
    report_seq    INTEGER,
    created_by   TEXT NOT NULL,              -- JSON actor
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX agents_network ON agents (network_id, created_at);
-- One agent per machine and network: a second one reporting the same machine is refused.
CREATE UNIQUE INDEX agents_machine ON agents (network_id, machine_id) WHERE machine_id IS NOT NULL;

-- Which machine a host is: found again by the next agent on it, even after its agent is
-- deleted and made anew.
CREATE TABLE host_machines (
    host_id    TEXT PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    network_id TEXT NOT NULL,
    machine_id TEXT NOT NULL,
    UNIQUE (network_id, machine_id)
);

-- Agents (the 0.17 clients' daemons) are taggable.
CREATE TABLE agent_tags (
    entity_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (entity_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX agent_tags_tag ON agent_tags (tag_id);

-- The journal names agents as actors. SQLite cannot widen a CHECK in place, so the table is
-- rebuilt, keeping every entry's seq (webhook cursors point at it).
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
    actor_type     TEXT NOT NULL CHECK (actor_type IN ('api_key', 'discovery', 'cli', 'system', 'agent')),
    actor_id       TEXT,
    actor_name     TEXT,
    request_id     TEXT,
    changed_fields TEXT NOT NULL DEFAULT '[]',
    before         TEXT,
    after          TEXT,
    imported       INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1))
);
INSERT INTO changes_rebuilt SELECT * FROM changes;
DROP TABLE changes;
ALTER TABLE changes_rebuilt RENAME TO changes;
CREATE INDEX changes_entity ON changes (entity_id, seq);
CREATE INDEX changes_network ON changes (network_id, seq);
CREATE INDEX changes_host ON changes (host_id, seq) WHERE host_id IS NOT NULL;
CREATE INDEX changes_service ON changes (service_id, seq) WHERE service_id IS NOT NULL;
CREATE INDEX changes_request ON changes (request_id);
CREATE INDEX changes_time ON changes (time);

-- Discoveries gain the source `agent` (a report that changed something) and the agent that runs
-- a scan job. Dropping the table would cascade into its tags (foreign keys are on while
-- migrating), so they are kept aside and put back.
CREATE TEMP TABLE discovery_tags_kept AS SELECT * FROM discovery_tags;
CREATE TABLE discoveries_rebuilt (
    id            TEXT PRIMARY KEY,
    network_id    TEXT NOT NULL REFERENCES networks(id) ON DELETE CASCADE,
    source        TEXT NOT NULL CHECK (source IN ('scan', 'nmap', 'observations', 'agent')),
    mode          TEXT NOT NULL CHECK (mode IN ('apply', 'plan')),
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    targets       TEXT NOT NULL,
    ports         TEXT NOT NULL,
    options       TEXT NOT NULL,
    progress      TEXT NOT NULL,
    summary       TEXT,
    plan          TEXT,
    observations  TEXT,
    applied_at    TEXT,
    error         TEXT,
    schedule_id   TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    -- A scan job run by an agent, and when the agent last spoke of it (taken, progress).
    agent_id      TEXT,
    heard_at      TEXT
);
INSERT INTO discoveries_rebuilt (id, network_id, source, mode, status, targets, ports, options,
                                 progress, summary, plan, observations, applied_at, error,
                                 schedule_id, created_by, created_at, started_at, finished_at)
SELECT id, network_id, source, mode, status, targets, ports, options, progress, summary, plan,
       observations, applied_at, error, schedule_id, created_by, created_at, started_at,
       finished_at
FROM discoveries;
DROP TABLE discoveries;
ALTER TABLE discoveries_rebuilt RENAME TO discoveries;
CREATE INDEX discoveries_network ON discoveries (network_id, created_at);
CREATE INDEX discoveries_status ON discoveries (status);
CREATE INDEX discoveries_agent ON discoveries (agent_id, status) WHERE agent_id IS NOT NULL;
INSERT INTO discovery_tags SELECT * FROM discovery_tags_kept;
DROP TABLE discovery_tags_kept;

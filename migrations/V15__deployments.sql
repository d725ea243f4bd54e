-- Deployments of service templates to hosts, run by the hosts' agents.
-- The template's name and the rendered file are kept: a template may change or go later.
CREATE TABLE deployments (
    id             TEXT PRIMARY KEY,
    template_id    TEXT NOT NULL,
    template_name  TEXT NOT NULL,
    image          TEXT NOT NULL,
    env            TEXT NOT NULL,
    strategy       TEXT NOT NULL CHECK (strategy IN ('sequential', 'parallel')),
    mode           TEXT NOT NULL CHECK (mode IN ('apply', 'plan')),
    status         TEXT NOT NULL CHECK (status IN ('queued', 'running', 'healthy', 'failed', 'rolled_back', 'cancelled', 'undeployed')),
    compose        TEXT NOT NULL,
    plan           TEXT,
    health         TEXT NOT NULL,
    cancelled      INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    finished_at    TEXT
);
CREATE INDEX deployments_by_time ON deployments (created_at DESC, id DESC);

-- One host's part. `job` is what its agent is asked to do next: `up` or `down` while
-- `job_state` is `queued` (waiting for the long poll) or `claimed` (the agent works on it).
CREATE TABLE deployment_targets (
    deployment_id  TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    host_id        TEXT NOT NULL,
    network_id     TEXT NOT NULL,
    agent_id       TEXT,
    job_id         TEXT NOT NULL UNIQUE,
    job            TEXT NOT NULL DEFAULT 'up' CHECK (job IN ('up', 'down')),
    job_state      TEXT NOT NULL CHECK (job_state IN ('waiting', 'queued', 'claimed', 'done')),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'starting', 'checking', 'healthy', 'failed', 'rolled_back', 'skipped')),
    services       TEXT NOT NULL DEFAULT '[]',
    previous       TEXT NOT NULL DEFAULT '[]',
    attempts       INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    log            TEXT NOT NULL DEFAULT '',
    started_at     TEXT,
    finished_at    TEXT,
    heard_at       TEXT,
    PRIMARY KEY (deployment_id, position)
);
CREATE INDEX deployment_targets_by_agent ON deployment_targets (agent_id, job_state);
CREATE INDEX deployment_targets_by_host ON deployment_targets (host_id);

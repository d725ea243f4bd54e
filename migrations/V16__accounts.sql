-- People: users, their sessions, one-time codes (setup, invites, password resets) and the
-- audit of sign-ins. Secrets are stored only as hashes (passwords as Argon2id PHC strings,
-- session ids and codes as SHA-256).
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    display_name    TEXT,
    email           TEXT,
    role            TEXT NOT NULL CHECK (role IN ('Viewer', 'Member', 'Admin', 'Owner')),
    network_ids     TEXT NOT NULL DEFAULT '[]',
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    auth            TEXT NOT NULL DEFAULT 'password' CHECK (auth IN ('password', 'oidc', 'header')),
    password_hash   TEXT,
    totp_secret     TEXT,
    totp_enabled    INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0, 1)),
    -- The last time step a code was accepted for: a code never works twice.
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    last_sign_in_at TEXT
);
CREATE UNIQUE INDEX users_username ON users (username COLLATE NOCASE);

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    auth         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    address      TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE one_time_codes (
    code_hash   TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('setup', 'invite', 'reset')),
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT,
    network_ids TEXT,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

CREATE TABLE auth_events (
    id         TEXT PRIMARY KEY,
    time       TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('sign_in', 'sign_in_failed', 'sign_out', 'password_changed',
                                            'totp_enabled', 'totp_disabled', 'invite_used', 'session_revoked')),
    user_id    TEXT,
    username   TEXT,
    address    TEXT,
    user_agent TEXT
);
CREATE INDEX auth_events_time ON auth_events (time);

-- The journal names people as actors. SQLite cannot widen a CHECK in place, so the table is
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
    actor_type     TEXT NOT NULL CHECK (actor_type IN ('api_key', 'discovery', 'cli', 'system', 'agent', 'user')),
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

-- Read-only links to a network's map and hosts, for someone without an account.
CREATE TABLE shares (
    id            TEXT PRIMARY KEY,
    network_id    TEXT NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    expires_at    TEXT,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX shares_network ON shares (network_id);

-- People signed in by OpenID Connect are linked by their provider and its subject, never by a
-- name or an email alone.
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_identity ON users (oidc_issuer, oidc_subject)
    WHERE oidc_subject IS NOT NULL;

-- A key made by a signed-in person is theirs: it stops when they are disabled and goes with them.
ALTER TABLE api_keys ADD COLUMN owner_user_id TEXT REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX api_keys_owner ON api_keys (owner_user_id) WHERE owner_user_id IS NOT NULL;

-- The person behind a key's journal entries: {"id", "name"} as it was at the time.
ALTER TABLE changes ADD COLUMN actor_user TEXT;

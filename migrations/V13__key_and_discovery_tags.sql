-- The 0.17 clients tag API keys (UserApiKey) and discoveries as well.
CREATE TABLE api_key_tags (
    entity_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (entity_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX api_key_tags_tag ON api_key_tags (tag_id);

CREATE TABLE discovery_tags (
    entity_id TEXT NOT NULL REFERENCES discoveries (id) ON DELETE CASCADE,
    tag_id    TEXT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    ord       INTEGER NOT NULL,
    PRIMARY KEY (entity_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX discovery_tags_tag ON discovery_tags (tag_id);

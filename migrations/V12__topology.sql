-- A network's topology view options, as the 0.17 clients store them (`PUT /topology/{id}`).
-- The topology itself is the network's map; only what a client chose to keep is stored here.
CREATE TABLE topology_options (
    network_id TEXT PRIMARY KEY REFERENCES networks (id) ON DELETE CASCADE,
    options    TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

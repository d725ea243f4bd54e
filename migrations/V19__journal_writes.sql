-- The journal's entries of one write share its instant, actor and request: they are stored once,
-- in `journal_writes`, and each entry (`journal`) keeps the ids it names as 16-byte blobs (text
-- when an id is not a canonical UUID, a service type's name say). `changes` becomes a view with
-- the columns and order the table had, so every reader and the full export see entries as
-- before; an entry inserted into the view (an import) is stored through its trigger. The view's
-- `*_key` columns are the stored ids, for filters that use the indexes (`db::changes::key`).
-- An entry's `changed_fields` is one of a few lists (a port's create names the same fields every
-- time): each distinct list is stored once, in `journal_field_sets`, and the entry keeps its id.

CREATE TABLE journal_writes (
    seq        INTEGER PRIMARY KEY,
    time       TEXT NOT NULL,
    actor_type TEXT NOT NULL CHECK (actor_type IN ('api_key', 'discovery', 'cli', 'system', 'agent', 'user')),
    actor_id   TEXT,
    actor_name TEXT,
    actor_user TEXT,
    request_id TEXT,
    imported   INTEGER NOT NULL DEFAULT 0 CHECK (imported IN (0, 1))
);

CREATE TABLE journal_field_sets (
    id     INTEGER PRIMARY KEY,
    fields TEXT NOT NULL UNIQUE
);
INSERT OR IGNORE INTO journal_field_sets (fields) SELECT changed_fields FROM changes ORDER BY seq;

CREATE TABLE journal (
    seq            INTEGER PRIMARY KEY,
    write          INTEGER NOT NULL,
    id             NOT NULL,
    action         TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete', 'import')),
    entity_type    TEXT NOT NULL,
    entity_id      NOT NULL,
    network_id,
    host_id,
    service_id,
    changed_fields INTEGER NOT NULL,
    before         TEXT,
    after          TEXT,
    prior          TEXT
);

-- Every distinct write of the existing journal once, in journal order.
CREATE TEMP TABLE write_of (
    time TEXT, actor_type TEXT, actor_id TEXT, actor_name TEXT, actor_user TEXT, request_id TEXT,
    imported INTEGER, first INTEGER
);
INSERT INTO temp.write_of
SELECT time, actor_type, actor_id, actor_name, actor_user, request_id, imported, min(seq)
FROM changes
GROUP BY time, actor_type, actor_id, actor_name, actor_user, request_id, imported;
INSERT INTO journal_writes (time, actor_type, actor_id, actor_name, actor_user, request_id, imported)
SELECT time, actor_type, actor_id, actor_name, actor_user, request_id, imported
FROM temp.write_of ORDER BY first;
CREATE INDEX temp.write_of_first ON write_of (first);
CREATE INDEX journal_writes_time ON journal_writes (time);

INSERT INTO journal (seq, write, id, action, entity_type, entity_id, network_id, host_id,
                     service_id, changed_fields, before, after, prior)
SELECT c.seq,
       (SELECT w.seq FROM journal_writes w
        WHERE w.time = c.time AND w.actor_type = c.actor_type AND w.actor_id IS c.actor_id
          AND w.actor_name IS c.actor_name AND w.actor_user IS c.actor_user
          AND w.request_id IS c.request_id AND w.imported = c.imported),
       CASE WHEN c.id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(c.id, '-', '')) ELSE c.id END, c.action, c.entity_type, CASE WHEN c.entity_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(c.entity_id, '-', '')) ELSE c.entity_id END, CASE WHEN c.network_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(c.network_id, '-', '')) ELSE c.network_id END, CASE WHEN c.host_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(c.host_id, '-', '')) ELSE c.host_id END, CASE WHEN c.service_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(c.service_id, '-', '')) ELSE c.service_id END,
       (SELECT f.id FROM journal_field_sets f WHERE f.fields = c.changed_fields),
       c.before, c.after, c.prior
FROM changes c ORDER BY c.seq;
DROP TABLE temp.write_of;
DROP TABLE changes;

CREATE INDEX journal_writes_request ON journal_writes (request_id);
CREATE INDEX journal_write ON journal (write);
CREATE INDEX journal_entity ON journal (entity_id);
CREATE INDEX journal_network ON journal (network_id);
CREATE INDEX journal_host ON journal (host_id) WHERE host_id IS NOT NULL;
CREATE INDEX journal_service ON journal (service_id) WHERE service_id IS NOT NULL;

CREATE VIEW changes AS
SELECT j.seq AS seq,
       CASE WHEN typeof(j.id) = 'blob' THEN lower(substr(hex(j.id), 1, 8) || '-' || substr(hex(j.id), 9, 4) || '-' || substr(hex(j.id), 13, 4) || '-' || substr(hex(j.id), 17, 4) || '-' || substr(hex(j.id), 21)) ELSE j.id END AS id,
       w.time AS time,
       j.action AS action,
       j.entity_type AS entity_type,
       CASE WHEN typeof(j.entity_id) = 'blob' THEN lower(substr(hex(j.entity_id), 1, 8) || '-' || substr(hex(j.entity_id), 9, 4) || '-' || substr(hex(j.entity_id), 13, 4) || '-' || substr(hex(j.entity_id), 17, 4) || '-' || substr(hex(j.entity_id), 21)) ELSE j.entity_id END AS entity_id,
       CASE WHEN typeof(j.network_id) = 'blob' THEN lower(substr(hex(j.network_id), 1, 8) || '-' || substr(hex(j.network_id), 9, 4) || '-' || substr(hex(j.network_id), 13, 4) || '-' || substr(hex(j.network_id), 17, 4) || '-' || substr(hex(j.network_id), 21)) ELSE j.network_id END AS network_id,
       CASE WHEN typeof(j.host_id) = 'blob' THEN lower(substr(hex(j.host_id), 1, 8) || '-' || substr(hex(j.host_id), 9, 4) || '-' || substr(hex(j.host_id), 13, 4) || '-' || substr(hex(j.host_id), 17, 4) || '-' || substr(hex(j.host_id), 21)) ELSE j.host_id END AS host_id,
       CASE WHEN typeof(j.service_id) = 'blob' THEN lower(substr(hex(j.service_id), 1, 8) || '-' || substr(hex(j.service_id), 9, 4) || '-' || substr(hex(j.service_id), 13, 4) || '-' || substr(hex(j.service_id), 17, 4) || '-' || substr(hex(j.service_id), 21)) ELSE j.service_id END AS service_id,
       w.actor_type AS actor_type,
       w.actor_id AS actor_id,
       w.actor_name AS actor_name,
       w.request_id AS request_id,
       (SELECT f.fields FROM journal_field_sets f WHERE f.id = j.changed_fields) AS changed_fields,
       j.before AS before,
       j.after AS after,
       w.imported AS imported,
       w.actor_user AS actor_user,
       j.prior AS prior,
       j.entity_id AS entity_key,
       j.network_id AS network_key,
       j.host_id AS host_key,
       j.service_id AS service_key,
       j.write AS write_seq
FROM journal j JOIN journal_writes w ON w.seq = j.write;

CREATE TRIGGER changes_insert INSTEAD OF INSERT ON changes
BEGIN
    INSERT INTO journal_writes (time, actor_type, actor_id, actor_name, actor_user, request_id, imported)
    VALUES (NEW.time, NEW.actor_type, NEW.actor_id, NEW.actor_name, NEW.actor_user, NEW.request_id,
            coalesce(NEW.imported, 0));
    INSERT OR IGNORE INTO journal_field_sets (fields) VALUES (coalesce(NEW.changed_fields, '[]'));
    INSERT INTO journal (seq, write, id, action, entity_type, entity_id, network_id, host_id,
                         service_id, changed_fields, before, after, prior)
    VALUES (NEW.seq, (SELECT max(seq) FROM journal_writes), CASE WHEN NEW.id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.id, '-', '')) ELSE NEW.id END, NEW.action, NEW.entity_type,
            CASE WHEN NEW.entity_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.entity_id, '-', '')) ELSE NEW.entity_id END, CASE WHEN NEW.network_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.network_id, '-', '')) ELSE NEW.network_id END, CASE WHEN NEW.host_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.host_id, '-', '')) ELSE NEW.host_id END, CASE WHEN NEW.service_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.service_id, '-', '')) ELSE NEW.service_id END,
            (SELECT f.id FROM journal_field_sets f WHERE f.fields = coalesce(NEW.changed_fields, '[]')),
            NEW.before, NEW.after, NEW.prior);
END;

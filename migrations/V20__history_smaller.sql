-- History, smaller still (issue 29).
--
-- The journal's network, host and service ids name few objects many times: each distinct id is
-- stored once, in `journal_ids`, and an entry keeps its number (a byte or two where the id took
-- sixteen, in the row and in each of the three indexes that find entries by them). The
-- `changes` view reads the ids back; its `network_key`, `host_key` and `service_key` columns
-- are now those numbers (`db::changes` filters through `journal_ids`). A write's actor id is
-- stored as 16 bytes, like the entries' ids.
--
-- A closed version repeats values its other columns or its entry already hold: its `id` is the
-- id of the journal entry that closed it (`seq`), and `updated_at`, `last_seen_at` and
-- `created_at` are mostly its `valid_from`. Such a value is stored as '' (no instant or id is
-- ever empty) and read back by every reader (`db::versions`).

CREATE TABLE journal_ids (
    n   INTEGER PRIMARY KEY,
    key NOT NULL UNIQUE
);
INSERT OR IGNORE INTO journal_ids (key)
SELECT id FROM (
    SELECT seq, network_id AS id FROM journal WHERE network_id IS NOT NULL
    UNION ALL SELECT seq, host_id FROM journal WHERE host_id IS NOT NULL
    UNION ALL SELECT seq, service_id FROM journal WHERE service_id IS NOT NULL
) ORDER BY seq;
UPDATE journal SET network_id = (SELECT n FROM journal_ids WHERE key = journal.network_id)
WHERE network_id IS NOT NULL;
UPDATE journal SET host_id = (SELECT n FROM journal_ids WHERE key = journal.host_id)
WHERE host_id IS NOT NULL;
UPDATE journal SET service_id = (SELECT n FROM journal_ids WHERE key = journal.service_id)
WHERE service_id IS NOT NULL;
UPDATE journal_writes SET actor_id = CASE WHEN actor_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(actor_id, '-', '')) ELSE actor_id END
WHERE actor_id IS NOT NULL;

DROP TRIGGER changes_insert;
DROP VIEW changes;
CREATE VIEW changes AS
SELECT j.seq AS seq,
       CASE WHEN typeof(j.id) = 'blob' THEN lower(substr(hex(j.id), 1, 8) || '-' || substr(hex(j.id), 9, 4) || '-' || substr(hex(j.id), 13, 4) || '-' || substr(hex(j.id), 17, 4) || '-' || substr(hex(j.id), 21)) ELSE j.id END AS id,
       w.time AS time,
       j.action AS action,
       j.entity_type AS entity_type,
       CASE WHEN typeof(j.entity_id) = 'blob' THEN lower(substr(hex(j.entity_id), 1, 8) || '-' || substr(hex(j.entity_id), 9, 4) || '-' || substr(hex(j.entity_id), 13, 4) || '-' || substr(hex(j.entity_id), 17, 4) || '-' || substr(hex(j.entity_id), 21)) ELSE j.entity_id END AS entity_id,
       (SELECT CASE WHEN typeof(k.key) = 'blob' THEN lower(substr(hex(k.key), 1, 8) || '-' || substr(hex(k.key), 9, 4) || '-' || substr(hex(k.key), 13, 4) || '-' || substr(hex(k.key), 17, 4) || '-' || substr(hex(k.key), 21)) ELSE k.key END FROM journal_ids k WHERE k.n = j.network_id) AS network_id,
       (SELECT CASE WHEN typeof(k.key) = 'blob' THEN lower(substr(hex(k.key), 1, 8) || '-' || substr(hex(k.key), 9, 4) || '-' || substr(hex(k.key), 13, 4) || '-' || substr(hex(k.key), 17, 4) || '-' || substr(hex(k.key), 21)) ELSE k.key END FROM journal_ids k WHERE k.n = j.host_id) AS host_id,
       (SELECT CASE WHEN typeof(k.key) = 'blob' THEN lower(substr(hex(k.key), 1, 8) || '-' || substr(hex(k.key), 9, 4) || '-' || substr(hex(k.key), 13, 4) || '-' || substr(hex(k.key), 17, 4) || '-' || substr(hex(k.key), 21)) ELSE k.key END FROM journal_ids k WHERE k.n = j.service_id) AS service_id,
       w.actor_type AS actor_type,
       CASE WHEN typeof(w.actor_id) = 'blob' THEN lower(substr(hex(w.actor_id), 1, 8) || '-' || substr(hex(w.actor_id), 9, 4) || '-' || substr(hex(w.actor_id), 13, 4) || '-' || substr(hex(w.actor_id), 17, 4) || '-' || substr(hex(w.actor_id), 21)) ELSE w.actor_id END AS actor_id,
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
    VALUES (NEW.time, NEW.actor_type, CASE WHEN NEW.actor_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.actor_id, '-', '')) ELSE NEW.actor_id END, NEW.actor_name, NEW.actor_user, NEW.request_id,
            coalesce(NEW.imported, 0));
    INSERT OR IGNORE INTO journal_field_sets (fields) VALUES (coalesce(NEW.changed_fields, '[]'));
    INSERT OR IGNORE INTO journal_ids (key)
    SELECT CASE WHEN id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(id, '-', '')) ELSE id END FROM (SELECT NEW.network_id AS id UNION ALL SELECT NEW.host_id UNION ALL SELECT NEW.service_id)
    WHERE id IS NOT NULL;
    INSERT INTO journal (seq, write, id, action, entity_type, entity_id, network_id, host_id,
                         service_id, changed_fields, before, after, prior)
    VALUES (NEW.seq, (SELECT max(seq) FROM journal_writes), CASE WHEN NEW.id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.id, '-', '')) ELSE NEW.id END, NEW.action, NEW.entity_type,
            CASE WHEN NEW.entity_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.entity_id, '-', '')) ELSE NEW.entity_id END,
            (SELECT n FROM journal_ids WHERE key = CASE WHEN NEW.network_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.network_id, '-', '')) ELSE NEW.network_id END),
            (SELECT n FROM journal_ids WHERE key = CASE WHEN NEW.host_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.host_id, '-', '')) ELSE NEW.host_id END),
            (SELECT n FROM journal_ids WHERE key = CASE WHEN NEW.service_id GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]' THEN unhex(replace(NEW.service_id, '-', '')) ELSE NEW.service_id END),
            (SELECT f.id FROM journal_field_sets f WHERE f.fields = coalesce(NEW.changed_fields, '[]')),
            NEW.before, NEW.after, NEW.prior);
END;

UPDATE host_versions SET id = '' WHERE id = (SELECT c.id FROM changes c WHERE c.seq = host_versions.seq);
UPDATE host_versions SET updated_at = '' WHERE updated_at = valid_from;
UPDATE host_versions SET last_seen_at = '' WHERE last_seen_at = valid_from;
UPDATE host_versions SET created_at = '' WHERE created_at = valid_from;
UPDATE subnet_versions SET id = '' WHERE id = (SELECT c.id FROM changes c WHERE c.seq = subnet_versions.seq);
UPDATE subnet_versions SET updated_at = '' WHERE updated_at = valid_from;
UPDATE subnet_versions SET last_seen_at = '' WHERE last_seen_at = valid_from;
UPDATE subnet_versions SET created_at = '' WHERE created_at = valid_from;
UPDATE ip_address_versions SET id = '' WHERE id = (SELECT c.id FROM changes c WHERE c.seq = ip_address_versions.seq);
UPDATE ip_address_versions SET updated_at = '' WHERE updated_at = valid_from;
UPDATE ip_address_versions SET last_seen_at = '' WHERE last_seen_at = valid_from;
UPDATE ip_address_versions SET created_at = '' WHERE created_at = valid_from;
UPDATE port_versions SET id = '' WHERE id = (SELECT c.id FROM changes c WHERE c.seq = port_versions.seq);
UPDATE port_versions SET updated_at = '' WHERE updated_at = valid_from;
UPDATE port_versions SET last_seen_at = '' WHERE last_seen_at = valid_from;
UPDATE port_versions SET created_at = '' WHERE created_at = valid_from;
UPDATE service_versions SET id = '' WHERE id = (SELECT c.id FROM changes c WHERE c.seq = service_versions.seq);
UPDATE service_versions SET updated_at = '' WHERE updated_at = valid_from;
UPDATE service_versions SET last_seen_at = '' WHERE last_seen_at = valid_from;
UPDATE service_versions SET created_at = '' WHERE created_at = valid_from;
UPDATE binding_versions SET id = '' WHERE id = (SELECT c.id FROM changes c WHERE c.seq = binding_versions.seq);
UPDATE binding_versions SET updated_at = '' WHERE updated_at = valid_from;
UPDATE binding_versions SET last_seen_at = '' WHERE last_seen_at = valid_from;
UPDATE binding_versions SET created_at = '' WHERE created_at = valid_from;
UPDATE dependency_versions SET id = '' WHERE id = (SELECT c.id FROM changes c WHERE c.seq = dependency_versions.seq);
UPDATE dependency_versions SET updated_at = '' WHERE updated_at = valid_from;
UPDATE dependency_versions SET last_seen_at = '' WHERE last_seen_at = valid_from;
UPDATE dependency_versions SET created_at = '' WHERE created_at = valid_from;

-- The journal is the webhooks' outbox: a hook's cursor is the last journal entry (changes.seq)
-- it has looked at, so a write costs nothing more than its journal entry, whatever the hooks.
-- Each cursor moves to just before the first event it had not looked at yet (the entries in
-- between are matched against the hook's filters again), or to the journal's end.
UPDATE webhooks SET cursor = coalesce(
    (SELECT c.seq - 1 FROM changes c
      WHERE c.id = (SELECT e.event_id FROM webhook_events e
                     WHERE e.seq > webhooks.cursor ORDER BY e.seq LIMIT 1)),
    (SELECT coalesce(max(seq), 0) FROM changes));
DROP TABLE webhook_events;

-- A delivery names its entry by position too, which is how the worker reads it back (the
-- entry's id has no index: nothing else looks entries up by id).
ALTER TABLE webhook_deliveries ADD COLUMN entry_seq INTEGER;

-- A row whose key changed (an UPDATE of a key column) is captured as the
-- delete of its old key and the insert of its new one. moved_to, on that
-- delete, names the new key ({"key column": "value as text"}, as pk): the
-- push then moves the row's link to it and updates its HubSpot object,
-- where a delete and an insert of two different rows archive one object
-- and create another. NULL on every other change. The column is added
-- without a default, so no existing row is rewritten.
ALTER TABLE hubsync.changelog ADD COLUMN moved_to jsonb;
ALTER TABLE hubsync.changelog_archive ADD COLUMN moved_to jsonb;

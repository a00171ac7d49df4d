-- Change capture generated per mapping. `hubsync migrate` now writes, for
-- each mapping that pushes, a SECURITY DEFINER function
-- hubsync."capture_<mapping>"() and the triggers hubsync_capture_<mapping>_iud
-- (INSERT, DELETE), _upd (UPDATE when a watched column changed) and _trunc
-- (TRUNCATE), replacing the generic hubsync.capture() of 0001 (dropped by
-- migrate once no trigger uses it).

-- A TRUNCATE is recorded as one row: op 'truncate', pk '{}'. The check on
-- op moves from a table CHECK to a domain: PostgreSQL re-reads a table's
-- CHECK constraints for every INSERT statement, which was ~4% of the
-- server's CPU in an UPDATE-heavy benchmark (BENCHMARKS.md), while a
-- domain's check is cached. op is still text to every reader.
CREATE DOMAIN hubsync.change_op AS text
  CHECK (VALUE IN ('insert', 'update', 'delete', 'truncate'));
ALTER TABLE hubsync.changelog DROP CONSTRAINT changelog_op_check;
ALTER TABLE hubsync.changelog ALTER COLUMN op TYPE hubsync.change_op;

-- Everything a generated function depends on, so that `hubsync run` can tell
-- whether the installed capture still matches the mapping files:
--   key_types          pg_type.typname of each key column (the key text depends on it)
--   watched_columns    (existing) sorted; with watch_all every column of the
--                      table when the capture was installed
--   watch_all          the mapping has a filter.postgres: every column is watched
--   generator_version  1 = the generic hubsync.capture() of 0001
--   trigger_name       (existing) the triggers' common prefix from version 2 on
ALTER TABLE hubsync.captures
  ADD COLUMN key_types text[],
  ADD COLUMN watch_all boolean NOT NULL DEFAULT false,
  ADD COLUMN generator_version integer NOT NULL DEFAULT 1;
UPDATE hubsync.captures SET watch_all = true WHERE watched_columns IS NULL;

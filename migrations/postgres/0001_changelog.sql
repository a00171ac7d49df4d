-- hubsync's own schema inside the user's database: the change capture
-- (changelog + trigger function), its archive and settings.

CREATE TABLE hubsync.changelog (
  id              bigserial   PRIMARY KEY,
  mapping         text        NOT NULL,
  table_schema    text        NOT NULL,
  table_name      text        NOT NULL,
  pk              jsonb       NOT NULL,      -- {"key column": "value as text"}
  op              text        NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
  changed_columns text[],                    -- update only: columns whose value changed
  txid            bigint      NOT NULL DEFAULT txid_current(),
  changed_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  claimed_by      text,                      -- push worker holding a lease on the row
  claimed_until   timestamptz,
  attempts        integer     NOT NULL DEFAULT 0
);
-- The push loop claims pending rows of one mapping in id order.
CREATE INDEX changelog_mapping_id ON hubsync.changelog (mapping, id);

-- Processed changes with their outcome, kept for `archive_retention`.
CREATE TABLE hubsync.changelog_archive (
  id              bigint      PRIMARY KEY,
  mapping         text        NOT NULL,
  table_schema    text        NOT NULL,
  table_name      text        NOT NULL,
  pk              jsonb       NOT NULL,
  op              text        NOT NULL,
  changed_columns text[],
  txid            bigint      NOT NULL,
  changed_at      timestamptz NOT NULL,
  processed_at    timestamptz NOT NULL DEFAULT now(),
  outcome         text        NOT NULL CHECK (outcome IN
                    ('synced', 'unchanged', 'archived', 'filtered', 'ignored', 'dead_lettered')),
  detail          text
);
CREATE INDEX changelog_archive_processed_at ON hubsync.changelog_archive (processed_at);

CREATE TABLE hubsync.settings (
  key   text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO hubsync.settings (key, value) VALUES ('archive_retention', '7 days');

-- Which capture trigger hubsync installed for which mapping; `hubsync migrate`
-- reconciles this against the mapping files.
CREATE TABLE hubsync.captures (
  mapping         text        PRIMARY KEY,
  table_schema    text        NOT NULL,
  table_name      text        NOT NULL,
  key_columns     text[]      NOT NULL,
  watched_columns text[],
  trigger_name    text        NOT NULL,
  installed_at    timestamptz NOT NULL DEFAULT now()
);

-- The capture trigger: AFTER INSERT/UPDATE/DELETE FOR EACH ROW with arguments
-- (mapping, key columns as a text[] literal[, watched columns as text[]]).
-- It records nothing for hubsync's own writes (loop guard 1), nothing for an
-- update that changed no watched column, and a key change as a delete of the
-- old key plus an insert of the new one.
CREATE FUNCTION hubsync.capture() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  key_cols text[] := TG_ARGV[1]::text[];
  watched  text[] := CASE WHEN TG_NARGS > 2 THEN TG_ARGV[2]::text[] END;
  new_row  jsonb;
  old_row  jsonb;
  changed  text[];
  old_pk   jsonb;
  new_pk   jsonb;
BEGIN
  IF current_setting('hubsync.origin', true) = 'hubsync' THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    old_row := to_jsonb(OLD);
    SELECT jsonb_object_agg(k, old_row ->> k) INTO old_pk FROM unnest(key_cols) AS k;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_row := to_jsonb(NEW);
    SELECT jsonb_object_agg(k, new_row ->> k) INTO new_pk FROM unnest(key_cols) AS k;
  END IF;

  IF TG_OP = 'INSERT' THEN
    INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op)
    VALUES (TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, new_pk, 'insert');
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op)
    VALUES (TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, old_pk, 'delete');
  ELSE
    SELECT coalesce(array_agg(n.key ORDER BY n.key), '{}') INTO changed
      FROM jsonb_each(new_row) AS n
     WHERE n.value IS DISTINCT FROM old_row -> n.key
       AND (watched IS NULL OR n.key = ANY (watched) OR n.key = ANY (key_cols));
    IF cardinality(changed) = 0 THEN
      RETURN NULL;
    END IF;
    IF old_pk IS DISTINCT FROM new_pk THEN
      INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op)
      VALUES (TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, old_pk, 'delete'),
             (TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, new_pk, 'insert');
    ELSE
      INSERT INTO hubsync.changelog (mapping, table_schema, table_name, pk, op, changed_columns)
      VALUES (TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, new_pk, 'update', changed);
    END IF;
  END IF;
  RETURN NULL;
END
$fn$;

-- Deletes archived changes older than the retention setting; returns how many.
CREATE FUNCTION hubsync.prune_archive() RETURNS bigint
LANGUAGE sql AS $fn$
  WITH gone AS (
    DELETE FROM hubsync.changelog_archive
     WHERE processed_at < now() - (SELECT value::interval FROM hubsync.settings
                                    WHERE key = 'archive_retention')
    RETURNING 1)
  SELECT count(*) FROM gone;
$fn$;

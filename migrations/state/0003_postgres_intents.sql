-- Pull safety: what a pull is about to write to Postgres, recorded (synced to
-- disk) before the Postgres transaction and removed with the batch's commit.
-- A row left here means the process died in between: Postgres may hold
-- HubSpot's values while the base does not, and a push would take them for
-- Postgres changes and send them over newer HubSpot edits. The next run reads
-- those rows and makes the values Postgres holds the base.
CREATE TABLE postgres_intents (
  mapping TEXT NOT NULL,
  pg_key  TEXT NOT NULL,
  field   TEXT NOT NULL,
  value   TEXT,            -- the field's comparison value being written (NULL: cleared)
  PRIMARY KEY (mapping, pg_key, field)
) WITHOUT ROWID;

-- Push safety (issue 9): match keys on links, write intents, and dead letters
-- that keep their attempt count while they are queued again.

-- The normalised match value a link was last written with (e.g. an email,
-- lower-cased because HubSpot compares emails case-insensitively), so a row
-- whose match value already belongs to another row's object is caught before
-- it is written. NULL for links made before this migration until the pusher
-- backfills them from the synced base.
ALTER TABLE links ADD COLUMN match_key TEXT;
CREATE INDEX links_by_match_key ON links (mapping, match_key);

-- What a push is about to write, recorded (synced to disk) before the HubSpot
-- call and removed with the batch's commit. A row left here means the process
-- died in between: the next run reads HubSpot to learn which of these values
-- arrived before it pushes that row again.
CREATE TABLE write_intents (
  mapping     TEXT NOT NULL,
  pg_key      TEXT NOT NULL,
  hubspot_id  TEXT NOT NULL,   -- '' when the write was an upsert by match value
  match_value TEXT NOT NULL,   -- the match property's value sent
  started_at  INTEGER NOT NULL,
  PRIMARY KEY (mapping, pg_key)
) WITHOUT ROWID;
-- The fields an intent writes, with the values sent (NULL: cleared).
CREATE TABLE write_intent_fields (
  mapping         TEXT NOT NULL,
  pg_key          TEXT NOT NULL,
  field           TEXT NOT NULL,
  value           TEXT,
  side_changed_at INTEGER NOT NULL,
  PRIMARY KEY (mapping, pg_key, field)
) WITHOUT ROWID;

-- 1 while the dead letter's row is back in the changelog for a retry: not due
-- again, attempts kept, so the backoff grows with every failed retry.
ALTER TABLE dead_letters ADD COLUMN in_queue INTEGER NOT NULL DEFAULT 0;

-- The merge base as HubSpot holds it, when that differs from Postgres's form
-- (HubSpot normalises what it stores in ways comparison may not): each side's
-- change is then seen against its own form. NULL: the same as `value`.
ALTER TABLE synced ADD COLUMN hs_value TEXT;

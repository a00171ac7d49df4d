-- hubsync state store, initial schema (docs/architecture.md, State).
-- All times are INTEGER milliseconds since the Unix epoch, UTC.

CREATE TABLE checkpoints (
  mapping     TEXT NOT NULL,
  cursor_name TEXT NOT NULL,
  value       TEXT NOT NULL,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (mapping, cursor_name)
) WITHOUT ROWID;

-- The identity map, both ways: the primary key serves pg_key lookups, the
-- unique index serves hubspot_id lookups and forbids two rows on one object.
CREATE TABLE links (
  mapping    TEXT NOT NULL,
  pg_key     TEXT NOT NULL,
  hubspot_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (mapping, pg_key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX links_by_hubspot_id ON links (mapping, hubspot_id);

-- HubSpot ids absorbed by a merge, pointing at their survivor, so events
-- about an absorbed id still resolve.
CREATE TABLE merged_ids (
  mapping     TEXT NOT NULL,
  hubspot_id  TEXT NOT NULL,
  survivor_id TEXT NOT NULL,
  merged_at   INTEGER NOT NULL,
  PRIMARY KEY (mapping, hubspot_id)
) WITHOUT ROWID;
CREATE INDEX merged_ids_by_survivor ON merged_ids (mapping, survivor_id);

-- The merge base: the last value of each field both sides agreed on.
-- value NULL is a null value.
CREATE TABLE synced (
  mapping         TEXT NOT NULL,
  pg_key          TEXT NOT NULL,
  field           TEXT NOT NULL,
  value           TEXT,
  side_changed_at INTEGER NOT NULL,
  synced_at       INTEGER NOT NULL,
  PRIMARY KEY (mapping, pg_key, field)
) WITHOUT ROWID;

-- Webhook events. seq orders arrival; the dedupe key is
-- (subscription_id, event_id): HubSpot eventIds are unique per subscription.
CREATE TABLE inbox (
  seq               INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id          TEXT NOT NULL,
  subscription_id   TEXT NOT NULL,
  subscription_type TEXT NOT NULL,
  object_type       TEXT NOT NULL,
  object_id         TEXT NOT NULL,
  occurred_at       INTEGER NOT NULL,
  property_name     TEXT NOT NULL,
  property_value    TEXT,
  raw_json          TEXT NOT NULL,
  received_at       INTEGER NOT NULL,
  attempts          INTEGER NOT NULL DEFAULT 0,
  claimed_until     INTEGER,
  processed_at      INTEGER
);
CREATE UNIQUE INDEX inbox_dedupe ON inbox (subscription_id, event_id);
-- Claiming scans pending events oldest first.
CREATE INDEX inbox_pending ON inbox (occurred_at, seq) WHERE processed_at IS NULL;
CREATE INDEX inbox_processed ON inbox (processed_at) WHERE processed_at IS NOT NULL;

CREATE TABLE dead_letters (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  mapping         TEXT NOT NULL,
  direction       TEXT NOT NULL CHECK (direction IN ('to_hubspot', 'to_postgres')),
  pg_key          TEXT NOT NULL,
  hubspot_id      TEXT NOT NULL,
  payload_json    TEXT NOT NULL,
  error_kind      TEXT NOT NULL,
  http_status     INTEGER NOT NULL,
  category        TEXT NOT NULL,
  message         TEXT NOT NULL,
  attempts        INTEGER NOT NULL,
  next_retry_at   INTEGER,
  first_failed_at INTEGER NOT NULL,
  last_failed_at  INTEGER NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'discarded')),
  discard_reason  TEXT NOT NULL DEFAULT ''
);
-- One pending dead letter per record.
CREATE UNIQUE INDEX dead_letters_pending_record
  ON dead_letters (mapping, direction, pg_key, hubspot_id) WHERE status = 'pending';
CREATE INDEX dead_letters_due ON dead_letters (next_retry_at) WHERE status = 'pending';
CREATE INDEX dead_letters_recent ON dead_letters (last_failed_at);

CREATE TABLE conflicts (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  mapping    TEXT NOT NULL,
  pg_key     TEXT NOT NULL,
  hubspot_id TEXT NOT NULL,
  field      TEXT NOT NULL,
  pg_value   TEXT,
  hs_value   TEXT,
  base_value TEXT,
  winner     TEXT NOT NULL CHECK (winner IN ('postgres', 'hubspot')),
  rule       TEXT NOT NULL,
  decided_at INTEGER NOT NULL,
  run_id     INTEGER
);
CREATE INDEX conflicts_recent ON conflicts (decided_at);
CREATE INDEX conflicts_by_mapping ON conflicts (mapping, decided_at);

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  mode        TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  pushed      INTEGER NOT NULL DEFAULT 0,
  pulled      INTEGER NOT NULL DEFAULT 0,
  skipped     INTEGER NOT NULL DEFAULT 0,
  archived    INTEGER NOT NULL DEFAULT 0,
  failed      INTEGER NOT NULL DEFAULT 0,
  conflicts   INTEGER NOT NULL DEFAULT 0,
  errors      TEXT NOT NULL DEFAULT '',
  duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_recent ON runs (started_at);

-- Secrets: the state file is created with mode 0600.
CREATE TABLE oauth_tokens (
  portal_id     TEXT PRIMARY KEY,
  access_token  TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  expires_at    INTEGER NOT NULL,
  scopes        TEXT NOT NULL,          -- space-separated
  updated_at    INTEGER NOT NULL,
  issued_at     INTEGER NOT NULL DEFAULT 0,  -- of the access token, 0 if unknown
  hub_id        INTEGER NOT NULL DEFAULT 0   -- as the token endpoint reports it
) WITHOUT ROWID;

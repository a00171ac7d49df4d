-- How the last pass of each mapping and direction ended, for `hubsync status`
-- and the health page: when it last succeeded, and the last error since
-- (text without secrets or record values). Written by run and serve.
CREATE TABLE sync_passes (
  mapping       TEXT NOT NULL,
  direction     TEXT NOT NULL CHECK (direction IN ('to_hubspot', 'to_postgres')),
  last_ok_ms    INTEGER,          -- NULL: never succeeded yet
  last_error_ms INTEGER,          -- NULL: no failure since the last success
  last_error    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (mapping, direction)
) WITHOUT ROWID;

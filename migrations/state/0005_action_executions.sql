-- Executions of HubSpot workflow custom actions, one per callbackId: HubSpot
-- retries a slow or failed call with the same callbackId, and the answer
-- recorded here is what every retry gets (an action never runs twice). An
-- execution answered BLOCK is completed through HubSpot's callback API;
-- callback_* track that delivery until it is accepted.
CREATE TABLE action_executions (
  callback_id            TEXT PRIMARY KEY,
  action                 TEXT NOT NULL,
  object_id              TEXT NOT NULL,
  request_body           TEXT NOT NULL,  -- as HubSpot sent it: a blocked execution is run again from it after a restart
  state                  TEXT NOT NULL CHECK (state IN ('running', 'done')),
  blocked                INTEGER NOT NULL DEFAULT 0,  -- answered BLOCK: the outputs go by callback
  delivered              INTEGER NOT NULL DEFAULT 0,  -- the callback completion was accepted
  callback_attempts      INTEGER NOT NULL DEFAULT 0,
  next_callback_at_ms    INTEGER NOT NULL DEFAULT 0,
  last_error             TEXT NOT NULL DEFAULT '',
  created_at_ms          INTEGER NOT NULL,
  updated_at_ms          INTEGER NOT NULL
) WITHOUT ROWID;

-- The outputFields of a finished execution (names and string values).
CREATE TABLE action_outputs (
  callback_id TEXT NOT NULL REFERENCES action_executions (callback_id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  value       TEXT NOT NULL,
  PRIMARY KEY (callback_id, name)
) WITHOUT ROWID;

CREATE INDEX action_executions_due ON action_executions (next_callback_at_ms)
  WHERE state = 'done' AND blocked = 1 AND delivered = 0;
CREATE INDEX action_executions_created ON action_executions (created_at_ms);

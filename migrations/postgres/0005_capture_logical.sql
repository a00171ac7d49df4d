-- Change capture by logical decoding (config postgres.capture: logical).
-- A mapping's capture is either the generated trigger (method 'trigger',
-- as before) or the publication `hubsync` plus a logical replication slot
-- (pgoutput) whose changes `hubsync` relays into hubsync.changelog itself
-- (method 'logical'): nothing runs in the application's transaction.
ALTER TABLE hubsync.captures
  ADD COLUMN method text NOT NULL DEFAULT 'trigger' CHECK (method IN ('trigger', 'logical'));

-- The slot the relay reads (at most one per database) and how far its
-- changes are in hubsync.changelog: rows and relayed_lsn commit together,
-- the slot is advanced after, and a change at or before relayed_lsn is
-- never relayed twice.
CREATE TABLE hubsync.capture_relay (
  slot         name        PRIMARY KEY,
  relayed_lsn  pg_lsn      NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  relayed_at   timestamptz
);
CREATE UNIQUE INDEX capture_relay_one ON hubsync.capture_relay ((true));

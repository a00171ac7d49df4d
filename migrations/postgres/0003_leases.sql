-- Which hubsync process syncs which mapping. Replaces the session advisory
-- lock of earlier versions: a lease row survives a reconnect (the lock was
-- silently dropped with the session) and works through a transaction-mode
-- pooler such as PgBouncer (which hands the session to other clients).
--   holder      '<host>/<pid>/<nonce>': one per PgDatabase instance
--   host, pid   so a process on the same host can tell that a holder died
--               (its pid is gone) and take over at once instead of waiting
--   expires_at  renewed on every claim and every write the holder makes;
--               an expired lease may be taken by anyone
CREATE TABLE hubsync.leases (
  mapping     text        PRIMARY KEY,
  holder      text        NOT NULL,
  host        text        NOT NULL,
  pid         integer     NOT NULL,
  taken_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at  timestamptz NOT NULL
);

-- Whether a mapping's generated capture function also sends
-- NOTIFY hubsync_changes at commit (config postgres.notify). Off by default
-- from capture v5 on: a notifying transaction holds PostgreSQL's
-- notification-queue lock across its commit, so the application's writers
-- of mapped tables commit one at a time (BENCHMARKS.md, change capture);
-- `hubsync serve` looks at the changelog instead. Captures of v4 and before
-- always notified; they are reinstalled by the next `hubsync migrate`.
ALTER TABLE hubsync.captures ADD COLUMN notify boolean NOT NULL DEFAULT true;

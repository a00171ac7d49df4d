-- This database's identity: a random id made once, by the `hubsync migrate`
-- that applies this migration, and never changed. The state store records
-- the id its links were made with, and `run`, `serve` and `plan` refuse a
-- database that holds another one (the links name rows by key value: with
-- another database's state they would overwrite its people's HubSpot
-- objects with this database's). A dump restored elsewhere, or a database
-- upgraded in place, keeps the id: it holds the same rows. gen_random_uuid()
-- is core from PostgreSQL 13 on.
INSERT INTO hubsync.settings (key, value) VALUES ('database_id', gen_random_uuid()::text)
  ON CONFLICT (key) DO NOTHING;

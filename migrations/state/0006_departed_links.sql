-- Links a deletion removed (a row deleted or soft-deleted, its object
-- archived or merged away, on either side): the object each row synced with
-- until then. A soft-deleted row is brought back only by the object it
-- synced with (restored in HubSpot), never by another object that happens to
-- hold its match value (a row deleted in Postgres before hubsync first ran).
-- Kept 90 days, as long as HubSpot keeps an archived object restorable.
CREATE TABLE departed_links (
  mapping        TEXT NOT NULL,
  pg_key         TEXT NOT NULL,
  hubspot_id     TEXT NOT NULL,
  departed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (mapping, pg_key, hubspot_id)
) WITHOUT ROWID;

CREATE INDEX departed_links_at ON departed_links (departed_at_ms);

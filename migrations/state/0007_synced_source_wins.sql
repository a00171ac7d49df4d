-- `hubsync resync --overwrite`: a one-way field's base marked so that its
-- next merge lets the field's source win wherever the two sides differ, an
-- empty value included (a forgotten base would be a first link, which
-- never clears). The merge's new base clears the mark.
ALTER TABLE synced ADD COLUMN source_wins INTEGER NOT NULL DEFAULT 0;

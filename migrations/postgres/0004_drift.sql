-- The drift check (src/drift): where a check that reads a large catalogue in slices
-- (`[organization.drift] max_reads_per_run`) stopped, so that the next one continues there.
-- `position` is the last item checked, as "<kind>/<source id>". Keep in step with the
-- other backend's file of the same name.
CREATE TABLE drift_cursor (
    org       TEXT PRIMARY KEY NOT NULL,
    position  TEXT NOT NULL
);

-- Why a write was made when it was not the source's change (e.g. "drift: edited in PTV by
-- X at T"): part of the entry's hash when present (src/store/audit.rs), so entries
-- written before this column existed keep their hashes.
ALTER TABLE audit ADD COLUMN reason TEXT;

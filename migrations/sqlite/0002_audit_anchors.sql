-- Anchors of each organisation's audit chain (see src/store/audit.rs), so that entries
-- removed at either end of a chain are noticed. Keep in step with the other backend's file
-- of the same name.
--
-- head_*: the chain's last entry when a run of the organisation last ended; it must stay
-- in the chain (unless a prune removed it).
-- pruned_*: the last entry retention (prune_audit) deleted; the oldest remaining entry must
-- link to it. Without a prune the oldest entry must link to the genesis hash.
CREATE TABLE audit_anchors (
    org          TEXT    PRIMARY KEY NOT NULL,
    head_seq     INTEGER,
    head_hash    TEXT,
    pruned_seq   INTEGER,
    pruned_hash  TEXT
);

-- Chains that exist already: their current head, and, for chains pruned before anchors
-- existed, their oldest entry's link as the recorded prune.
INSERT INTO audit_anchors (org, head_seq, head_hash, pruned_seq, pruned_hash)
SELECT h.org, h.seq, h.hash,
       CASE WHEN f.prev_hash = '0000000000000000000000000000000000000000000000000000000000000000'
            THEN NULL ELSE f.seq - 1 END,
       CASE WHEN f.prev_hash = '0000000000000000000000000000000000000000000000000000000000000000'
            THEN NULL ELSE f.prev_hash END
FROM audit h
JOIN audit f ON f.org = h.org
    AND f.seq = (SELECT MIN(x.seq) FROM audit x WHERE x.org = h.org)
WHERE h.seq = (SELECT MAX(y.seq) FROM audit y WHERE y.org = h.org);

//! The audit hash chain, shared by both backends.
//!
//! Each organisation has its own chain. An entry's
//! `hash = hex(sha256(prev_hash_hex || encode(fields)))`, where `prev_hash_hex` is the
//! previous entry's `hash` of the same organisation (64 ASCII zeros for the first) and
//! `encode` is an unambiguous encoding of every other stored field except `seq`, in this
//! order: a version tag, `at` (microseconds since the Unix epoch, 8 bytes big-endian),
//! `org`, `actor`, `action`, `kind`, `source_id`, `ptv_id`, `http_status`, `body_sha256`,
//! and, only when the entry has one, `reason` (the byte 2, then the string), so that
//! entries without a reason hash as they did before the field existed.
//! Strings are a 4-byte big-endian length and the UTF-8 bytes; an optional value is one
//! byte (0 = none, 1 = some) followed by the value. `seq` is only the storage order: the
//! links themselves (`prev_hash`) fix the order, so removing, inserting or reordering
//! entries breaks the chain at the next entry.
//!
//! **Anchors.** Links alone cannot tell a chain that lost its first or last entries (or
//! all of them) from a shorter one, so each organisation's chain is anchored at both ends
//! (table `audit_anchors`):
//! - its start: the oldest remaining entry must link to [`GENESIS_HASH`], unless
//!   [`super::StateStore::prune_audit`] recorded that it deleted a prefix; then it must
//!   link to the last deleted entry (its seq and hash are recorded in the same transaction);
//! - its head: at every run end ([`super::StateStore::finish_run`]) the chain's last entry
//!   (seq and hash) is recorded (and logged). It must stay in the chain unless a recorded
//!   prune deleted it; it only moves forward while the previous recorded head is still
//!   there, so a truncation is not hidden by later runs.
//!
//! Entries appended after the last run end have no head yet: removing those is only seen
//! once a later entry links past them. Whoever can rewrite the anchors too can hide a
//! truncation; the logged heads are the copy outside the database.
//!
//! **Retention.** [`super::StateStore::prune_audit`] deletes the oldest entries of each
//! chain (a prefix, never a gap) and records the new start.

use super::types::{AuditBreak, AuditBreakKind, AuditEntry, AuditVerification, NewAuditEntry};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// The `prev_hash` of an organisation's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Bumped if the encoding ever changes; part of every hash.
const ENCODING_VERSION: &str = "ptv-sync-audit-v1";

/// Fields that enter the hash, borrowed from either a new or a stored entry.
pub(crate) struct HashedFields<'a> {
    pub at_micros: i64,
    pub org: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub kind: &'a str,
    pub source_id: &'a str,
    pub ptv_id: Option<&'a str>,
    pub http_status: Option<u16>,
    pub body_sha256: Option<&'a str>,
    pub reason: Option<&'a str>,
}

impl<'a> HashedFields<'a> {
    pub(crate) fn of_new(e: &'a NewAuditEntry, at_micros: i64) -> Self {
        HashedFields {
            at_micros,
            org: &e.org,
            actor: &e.actor,
            action: e.action.as_str(),
            kind: e.kind.as_str(),
            source_id: &e.source_id,
            ptv_id: e.ptv_id.as_deref(),
            http_status: e.http_status,
            body_sha256: e.body_sha256.as_deref(),
            reason: e.reason.as_deref(),
        }
    }

    pub(crate) fn of_stored(e: &'a AuditEntry) -> Self {
        HashedFields {
            at_micros: e.at.timestamp_micros(),
            org: &e.org,
            actor: &e.actor,
            action: e.action.as_str(),
            kind: e.kind.as_str(),
            source_id: &e.source_id,
            ptv_id: e.ptv_id.as_deref(),
            http_status: e.http_status,
            body_sha256: e.body_sha256.as_deref(),
            reason: e.reason.as_deref(),
        }
    }
}

fn put_str(h: &mut Sha256, s: &str) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    h.update(len.to_be_bytes());
    h.update(s.as_bytes());
}

fn put_opt_str(h: &mut Sha256, s: Option<&str>) {
    match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            put_str(h, s);
        }
    }
}

/// `hex(sha256(prev_hash || encode(fields)))`, see the module documentation.
pub(crate) fn chain_hash(prev_hash: &str, f: &HashedFields<'_>) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    put_str(&mut h, ENCODING_VERSION);
    h.update(f.at_micros.to_be_bytes());
    put_str(&mut h, f.org);
    put_str(&mut h, f.actor);
    put_str(&mut h, f.action);
    put_str(&mut h, f.kind);
    put_str(&mut h, f.source_id);
    put_opt_str(&mut h, f.ptv_id);
    match f.http_status {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update(s.to_be_bytes());
        }
    }
    put_opt_str(&mut h, f.body_sha256);
    if let Some(reason) = f.reason {
        h.update([2u8]);
        put_str(&mut h, reason);
    }
    hex::encode(h.finalize())
}

impl AuditEntry {
    /// Recomputes this entry's hash from its fields and `prev_hash` (see the module
    /// documentation of the encoding); equals `hash` unless the entry was altered. Lets
    /// external tools check exported entries (`audit_since`) without the database.
    #[must_use]
    pub fn computed_hash(&self) -> String {
        chain_hash(&self.prev_hash, &HashedFields::of_stored(self))
    }
}

/// What `audit_anchors` records of one organisation's chain (see the module docs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Anchor {
    /// The head recorded at the last run end: (seq, hash).
    pub head: Option<(i64, String)>,
    /// The last entry a prune deleted: (seq, hash).
    pub pruned: Option<(i64, String)>,
}

impl Anchor {
    /// Whether the recorded head must still be in the chain: a prune may have deleted it.
    fn head_expected(&self) -> Option<&(i64, String)> {
        let head = self.head.as_ref()?;
        match &self.pruned {
            Some((pruned_seq, _)) if head.0 <= *pruned_seq => None,
            _ => Some(head),
        }
    }
}

/// Checks entries fed in ascending `seq` order (all organisations interleaved, or one)
/// against each other and against the organisations' anchors.
#[derive(Default)]
pub(crate) struct Verifier {
    anchors: HashMap<String, Anchor>,
    /// Per organisation: the last entry's hash and seq.
    heads: HashMap<String, (String, i64)>,
    /// Organisations whose recorded head was found in the chain.
    head_seen: HashSet<String>,
    result: AuditVerification,
}

impl Verifier {
    /// `anchors` of the organisations verified (all, or the one asked for).
    pub(crate) fn new(anchors: HashMap<String, Anchor>) -> Self {
        Verifier {
            anchors,
            ..Verifier::default()
        }
    }

    fn broken(&mut self, e: &AuditEntry, kind: AuditBreakKind) -> bool {
        self.result.broken = Some(AuditBreak {
            seq: e.seq,
            org: e.org.clone(),
            kind,
        });
        false
    }

    /// Feeds the next entry; returns `false` once a break is found (stop feeding).
    pub(crate) fn feed(&mut self, e: &AuditEntry) -> bool {
        self.result.entries += 1;
        let anchor = self.anchors.get(&e.org);
        if let Some((head, _)) = self.heads.get(&e.org) {
            if e.prev_hash != *head {
                let expected = head.clone();
                return self.broken(
                    e,
                    AuditBreakKind::ChainMismatch {
                        expected,
                        found: e.prev_hash.clone(),
                    },
                );
            }
        } else {
            self.result.orgs += 1;
            let start = anchor
                .and_then(|a| a.pruned.as_ref())
                .map_or(GENESIS_HASH, |(_, hash)| hash.as_str());
            if e.prev_hash != start {
                let expected = start.to_owned();
                return self.broken(
                    e,
                    AuditBreakKind::StartMissing {
                        expected,
                        found: e.prev_hash.clone(),
                    },
                );
            }
        }
        let computed = e.computed_hash();
        if computed != e.hash {
            return self.broken(
                e,
                AuditBreakKind::HashMismatch {
                    stored: e.hash.clone(),
                    computed,
                },
            );
        }
        if anchor
            .and_then(Anchor::head_expected)
            .is_some_and(|(seq, hash)| *seq == e.seq && *hash == e.hash)
        {
            self.head_seen.insert(e.org.clone());
        }
        self.heads.insert(e.org.clone(), (e.hash.clone(), e.seq));
        true
    }

    /// The result; unless a break was found already, every recorded head must have been
    /// seen (reported for the organisations in name order).
    pub(crate) fn finish(mut self) -> AuditVerification {
        if self.result.broken.is_none() {
            let mut orgs: Vec<&String> = self.anchors.keys().collect();
            orgs.sort();
            for org in orgs {
                let Some((head_seq, head_hash)) = self.anchors[org].head_expected() else {
                    continue;
                };
                if self.head_seen.contains(org) {
                    continue;
                }
                self.result.broken = Some(AuditBreak {
                    seq: *head_seq,
                    org: org.clone(),
                    kind: AuditBreakKind::Truncated {
                        head_seq: *head_seq,
                        head_hash: head_hash.clone(),
                        last_seq: self.heads.get(org).map(|(_, seq)| *seq),
                    },
                });
                break;
            }
        }
        self.result
    }
}

/// Lower-case hex SHA-256 of `bytes`, for [`NewAuditEntry::body_sha256`].
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

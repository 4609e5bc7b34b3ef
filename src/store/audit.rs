//! The audit hash chain, shared by both backends.
//!
//! Each organisation has its own chain. An entry's
//! `hash = hex(sha256(prev_hash_hex || encode(fields)))`, where `prev_hash_hex` is the
//! previous entry's `hash` of the same organisation (64 ASCII zeros for the first) and
//! `encode` is an unambiguous encoding of every other stored field except `seq`, in this
//! order: a version tag, `at` (microseconds since the Unix epoch, 8 bytes big-endian),
//! `org`, `actor`, `action`, `kind`, `source_id`, `ptv_id`, `http_status`, `body_sha256`.
//! Strings are a 4-byte big-endian length and the UTF-8 bytes; an optional value is one
//! byte (0 = none, 1 = some) followed by the value. `seq` is only the storage order: the
//! links themselves (`prev_hash`) fix the order, so removing, inserting or reordering
//! entries breaks the chain at the next entry.
//!
//! **Retention.** [`super::StateStore::prune_audit`] deletes the oldest entries of each
//! chain (a prefix, never a gap). Verification then starts at the oldest remaining entry
//! of each organisation and trusts its `prev_hash`: removing further entries from the
//! start of a chain is therefore indistinguishable from retention, while every change,
//! removal or insertion after the first remaining entry is detected. Keep an external
//! copy of chain heads (e.g. `audit_since` exports) if that matters.

use super::types::{AuditBreak, AuditBreakKind, AuditEntry, AuditVerification, NewAuditEntry};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

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

/// Checks entries fed in ascending `seq` order (all organisations interleaved, or one).
#[derive(Default)]
pub(crate) struct Verifier {
    heads: HashMap<String, String>,
    result: AuditVerification,
}

impl Verifier {
    /// Feeds the next entry; returns `false` once a break is found (stop feeding).
    pub(crate) fn feed(&mut self, e: &AuditEntry) -> bool {
        self.result.entries += 1;
        let expected_prev = if let Some(head) = self.heads.get(&e.org) {
            head.clone()
        } else {
            // Oldest remaining entry of this chain: trusted (see module docs).
            self.result.orgs += 1;
            e.prev_hash.clone()
        };
        if e.prev_hash != expected_prev {
            self.result.broken = Some(AuditBreak {
                seq: e.seq,
                org: e.org.clone(),
                kind: AuditBreakKind::ChainMismatch {
                    expected: expected_prev,
                    found: e.prev_hash.clone(),
                },
            });
            return false;
        }
        let computed = e.computed_hash();
        if computed != e.hash {
            self.result.broken = Some(AuditBreak {
                seq: e.seq,
                org: e.org.clone(),
                kind: AuditBreakKind::HashMismatch {
                    stored: e.hash.clone(),
                    computed,
                },
            });
            return false;
        }
        self.heads.insert(e.org.clone(), e.hash.clone());
        true
    }

    pub(crate) fn finish(self) -> AuditVerification {
        self.result
    }
}

/// Lower-case hex SHA-256 of `bytes`, for [`NewAuditEntry::body_sha256`].
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

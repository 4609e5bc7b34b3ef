//! Conversions between records and column values shared by both backends.

use super::audit::{GENESIS_HASH, HashedFields, chain_hash};
use super::error::StoreError;
use super::types::{
    AuditEntry, ItemError, ItemRecord, ItemStatus, NewAuditEntry, OrgState, Payload, PlanRow,
    RemoteState, RunItem, RunOutcome, RunRecord, RunTrigger,
};
use crate::model::{Action, ItemKind, Outcome, PtvId, PtvSourceId, SourceId};
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// Timestamps are stored with microsecond precision on both backends.
#[must_use]
pub(crate) fn trunc(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// `SQLite` text form: RFC 3339, UTC, exactly six fractional digits, so that text order
/// is time order.
#[must_use]
pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    trunc(t).to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_time(s: &str, what: &dyn Fn() -> String) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::corrupt(format!("{}: timestamp {s:?}: {e}", what())))
}

pub(crate) fn parse_opt_time(
    s: Option<&str>,
    what: &dyn Fn() -> String,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.map(|s| parse_time(s, what)).transpose()
}

/// Parses a stored enumeration name with the type's `parse`.
pub(crate) fn parse_enum<T>(
    s: &str,
    parse: fn(&str) -> Option<T>,
    column: &str,
    what: &dyn Fn() -> String,
) -> Result<T, StoreError> {
    parse(s).ok_or_else(|| StoreError::corrupt(format!("{}: unknown {column} {s:?}", what())))
}

/// Parses a stored source id: a row whose id no source could hold is corrupt.
pub(crate) fn parse_source_id(
    s: &str,
    column: &str,
    what: &dyn Fn() -> String,
) -> Result<SourceId, StoreError> {
    SourceId::parse(s).map_err(|e| StoreError::corrupt(format!("{}: {column}: {e}", what())))
}

/// Parses a stored PTV id: a row naming something that is no GUID is corrupt.
pub(crate) fn parse_ptv_id(
    s: Option<&str>,
    column: &str,
    what: &dyn Fn() -> String,
) -> Result<Option<PtvId>, StoreError> {
    s.map(|s| {
        PtvId::parse(s).map_err(|e| StoreError::corrupt(format!("{}: {column}: {e}", what())))
    })
    .transpose()
}

pub(crate) fn json_text(v: &serde_json::Value) -> String {
    // Serialising a `Value` cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

pub(crate) fn parse_json(
    s: &str,
    column: &str,
    what: &dyn Fn() -> String,
) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::corrupt(format!("{}: {column}: {e}", what())))
}

pub(crate) fn error_text(e: &ItemError) -> String {
    let mut e = e.clone();
    e.at = trunc(e.at);
    // A struct of strings, maps and a timestamp always serialises.
    serde_json::to_string(&e).unwrap_or_else(|_| "null".to_owned())
}

pub(crate) fn parse_error(s: &str, what: &dyn Fn() -> String) -> Result<ItemError, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::corrupt(format!("{}: last_error: {e}", what())))
}

pub(crate) fn http_status_from_db(
    v: Option<i32>,
    what: &dyn Fn() -> String,
) -> Result<Option<u16>, StoreError> {
    v.map(|v| {
        u16::try_from(v).map_err(|_| StoreError::corrupt(format!("{}: http_status {v}", what())))
    })
    .transpose()
}

/// Keeps the last of records with the same key, preserving first-occurrence order of
/// keys; a multi-row upsert may not touch one row twice.
pub(crate) fn dedup_last<'a, T, K: std::hash::Hash + Eq>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut index: std::collections::HashMap<K, usize> =
        std::collections::HashMap::with_capacity(items.len());
    let mut out: Vec<&T> = Vec::with_capacity(items.len());
    for it in items {
        match index.entry(key(it)) {
            std::collections::hash_map::Entry::Occupied(o) => out[*o.get()] = it,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(out.len());
                out.push(it);
            }
        }
    }
    out
}

/// An `items` row with backend-specific types already decoded.
pub(crate) struct RawItem {
    pub org: String,
    pub kind: String,
    pub source_id: String,
    pub ptv_source_id: String,
    pub generation: i32,
    pub ptv_id: Option<String>,
    pub remote: String,
    pub fingerprint: Option<String>,
    pub payload: Option<String>,
    pub status: String,
    pub last_error: Option<String>,
    pub attempts: i32,
    pub protected: bool,
    pub first_pushed_at: Option<DateTime<Utc>>,
    pub last_pushed_at: Option<DateTime<Utc>>,
    pub last_touched_at: DateTime<Utc>,
}

impl RawItem {
    pub(crate) fn into_record(self) -> Result<ItemRecord, StoreError> {
        let what = || format!("item {}/{}/{}", self.org, self.kind, self.source_id);
        Ok(ItemRecord {
            kind: parse_enum(&self.kind, ItemKind::parse, "kind", &what)?,
            remote: parse_enum(&self.remote, RemoteState::parse, "remote", &what)?,
            status: parse_enum(&self.status, ItemStatus::parse, "status", &what)?,
            payload: payload(self.payload, &what)?,
            last_error: self
                .last_error
                .as_deref()
                .map(|e| parse_error(e, &what).map(Box::new))
                .transpose()?,
            source_id: parse_source_id(&self.source_id, "source_id", &what)?,
            ptv_id: parse_ptv_id(self.ptv_id.as_deref(), "ptv_id", &what)?,
            ptv_source_id: PtvSourceId::parse(&self.ptv_source_id)
                .map_err(|e| StoreError::corrupt(format!("{}: ptv_source_id: {e}", what())))?,
            org: self.org,
            generation: self.generation,
            fingerprint: self.fingerprint,
            attempts: self.attempts,
            protected: self.protected,
            first_pushed_at: self.first_pushed_at,
            last_pushed_at: self.last_pushed_at,
            last_touched_at: self.last_touched_at,
        })
    }
}

/// A stored payload's text, checked to be JSON.
fn payload(text: Option<String>, what: &dyn Fn() -> String) -> Result<Option<Payload>, StoreError> {
    text.map(|p| {
        Payload::from_text(p).map_err(|e| StoreError::corrupt(format!("{}: payload: {e}", what())))
    })
    .transpose()
}

/// The columns of a [`PlanRow`] as either backend reads them.
pub(crate) struct RawPlanRow<'a> {
    pub org: &'a str,
    pub kind: &'a str,
    pub source_id: compact_str::CompactString,
    /// Selected for channels only.
    pub channel_ptv_id: Option<Box<str>>,
    pub remote: &'a str,
    pub fingerprint: Option<&'a str>,
    /// Selected for organisations and connection sets only.
    pub payload: Option<String>,
    pub last_error: Option<&'a str>,
    pub attempts: i32,
    pub protected: bool,
    pub last_pushed_at: Option<DateTime<Utc>>,
}

impl RawPlanRow<'_> {
    pub(crate) fn into_row(self) -> Result<PlanRow, StoreError> {
        let what = || format!("item {}/{}/{}", self.org, self.kind, self.source_id);
        let remote = parse_enum(self.remote, RemoteState::parse, "remote", &what)?;
        let error = self.last_error.map(|e| parse_error(e, &what)).transpose()?;
        Ok(PlanRow {
            kind: parse_enum(self.kind, ItemKind::parse, "kind", &what)?,
            remote,
            fingerprint: self
                .fingerprint
                .and_then(crate::fingerprint::Fingerprint::parse),
            payload: payload(self.payload, &what)?,
            protected: self.protected,
            maybe_in_ptv: PlanRow::maybe_in_ptv(remote, self.attempts, error.is_some()),
            failure: PlanRow::held_failure(error.as_ref()),
            source_id: parse_source_id(&self.source_id, "source_id", &what)?,
            channel_ptv_id: self.channel_ptv_id,
            last_pushed_at: self.last_pushed_at,
        })
    }
}

/// A `runs` row with backend-specific types already decoded.
pub(crate) struct RawRun {
    pub id: i64,
    pub org: String,
    pub trigger: String,
    pub actor: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: String,
    pub counts: String,
    pub dry_run: bool,
}

impl RawRun {
    pub(crate) fn into_record(self) -> Result<RunRecord, StoreError> {
        let what = || format!("run {} of organisation {}", self.id, self.org);
        Ok(RunRecord {
            trigger: parse_enum(&self.trigger, RunTrigger::parse, "trigger", &what)?,
            outcome: parse_enum(&self.outcome, RunOutcome::parse, "outcome", &what)?,
            counts: parse_json(&self.counts, "counts", &what)?,
            id: self.id,
            org: self.org,
            actor: self.actor,
            started_at: self.started_at,
            finished_at: self.finished_at,
            dry_run: self.dry_run,
        })
    }
}

/// A `run_items` row.
pub(crate) struct RawRunItem {
    pub run_id: i64,
    pub kind: String,
    pub source_id: String,
    pub action: String,
    pub outcome: String,
    pub error: Option<String>,
}

impl RawRunItem {
    pub(crate) fn into_record(self) -> Result<RunItem, StoreError> {
        let what = || {
            format!(
                "item {}/{} of run {}",
                self.kind, self.source_id, self.run_id
            )
        };
        Ok(RunItem {
            kind: parse_enum(&self.kind, ItemKind::parse, "kind", &what)?,
            action: parse_enum(&self.action, Action::parse, "action", &what)?,
            outcome: parse_enum(&self.outcome, Outcome::parse, "outcome", &what)?,
            source_id: parse_source_id(&self.source_id, "source_id", &what)?,
            error: self.error,
        })
    }
}

/// An `audit` row with backend-specific types already decoded.
pub(crate) struct RawAudit {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub org: String,
    pub actor: String,
    pub action: String,
    pub kind: String,
    pub source_id: String,
    pub ptv_id: Option<String>,
    pub http_status: Option<i32>,
    pub body_sha256: Option<String>,
    pub reason: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl RawAudit {
    pub(crate) fn into_entry(self) -> Result<AuditEntry, StoreError> {
        let what = || format!("audit entry {} of organisation {}", self.seq, self.org);
        Ok(AuditEntry {
            action: parse_enum(&self.action, Action::parse, "action", &what)?,
            kind: parse_enum(&self.kind, ItemKind::parse, "kind", &what)?,
            http_status: http_status_from_db(self.http_status, &what)?,
            seq: self.seq,
            at: self.at,
            org: self.org,
            actor: self.actor,
            source_id: self.source_id,
            ptv_id: self.ptv_id,
            body_sha256: self.body_sha256,
            reason: self.reason,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// A stable 64-bit advisory-lock key for `namespace` + `name` (first 8 bytes of SHA-256).
pub(crate) fn lock_key(namespace: &str, name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(namespace.as_bytes())
        .chain_update(name.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Builds the hash of a new audit entry on top of `prev` (the chain head, if any).
pub(crate) fn new_audit_hash(
    entry: &NewAuditEntry,
    prev: Option<String>,
) -> (DateTime<Utc>, String, String) {
    let at = trunc(entry.at);
    let prev = prev.unwrap_or_else(|| GENESIS_HASH.to_owned());
    let hash = chain_hash(&prev, &HashedFields::of_new(entry, at.timestamp_micros()));
    (at, prev, hash)
}

/// Validates what the store cannot express in column types.
pub(crate) fn check_item(rec: &ItemRecord) -> Result<(), StoreError> {
    if rec.generation < 0 || rec.attempts < 0 {
        return Err(StoreError::Invalid(format!(
            "item {}: generation ({}) and attempts ({}) must not be negative",
            rec.key(),
            rec.generation,
            rec.attempts
        )));
    }
    Ok(())
}

pub(crate) fn check_org_state(s: &OrgState) -> Result<(), StoreError> {
    if s.guard_trips < 0 {
        return Err(StoreError::Invalid(format!(
            "organisation {}: guard_trips ({}) must not be negative",
            s.org, s.guard_trips
        )));
    }
    Ok(())
}

/// Maps a failed item write: a unique violation can only be the PTV sourceId index,
/// since the primary key is handled by the upsert.
pub(crate) fn item_write_error(
    key: String,
    scope: Option<&str>,
    ptv_source_id: &str,
    e: sqlx::Error,
) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::SourceIdConflict {
            key,
            scope: scope.unwrap_or("-").to_owned(),
            ptv_source_id: ptv_source_id.to_owned(),
        };
    }
    StoreError::Query {
        op: format!("save item {key}"),
        source: e,
    }
}

/// For a failed batch write, names the first pair of records of the batch that hold the
/// same PTV sourceId, or falls back to a generic description.
pub(crate) fn batch_write_error(recs: &[&ItemRecord], e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        let mut seen = std::collections::HashMap::new();
        for r in recs {
            if let Some(scope) = r.ptv_scope()
                && let Some(first) =
                    seen.insert((r.org.as_str(), scope, r.ptv_source_id.as_str()), r.key())
            {
                return StoreError::SourceIdConflict {
                    key: format!("{} (also {first} in this batch)", r.key()),
                    scope: scope.to_owned(),
                    ptv_source_id: r.ptv_source_id.to_string(),
                };
            }
        }
        return StoreError::SourceIdConflict {
            key: format!("of a batch of {}", recs.len()),
            scope: "-".to_owned(),
            ptv_source_id: "(held by a stored item)".to_owned(),
        };
    }
    StoreError::Query {
        op: format!("save a batch of {} items", recs.len()),
        source: e,
    }
}

/// Maps a failed run-item insert: a foreign-key violation means the run does not exist.
pub(crate) fn run_item_error(run_id: i64, e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_foreign_key_violation()
    {
        return StoreError::RunNotFound { run_id };
    }
    StoreError::Query {
        op: format!("record an item of run {run_id}"),
        source: e,
    }
}

/// Rows per multi-row upsert statement: 17 parameters each, below `SQLite`'s 32,766 and
/// `PostgreSQL`'s 65,535 parameter limits.
pub(crate) const BATCH_ROWS: usize = 1000;

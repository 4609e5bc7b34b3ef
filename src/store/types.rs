//! The records the state store holds. Enumerations are stored as their `snake_case` names
//! (the same strings serde uses), so a row can be read by hand with `sqlite3`/`psql`.

use crate::fingerprint::Fingerprint;
pub use crate::model::ErrorClass;
use crate::model::{Action, ItemKind, Outcome, PtvId, PtvSourceId, SourceId, stored_enum};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

stored_enum! {
    /// What PTV holds for an item, as far as we know.
    pub enum RemoteState {
        /// Nothing in PTV (never pushed, or the create did not go through).
        Absent => "absent",
        /// Published (or draft) and not archived.
        Live => "live",
        /// Archived (deleted) in PTV.
        Archived => "archived",
    }
}

stored_enum! {
    /// The outcome of the last attempt on an item.
    pub enum ItemStatus {
        Active => "active",
        Archived => "archived",
        Failed => "failed",
        /// Waiting for something else (e.g. a channel the service links to failed).
        Blocked => "blocked",
        /// PTV holds something else than we last sent (a person's edit, an archive, a
        /// removed connection), as the drift check found; `last_error` says what. See
        /// `src/drift`.
        Drifted => "drifted",
    }
}

stored_enum! {
    /// What started a run.
    pub enum RunTrigger {
        Schedule => "schedule",
        Resync => "resync",
        Demo => "demo",
        Freshness => "freshness",
        Retry => "retry",
        Manual => "manual",
    }
}

stored_enum! {
    /// How a run ended. `Running` until `finish_run`.
    pub enum RunOutcome {
        Ok => "ok",
        Partial => "partial",
        GuardTripped => "guard_tripped",
        Failed => "failed",
        Running => "running",
        /// Left `running` by a process that died; marked when the next run starts.
        Interrupted => "interrupted",
    }
}

/// The PTV sourceId namespace of a kind: organisations, services and channels (all channel
/// types together) each have their own; connections have none.
#[must_use]
pub fn ptv_scope(kind: ItemKind) -> Option<&'static str> {
    match kind {
        ItemKind::Organization => Some("organization"),
        ItemKind::Service => Some("service"),
        ItemKind::Channel => Some("channel"),
        ItemKind::Connections => None,
    }
}

/// How the drift check's note in `items.last_error` (an item with status
/// [`ItemStatus::Drifted`]) begins; the planner gives such a note as the reason of the
/// step that sends the item again, and the applier writes it into the audit entry.
pub const DRIFT_NOTE_PREFIX: &str = "drift: ";

/// The error of an item's last failed attempt. Stored as JSON text in `items.last_error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemError {
    pub class: ErrorClass,
    pub message: String,
    /// Field path → messages, as PTV reports validation errors.
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<String>>,
    /// Fingerprint of the payload that failed.
    pub fingerprint: Option<String>,
    pub at: DateTime<Utc>,
}

/// A last pushed payload as stored: JSON text, parsed only where it is read. A plan over
/// 100,000 items reads a handful; parsed all at once they cost kilobytes each.
#[derive(Clone)]
pub struct Payload(Box<str>);

impl Payload {
    #[must_use]
    pub fn new(value: &serde_json::Value) -> Self {
        // Serialising a `Value` cannot fail.
        Payload(
            serde_json::to_string(value)
                .unwrap_or_else(|_| "null".to_owned())
                .into(),
        )
    }
    /// Takes stored text, checking that it is JSON.
    pub fn from_text(text: String) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(Payload(text.into()))
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The payload as a JSON value.
    #[must_use]
    pub fn value(&self) -> serde_json::Value {
        // Checked at construction.
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
    /// The payload read as `T` (a model item, or the few keys a caller needs).
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        Payload::new(&value)
    }
}

/// Equal as JSON: a database may store the same value with other spacing or key order.
impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || self.value() == other.value()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One row per (organisation name, kind, source id).
///
/// Timestamps are stored with microsecond precision on both backends; finer parts are
/// truncated on write.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub org: String,
    pub kind: ItemKind,
    pub source_id: SourceId,
    /// PTV sourceId / v12 externalId, including any generation suffix.
    pub ptv_source_id: PtvSourceId,
    /// 0 = base sourceId; n = `"<base>.g<n>"`, taken when an archived item still holds the base.
    pub generation: i32,
    /// v11 GUID / v12 contentId.
    pub ptv_id: Option<PtvId>,
    pub remote: RemoteState,
    /// Fingerprint of what PTV holds (last successful push).
    pub fingerprint: Option<String>,
    /// Last pushed (version-neutral) payload. `None` in the rows of
    /// [`StateStore::item_heads`](super::StateStore::item_heads) for services and channels.
    pub payload: Option<Payload>,
    pub status: ItemStatus,
    /// Boxed: most rows have none, and a plan holds a row per item.
    pub last_error: Option<Box<ItemError>>,
    /// Consecutive failed attempts.
    pub attempts: i32,
    /// Never archive.
    pub protected: bool,
    pub first_pushed_at: Option<DateTime<Utc>>,
    pub last_pushed_at: Option<DateTime<Utc>>,
    pub last_touched_at: DateTime<Utc>,
}

impl ItemRecord {
    /// A record for an item not yet in PTV: generation 0 with the base sourceId
    /// `source_id`, nothing pushed, status `Active`.
    #[must_use]
    pub fn new(org: &str, kind: ItemKind, source_id: &SourceId, now: DateTime<Utc>) -> Self {
        ItemRecord {
            org: org.to_owned(),
            kind,
            source_id: source_id.clone(),
            ptv_source_id: source_id.into(),
            generation: 0,
            ptv_id: None,
            remote: RemoteState::Absent,
            fingerprint: None,
            payload: None,
            status: ItemStatus::Active,
            last_error: None,
            attempts: 0,
            protected: false,
            first_pushed_at: None,
            last_pushed_at: None,
            last_touched_at: now,
        }
    }

    /// The PTV sourceId namespace of this record's kind, see [`ptv_scope`].
    #[must_use]
    pub fn ptv_scope(&self) -> Option<&'static str> {
        ptv_scope(self.kind)
    }

    /// `org/kind/source_id`, for messages.
    #[must_use]
    pub fn key(&self) -> String {
        format!("{}/{}/{}", self.org, self.kind, self.source_id)
    }
}

/// What a plan needs of one stored row, and no more ([`StateStore::plan_rows`]). A plan
/// over 100,000 items holds one per item: about a quarter of an [`ItemRecord`] each.
///
/// [`StateStore::plan_rows`]: super::StateStore::plan_rows
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub kind: ItemKind,
    pub source_id: SourceId,
    /// The PTV id of a channel (`None` for other kinds), for noticing connection sets that
    /// still name a channel's earlier PTV entity.
    pub channel_ptv_id: Option<Box<str>>,
    pub remote: RemoteState,
    /// Of what PTV holds; a stored text that is no fingerprint of ours reads as `None`, and
    /// the item is sent again.
    pub fingerprint: Option<Fingerprint>,
    /// The last pushed payload of organisations (their parent chain orders archives) and
    /// connection sets (the channels they name). Services and channels come without it,
    /// unless the row was made from a whole [`ItemRecord`].
    pub payload: Option<Payload>,
    /// Never archive.
    pub protected: bool,
    /// Not known to be in PTV, but a create was attempted (a crash or lost answer may have
    /// left it there): it is archived through a lookup if it leaves the source.
    pub maybe_in_ptv: bool,
    /// The last failure if it was terminal or needs a person: a transient one is simply
    /// retried.
    pub failure: Option<Box<ItemError>>,
    /// The last successful write of the item itself (not of a connection set naming
    /// it): what PTV's 18-month automatic archiving counts from (`plan::touch`).
    pub last_pushed_at: Option<DateTime<Utc>>,
}

impl PlanRow {
    /// A live item last written with `fingerprint` at `pushed_at`, as a state that records
    /// everything as pushed holds it (benchmarks and planner tests build such states).
    #[must_use]
    pub fn pushed(
        kind: ItemKind,
        source_id: SourceId,
        fingerprint: Option<Fingerprint>,
        pushed_at: Option<DateTime<Utc>>,
    ) -> Self {
        PlanRow {
            kind,
            source_id,
            channel_ptv_id: None,
            remote: RemoteState::Live,
            fingerprint,
            payload: None,
            protected: false,
            maybe_in_ptv: false,
            failure: None,
            last_pushed_at: pushed_at,
        }
    }

    pub(crate) fn maybe_in_ptv(remote: RemoteState, attempts: i32, failed: bool) -> bool {
        remote == RemoteState::Absent && (attempts > 0 || failed)
    }

    pub(crate) fn held_failure(error: Option<&ItemError>) -> Option<Box<ItemError>> {
        error
            .filter(|e| e.class != ErrorClass::Transient)
            .map(|e| Box::new(e.clone()))
    }
}

impl From<&ItemRecord> for PlanRow {
    fn from(r: &ItemRecord) -> Self {
        PlanRow {
            kind: r.kind,
            source_id: r.source_id.clone(),
            channel_ptv_id: r
                .ptv_id
                .filter(|_| r.kind == ItemKind::Channel)
                .map(|id| id.to_string().into()),
            remote: r.remote,
            fingerprint: r.fingerprint.as_deref().and_then(Fingerprint::parse),
            payload: r.payload.clone(),
            protected: r.protected,
            maybe_in_ptv: Self::maybe_in_ptv(r.remote, r.attempts, r.last_error.is_some()),
            failure: Self::held_failure(r.last_error.as_deref()),
            last_pushed_at: r.last_pushed_at,
        }
    }
}

/// A run about to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub org: String,
    pub trigger: RunTrigger,
    /// Who started it: `"daemon"`, or the user of a CLI command.
    pub actor: String,
    pub started_at: DateTime<Utc>,
    pub dry_run: bool,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub org: String,
    pub trigger: RunTrigger,
    pub actor: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: RunOutcome,
    /// Per action and outcome, as the engine reports them (`{}` while running).
    pub counts: serde_json::Value,
    pub dry_run: bool,
}

/// What happened to one item in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunItem {
    pub kind: ItemKind,
    pub source_id: SourceId,
    pub action: Action,
    pub outcome: Outcome,
    pub error: Option<String>,
}

/// An audit entry to append. `prev_hash` and `hash` are computed by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    pub org: String,
    pub actor: String,
    pub action: Action,
    pub kind: ItemKind,
    pub source_id: String,
    pub ptv_id: Option<String>,
    pub http_status: Option<u16>,
    /// Lower-case hex SHA-256 of the request body sent to PTV, see [`super::sha256_hex`].
    pub body_sha256: Option<String>,
    /// Why the write was made, when it was not the source's change (the drift check's
    /// note, see [`DRIFT_NOTE_PREFIX`]).
    pub reason: Option<String>,
}

/// An audit entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub org: String,
    pub actor: String,
    pub action: Action,
    pub kind: ItemKind,
    pub source_id: String,
    pub ptv_id: Option<String>,
    pub http_status: Option<u16>,
    pub body_sha256: Option<String>,
    pub reason: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Why a chain is broken at an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditBreakKind {
    /// The entry's fields no longer hash to its stored `hash`: the row was changed.
    HashMismatch { stored: String, computed: String },
    /// The entry's `prev_hash` is not the previous entry's `hash`: an entry before it was
    /// removed, inserted or reordered.
    ChainMismatch { expected: String, found: String },
    /// The oldest remaining entry does not start where the chain must start: from
    /// [`GENESIS_HASH`](super::GENESIS_HASH), or from the last entry a recorded prune
    /// deleted (`expected`). Entries at the start were removed outside retention.
    StartMissing { expected: String, found: String },
    /// The head recorded at a run end (`head_seq`, `head_hash`) is no longer in the chain:
    /// entries at its end were removed. `last_seq` is the last entry left, if any.
    Truncated {
        head_seq: i64,
        head_hash: String,
        last_seq: Option<i64>,
    },
}

/// The first broken entry found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditBreak {
    pub seq: i64,
    pub org: String,
    pub kind: AuditBreakKind,
}

impl fmt::Display for AuditBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            AuditBreakKind::HashMismatch { .. } => write!(
                f,
                "audit entry {} of organisation {} was modified after it was written",
                self.seq, self.org
            ),
            AuditBreakKind::ChainMismatch { .. } => write!(
                f,
                "audit chain of organisation {} is broken before entry {}: an entry was removed, inserted or reordered",
                self.org, self.seq
            ),
            AuditBreakKind::StartMissing { .. } => write!(
                f,
                "audit chain of organisation {} lost its start: the entries before entry {} \
                 were deleted, and no recorded prune explains it; restore the audit table \
                 from a backup (or compare with an `audit export`) and verify again",
                self.org, self.seq
            ),
            AuditBreakKind::Truncated {
                head_seq,
                head_hash,
                last_seq,
            } => {
                write!(
                    f,
                    "audit chain of organisation {} is truncated: its head recorded at a run \
                     end, entry {head_seq} (hash {head_hash}), is missing; ",
                    self.org
                )?;
                match last_seq {
                    Some(last) => write!(f, "the entries after entry {last} were deleted")?,
                    None => write!(f, "no entry is left of the chain")?,
                }
                write!(
                    f,
                    "; restore the audit table from a backup (or compare with an \
                     `audit export`) and verify again"
                )
            }
        }
    }
}

/// Result of [`super::StateStore::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditVerification {
    /// Entries checked (up to and including the broken one, if any).
    pub entries: u64,
    /// Organisations whose chains were checked.
    pub orgs: u64,
    /// The first broken entry (lowest seq), if any.
    pub broken: Option<AuditBreak>,
}

impl AuditVerification {
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.broken.is_none()
    }
}

/// Per-organisation bookkeeping of the engine and daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgState {
    pub org: String,
    pub last_run_id: Option<i64>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_run_at: Option<DateTime<Utc>>,
    /// How many runs the safety guard stopped.
    pub guard_trips: i32,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub next_run_at: Option<DateTime<Utc>>,
}

impl OrgState {
    #[must_use]
    pub fn new(org: &str) -> Self {
        OrgState {
            org: org.to_owned(),
            last_run_id: None,
            last_success_at: None,
            last_run_at: None,
            guard_trips: 0,
            token_expires_at: None,
            next_run_at: None,
        }
    }
}

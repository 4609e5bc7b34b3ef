//! The state store: what ptv-sync knows about each item in PTV, its runs, an append-only
//! hash-chained audit log of every write to PTV, and per-organisation bookkeeping.
//!
//! One trait, [`StateStore`], two implementations: [`SqliteStore`] (a file in the state
//! directory; the default) and [`PostgresStore`] (for several instances with fail-over).
//! Both pass the same contract test suite (`tests/it/store`). Every method is one short
//! transaction at most; the engine never holds a transaction across an HTTP call.
//!
//! Single writer: the daemon takes [`StateStore::lock_org`] before it syncs an
//! organisation; a second instance (or a CLI `run`) gets `None` and must not write to
//! PTV for that organisation.

mod audit;
mod codec;
mod error;
mod lock;
mod migrations;
mod postgres;
mod sql;
mod sqlite;
mod target;
mod types;

pub use audit::{GENESIS_HASH, sha256_hex};
pub use error::StoreError;
pub use lock::{LOCK_CHECK, OrgLock, SharedLock, watch as watch_lock};
pub use migrations::migration_files;
pub use postgres::{LOCK_APPLICATION_NAME, PostgresStore};
pub use sqlite::SqliteStore;
pub use target::{OpenMode, StoreTarget, redact_url};
pub use types::{
    AuditBreak, AuditBreakKind, AuditEntry, AuditVerification, DRIFT_NOTE_PREFIX, ErrorClass,
    ItemError, ItemRecord, ItemStatus, NewAuditEntry, NewRun, OrgState, Payload, PlanRow,
    RemoteState, RunItem, RunOutcome, RunRecord, RunTrigger, ptv_scope,
};

use crate::model::ItemKind;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Persistent state of ptv-sync. Implementations are cheap to share (`Arc<dyn StateStore>`)
/// and safe to call from many tasks.
///
/// Every `org` parameter (and the `org` of a record) is a state key
/// ([`crate::model::StateKey`]): a configured organisation's name, or a label scoped
/// under it. The store checks nothing about it; callers pass `OrgConfig::state_key()`.
#[async_trait]
pub trait StateStore: Send + Sync + std::fmt::Debug {
    /// All items of an organisation, ordered by kind and source id.
    async fn items(&self, org: &str) -> Result<Vec<ItemRecord>, StoreError>;

    /// All items of an organisation as [`items`](Self::items) gives them, but without the
    /// payloads of services and channels (`payload` is `None` for those): what a plan needs
    /// of every item, at a fraction of the memory. [`item`](Self::item) gives one whole.
    async fn item_heads(&self, org: &str) -> Result<Vec<ItemRecord>, StoreError>;

    /// What a plan needs of every item of an organisation, ordered as
    /// [`items`](Self::items): [`PlanRow`]s agree with the `PlanRow::from` of each item.
    async fn plan_rows(&self, org: &str) -> Result<Vec<PlanRow>, StoreError>;

    /// How many items of an organisation are in each (remote, status) pair; pairs with none
    /// are left out. Counted by the database: no row is loaded.
    async fn item_state_counts(
        &self,
        org: &str,
    ) -> Result<Vec<(RemoteState, ItemStatus, u64)>, StoreError>;

    /// The oldest last write (`last_pushed_at`) among the organisation's live services
    /// and channels, which PTV archives 18 months after their last save; `None` when
    /// there is none. Found by the database: no row is loaded.
    async fn oldest_write(&self, org: &str) -> Result<Option<DateTime<Utc>>, StoreError>;

    async fn item(
        &self,
        org: &str,
        kind: ItemKind,
        source_id: &str,
    ) -> Result<Option<ItemRecord>, StoreError>;

    /// Inserts or replaces the row of (org, kind, source id). Fails with
    /// [`StoreError::SourceIdConflict`] if another row of the organisation holds the same
    /// PTV sourceId in the same namespace.
    async fn put_item(&self, rec: &ItemRecord) -> Result<(), StoreError>;

    /// [`put_item`](Self::put_item) for many records in one transaction; of records with the
    /// same key the last wins.
    async fn put_items(&self, recs: &[ItemRecord]) -> Result<(), StoreError>;

    /// Whether any row of the organisation (any status) holds `ptv_source_id` in the PTV
    /// sourceId namespace `ptv_scope` (see [`ptv_scope`]).
    async fn source_id_taken(
        &self,
        org: &str,
        ptv_scope: &str,
        ptv_source_id: &str,
    ) -> Result<bool, StoreError>;

    /// Sets the never-archive flag; returns whether the row exists.
    async fn set_protected(
        &self,
        org: &str,
        kind: ItemKind,
        source_id: &str,
        protected: bool,
    ) -> Result<bool, StoreError>;

    /// Records a run as `Running`; returns its id.
    async fn begin_run(&self, run: &NewRun) -> Result<i64, StoreError>;

    async fn record_run_item(&self, run_id: i64, item: &RunItem) -> Result<(), StoreError>;

    /// Sets the outcome, counts and `finished_at` of a run and, in the same
    /// transaction, records its organisation's audit chain head as the chain's anchor (logged
    /// at info level; see `audit.rs`).
    async fn finish_run(
        &self,
        run_id: i64,
        outcome: RunOutcome,
        counts: &serde_json::Value,
        finished_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError>;

    /// The latest runs of an organisation, newest first.
    async fn last_runs(&self, org: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError>;

    /// The items of a run, in the order recorded.
    async fn run_items(&self, run_id: i64) -> Result<Vec<RunItem>, StoreError>;

    /// Appends to the organisation's audit chain; race-free against concurrent appends.
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError>;

    /// [`put_item`](Self::put_item) and [`append_audit`](Self::append_audit) in one
    /// transaction: a write to PTV is recorded with its audit entry or not at all.
    async fn put_item_audited(
        &self,
        rec: &ItemRecord,
        entry: &NewAuditEntry,
    ) -> Result<AuditEntry, StoreError>;

    /// Entries with `at >= since`, all organisations, in `seq` order.
    async fn audit_since(&self, since: DateTime<Utc>) -> Result<Vec<AuditEntry>, StoreError>;

    /// Recomputes the chain of one organisation or of all; reports the first broken entry.
    /// Each chain must start from the genesis hash or from what a recorded prune deleted,
    /// and still hold the head recorded at the last run end (see the anchors in `audit.rs`):
    /// entries removed at the start, the end or all of them are reported.
    async fn verify_audit(&self, org: Option<&str>) -> Result<AuditVerification, StoreError>;

    /// Retention: deletes, per organisation, the entries older than `before` that precede
    /// its first entry at or after `before` (so chains lose a prefix, never a middle part).
    /// Records, per organisation, the last deleted entry as the chain's new start (in the
    /// same transaction). Returns how many entries were deleted.
    async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Retention of runs: deletes the runs that finished before `before`, with their items
    /// (a run still running is kept). Returns how many runs were deleted.
    async fn prune_runs(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    async fn org_state(&self, org: &str) -> Result<Option<OrgState>, StoreError>;

    async fn put_org_state(&self, s: &OrgState) -> Result<(), StoreError>;

    /// Where the organisation's last drift check that read only a slice stopped (see
    /// `src/drift`); `None` when the next check starts from the beginning.
    async fn drift_cursor(&self, org: &str) -> Result<Option<String>, StoreError>;

    /// Records (`Some`) or clears (`None`) the organisation's drift cursor.
    async fn set_drift_cursor(&self, org: &str, position: Option<&str>) -> Result<(), StoreError>;

    /// A round trip to the database, for readiness checks.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Takes the single-writer lock of an organisation, or returns `None` if another
    /// holder (another process, or another task of this one) has it. Held until the guard
    /// is released or dropped; freed by the OS / `PostgreSQL` if the process dies.
    async fn lock_org(&self, org: &str) -> Result<Option<OrgLock>, StoreError>;

    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
}

/// Opens the state database. [`OpenMode::CreateIfMissing`] creates the directory and
/// database and migrates; [`OpenMode::MustExist`] creates and migrates nothing and
/// fails if the database is missing or its schema is not this version's.
/// How many of an organisation's latest runs [`interrupt_stale_runs`] looks at: each start
/// cleans up, so only the runs since the last start can still say `running`.
const STALE_RUNS_SCANNED: u32 = 100;

/// Marks an organisation's runs still recorded as `running` as `interrupted` (a process
/// died mid-run). Only the holder of the organisation's single-writer lock calls this,
/// before it starts a run: then no other run of that organisation can be in progress.
/// `now` (the daemon's clock) is recorded as when they ended.
pub async fn interrupt_stale_runs(
    store: &dyn StateStore,
    org: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, StoreError> {
    let mut marked = 0;
    for run in store.last_runs(org, STALE_RUNS_SCANNED).await? {
        if run.outcome == RunOutcome::Running {
            store
                .finish_run(run.id, RunOutcome::Interrupted, &run.counts, now)
                .await?;
            tracing::warn!(organization = %org, run = run.id, "run {} never finished (the process died); marked interrupted", run.id);
            marked += 1;
        }
    }
    Ok(marked)
}

pub async fn open(target: &StoreTarget, mode: OpenMode) -> Result<Arc<dyn StateStore>, StoreError> {
    match target {
        StoreTarget::Sqlite { path } => Ok(Arc::new(SqliteStore::open(path, mode).await?)),
        StoreTarget::Postgres { url } => Ok(Arc::new(PostgresStore::open(url, mode).await?)),
    }
}

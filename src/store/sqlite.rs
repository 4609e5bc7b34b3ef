//! `SQLite` backend: one file in the state directory, WAL, short write transactions taken
//! with `BEGIN IMMEDIATE` (so a writer waits for the lock up to `busy_timeout` instead of
//! failing when it upgrades a read transaction).

use super::codec::{
    self, BATCH_ROWS, RawAudit, RawItem, RawRun, RawRunItem, opt_time_text, parse_opt_time,
    parse_time, time_text,
};
use super::error::{StoreError, io_hint};
use super::lock::{Inner, OrgLock};
use super::migrations::{self, Backend};
use super::target::OpenMode;
use super::types::{
    AuditEntry, AuditVerification, ItemRecord, NewAuditEntry, NewRun, OrgState, PlanRow, RunItem,
    RunOutcome, RunRecord,
};
use super::{StateStore, audit::Verifier};
use crate::model::ItemKind;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 4;

const ITEM_COLUMNS: &str = "org, kind, source_id, ptv_scope, ptv_source_id, generation, ptv_id, \
     remote, fingerprint, payload, status, last_error, attempts, protected, first_pushed_at, \
     last_pushed_at, last_touched_at";

const ITEM_SELECT: &str = "SELECT org, kind, source_id, ptv_source_id, generation, ptv_id, \
     remote, fingerprint, payload, status, last_error, attempts, protected, first_pushed_at, \
     last_pushed_at, last_touched_at FROM items";

/// One page of item heads (no payloads of services and channels) as one JSON text. sqlx
/// hands `SQLite` rows over one at a time with a copy of every value, about 10 µs a row:
/// most of a 100,000-item plan. One text per page costs a fraction of that.
const ITEM_HEAD_PAGE: &str = "SELECT json_group_array(json_array(kind, source_id, \
     ptv_source_id, generation, ptv_id, remote, fingerprint, \
     CASE WHEN kind IN ('service', 'channel') THEN NULL ELSE payload END, status, last_error, \
     attempts, protected, first_pushed_at, last_pushed_at, last_touched_at) \
     ORDER BY kind, source_id) FROM (SELECT * FROM items \
     WHERE org = ? AND (kind, source_id) > (?, ?) ORDER BY kind, source_id LIMIT ?)";
const HEAD_PAGE_ROWS: i64 = 5000;

/// A row of [`ITEM_HEAD_PAGE`], in its column order.
type HeadRow = (
    String,
    String,
    String,
    i32,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    i32,
    i64,
    Option<String>,
    Option<String>,
    String,
);

fn item_from_head(org: &str, h: HeadRow) -> Result<ItemRecord, StoreError> {
    let (kind, source_id, ptv_source_id, generation, ptv_id, remote, fingerprint, payload) =
        (h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7);
    let what = || format!("item {org}/{kind}/{source_id}");
    let item = RawItem {
        first_pushed_at: parse_opt_time(h.12.as_deref(), &what)?,
        last_pushed_at: parse_opt_time(h.13.as_deref(), &what)?,
        last_touched_at: parse_time(&h.14, &what)?,
        ptv_source_id,
        generation,
        ptv_id,
        remote,
        fingerprint,
        payload,
        status: h.8,
        last_error: h.9,
        attempts: h.10,
        protected: h.11 != 0,
        org: org.to_owned(),
        kind: kind.clone(),
        source_id: source_id.clone(),
    };
    item.into_record()
}

/// One page of [`PlanRow`]s as a JSON array of arrays, as [`ITEM_HEAD_PAGE`].
const PLAN_ROW_PAGE: &str = "SELECT json_group_array(json_array(kind, source_id, \
     CASE WHEN kind = 'channel' THEN ptv_id END, remote, fingerprint, \
     CASE WHEN kind IN ('organization', 'connections') THEN payload END, last_error, attempts, \
     protected) ORDER BY kind, source_id) FROM (SELECT * FROM items \
     WHERE org = ? AND (kind, source_id) > (?, ?) ORDER BY kind, source_id LIMIT ?)";

/// A row of [`PLAN_ROW_PAGE`], in its column order; read from an array, borrowing what
/// needs no unescaping.
#[derive(serde::Deserialize)]
struct PlanPageRow<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    source_id: compact_str::CompactString,
    channel_ptv_id: Option<Box<str>>,
    #[serde(borrow)]
    remote: Cow<'a, str>,
    #[serde(borrow)]
    fingerprint: Option<Cow<'a, str>>,
    payload: Option<String>,
    #[serde(borrow)]
    last_error: Option<Cow<'a, str>>,
    attempts: i32,
    protected: i64,
}

const ITEM_UPSERT_TAIL: &str = " ON CONFLICT (org, kind, source_id) DO UPDATE SET \
     ptv_scope = excluded.ptv_scope, ptv_source_id = excluded.ptv_source_id, \
     generation = excluded.generation, ptv_id = excluded.ptv_id, remote = excluded.remote, \
     fingerprint = excluded.fingerprint, payload = excluded.payload, status = excluded.status, \
     last_error = excluded.last_error, attempts = excluded.attempts, \
     protected = excluded.protected, first_pushed_at = excluded.first_pushed_at, \
     last_pushed_at = excluded.last_pushed_at, last_touched_at = excluded.last_touched_at";

const RUN_SELECT: &str =
    "SELECT id, org, trigger, actor, started_at, finished_at, outcome, counts, dry_run FROM runs";

const AUDIT_SELECT: &str = "SELECT seq, at, org, actor, action, kind, source_id, ptv_id, \
     http_status, body_sha256, prev_hash, hash FROM audit";

/// The `SQLite` state store.
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
    lock_path: PathBuf,
    mode: OpenMode,
    /// The process-wide exclusive lock on `<db>.lock`, taken by the first `lock_org`.
    process_lock: Mutex<Option<File>>,
    /// Organisations locked by this process.
    held: Arc<Mutex<HashSet<String>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Items as column values, owned so that a multi-row statement can borrow them.
struct ItemBinds<'a> {
    rec: &'a ItemRecord,
    payload: Option<String>,
    last_error: Option<String>,
    first_pushed_at: Option<String>,
    last_pushed_at: Option<String>,
    last_touched_at: String,
}

impl<'a> ItemBinds<'a> {
    fn new(rec: &'a ItemRecord) -> Self {
        ItemBinds {
            rec,
            payload: rec.payload.as_ref().map(|p| p.as_str().to_owned()),
            last_error: rec.last_error.as_deref().map(codec::error_text),
            first_pushed_at: opt_time_text(rec.first_pushed_at),
            last_pushed_at: opt_time_text(rec.last_pushed_at),
            last_touched_at: time_text(rec.last_touched_at),
        }
    }
}

fn push_item<'a>(
    mut b: sqlx::query_builder::Separated<'_, 'a, Sqlite, &'static str>,
    v: &'a ItemBinds<'a>,
) {
    let r = v.rec;
    b.push_bind(r.org.as_str())
        .push_bind(r.kind.as_str())
        .push_bind(r.source_id.as_str())
        .push_bind(r.ptv_scope())
        .push_bind(r.ptv_source_id.as_str())
        .push_bind(r.generation)
        .push_bind(r.ptv_id.as_deref())
        .push_bind(r.remote.as_str())
        .push_bind(r.fingerprint.as_deref())
        .push_bind(v.payload.as_deref())
        .push_bind(r.status.as_str())
        .push_bind(v.last_error.as_deref())
        .push_bind(r.attempts)
        .push_bind(r.protected)
        .push_bind(v.first_pushed_at.as_deref())
        .push_bind(v.last_pushed_at.as_deref())
        .push_bind(v.last_touched_at.as_str());
}

fn upsert_statement<'a>(binds: &'a [ItemBinds<'a>]) -> QueryBuilder<'a, Sqlite> {
    let mut qb = QueryBuilder::new(format!("INSERT INTO items ({ITEM_COLUMNS}) "));
    qb.push_values(binds, |b, v| push_item(b, v));
    qb.push(ITEM_UPSERT_TAIL);
    qb
}

fn item_from_row(row: &SqliteRow) -> Result<ItemRecord, StoreError> {
    let org: String = get(row, "org")?;
    let kind: String = get(row, "kind")?;
    let source_id: String = get(row, "source_id")?;
    let what = || format!("item {org}/{kind}/{source_id}");
    let time = |c: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        parse_opt_time(get::<Option<String>>(row, c)?.as_deref(), &what)
    };
    let item = RawItem {
        first_pushed_at: time("first_pushed_at")?,
        last_pushed_at: time("last_pushed_at")?,
        last_touched_at: parse_time(&get::<String>(row, "last_touched_at")?, &what)?,
        ptv_source_id: get(row, "ptv_source_id")?,
        generation: get(row, "generation")?,
        ptv_id: get(row, "ptv_id")?,
        remote: get(row, "remote")?,
        fingerprint: get(row, "fingerprint")?,
        payload: get(row, "payload")?,
        status: get(row, "status")?,
        last_error: get(row, "last_error")?,
        attempts: get(row, "attempts")?,
        protected: get(row, "protected")?,
        org: org.clone(),
        kind: kind.clone(),
        source_id: source_id.clone(),
    };
    item.into_record()
}

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(column)
        .map_err(StoreError::query(format!("read column {column}")))
}

fn run_from_row(row: &SqliteRow) -> Result<RunRecord, StoreError> {
    let id: i64 = get(row, "id")?;
    let what = || format!("run {id}");
    RawRun {
        id,
        org: get(row, "org")?,
        trigger: get(row, "trigger")?,
        actor: get(row, "actor")?,
        started_at: parse_time(&get::<String>(row, "started_at")?, &what)?,
        finished_at: parse_opt_time(get::<Option<String>>(row, "finished_at")?.as_deref(), &what)?,
        outcome: get(row, "outcome")?,
        counts: get(row, "counts")?,
        dry_run: get(row, "dry_run")?,
    }
    .into_record()
}

fn audit_from_row(row: &SqliteRow) -> Result<AuditEntry, StoreError> {
    let seq: i64 = get(row, "seq")?;
    let what = || format!("audit entry {seq}");
    RawAudit {
        seq,
        at: parse_time(&get::<String>(row, "at")?, &what)?,
        org: get(row, "org")?,
        actor: get(row, "actor")?,
        action: get(row, "action")?,
        kind: get(row, "kind")?,
        source_id: get(row, "source_id")?,
        ptv_id: get(row, "ptv_id")?,
        http_status: get(row, "http_status")?,
        body_sha256: get(row, "body_sha256")?,
        prev_hash: get(row, "prev_hash")?,
        hash: get(row, "hash")?,
    }
    .into_entry()
}

fn org_state_from_row(row: &SqliteRow) -> Result<OrgState, StoreError> {
    let org: String = get(row, "org")?;
    let what = || format!("state of organisation {org}");
    let time = |c: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        parse_opt_time(get::<Option<String>>(row, c)?.as_deref(), &what)
    };
    Ok(OrgState {
        last_run_id: get(row, "last_run_id")?,
        last_success_at: time("last_success_at")?,
        last_run_at: time("last_run_at")?,
        guard_trips: get(row, "guard_trips")?,
        token_expires_at: time("token_expires_at")?,
        next_run_at: time("next_run_at")?,
        org: org.clone(),
    })
}

/// `<db>.lock` next to the database.
fn lock_path_for(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

/// Explains a failure to open the database, probing the file for a precise cause.
fn open_error(path: &Path, e: &sqlx::Error) -> StoreError {
    let probe = OpenOptions::new().read(true).open(path).err();
    let hint = match (&probe, e) {
        (Some(p), _) => io_hint(p.kind()),
        (None, sqlx::Error::Io(io)) => io_hint(io.kind()),
        _ => {
            "check that the daemon's user may read and write the file and its directory \
              (SQLite also creates <db>-wal and <db>-shm there)"
        }
    };
    let reason = match (&probe, e) {
        (Some(p), _) if p.kind() == std::io::ErrorKind::PermissionDenied => p.to_string(),
        (_, sqlx::Error::Database(db)) => db.message().to_owned(),
        _ => e.to_string(),
    };
    StoreError::Open {
        path: path.to_owned(),
        reason,
        hint,
    }
}

fn create_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o750);
    }
    builder.create(dir).map_err(|source| StoreError::CreateDir {
        path: dir.to_owned(),
        hint: io_hint(source.kind()),
        source,
    })
}

impl SqliteStore {
    /// Opens (and in [`OpenMode::CreateIfMissing`] creates and migrates) the database file.
    pub async fn open(path: &Path, mode: OpenMode) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        match mode {
            OpenMode::CreateIfMissing => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    create_dir(dir)?;
                }
            }
            OpenMode::MustExist => match std::fs::metadata(path) {
                Ok(m) if m.is_file() => {}
                Ok(_) => {
                    return Err(StoreError::Open {
                        path: path.to_owned(),
                        reason: "not a regular file".to_owned(),
                        hint: "pass the state directory with --state-dir",
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(StoreError::Missing {
                        path: path.to_owned(),
                    });
                }
                Err(e) => {
                    return Err(StoreError::Open {
                        path: path.to_owned(),
                        hint: io_hint(e.kind()),
                        reason: e.to_string(),
                    });
                }
            },
        }

        let mut options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(mode == OpenMode::CreateIfMissing)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        if mode == OpenMode::CreateIfMissing {
            // WAL is a property of the file, kept once set; setting it writes the header,
            // which MustExist may not do (an empty or foreign file stays untouched).
            options = options.journal_mode(SqliteJournalMode::Wal);
        }
        let connect = || {
            SqlitePoolOptions::new()
                .max_connections(MAX_CONNECTIONS)
                .acquire_timeout(BUSY_TIMEOUT * 6)
                .connect_with(options.clone())
        };
        let pool = match connect().await {
            // Switching a new file to WAL takes a lock the busy timeout does not wait for:
            // another process creating it at the same moment holds it for a few ms.
            Err(e) if mode == OpenMode::CreateIfMissing && e.to_string().contains("locked") => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                connect().await
            }
            other => other,
        }
        .map_err(|e| open_error(path, &e))?;

        let lock_path = lock_path_for(path);
        match mode {
            OpenMode::CreateIfMissing => {
                let migrator = migrations::migrator(Backend::Sqlite);
                if migrator.run(&pool).await.is_err() {
                    // Two processes opening a new file at once (the daemon's first start
                    // and a `resync`) both see it unmigrated; the second's CREATE TABLE then
                    // fails once the first commits. Against what the first recorded, the
                    // second attempt has nothing to do, or fails for a real reason.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    migrator.run(&pool).await.map_err(|e| StoreError::Migrate {
                        target: shown.clone(),
                        reason: e.to_string(),
                    })?;
                }
                // Create the lock file now, so that commands run later as another user
                // (MustExist) find it and need not create files.
                OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .map_err(|source| StoreError::Lock {
                        path: lock_path.clone(),
                        source,
                    })?;
            }
            OpenMode::MustExist => check_schema(&pool, &shown).await?,
        }
        tracing::debug!(path = shown.as_str(), ?mode, "opened SQLite state database");
        Ok(SqliteStore {
            pool,
            path: path.to_owned(),
            lock_path,
            mode,
            process_lock: Mutex::new(None),
            held: Arc::new(Mutex::new(HashSet::new())),
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying pool (for tests and maintenance commands).
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn write_tx(&self, op: &str) -> Result<sqlx::Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::query(op))
    }

    /// Takes the process-wide file lock if this store does not hold it yet.
    /// `Ok(false)`: another process (or another store of this process) holds it.
    fn take_process_lock(&self) -> Result<bool, StoreError> {
        let mut slot = self
            .process_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_some() {
            return Ok(true);
        }
        // flock(2) needs no write access: a command run as another user with read access
        // to the state directory can still take the lock without creating anything.
        let create = self.mode == OpenMode::CreateIfMissing;
        let file = OpenOptions::new()
            .read(true)
            .write(create)
            .create(create)
            .truncate(false)
            .open(&self.lock_path)
            .map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    StoreError::LockFileMissing {
                        path: self.lock_path.clone(),
                    }
                } else {
                    StoreError::Lock {
                        path: self.lock_path.clone(),
                        source,
                    }
                }
            })?;
        // `File::try_lock` is std since Rust 1.89 (flock(2) on Unix, LockFileEx on Windows).
        #[allow(clippy::incompatible_msrv)]
        match file.try_lock() {
            Ok(()) => {
                *slot = Some(file);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(source)) => Err(StoreError::Lock {
                path: self.lock_path.clone(),
                source,
            }),
        }
    }
}

/// For [`OpenMode::MustExist`]: the schema must be exactly this version's.
async fn check_schema(pool: &SqlitePool, display: &str) -> Result<(), StoreError> {
    let op = "read the migration history";
    let exists: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await
    .map_err(StoreError::query(op))?;
    if exists == 0 {
        return Err(StoreError::NotInitialised {
            target: display.to_owned(),
        });
    }
    let rows = sqlx::query("SELECT version, checksum, success FROM _sqlx_migrations")
        .fetch_all(pool)
        .await
        .map_err(StoreError::query(op))?;
    let mut applied = BTreeMap::new();
    for row in &rows {
        applied.insert(
            get::<i64>(row, "version")?,
            (
                get::<Vec<u8>>(row, "checksum")?,
                get::<bool>(row, "success")?,
            ),
        );
    }
    migrations::check_applied(Backend::Sqlite, display, &applied)
}

/// A page of rows that does not decode: the database holds something this version did not
/// write.
fn page_error(org: &str) -> impl Fn(serde_json::Error) -> StoreError + '_ {
    move |e| StoreError::corrupt(format!("items of organisation {org}: {e}"))
}

impl SqliteStore {
    /// The number of an organisation's rows. A list of 100,000 rows is sized once with
    /// it: growing one doubles it on the way.
    async fn count_items(&self, org: &str) -> Result<usize, StoreError> {
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM items WHERE org = ?")
            .bind(org)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::query(format!(
                "count items of organisation {org}"
            )))?;
        Ok(usize::try_from(rows).unwrap_or(0))
    }

    /// An organisation's rows read `HEAD_PAGE_ROWS` at a time as one JSON text per page
    /// (`sql` takes org, kind and source id to start after, and a limit), in (kind, source
    /// id) order. `decode` appends a page's rows and says how many it read; `key` gives the
    /// last row's key, where the next page starts.
    async fn paged<T>(
        &self,
        sql: &str,
        org: &str,
        key: impl Fn(&T) -> (&str, &str),
        mut decode: impl FnMut(&str, &mut Vec<T>) -> Result<usize, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out: Vec<T> = Vec::with_capacity(self.count_items(org).await?);
        loop {
            let (kind, after) = out.last().map_or(("", ""), &key);
            let page: String = sqlx::query_scalar(sql)
                .bind(org)
                .bind(kind)
                .bind(after)
                .bind(HEAD_PAGE_ROWS)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::query(format!(
                    "list items of organisation {org}"
                )))?;
            if (decode(&page, &mut out)? as i64) < HEAD_PAGE_ROWS {
                return Ok(out);
            }
        }
    }

    /// Streamed: decoding row by row never holds all raw rows and all records at once.
    async fn list_items(&self, select: &str, org: &str) -> Result<Vec<ItemRecord>, StoreError> {
        use futures::TryStreamExt as _;
        let sql = format!("{select} WHERE org = ? ORDER BY kind, source_id");
        let mut rows = sqlx::query(&sql).bind(org).fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await.map_err(StoreError::query(format!(
            "list items of organisation {org}"
        )))? {
            out.push(item_from_row(&row)?);
        }
        Ok(out)
    }
}

#[async_trait]
impl StateStore for SqliteStore {
    async fn items(&self, org: &str) -> Result<Vec<ItemRecord>, StoreError> {
        self.list_items(ITEM_SELECT, org).await
    }

    async fn item_heads(&self, org: &str) -> Result<Vec<ItemRecord>, StoreError> {
        self.paged(
            ITEM_HEAD_PAGE,
            org,
            |r: &ItemRecord| (r.kind.as_str(), r.source_id.as_str()),
            |page, out| {
                let rows: Vec<HeadRow> = serde_json::from_str(page).map_err(page_error(org))?;
                let n = rows.len();
                for row in rows {
                    out.push(item_from_head(org, row)?);
                }
                Ok(n)
            },
        )
        .await
    }

    async fn plan_rows(&self, org: &str) -> Result<Vec<PlanRow>, StoreError> {
        self.paged(
            PLAN_ROW_PAGE,
            org,
            |r: &PlanRow| (r.kind.as_str(), r.source_id.as_str()),
            |page, out| {
                let rows: Vec<PlanPageRow<'_>> =
                    serde_json::from_str(page).map_err(page_error(org))?;
                let n = rows.len();
                for r in rows {
                    out.push(
                        codec::RawPlanRow {
                            org,
                            kind: &r.kind,
                            source_id: r.source_id,
                            channel_ptv_id: r.channel_ptv_id,
                            remote: &r.remote,
                            fingerprint: r.fingerprint.as_deref(),
                            payload: r.payload,
                            last_error: r.last_error.as_deref(),
                            attempts: r.attempts,
                            protected: r.protected != 0,
                        }
                        .into_row()?,
                    );
                }
                Ok(n)
            },
        )
        .await
    }

    async fn item(
        &self,
        org: &str,
        kind: ItemKind,
        source_id: &str,
    ) -> Result<Option<ItemRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "{ITEM_SELECT} WHERE org = ? AND kind = ? AND source_id = ?"
        ))
        .bind(org)
        .bind(kind.as_str())
        .bind(source_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(format!(
            "read item {org}/{kind}/{source_id}"
        )))?;
        row.as_ref().map(item_from_row).transpose()
    }

    async fn put_item(&self, rec: &ItemRecord) -> Result<(), StoreError> {
        codec::check_item(rec)?;
        let binds = [ItemBinds::new(rec)];
        // A single statement is its own (write) transaction.
        upsert_statement(&binds)
            .build()
            .execute(&self.pool)
            .await
            .map_err(|e| {
                codec::item_write_error(rec.key(), rec.ptv_scope(), &rec.ptv_source_id, e)
            })?;
        Ok(())
    }

    async fn put_items(&self, recs: &[ItemRecord]) -> Result<(), StoreError> {
        if recs.is_empty() {
            return Ok(());
        }
        for rec in recs {
            codec::check_item(rec)?;
        }
        let unique = codec::dedup_last(recs, |r| (r.org.as_str(), r.kind, r.source_id.as_str()));
        let binds: Vec<ItemBinds<'_>> = unique.iter().map(|r| ItemBinds::new(r)).collect();
        let mut tx = self.write_tx("begin a batch of item writes").await?;
        for chunk in binds.chunks(BATCH_ROWS) {
            upsert_statement(chunk)
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| codec::batch_write_error(&unique, e))?;
        }
        tx.commit().await.map_err(StoreError::query(format!(
            "commit a batch of {} items",
            unique.len()
        )))
    }

    async fn source_id_taken(
        &self,
        org: &str,
        ptv_scope: &str,
        ptv_source_id: &str,
    ) -> Result<bool, StoreError> {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM items WHERE org = ? AND ptv_scope = ? AND ptv_source_id = ?)",
        )
        .bind(org)
        .bind(ptv_scope)
        .bind(ptv_source_id)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::query(format!("look up PTV sourceId {ptv_source_id} ({ptv_scope}) of {org}")))
    }

    async fn set_protected(
        &self,
        org: &str,
        kind: ItemKind,
        source_id: &str,
        protected: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE items SET protected = ? WHERE org = ? AND kind = ? AND source_id = ?",
        )
        .bind(protected)
        .bind(org)
        .bind(kind.as_str())
        .bind(source_id)
        .execute(&self.pool)
        .await
        .map_err(StoreError::query(format!(
            "protect item {org}/{kind}/{source_id}"
        )))?;
        Ok(done.rows_affected() > 0)
    }

    async fn begin_run(&self, run: &NewRun) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO runs (org, trigger, actor, started_at, outcome, counts, dry_run) \
             VALUES (?, ?, ?, ?, ?, '{}', ?) RETURNING id",
        )
        .bind(&run.org)
        .bind(run.trigger.as_str())
        .bind(&run.actor)
        .bind(time_text(run.started_at))
        .bind(RunOutcome::Running.as_str())
        .bind(run.dry_run)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::query(format!(
            "record the start of a run of {}",
            run.org
        )))
    }

    async fn record_run_item(&self, run_id: i64, item: &RunItem) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO run_items (run_id, kind, source_id, action, outcome, error) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(run_id)
        .bind(item.kind.as_str())
        .bind(&item.source_id)
        .bind(item.action.as_str())
        .bind(item.outcome.as_str())
        .bind(item.error.as_deref())
        .execute(&self.pool)
        .await
        .map_err(|e| codec::run_item_error(run_id, e))?;
        Ok(())
    }

    async fn finish_run(
        &self,
        run_id: i64,
        outcome: RunOutcome,
        counts: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE runs SET outcome = ?, counts = ?, finished_at = ? WHERE id = ?")
                .bind(outcome.as_str())
                .bind(codec::json_text(counts))
                .bind(time_text(Utc::now()))
                .bind(run_id)
                .execute(&self.pool)
                .await
                .map_err(StoreError::query(format!("record the end of run {run_id}")))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::RunNotFound { run_id });
        }
        Ok(())
    }

    async fn last_runs(&self, org: &str, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{RUN_SELECT} WHERE org = ? ORDER BY id DESC LIMIT ?"
        ))
        .bind(org)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(format!(
            "list runs of organisation {org}"
        )))?;
        rows.iter().map(run_from_row).collect()
    }

    async fn run_items(&self, run_id: i64) -> Result<Vec<RunItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, kind, source_id, action, outcome, error FROM run_items WHERE run_id = ? ORDER BY id",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query(format!("list items of run {run_id}")))?;
        rows.iter()
            .map(|row| {
                RawRunItem {
                    run_id: get(row, "run_id")?,
                    kind: get(row, "kind")?,
                    source_id: get(row, "source_id")?,
                    action: get(row, "action")?,
                    outcome: get(row, "outcome")?,
                    error: get(row, "error")?,
                }
                .into_record()
            })
            .collect()
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let op = || format!("append to the audit log of {}", entry.org);
        // The write lock serialises appends: nobody can append between our read of the
        // chain head and our insert.
        let mut tx = self.write_tx(&op()).await?;
        let prev: Option<String> =
            sqlx::query_scalar("SELECT hash FROM audit WHERE org = ? ORDER BY seq DESC LIMIT 1")
                .bind(&entry.org)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query(op()))?;
        let (at, prev_hash, hash) = codec::new_audit_hash(entry, prev);
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audit (at, org, actor, action, kind, source_id, ptv_id, http_status, \
             body_sha256, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(time_text(at))
        .bind(&entry.org)
        .bind(&entry.actor)
        .bind(entry.action.as_str())
        .bind(entry.kind.as_str())
        .bind(&entry.source_id)
        .bind(entry.ptv_id.as_deref())
        .bind(entry.http_status.map(i32::from))
        .bind(entry.body_sha256.as_deref())
        .bind(&prev_hash)
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::query(op()))?;
        tx.commit().await.map_err(StoreError::query(op()))?;
        Ok(AuditEntry {
            seq,
            at,
            org: entry.org.clone(),
            actor: entry.actor.clone(),
            action: entry.action,
            kind: entry.kind,
            source_id: entry.source_id.clone(),
            ptv_id: entry.ptv_id.clone(),
            http_status: entry.http_status,
            body_sha256: entry.body_sha256.clone(),
            prev_hash,
            hash,
        })
    }

    async fn audit_since(&self, since: DateTime<Utc>) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!("{AUDIT_SELECT} WHERE at >= ? ORDER BY seq"))
            .bind(time_text(since))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query("read the audit log"))?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn verify_audit(&self, org: Option<&str>) -> Result<AuditVerification, StoreError> {
        let op = "read the audit log for verification";
        let mut verifier = Verifier::default();
        let sql = match org {
            Some(_) => format!("{AUDIT_SELECT} WHERE org = ? ORDER BY seq"),
            None => format!("{AUDIT_SELECT} ORDER BY seq"),
        };
        let mut query = sqlx::query(&sql);
        if let Some(org) = org {
            query = query.bind(org);
        }
        let mut rows = query.fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(StoreError::query(op))? {
            if !verifier.feed(&audit_from_row(&row)?) {
                break;
            }
        }
        Ok(verifier.finish())
    }

    async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM audit WHERE at < ?1 AND seq < COALESCE((SELECT MIN(a2.seq) FROM audit a2 \
             WHERE a2.org = audit.org AND a2.at >= ?1), 9223372036854775807)",
        )
        .bind(time_text(before))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("prune the audit log"))?;
        Ok(done.rows_affected())
    }

    async fn org_state(&self, org: &str) -> Result<Option<OrgState>, StoreError> {
        let row = sqlx::query(
            "SELECT org, last_run_id, last_success_at, last_run_at, guard_trips, token_expires_at, \
             next_run_at FROM org_state WHERE org = ?",
        )
        .bind(org)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query(format!(
            "read the state of organisation {org}"
        )))?;
        row.as_ref().map(org_state_from_row).transpose()
    }

    async fn put_org_state(&self, s: &OrgState) -> Result<(), StoreError> {
        codec::check_org_state(s)?;
        sqlx::query(
            "INSERT INTO org_state (org, last_run_id, last_success_at, last_run_at, guard_trips, \
             token_expires_at, next_run_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (org) DO UPDATE SET last_run_id = excluded.last_run_id, \
             last_success_at = excluded.last_success_at, last_run_at = excluded.last_run_at, \
             guard_trips = excluded.guard_trips, token_expires_at = excluded.token_expires_at, \
             next_run_at = excluded.next_run_at",
        )
        .bind(&s.org)
        .bind(s.last_run_id)
        .bind(opt_time_text(s.last_success_at))
        .bind(opt_time_text(s.last_run_at))
        .bind(s.guard_trips)
        .bind(opt_time_text(s.token_expires_at))
        .bind(opt_time_text(s.next_run_at))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query(format!(
            "save the state of organisation {}",
            s.org
        )))?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(StoreError::query(format!("ping {}", self.path.display())))?;
        Ok(())
    }

    async fn lock_org(&self, org: &str) -> Result<Option<OrgLock>, StoreError> {
        if !self.take_process_lock()? {
            return Ok(None);
        }
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if !held.insert(org.to_owned()) {
            return Ok(None);
        }
        Ok(Some(OrgLock::new(
            org,
            Inner::Sqlite {
                held: Arc::clone(&self.held),
            },
        )))
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

//! `SQLite` backend: one file in the state directory, WAL, short write transactions taken
//! with `BEGIN IMMEDIATE` (so a writer waits for the lock up to `busy_timeout` instead of
//! failing when it upgrades a read transaction).

use super::codec::{parse_opt_time, parse_time, time_text};
use super::error::{StoreError, io_hint};
use super::lock::{Inner, OrgLock};
use super::migrations::{self, Backend};
use super::sql::shared_store;
use super::target::OpenMode;
use super::types::{ItemRecord, PlanRow};
use chrono::{DateTime, Utc};
use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 4;

/// One page of item heads (no payloads of services and channels) as one JSON text. sqlx
/// hands `SQLite` rows over one at a time with a copy of every value, about 10 µs a row:
/// most of a 100,000-item plan. One text per page costs a fraction of that.
const ITEM_HEAD_PAGE: &str = "SELECT json_group_array(json_array(kind, source_id, \
     ptv_source_id, generation, ptv_id, remote, fingerprint, \
     CASE WHEN kind IN ('service', 'channel') THEN NULL ELSE payload END, status, last_error, \
     attempts, protected, first_pushed_at, last_pushed_at, last_touched_at) \
     ORDER BY kind, source_id) FROM (SELECT * FROM items \
     WHERE org = $1 AND (kind, source_id) > ($2, $3) ORDER BY kind, source_id LIMIT $4)";
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
    let item = codec::RawItem {
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
     protected, last_pushed_at) ORDER BY kind, source_id) FROM (SELECT * FROM items \
     WHERE org = $1 AND (kind, source_id) > ($2, $3) ORDER BY kind, source_id LIMIT $4)";

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
    #[serde(borrow)]
    last_pushed_at: Option<Cow<'a, str>>,
}

shared_store! {
    store: SqliteStore,
    db: Sqlite,
    row: SqliteRow,
    json_in: "",
    json_out: "",
    time: time_text,
    read_time: read_time,
    read_opt_time: read_opt_time,
    schema_exists: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' \
         AND name = '_sqlx_migrations')",
}

/// Times are RFC 3339 text ([`time_text`]).
fn read_time(
    row: &SqliteRow,
    column: &str,
    what: &dyn Fn() -> String,
) -> Result<DateTime<Utc>, StoreError> {
    parse_time(&get::<_, String>(row, column)?, what)
}

fn read_opt_time(
    row: &SqliteRow,
    column: &str,
    what: &dyn Fn() -> String,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    parse_opt_time(get::<_, Option<String>>(row, column)?.as_deref(), what)
}

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
            OpenMode::MustExist => check_schema(&pool, Backend::Sqlite, &shown).await?,
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

/// A page of rows that does not decode: the database holds something this version did not
/// write.
fn page_error(org: &str) -> impl Fn(serde_json::Error) -> StoreError + '_ {
    move |e| StoreError::corrupt(format!("items of organisation {org}: {e}"))
}

impl SqliteStore {
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

    const BACKEND: &'static str = "sqlite";

    /// `BEGIN IMMEDIATE` already serialises writers, appends included.
    const AUDIT_APPEND_LOCK: Option<&'static str> = None;

    fn shown(&self) -> std::path::Display<'_> {
        self.path.display()
    }

    async fn fast_item_heads(&self, org: &str) -> Result<Vec<ItemRecord>, StoreError> {
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

    async fn fast_plan_rows(&self, org: &str) -> Result<Vec<PlanRow>, StoreError> {
        self.paged(
            PLAN_ROW_PAGE,
            org,
            |r: &PlanRow| (r.kind.as_str(), r.source_id.as_str()),
            |page, out| {
                let rows: Vec<PlanPageRow<'_>> =
                    serde_json::from_str(page).map_err(page_error(org))?;
                let n = rows.len();
                for r in rows {
                    let what = || format!("item {org}/{}/{}", r.kind, r.source_id);
                    let last_pushed_at = parse_opt_time(r.last_pushed_at.as_deref(), &what)?;
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
                            last_pushed_at,
                        }
                        .into_row()?,
                    );
                }
                Ok(n)
            },
        )
        .await
    }

    // Async as `PostgreSQL`'s, which the shared code awaits.
    #[allow(clippy::unused_async)]
    async fn take_org_lock(&self, org: &str) -> Result<Option<OrgLock>, StoreError> {
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
}

//! Store errors. Each message says what failed, on which database/item, and what to do.
//! A `PostgreSQL` URL only ever appears redacted (see [`super::target::redact_url`]), and
//! driver messages of `PostgreSQL` connection errors are scrubbed of the password.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state database {} does not exist; start the daemon once or pass --state-dir", path.display())]
    Missing { path: PathBuf },

    #[error("cannot create state directory {}: {source}; {hint}", path.display())]
    CreateDir {
        path: PathBuf,
        hint: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot open state database {}: {reason}; {hint}", path.display())]
    Open {
        path: PathBuf,
        reason: String,
        hint: &'static str,
    },

    #[error(
        "invalid PostgreSQL URL {url}: {reason}; expected postgres://user:password@host:port/database"
    )]
    InvalidUrl { url: String, reason: String },

    #[error(
        "cannot connect to PostgreSQL state database {url}: {reason}; check that the server runs, the URL and the credentials"
    )]
    Connect { url: String, reason: String },

    #[error(
        "state database {target} has no schema yet; start the daemon once so that it creates it"
    )]
    NotInitialised { target: String },

    #[error(
        "state database {target} lacks migration(s) {pending:?} of this ptv-sync version; restart the daemon (it migrates at start), then retry"
    )]
    MigrationsPending { target: String, pending: Vec<i64> },

    #[error(
        "state database {target} was migrated by a newer ptv-sync (migration {version} is unknown to this one); upgrade ptv-sync"
    )]
    SchemaTooNew { target: String, version: i64 },

    #[error(
        "migration {version} applied to state database {target} differs from the one built into this ptv-sync; the database was migrated by a different build — restore it or use the matching build"
    )]
    MigrationChanged { target: String, version: i64 },

    #[error(
        "cannot migrate state database {target}: {reason}; check that the daemon's user may write it and that disk space is free"
    )]
    Migrate { target: String, reason: String },

    #[error("state database: {op} failed: {source}{}", query_hint(.source))]
    Query {
        op: String,
        #[source]
        source: sqlx::Error,
    },

    #[error(
        "state database: cannot save item {key}: PTV sourceId {ptv_source_id} ({scope}) is already held by another item of the organisation; pick the next generation (source_id_taken)"
    )]
    SourceIdConflict {
        key: String,
        scope: String,
        ptv_source_id: String,
    },

    #[error("state database: run {run_id} does not exist; begin_run must come first")]
    RunNotFound { run_id: i64 },

    #[error(
        "state database holds unreadable data: {what}; the database was written by a newer ptv-sync or edited by hand"
    )]
    Corrupt { what: String },

    #[error("cannot take the single-writer lock {}: {source}; check that the daemon's user may write the state directory", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("single-writer lock file {} does not exist; start the daemon once, or run this command as the daemon's user", path.display())]
    LockFileMissing { path: PathBuf },

    #[error(
        "the single-writer lock of organisation {org} was lost ({reason}); stop writing to PTV for it and take the lock again"
    )]
    LockLost { org: String, reason: String },

    #[error("invalid value for the state database: {0}")]
    Invalid(String),
}

impl StoreError {
    pub(crate) fn query(op: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
        let op = op.into();
        move |source| StoreError::Query { op, source }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> StoreError {
        StoreError::Corrupt { what: what.into() }
    }
}

/// A hint for an I/O error on the state directory or database file.
pub(crate) fn io_hint(kind: std::io::ErrorKind) -> &'static str {
    match kind {
        std::io::ErrorKind::PermissionDenied => {
            "run as the daemon's user or use `sudo -u ptv-sync`"
        }
        std::io::ErrorKind::NotFound => "check the path (--state-dir)",
        std::io::ErrorKind::ReadOnlyFilesystem => {
            "the file system is read-only; point --state-dir to a writable directory (e.g. /var/lib/ptv-sync)"
        }
        std::io::ErrorKind::StorageFull => "the disk is full; free some space",
        _ => "check the path and its permissions",
    }
}

/// What to do about a failed query, where the error says enough to tell.
fn query_hint(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::PoolTimedOut => {
            "; no database connection became free in time: the database is overloaded or unreachable"
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            "; the connection to the database failed: check that the server is reachable"
        }
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Primary result code; extended codes keep it in the low byte.
                match code.parse::<i32>().map(|c| c & 0xff) {
                    Ok(5 | 6) => {
                        "; another process held the state database's write lock for more than 5 s: look for a stuck ptv-sync command"
                    }
                    Ok(8) => {
                        "; the state database is read-only for this user: run as the daemon's user or use `sudo -u ptv-sync`"
                    }
                    Ok(13) => "; the disk is full: free some space",
                    _ => "",
                }
            } else {
                // PostgreSQL SQLSTATE.
                match code {
                    "42501" => {
                        "; the PostgreSQL role lacks a privilege on the state tables: grant it or use the daemon's role"
                    }
                    "53100" => "; the database server's disk is full",
                    "57P01" | "57P02" | "57P03" => {
                        "; the database server is shutting down or restarting: retry shortly"
                    }
                    _ => "",
                }
            }
        }
        _ => "",
    }
}

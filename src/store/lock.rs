//! The single-writer guard returned by [`super::StateStore::lock_org`].

use super::error::StoreError;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often a run confirms that this process still holds the organisation's
/// single-writer lock; a lost lock cancels the run (no new write starts without it).
pub const LOCK_CHECK: Duration = Duration::from_secs(1);

/// An organisation's lock, shared by whoever runs the organisation and [`watch`].
pub type SharedLock = Arc<tokio::sync::Mutex<Option<OrgLock>>>;

/// Fencing: confirms the lock every `every` while a run goes on (which also keeps its
/// connection alive) and, once it is lost, logs why, drops it and cancels the run, so that
/// no further write starts without it. Ends only then; abort it when the run ends.
pub async fn watch(org: String, lock: SharedLock, cancel: CancellationToken, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let mut held = lock.lock().await;
        let lost = match held.as_mut() {
            Some(l) => l.check().await.err().map(|e| e.to_string()),
            None => Some("it was released".to_owned()),
        };
        if let Some(reason) = lost {
            tracing::error!(organization = %org, "{reason}; cancelling the run");
            *held = None;
            cancel.cancel();
            return;
        }
    }
}

/// Holds an organisation's single-writer lock until [`release`](Self::release)d or dropped.
///
/// Dropping without `release` also frees it: on `SQLite` at once; on `PostgreSQL` the
/// dedicated session ends when its connection closes, and the server frees the lock.
#[must_use = "the lock is freed when the guard is dropped"]
pub struct OrgLock {
    org: String,
    inner: Option<Inner>,
}

pub(crate) enum Inner {
    /// The process-wide file lock is held by the store; this removes the organisation
    /// from the store's set of held organisations when freed.
    Sqlite { held: Arc<Mutex<HashSet<String>>> },
    /// A session-level advisory lock on a connection of its own.
    Postgres { conn: Box<PgConnection>, key: i64 },
}

impl OrgLock {
    pub(crate) fn new(org: &str, inner: Inner) -> Self {
        OrgLock {
            org: org.to_owned(),
            inner: Some(inner),
        }
    }

    /// The organisation this guard locks.
    #[must_use]
    pub fn org(&self) -> &str {
        &self.org
    }

    /// Confirms that the lock is still held. On `PostgreSQL` the lock lives as long as its
    /// dedicated session: if the connection broke, the lock is gone and another instance
    /// may hold it now, so this fails with [`StoreError::LockLost`] and the caller must
    /// stop writing. Call it before each run. On `SQLite` the lock cannot be lost.
    pub async fn check(&mut self) -> Result<(), StoreError> {
        let lost = |reason: String| StoreError::LockLost {
            org: self.org.clone(),
            reason,
        };
        let result = match &mut self.inner {
            Some(Inner::Sqlite { .. }) => return Ok(()),
            Some(Inner::Postgres { conn, .. }) => {
                sqlx::query("SELECT 1").execute(&mut **conn).await
            }
            None => return Err(lost("its connection failed earlier".to_owned())),
        };
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                // The session is unusable; drop it so that the server frees whatever it may
                // still hold.
                self.inner = None;
                Err(lost(e.to_string()))
            }
        }
    }

    /// Frees the lock now and reports whether that worked. On `PostgreSQL` a failure still
    /// frees the lock, since the session is closed either way.
    pub async fn release(mut self) -> Result<(), StoreError> {
        match self.inner.take() {
            Some(Inner::Sqlite { held }) => {
                held.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&self.org);
                Ok(())
            }
            Some(Inner::Postgres { mut conn, key }) => {
                let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ());
                let closed = conn.close().await;
                unlocked.and(closed).map_err(StoreError::query(format!(
                    "release the lock of organisation {}",
                    self.org
                )))
            }
            None => Ok(()),
        }
    }
}

impl Drop for OrgLock {
    fn drop(&mut self) {
        match self.inner.take() {
            Some(Inner::Sqlite { held }) => {
                held.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&self.org);
            }
            // Dropping the connection closes its socket; the server then ends the session
            // and frees its advisory locks.
            Some(Inner::Postgres { conn, .. }) => drop(conn),
            None => {}
        }
    }
}

impl fmt::Debug for OrgLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match self.inner {
            Some(Inner::Sqlite { .. }) => "sqlite",
            Some(Inner::Postgres { .. }) => "postgres",
            None => "released",
        };
        f.debug_struct("OrgLock")
            .field("org", &self.org)
            .field("backend", &backend)
            .finish()
    }
}

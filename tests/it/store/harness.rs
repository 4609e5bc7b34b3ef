//! Per-backend setup for the contract suite.

use futures::FutureExt;
use ptv_sync::store::{OpenMode, StateStore, StoreTarget, open};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Connection, Executor};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

pub const POSTGRES_URL_VAR: &str = "PTV_SYNC_TEST_POSTGRES_URL";

/// One store on a fresh database, and the means to reach that database behind its back.
pub struct Fixture {
    pub store: Arc<dyn StateStore>,
    pub target: StoreTarget,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    /// Another, independent instance on the same database (like a second process).
    pub async fn open_again(&self, mode: OpenMode) -> Arc<dyn StateStore> {
        open(&self.target, mode)
            .await
            .expect("open the same database again")
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self.target, StoreTarget::Sqlite { .. })
    }

    /// Runs raw SQL on the database, bypassing the store (tampering, schema games).
    pub async fn exec(&self, sqlite: &str, postgres: &str) {
        match &self.target {
            StoreTarget::Sqlite { path } => {
                let url = format!("sqlite://{}", path.display());
                let mut conn = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("raw SQLite connection");
                conn.execute(sqlite)
                    .await
                    .unwrap_or_else(|e| panic!("raw SQL {sqlite:?}: {e}"));
                conn.close().await.expect("close raw connection");
            }
            StoreTarget::Postgres { url } => {
                let mut conn = sqlx::PgConnection::connect(url.expose_secret())
                    .await
                    .expect("raw PostgreSQL connection");
                conn.execute(postgres)
                    .await
                    .unwrap_or_else(|e| panic!("raw SQL {postgres:?}: {e}"));
                conn.close().await.expect("close raw connection");
            }
        }
    }

    /// Like [`exec`](Self::exec) but returns the error text instead of panicking.
    pub async fn try_exec(&self, sqlite: &str, postgres: &str) -> Result<(), String> {
        match &self.target {
            StoreTarget::Sqlite { path } => {
                let url = format!("sqlite://{}", path.display());
                let mut conn = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("raw SQLite connection");
                conn.execute(sqlite)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            StoreTarget::Postgres { url } => {
                let mut conn = sqlx::PgConnection::connect(url.expose_secret())
                    .await
                    .expect("raw PostgreSQL connection");
                conn.execute(postgres)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
    }
}

pub async fn run_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    // A directory that does not exist yet: CreateIfMissing must create it.
    let path = dir.path().join("state").join("state.db");
    let target = StoreTarget::Sqlite { path };
    let store = open(&target, OpenMode::CreateIfMissing)
        .await
        .expect("open SQLite store");
    test(Fixture {
        store,
        target,
        _dir: Some(dir),
    })
    .await;
}

pub async fn run_postgres<F, Fut>(test: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(base) = std::env::var(POSTGRES_URL_VAR) else {
        eprintln!("note: {POSTGRES_URL_VAR} is not set; PostgreSQL contract test skipped");
        return;
    };
    let name = format!("ptvsync_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_VAR}: {e}"));
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");

    let mut url = url::Url::parse(&base).expect("PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    let target = StoreTarget::Postgres {
        url: SecretString::from(url.to_string()),
    };
    let outcome = AssertUnwindSafe(async {
        let store = open(&target, OpenMode::CreateIfMissing)
            .await
            .expect("open PostgreSQL store");
        test(Fixture {
            store,
            target: target.clone(),
            _dir: None,
        })
        .await;
    })
    .catch_unwind()
    .await;

    // FORCE ends sessions still open (pools wind down asynchronously).
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop test database");
    admin.close().await.ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

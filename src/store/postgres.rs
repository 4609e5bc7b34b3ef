//! `PostgreSQL` backend: a pool from the URL; the single-writer lock is a session advisory
//! lock on a dedicated connection, so a crashed instance's lock ends with its session and
//! another instance takes over. The SQL shared with `SQLite` is in [`super::sql`].

use super::codec::trunc;
use super::error::StoreError;
use super::lock::{Inner, OrgLock};
use super::migrations::{self, Backend};
use super::sql::shared_store;
use super::target::{OpenMode, redact_url, scrub_password};
use super::types::{ItemRecord, PlanRow};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres};
use std::time::Duration;

const MAX_CONNECTIONS: u32 = 8;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Namespace of the single-writer lock keys (the audit append lock has its own).
const WRITER_LOCK_NS: &str = "ptv-sync:";

/// `application_name` of lock sessions, so that operators can find them in
/// `pg_stat_activity` (and terminate one to force a fail-over).
pub const LOCK_APPLICATION_NAME: &str = "ptv-sync-lock";

/// Item rows without the payloads of services and channels.
const ITEM_HEAD_SELECT: &str = "SELECT org, kind, source_id, ptv_source_id, generation, ptv_id, \
     remote, fingerprint, CASE WHEN kind IN ('service', 'channel') THEN NULL ELSE payload::text END AS payload, status, last_error::text AS last_error, attempts, protected, \
     first_pushed_at, last_pushed_at, last_touched_at FROM items";

/// What a [`PlanRow`] needs, in the order of [`codec::RawPlanRow`].
const PLAN_ROW_SELECT: &str = "SELECT kind, source_id, \
     CASE WHEN kind = 'channel' THEN ptv_id END AS ptv_id, remote, fingerprint, \
     CASE WHEN kind IN ('organization', 'connections') THEN payload::text END AS payload, \
     last_error::text AS last_error, attempts, protected, last_pushed_at FROM items WHERE org = $1 \
     ORDER BY kind, source_id";

shared_store! {
    store: PostgresStore,
    db: Postgres,
    row: PgRow,
    json_in: "::json",
    json_out: "::text",
    time: trunc,
    read_time: read_time,
    read_opt_time: read_opt_time,
    schema_exists: "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
}

/// Times are `timestamptz`, bound with microsecond precision ([`trunc`]).
fn read_time(
    row: &PgRow,
    column: &str,
    _: &dyn Fn() -> String,
) -> Result<DateTime<Utc>, StoreError> {
    get(row, column)
}

fn read_opt_time(
    row: &PgRow,
    column: &str,
    _: &dyn Fn() -> String,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    get(row, column)
}

/// The `PostgreSQL` state store.
pub struct PostgresStore {
    pool: PgPool,
    options: PgConnectOptions,
    /// The URL without its password, for messages.
    display: String,
    /// The URL itself, only to scrub its password out of driver messages.
    url: SecretString,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.display)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects a pool to the URL; in [`OpenMode::CreateIfMissing`] runs the migrations
    /// (the database itself must exist). [`OpenMode::MustExist`] only checks the schema.
    pub async fn open(url: &SecretString, mode: OpenMode) -> Result<Self, StoreError> {
        let raw = url.expose_secret();
        let shown = redact_url(raw);
        let options = raw
            .parse::<PgConnectOptions>()
            .map_err(|e| StoreError::InvalidUrl {
                url: shown.clone(),
                reason: scrub_password(raw, &e.to_string()),
            })?
            .application_name("ptv-sync");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Connect {
                url: shown.clone(),
                reason: scrub_password(raw, &e.to_string()),
            })?;
        match mode {
            OpenMode::CreateIfMissing => {
                // sqlx takes an advisory lock while migrating: concurrent starts are safe.
                migrations::migrator(Backend::Postgres)
                    .run(&pool)
                    .await
                    .map_err(|e| StoreError::Migrate {
                        target: shown.clone(),
                        reason: scrub_password(raw, &e.to_string()),
                    })?;
            }
            OpenMode::MustExist => check_schema(&pool, Backend::Postgres, &shown).await?,
        }
        tracing::debug!(
            url = shown.as_str(),
            ?mode,
            "opened PostgreSQL state database"
        );
        Ok(PostgresStore {
            pool,
            options,
            display: shown,
            url: url.clone(),
        })
    }

    /// The underlying pool (for tests and maintenance commands).
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// What differs from `SQLite` (see [`super::sql`]).
impl PostgresStore {
    const BACKEND: &'static str = "postgres";

    /// Serialises appends of one organisation until commit.
    const AUDIT_APPEND_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock($1)");

    fn shown(&self) -> &str {
        &self.display
    }

    async fn write_tx(&self, op: &str) -> Result<sqlx::Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(StoreError::query(op))
    }

    async fn fast_item_heads(&self, org: &str) -> Result<Vec<ItemRecord>, StoreError> {
        self.list_items(ITEM_HEAD_SELECT, org).await
    }

    async fn fast_plan_rows(&self, org: &str) -> Result<Vec<PlanRow>, StoreError> {
        let list_error = || StoreError::query(format!("list items of organisation {org}"));
        let mut out = Vec::with_capacity(self.count_items(org).await?);
        let mut rows = sqlx::query(PLAN_ROW_SELECT).bind(org).fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(list_error())? {
            out.push(
                codec::RawPlanRow {
                    org,
                    kind: get(&row, "kind")?,
                    source_id: get::<_, &str>(&row, "source_id")?.into(),
                    channel_ptv_id: get::<_, Option<&str>>(&row, "ptv_id")?.map(Into::into),
                    remote: get(&row, "remote")?,
                    fingerprint: get(&row, "fingerprint")?,
                    payload: get(&row, "payload")?,
                    last_error: get(&row, "last_error")?,
                    attempts: get(&row, "attempts")?,
                    protected: get(&row, "protected")?,
                    last_pushed_at: get(&row, "last_pushed_at")?,
                }
                .into_row()?,
            );
        }
        Ok(out)
    }

    async fn take_org_lock(&self, org: &str) -> Result<Option<OrgLock>, StoreError> {
        let op = || format!("take the single-writer lock of organisation {org}");
        // A connection of its own, outside the pool: the lock lives exactly as long as
        // this session.
        // The server probes an idle lock session, so that the lock of an instance whose host
        // vanished is freed within about half a minute instead of the kernel's two hours.
        let options = self
            .options
            .clone()
            .application_name(LOCK_APPLICATION_NAME)
            .options([
                ("tcp_keepalives_idle", "10"),
                ("tcp_keepalives_interval", "5"),
                ("tcp_keepalives_count", "3"),
            ]);
        let mut conn =
            PgConnection::connect_with(&options)
                .await
                .map_err(|e| StoreError::Connect {
                    url: self.display.clone(),
                    reason: scrub_password(self.url.expose_secret(), &e.to_string()),
                })?;
        let key = codec::lock_key(WRITER_LOCK_NS, org);
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await
            .map_err(StoreError::query(op()))?;
        if got {
            Ok(Some(OrgLock::new(
                org,
                Inner::Postgres {
                    conn: Box::new(conn),
                    key,
                },
            )))
        } else {
            // Nothing held; a failed close leaves nothing behind either.
            let _ = conn.close().await;
            Ok(None)
        }
    }
}

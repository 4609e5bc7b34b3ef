//! `PostgreSQL` backend: a pool from the URL; the single-writer lock is a session advisory
//! lock on a dedicated connection, so a crashed instance's lock ends with its session and
//! another instance takes over.

use super::codec::{self, BATCH_ROWS, RawAudit, RawItem, RawRun, RawRunItem, trunc};
use super::error::StoreError;
use super::lock::{Inner, OrgLock};
use super::migrations::{self, Backend};
use super::target::{OpenMode, redact_url, scrub_password};
use super::types::{
    AuditEntry, AuditVerification, ItemRecord, NewAuditEntry, NewRun, OrgState, PlanRow, RunItem,
    RunOutcome, RunRecord,
};
use super::{StateStore, audit::Verifier};
use crate::model::ItemKind;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, QueryBuilder, Row};
use std::collections::BTreeMap;
use std::time::Duration;

const MAX_CONNECTIONS: u32 = 8;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Namespaces of the advisory-lock keys, so that the single-writer lock and the audit
/// append lock of one organisation never collide.
const WRITER_LOCK_NS: &str = "ptv-sync:";
const AUDIT_LOCK_NS: &str = "ptv-sync-audit:";

/// `application_name` of lock sessions, so that operators can find them in
/// `pg_stat_activity` (and terminate one to force a fail-over).
pub const LOCK_APPLICATION_NAME: &str = "ptv-sync-lock";

const ITEM_COLUMNS: &str = "org, kind, source_id, ptv_scope, ptv_source_id, generation, ptv_id, \
     remote, fingerprint, payload, status, last_error, attempts, protected, first_pushed_at, \
     last_pushed_at, last_touched_at";

const ITEM_SELECT: &str = "SELECT org, kind, source_id, ptv_source_id, generation, ptv_id, \
     remote, fingerprint, payload::text AS payload, status, last_error::text AS last_error, \
     attempts, protected, first_pushed_at, last_pushed_at, last_touched_at FROM items";

/// [`ITEM_SELECT`] without the payloads of services and channels.
const ITEM_HEAD_SELECT: &str = "SELECT org, kind, source_id, ptv_source_id, generation, ptv_id, \
     remote, fingerprint, CASE WHEN kind IN ('service', 'channel') THEN NULL ELSE payload::text END AS payload, status, last_error::text AS last_error, attempts, protected, \
     first_pushed_at, last_pushed_at, last_touched_at FROM items";

/// What a [`PlanRow`] needs, in the order of [`codec::RawPlanRow`].
const PLAN_ROW_SELECT: &str = "SELECT kind, source_id, \
     CASE WHEN kind = 'channel' THEN ptv_id END AS ptv_id, remote, fingerprint, \
     CASE WHEN kind IN ('organization', 'connections') THEN payload::text END AS payload, \
     last_error::text AS last_error, attempts, protected FROM items WHERE org = $1 \
     ORDER BY kind, source_id";

const ITEM_UPSERT_TAIL: &str = " ON CONFLICT (org, kind, source_id) DO UPDATE SET \
     ptv_scope = excluded.ptv_scope, ptv_source_id = excluded.ptv_source_id, \
     generation = excluded.generation, ptv_id = excluded.ptv_id, remote = excluded.remote, \
     fingerprint = excluded.fingerprint, payload = excluded.payload, status = excluded.status, \
     last_error = excluded.last_error, attempts = excluded.attempts, \
     protected = excluded.protected, first_pushed_at = excluded.first_pushed_at, \
     last_pushed_at = excluded.last_pushed_at, last_touched_at = excluded.last_touched_at";

const RUN_SELECT: &str = "SELECT id, org, trigger, actor, started_at, finished_at, outcome, \
     counts::text AS counts, dry_run FROM runs";

const AUDIT_SELECT: &str = "SELECT seq, at, org, actor, action, kind, source_id, ptv_id, \
     http_status, body_sha256, prev_hash, hash FROM audit";

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

struct ItemBinds<'a> {
    rec: &'a ItemRecord,
    payload: Option<String>,
    last_error: Option<String>,
}

fn push_item<'a>(
    mut b: sqlx::query_builder::Separated<'_, 'a, Postgres, &'static str>,
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
        .push_unseparated("::json")
        .push_bind(r.status.as_str())
        .push_bind(v.last_error.as_deref())
        .push_unseparated("::json")
        .push_bind(r.attempts)
        .push_bind(r.protected)
        .push_bind(r.first_pushed_at.map(trunc))
        .push_bind(r.last_pushed_at.map(trunc))
        .push_bind(trunc(r.last_touched_at));
}

fn upsert_statement<'a>(binds: &'a [ItemBinds<'a>]) -> QueryBuilder<'a, Postgres> {
    let mut qb = QueryBuilder::new(format!("INSERT INTO items ({ITEM_COLUMNS}) "));
    qb.push_values(binds, |b, v| push_item(b, v));
    qb.push(ITEM_UPSERT_TAIL);
    qb
}

fn binds(rec: &ItemRecord) -> ItemBinds<'_> {
    ItemBinds {
        rec,
        payload: rec.payload.as_ref().map(|p| p.as_str().to_owned()),
        last_error: rec.last_error.as_deref().map(codec::error_text),
    }
}

fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(column)
        .map_err(StoreError::query(format!("read column {column}")))
}

fn item_from_row(row: &PgRow) -> Result<ItemRecord, StoreError> {
    RawItem {
        org: get(row, "org")?,
        kind: get(row, "kind")?,
        source_id: get(row, "source_id")?,
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
        first_pushed_at: get(row, "first_pushed_at")?,
        last_pushed_at: get(row, "last_pushed_at")?,
        last_touched_at: get(row, "last_touched_at")?,
    }
    .into_record()
}

fn run_from_row(row: &PgRow) -> Result<RunRecord, StoreError> {
    RawRun {
        id: get(row, "id")?,
        org: get(row, "org")?,
        trigger: get(row, "trigger")?,
        actor: get(row, "actor")?,
        started_at: get(row, "started_at")?,
        finished_at: get(row, "finished_at")?,
        outcome: get(row, "outcome")?,
        counts: get(row, "counts")?,
        dry_run: get(row, "dry_run")?,
    }
    .into_record()
}

fn audit_from_row(row: &PgRow) -> Result<AuditEntry, StoreError> {
    RawAudit {
        seq: get(row, "seq")?,
        at: get(row, "at")?,
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

fn org_state_from_row(row: &PgRow) -> Result<OrgState, StoreError> {
    Ok(OrgState {
        org: get(row, "org")?,
        last_run_id: get(row, "last_run_id")?,
        last_success_at: get(row, "last_success_at")?,
        last_run_at: get(row, "last_run_at")?,
        guard_trips: get(row, "guard_trips")?,
        token_expires_at: get(row, "token_expires_at")?,
        next_run_at: get(row, "next_run_at")?,
    })
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
            OpenMode::MustExist => check_schema(&pool, &shown).await?,
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

/// For [`OpenMode::MustExist`]: the schema must be exactly this version's.
async fn check_schema(pool: &PgPool, display: &str) -> Result<(), StoreError> {
    let op = "read the migration history";
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(StoreError::query(op))?;
    if !exists {
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
    migrations::check_applied(Backend::Postgres, display, &applied)
}

impl PostgresStore {
    /// Streamed: decoding row by row never holds all raw rows and all records at once.
    async fn list_items(&self, select: &str, org: &str) -> Result<Vec<ItemRecord>, StoreError> {
        use futures::TryStreamExt as _;
        let sql = format!("{select} WHERE org = $1 ORDER BY kind, source_id");
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
impl StateStore for PostgresStore {
    async fn items(&self, org: &str) -> Result<Vec<ItemRecord>, StoreError> {
        self.list_items(ITEM_SELECT, org).await
    }

    async fn item_heads(&self, org: &str) -> Result<Vec<ItemRecord>, StoreError> {
        self.list_items(ITEM_HEAD_SELECT, org).await
    }

    async fn plan_rows(&self, org: &str) -> Result<Vec<PlanRow>, StoreError> {
        let list_error = || StoreError::query(format!("list items of organisation {org}"));
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM items WHERE org = $1")
            .bind(org)
            .fetch_one(&self.pool)
            .await
            .map_err(list_error())?;
        // Sized once: growing a vector of 100,000 rows doubles it on the way.
        let mut out = Vec::with_capacity(usize::try_from(rows).unwrap_or(0));
        let mut rows = sqlx::query(PLAN_ROW_SELECT).bind(org).fetch(&self.pool);
        while let Some(row) = rows.try_next().await.map_err(list_error())? {
            out.push(
                codec::RawPlanRow {
                    org,
                    kind: get(&row, "kind")?,
                    source_id: get::<&str>(&row, "source_id")?.into(),
                    channel_ptv_id: get::<Option<&str>>(&row, "ptv_id")?.map(Into::into),
                    remote: get(&row, "remote")?,
                    fingerprint: get(&row, "fingerprint")?,
                    payload: get(&row, "payload")?,
                    last_error: get(&row, "last_error")?,
                    attempts: get(&row, "attempts")?,
                    protected: get(&row, "protected")?,
                }
                .into_row()?,
            );
        }
        Ok(out)
    }

    async fn item(
        &self,
        org: &str,
        kind: ItemKind,
        source_id: &str,
    ) -> Result<Option<ItemRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "{ITEM_SELECT} WHERE org = $1 AND kind = $2 AND source_id = $3"
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
        let b = [binds(rec)];
        upsert_statement(&b)
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
        let all: Vec<ItemBinds<'_>> = unique.iter().map(|r| binds(r)).collect();
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(StoreError::query("begin a batch of item writes"))?;
        for chunk in all.chunks(BATCH_ROWS) {
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
            "SELECT EXISTS (SELECT 1 FROM items WHERE org = $1 AND ptv_scope = $2 AND ptv_source_id = $3)",
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
            "UPDATE items SET protected = $1 WHERE org = $2 AND kind = $3 AND source_id = $4",
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
             VALUES ($1, $2, $3, $4, $5, '{}', $6) RETURNING id",
        )
        .bind(&run.org)
        .bind(run.trigger.as_str())
        .bind(&run.actor)
        .bind(trunc(run.started_at))
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
            "INSERT INTO run_items (run_id, kind, source_id, action, outcome, error) VALUES ($1, $2, $3, $4, $5, $6)",
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
        let done = sqlx::query(
            "UPDATE runs SET outcome = $1, counts = $2::json, finished_at = $3 WHERE id = $4",
        )
        .bind(outcome.as_str())
        .bind(codec::json_text(counts))
        .bind(trunc(Utc::now()))
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
            "{RUN_SELECT} WHERE org = $1 ORDER BY id DESC LIMIT $2"
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
            "SELECT run_id, kind, source_id, action, outcome, error FROM run_items WHERE run_id = $1 ORDER BY id",
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
        let mut tx = self.pool.begin().await.map_err(StoreError::query(op()))?;
        // Serialises appends of this organisation until commit; other organisations'
        // chains are independent and proceed in parallel.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(codec::lock_key(AUDIT_LOCK_NS, &entry.org))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(op()))?;
        let prev: Option<String> =
            sqlx::query_scalar("SELECT hash FROM audit WHERE org = $1 ORDER BY seq DESC LIMIT 1")
                .bind(&entry.org)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query(op()))?;
        let (at, prev_hash, hash) = codec::new_audit_hash(entry, prev);
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audit (at, org, actor, action, kind, source_id, ptv_id, http_status, \
             body_sha256, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             RETURNING seq",
        )
        .bind(at)
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
        let rows = sqlx::query(&format!("{AUDIT_SELECT} WHERE at >= $1 ORDER BY seq"))
            .bind(trunc(since))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query("read the audit log"))?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn verify_audit(&self, org: Option<&str>) -> Result<AuditVerification, StoreError> {
        let op = "read the audit log for verification";
        let mut verifier = Verifier::default();
        let sql = match org {
            Some(_) => format!("{AUDIT_SELECT} WHERE org = $1 ORDER BY seq"),
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
            "DELETE FROM audit WHERE at < $1 AND seq < COALESCE((SELECT MIN(a2.seq) FROM audit a2 \
             WHERE a2.org = audit.org AND a2.at >= $1), 9223372036854775807)",
        )
        .bind(trunc(before))
        .execute(&self.pool)
        .await
        .map_err(StoreError::query("prune the audit log"))?;
        Ok(done.rows_affected())
    }

    async fn org_state(&self, org: &str) -> Result<Option<OrgState>, StoreError> {
        let row = sqlx::query(
            "SELECT org, last_run_id, last_success_at, last_run_at, guard_trips, token_expires_at, \
             next_run_at FROM org_state WHERE org = $1",
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
             token_expires_at, next_run_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (org) DO UPDATE SET last_run_id = excluded.last_run_id, \
             last_success_at = excluded.last_success_at, last_run_at = excluded.last_run_at, \
             guard_trips = excluded.guard_trips, token_expires_at = excluded.token_expires_at, \
             next_run_at = excluded.next_run_at",
        )
        .bind(&s.org)
        .bind(s.last_run_id)
        .bind(s.last_success_at.map(trunc))
        .bind(s.last_run_at.map(trunc))
        .bind(s.guard_trips)
        .bind(s.token_expires_at.map(trunc))
        .bind(s.next_run_at.map(trunc))
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
            .map_err(StoreError::query(format!("ping {}", self.display)))?;
        Ok(())
    }

    async fn lock_org(&self, org: &str) -> Result<Option<OrgLock>, StoreError> {
        let op = || format!("take the single-writer lock of organisation {org}");
        // A connection of its own, outside the pool: the lock lives exactly as long as
        // this session.
        let options = self.options.clone().application_name(LOCK_APPLICATION_NAME);
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

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

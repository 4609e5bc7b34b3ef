//! The SQL of the state store, written once for both backends.
//!
//! [`shared_store!`] expands, inside a backend's module, to the whole
//! [`StateStore`](super::StateStore) implementation: every statement, bind and row decoding.
//! Placeholders are `$n` in both (`SQLite` reads `$n` as the n-th argument, as `PostgreSQL`
//! does). What the backends do differently is the dialect seam, given as arguments:
//!
//! - `json_in` / `json_out`: what follows a JSON parameter or a JSON column read as text
//!   (`PostgreSQL` columns are `json`; `SQLite` keeps text);
//! - `time` / `read_time` / `read_opt_time`: how a time is bound and read (`PostgreSQL`
//!   `timestamptz`; `SQLite` RFC 3339 text with six fractional digits, so that text order is
//!   time order);
//! - `schema_exists`: a query that says whether the migration table exists.
//!
//! and the inherent methods a backend provides (what really differs):
//! `write_tx` (a write transaction), `AUDIT_APPEND_LOCK` (a statement that serialises one
//! organisation's audit appends, if the write transaction does not already),
//! `fast_item_heads`, `fast_plan_rows`, `take_org_lock`, `shown` and `BACKEND`.
//! Errors are interpreted once, in `codec` and `error` (sqlx reports unique and foreign-key
//! violations alike for both).

use super::error::StoreError;

/// Reads one column; a failure names it.
pub(crate) fn get<'r, R, T>(row: &'r R, column: &str) -> Result<T, StoreError>
where
    R: sqlx::Row,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
{
    row.try_get(column)
        .map_err(StoreError::query(format!("read column {column}")))
}

/// Namespace of the lock key that serialises the audit appends of one organisation, apart
/// from the single-writer lock's.
pub(crate) const AUDIT_LOCK_NS: &str = "ptv-sync-audit:";

macro_rules! shared_store {
    (
        store: $Store:ident,
        db: $Db:ty,
        row: $Row:ty,
        json_in: $json_in:literal,
        json_out: $json_out:literal,
        time: $time:path,
        read_time: $read_time:path,
        read_opt_time: $read_opt_time:path,
        schema_exists: $schema_exists:literal $(,)?
    ) => {
        use $crate::store::codec::{self as codec, BATCH_ROWS};
        use $crate::store::sql::{AUDIT_LOCK_NS, get};
        use $crate::store::types as t;

        const ITEM_COLUMNS: &str = "org, kind, source_id, ptv_scope, ptv_source_id, \
             generation, ptv_id, remote, fingerprint, payload, status, last_error, attempts, \
             protected, first_pushed_at, last_pushed_at, last_touched_at";

        const ITEM_SELECT: &str = concat!(
            "SELECT org, kind, source_id, ptv_source_id, generation, ptv_id, remote, \
             fingerprint, payload",
            $json_out,
            " AS payload, status, last_error",
            $json_out,
            " AS last_error, attempts, protected, first_pushed_at, last_pushed_at, \
             last_touched_at FROM items"
        );

        const ITEM_UPSERT_TAIL: &str = " ON CONFLICT (org, kind, source_id) DO UPDATE SET \
             ptv_scope = excluded.ptv_scope, ptv_source_id = excluded.ptv_source_id, \
             generation = excluded.generation, ptv_id = excluded.ptv_id, \
             remote = excluded.remote, fingerprint = excluded.fingerprint, \
             payload = excluded.payload, status = excluded.status, \
             last_error = excluded.last_error, attempts = excluded.attempts, \
             protected = excluded.protected, first_pushed_at = excluded.first_pushed_at, \
             last_pushed_at = excluded.last_pushed_at, last_touched_at = excluded.last_touched_at";

        const RUN_SELECT: &str = concat!(
            "SELECT id, org, trigger, actor, started_at, finished_at, outcome, counts",
            $json_out,
            " AS counts, dry_run FROM runs"
        );

        const AUDIT_SELECT: &str = "SELECT seq, at, org, actor, action, kind, source_id, \
             ptv_id, http_status, body_sha256, reason, prev_hash, hash FROM audit";

        /// One multi-row upsert of `recs` (distinct keys).
        fn upsert_statement<'a>(recs: &[&'a t::ItemRecord]) -> sqlx::QueryBuilder<'a, $Db> {
            let mut qb = sqlx::QueryBuilder::new(format!("INSERT INTO items ({ITEM_COLUMNS}) "));
            qb.push_values(recs.iter().copied(), |mut b, r: &'a t::ItemRecord| {
                b.push_bind(r.org.as_str())
                    .push_bind(r.kind.as_str())
                    .push_bind(r.source_id.as_str())
                    .push_bind(r.ptv_scope())
                    .push_bind(r.ptv_source_id.as_str())
                    .push_bind(r.generation)
                    .push_bind(r.ptv_id.map(|id| id.to_string()))
                    .push_bind(r.remote.as_str())
                    .push_bind(r.fingerprint.as_deref())
                    .push_bind(r.payload.as_ref().map(t::Payload::as_str))
                    .push_unseparated($json_in)
                    .push_bind(r.status.as_str())
                    .push_bind(r.last_error.as_deref().map(codec::error_text))
                    .push_unseparated($json_in)
                    .push_bind(r.attempts)
                    .push_bind(r.protected)
                    .push_bind(r.first_pushed_at.map($time))
                    .push_bind(r.last_pushed_at.map($time))
                    .push_bind($time(r.last_touched_at));
            });
            qb.push(ITEM_UPSERT_TAIL);
            qb
        }

        fn item_from_row(row: &$Row) -> Result<t::ItemRecord, StoreError> {
            let org: String = get(row, "org")?;
            let kind: String = get(row, "kind")?;
            let source_id: String = get(row, "source_id")?;
            let what = || format!("item {org}/{kind}/{source_id}");
            codec::RawItem {
                first_pushed_at: $read_opt_time(row, "first_pushed_at", &what)?,
                last_pushed_at: $read_opt_time(row, "last_pushed_at", &what)?,
                last_touched_at: $read_time(row, "last_touched_at", &what)?,
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
            }
            .into_record()
        }

        fn run_from_row(row: &$Row) -> Result<t::RunRecord, StoreError> {
            let id: i64 = get(row, "id")?;
            let what = || format!("run {id}");
            codec::RawRun {
                id,
                org: get(row, "org")?,
                trigger: get(row, "trigger")?,
                actor: get(row, "actor")?,
                started_at: $read_time(row, "started_at", &what)?,
                finished_at: $read_opt_time(row, "finished_at", &what)?,
                outcome: get(row, "outcome")?,
                counts: get(row, "counts")?,
                dry_run: get(row, "dry_run")?,
            }
            .into_record()
        }

        fn audit_from_row(row: &$Row) -> Result<t::AuditEntry, StoreError> {
            let seq: i64 = get(row, "seq")?;
            let what = || format!("audit entry {seq}");
            codec::RawAudit {
                seq,
                at: $read_time(row, "at", &what)?,
                org: get(row, "org")?,
                actor: get(row, "actor")?,
                action: get(row, "action")?,
                kind: get(row, "kind")?,
                source_id: get(row, "source_id")?,
                ptv_id: get(row, "ptv_id")?,
                http_status: get(row, "http_status")?,
                body_sha256: get(row, "body_sha256")?,
                reason: get(row, "reason")?,
                prev_hash: get(row, "prev_hash")?,
                hash: get(row, "hash")?,
            }
            .into_entry()
        }

        fn org_state_from_row(row: &$Row) -> Result<t::OrgState, StoreError> {
            let org: String = get(row, "org")?;
            let what = || format!("state of organisation {org}");
            Ok(t::OrgState {
                last_run_id: get(row, "last_run_id")?,
                last_success_at: $read_opt_time(row, "last_success_at", &what)?,
                last_run_at: $read_opt_time(row, "last_run_at", &what)?,
                guard_trips: get(row, "guard_trips")?,
                token_expires_at: $read_opt_time(row, "token_expires_at", &what)?,
                next_run_at: $read_opt_time(row, "next_run_at", &what)?,
                org: org.clone(),
            })
        }

        /// For [`OpenMode::MustExist`](super::target::OpenMode): the schema must be exactly
        /// this version's.
        async fn check_schema(
            pool: &sqlx::Pool<$Db>,
            backend: $crate::store::migrations::Backend,
            display: &str,
        ) -> Result<(), StoreError> {
            let op = "read the migration history";
            let exists: bool = sqlx::query_scalar($schema_exists)
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
            let mut applied = std::collections::BTreeMap::new();
            for row in &rows {
                applied.insert(
                    get::<_, i64>(row, "version")?,
                    (
                        get::<_, Vec<u8>>(row, "checksum")?,
                        get::<_, bool>(row, "success")?,
                    ),
                );
            }
            $crate::store::migrations::check_applied(backend, display, &applied)
        }

        /// What [`record_audit_head`] did.
        enum AuditHead {
            /// The organisation has no audit entry.
            None,
            /// The chain's last entry (seq, hash) is the recorded head now.
            Recorded(i64, String),
            /// The last entry (seq, hash) was not recorded: the head recorded before is
            /// gone from the chain, and moving past it would hide that.
            Kept(i64, String),
        }

        /// Records the organisation's chain head as its anchor (see `audit.rs`), in `tx`.
        async fn record_audit_head(
            tx: &mut sqlx::Transaction<'static, $Db>,
            org: &str,
        ) -> Result<AuditHead, sqlx::Error> {
            let last: Option<(i64, String)> = sqlx::query_as(
                "SELECT seq, hash FROM audit WHERE org = $1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(org)
            .fetch_optional(&mut **tx)
            .await?;
            let Some((seq, hash)) = last else {
                return Ok(AuditHead::None);
            };
            let done = sqlx::query(
                "INSERT INTO audit_anchors (org, head_seq, head_hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (org) DO UPDATE SET head_seq = excluded.head_seq, \
                 head_hash = excluded.head_hash \
                 WHERE audit_anchors.head_seq IS NULL \
                 OR audit_anchors.head_seq = excluded.head_seq \
                 OR (excluded.head_seq > audit_anchors.head_seq \
                 AND (audit_anchors.head_seq <= COALESCE(audit_anchors.pruned_seq, -1) \
                 OR EXISTS (SELECT 1 FROM audit a WHERE a.seq = audit_anchors.head_seq \
                 AND a.hash = audit_anchors.head_hash)))",
            )
            .bind(org)
            .bind(seq)
            .bind(&hash)
            .execute(&mut **tx)
            .await?;
            Ok(if done.rows_affected() > 0 {
                AuditHead::Recorded(seq, hash)
            } else {
                AuditHead::Kept(seq, hash)
            })
        }

        impl $Store {
            /// Appends to the organisation's audit chain inside `tx`.
            async fn append_audit_in(
                tx: &mut sqlx::Transaction<'static, $Db>,
                entry: &t::NewAuditEntry,
            ) -> Result<t::AuditEntry, StoreError> {
                let op = || format!("append to the audit log of {}", entry.org);
                // Nobody may append to this organisation's chain between our read of its
                // head and our insert; other organisations' chains are independent.
                if let Some(lock) = Self::AUDIT_APPEND_LOCK {
                    sqlx::query(lock)
                        .bind(codec::lock_key(AUDIT_LOCK_NS, &entry.org))
                        .execute(&mut **tx)
                        .await
                        .map_err(StoreError::query(op()))?;
                }
                let prev: Option<String> = sqlx::query_scalar(
                    "SELECT hash FROM audit WHERE org = $1 ORDER BY seq DESC LIMIT 1",
                )
                .bind(&entry.org)
                .fetch_optional(&mut **tx)
                .await
                .map_err(StoreError::query(op()))?;
                // A chain that retention emptied continues from the last pruned entry.
                let prev = match prev {
                    Some(prev) => Some(prev),
                    None => sqlx::query_scalar::<_, Option<String>>(
                        "SELECT pruned_hash FROM audit_anchors WHERE org = $1",
                    )
                    .bind(&entry.org)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::query(op()))?
                    .flatten(),
                };
                let (at, prev_hash, hash) = codec::new_audit_hash(entry, prev);
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO audit (at, org, actor, action, kind, source_id, ptv_id, \
                     http_status, body_sha256, prev_hash, hash, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq",
                )
                .bind($time(at))
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
                .bind(entry.reason.as_deref())
                .fetch_one(&mut **tx)
                .await
                .map_err(StoreError::query(op()))?;
                Ok(t::AuditEntry {
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
                    reason: entry.reason.clone(),
                    prev_hash,
                    hash,
                })
            }

            /// Streamed: decoding row by row never holds all raw rows and all records at
            /// once.
            async fn list_items(
                &self,
                select: &str,
                org: &str,
            ) -> Result<Vec<t::ItemRecord>, StoreError> {
                use futures::TryStreamExt as _;
                let sql = format!("{select} WHERE org = $1 ORDER BY kind, source_id");
                let mut rows = sqlx::query(&sql).bind(org).fetch(&self.pool);
                let mut out = Vec::new();
                while let Some(row) = rows.try_next().await.map_err(StoreError::query(
                    format!("list items of organisation {org}"),
                ))? {
                    out.push(item_from_row(&row)?);
                }
                Ok(out)
            }

            /// The number of an organisation's rows. A list of 100,000 rows is sized once
            /// with it: growing one doubles it on the way.
            async fn count_items(&self, org: &str) -> Result<usize, StoreError> {
                let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM items WHERE org = $1")
                    .bind(org)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::query(format!(
                        "count items of organisation {org}"
                    )))?;
                Ok(usize::try_from(rows).unwrap_or(0))
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::StateStore for $Store {
            async fn items(&self, org: &str) -> Result<Vec<t::ItemRecord>, StoreError> {
                self.list_items(ITEM_SELECT, org).await
            }

            async fn item_heads(&self, org: &str) -> Result<Vec<t::ItemRecord>, StoreError> {
                self.fast_item_heads(org).await
            }

            async fn plan_rows(&self, org: &str) -> Result<Vec<t::PlanRow>, StoreError> {
                self.fast_plan_rows(org).await
            }

            async fn item_state_counts(
                &self,
                org: &str,
            ) -> Result<Vec<(t::RemoteState, t::ItemStatus, u64)>, StoreError> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT remote, status, count(*) FROM items WHERE org = $1 \
                     GROUP BY remote, status ORDER BY remote, status",
                )
                .bind(org)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::query(format!(
                    "count items of organisation {org}"
                )))?;
                let what = || format!("items of organisation {org}");
                rows.into_iter()
                    .map(|(remote, status, n)| {
                        Ok((
                            codec::parse_enum(&remote, t::RemoteState::parse, "remote", &what)?,
                            codec::parse_enum(&status, t::ItemStatus::parse, "status", &what)?,
                            u64::try_from(n).unwrap_or(0),
                        ))
                    })
                    .collect()
            }

            async fn oldest_write(
                &self,
                org: &str,
            ) -> Result<Option<chrono::DateTime<chrono::Utc>>, StoreError> {
                let row = sqlx::query(
                    "SELECT MIN(last_pushed_at) AS oldest FROM items WHERE org = $1 \
                     AND kind IN ('service', 'channel') AND remote = 'live'",
                )
                .bind(org)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::query(format!(
                    "find the oldest write of organisation {org}"
                )))?;
                let what = || format!("items of organisation {org}");
                $read_opt_time(&row, "oldest", &what)
            }

            async fn item(
                &self,
                org: &str,
                kind: $crate::model::ItemKind,
                source_id: &str,
            ) -> Result<Option<t::ItemRecord>, StoreError> {
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

            async fn put_item(&self, rec: &t::ItemRecord) -> Result<(), StoreError> {
                codec::check_item(rec)?;
                // A single statement is its own (write) transaction.
                upsert_statement(&[rec])
                    .build()
                    .execute(&self.pool)
                    .await
                    .map_err(|e| {
                        codec::item_write_error(rec.key(), rec.ptv_scope(), rec.ptv_source_id.as_str(), e)
                    })?;
                Ok(())
            }

            async fn put_items(&self, recs: &[t::ItemRecord]) -> Result<(), StoreError> {
                if recs.is_empty() {
                    return Ok(());
                }
                for rec in recs {
                    codec::check_item(rec)?;
                }
                let unique =
                    codec::dedup_last(recs, |r| (r.org.as_str(), r.kind, r.source_id.as_str()));
                let mut tx = self.write_tx("begin a batch of item writes").await?;
                for chunk in unique.chunks(BATCH_ROWS) {
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
                    "SELECT EXISTS (SELECT 1 FROM items WHERE org = $1 AND ptv_scope = $2 \
                     AND ptv_source_id = $3)",
                )
                .bind(org)
                .bind(ptv_scope)
                .bind(ptv_source_id)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::query(format!(
                    "look up PTV sourceId {ptv_source_id} ({ptv_scope}) of {org}"
                )))
            }

            async fn set_protected(
                &self,
                org: &str,
                kind: $crate::model::ItemKind,
                source_id: &str,
                protected: bool,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE items SET protected = $1 WHERE org = $2 AND kind = $3 \
                     AND source_id = $4",
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

            async fn begin_run(&self, run: &t::NewRun) -> Result<i64, StoreError> {
                sqlx::query_scalar(
                    "INSERT INTO runs (org, trigger, actor, started_at, outcome, counts, dry_run) \
                     VALUES ($1, $2, $3, $4, $5, '{}', $6) RETURNING id",
                )
                .bind(&run.org)
                .bind(run.trigger.as_str())
                .bind(&run.actor)
                .bind($time(run.started_at))
                .bind(t::RunOutcome::Running.as_str())
                .bind(run.dry_run)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::query(format!(
                    "record the start of a run of {}",
                    run.org
                )))
            }

            async fn record_run_item(
                &self,
                run_id: i64,
                item: &t::RunItem,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO run_items (run_id, kind, source_id, action, outcome, error) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(run_id)
                .bind(item.kind.as_str())
                .bind(item.source_id.as_str())
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
                outcome: t::RunOutcome,
                counts: &serde_json::Value,
                finished_at: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), StoreError> {
                let op = || format!("record the end of run {run_id}");
                let mut tx = self.write_tx(&op()).await?;
                let org: Option<String> = sqlx::query_scalar(concat!(
                    "UPDATE runs SET outcome = $1, counts = $2",
                    $json_in,
                    ", finished_at = $3 WHERE id = $4 RETURNING org"
                ))
                .bind(outcome.as_str())
                .bind(codec::json_text(counts))
                .bind($time(finished_at))
                .bind(run_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query(op()))?;
                let Some(org) = org else {
                    return Err(StoreError::RunNotFound { run_id });
                };
                let head = record_audit_head(&mut tx, &org)
                    .await
                    .map_err(StoreError::query(op()))?;
                tx.commit().await.map_err(StoreError::query(op()))?;
                match head {
                    AuditHead::None => {}
                    AuditHead::Recorded(seq, hash) => tracing::info!(
                        organization = %org, run = run_id, audit_head_seq = seq,
                        audit_head_hash = %hash,
                        "audit chain head of {org} recorded at the end of run {run_id}: entry {seq}, hash {hash}"
                    ),
                    AuditHead::Kept(seq, hash) => tracing::warn!(
                        organization = %org, run = run_id, audit_head_seq = seq,
                        audit_head_hash = %hash,
                        "audit chain head of {org} not moved to entry {seq}: the head recorded before is no longer in the chain; run `ptv-sync audit verify`"
                    ),
                }
                Ok(())
            }

            async fn last_runs(
                &self,
                org: &str,
                limit: u32,
            ) -> Result<Vec<t::RunRecord>, StoreError> {
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

            async fn run_items(&self, run_id: i64) -> Result<Vec<t::RunItem>, StoreError> {
                let rows = sqlx::query(
                    "SELECT run_id, kind, source_id, action, outcome, error FROM run_items \
                     WHERE run_id = $1 ORDER BY id",
                )
                .bind(run_id)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::query(format!("list items of run {run_id}")))?;
                rows.iter()
                    .map(|row| {
                        codec::RawRunItem {
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

            async fn append_audit(
                &self,
                entry: &t::NewAuditEntry,
            ) -> Result<t::AuditEntry, StoreError> {
                let op = || format!("append to the audit log of {}", entry.org);
                let mut tx = self.write_tx(&op()).await?;
                let appended = Self::append_audit_in(&mut tx, entry).await?;
                tx.commit().await.map_err(StoreError::query(op()))?;
                Ok(appended)
            }

            async fn put_item_audited(
                &self,
                rec: &t::ItemRecord,
                entry: &t::NewAuditEntry,
            ) -> Result<t::AuditEntry, StoreError> {
                codec::check_item(rec)?;
                let op = || format!("commit item {} with its audit entry", rec.key());
                let mut tx = self.write_tx(&op()).await?;
                upsert_statement(&[rec])
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| {
                        codec::item_write_error(rec.key(), rec.ptv_scope(), rec.ptv_source_id.as_str(), e)
                    })?;
                let appended = Self::append_audit_in(&mut tx, entry).await?;
                tx.commit().await.map_err(StoreError::query(op()))?;
                Ok(appended)
            }

            async fn audit_since(
                &self,
                since: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<t::AuditEntry>, StoreError> {
                let rows = sqlx::query(&format!("{AUDIT_SELECT} WHERE at >= $1 ORDER BY seq"))
                    .bind($time(since))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::query("read the audit log"))?;
                rows.iter().map(audit_from_row).collect()
            }

            async fn verify_audit(
                &self,
                org: Option<&str>,
            ) -> Result<t::AuditVerification, StoreError> {
                use futures::TryStreamExt as _;
                let op = "read the audit log for verification";
                let anchor_sql = match org {
                    Some(_) => "SELECT org, head_seq, head_hash, pruned_seq, pruned_hash \
                                FROM audit_anchors WHERE org = $1",
                    None => "SELECT org, head_seq, head_hash, pruned_seq, pruned_hash \
                             FROM audit_anchors",
                };
                let mut anchor_query = sqlx::query_as::<
                    _,
                    (String, Option<i64>, Option<String>, Option<i64>, Option<String>),
                >(anchor_sql);
                if let Some(org) = org {
                    anchor_query = anchor_query.bind(org);
                }
                let anchors = anchor_query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::query("read the audit chain anchors"))?
                    .into_iter()
                    .map(|(org, head_seq, head_hash, pruned_seq, pruned_hash)| {
                        let anchor = $crate::store::audit::Anchor {
                            head: head_seq.zip(head_hash),
                            pruned: pruned_seq.zip(pruned_hash),
                        };
                        (org, anchor)
                    })
                    .collect();
                let mut verifier = $crate::store::audit::Verifier::new(anchors);
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

            async fn prune_audit(
                &self,
                before: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, StoreError> {
                let op = "prune the audit log";
                let mut tx = self.write_tx(op).await?;
                // Per organisation, the last entry of the prefix older than `before` (the
                // entries before its first entry at or after `before`).
                let last_deleted: Vec<(String, i64, String)> = sqlx::query_as(
                    "SELECT d.org, d.seq, d.hash FROM audit d WHERE d.seq = (\
                     SELECT MAX(p.seq) FROM audit p WHERE p.org = d.org AND p.at < $1 \
                     AND p.seq < COALESCE((SELECT MIN(a2.seq) FROM audit a2 \
                     WHERE a2.org = p.org AND a2.at >= $1), 9223372036854775807))",
                )
                .bind($time(before))
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::query(op))?;
                let mut deleted = 0;
                for (org, seq, hash) in &last_deleted {
                    sqlx::query(
                        "INSERT INTO audit_anchors (org, pruned_seq, pruned_hash) \
                         VALUES ($1, $2, $3) ON CONFLICT (org) DO UPDATE SET \
                         pruned_seq = excluded.pruned_seq, pruned_hash = excluded.pruned_hash",
                    )
                    .bind(org)
                    .bind(seq)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query(op))?;
                    // Up to the anchored entry exactly: an entry appended meanwhile stays.
                    deleted += sqlx::query("DELETE FROM audit WHERE org = $1 AND seq <= $2")
                        .bind(org)
                        .bind(seq)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::query(op))?
                        .rows_affected();
                }
                tx.commit().await.map_err(StoreError::query(op))?;
                Ok(deleted)
            }

            async fn prune_runs(
                &self,
                before: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, StoreError> {
                // Their run items go with them (ON DELETE CASCADE).
                let done = sqlx::query("DELETE FROM runs WHERE finished_at < $1")
                    .bind($time(before))
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::query("prune old runs"))?;
                Ok(done.rows_affected())
            }

            async fn org_state(&self, org: &str) -> Result<Option<t::OrgState>, StoreError> {
                let row = sqlx::query(
                    "SELECT org, last_run_id, last_success_at, last_run_at, guard_trips, \
                     token_expires_at, next_run_at FROM org_state WHERE org = $1",
                )
                .bind(org)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::query(format!(
                    "read the state of organisation {org}"
                )))?;
                row.as_ref().map(org_state_from_row).transpose()
            }

            async fn put_org_state(&self, s: &t::OrgState) -> Result<(), StoreError> {
                codec::check_org_state(s)?;
                sqlx::query(
                    "INSERT INTO org_state (org, last_run_id, last_success_at, last_run_at, \
                     guard_trips, token_expires_at, next_run_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (org) DO UPDATE SET last_run_id = excluded.last_run_id, \
                     last_success_at = excluded.last_success_at, \
                     last_run_at = excluded.last_run_at, guard_trips = excluded.guard_trips, \
                     token_expires_at = excluded.token_expires_at, \
                     next_run_at = excluded.next_run_at",
                )
                .bind(&s.org)
                .bind(s.last_run_id)
                .bind(s.last_success_at.map($time))
                .bind(s.last_run_at.map($time))
                .bind(s.guard_trips)
                .bind(s.token_expires_at.map($time))
                .bind(s.next_run_at.map($time))
                .execute(&self.pool)
                .await
                .map_err(StoreError::query(format!(
                    "save the state of organisation {}",
                    s.org
                )))?;
                Ok(())
            }

            async fn drift_cursor(&self, org: &str) -> Result<Option<String>, StoreError> {
                let row = sqlx::query("SELECT position FROM drift_cursor WHERE org = $1")
                    .bind(org)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::query(format!(
                        "read the drift cursor of organisation {org}"
                    )))?;
                row.as_ref().map(|r| get(r, "position")).transpose()
            }

            async fn set_drift_cursor(
                &self,
                org: &str,
                position: Option<&str>,
            ) -> Result<(), StoreError> {
                let q = match position {
                    Some(p) => sqlx::query(
                        "INSERT INTO drift_cursor (org, position) VALUES ($1, $2) \
                         ON CONFLICT (org) DO UPDATE SET position = excluded.position",
                    )
                    .bind(org)
                    .bind(p),
                    None => sqlx::query("DELETE FROM drift_cursor WHERE org = $1").bind(org),
                };
                q.execute(&self.pool)
                    .await
                    .map_err(StoreError::query(format!(
                        "save the drift cursor of organisation {org}"
                    )))?;
                Ok(())
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::query(format!("ping {}", self.shown())))?;
                Ok(())
            }

            async fn lock_org(
                &self,
                org: &str,
            ) -> Result<Option<$crate::store::OrgLock>, StoreError> {
                self.take_org_lock(org).await
            }

            fn backend(&self) -> &'static str {
                Self::BACKEND
            }
        }
    };
}

pub(crate) use shared_store;

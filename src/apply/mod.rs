//! The sync engine: turns a plan into PTV writes so that PTV ends up equal to the source,
//! whatever fails on the way.
//!
//! - Creates, updates and restores run concurrently, bounded, each as soon as what it
//!   depends on is written (an organisation's parent, a service's or channel's
//!   organisation, a connection set's service and channels); archives then run in
//!   waves in reverse dependency order.
//! - Each item's row is committed right after PTV confirms it, and no transaction is ever
//!   held across an HTTP call: a crash at any instant leaves a consistent store, and the
//!   next run converges through the client's safe creates (lookup and adopt, never a
//!   blind second POST).
//! - Only items in the store (created or adopted by us) are ever archived.

mod existing;
mod report;
mod wire;

pub use report::{ItemResult, Outcome, RunReport};

use crate::config::OrgConfig;
use crate::fingerprint::sha256_hex;
use crate::model::{ChannelType, Item, ItemKind, SourceId, ptv_source_id};
use crate::plan::{Action, Plan, Step, guard_trips};
use crate::ptv::{ConnectionsWrite, PtvApi, PtvError, Write, Written};
use crate::store::{
    ErrorClass, ItemAction, ItemError, ItemRecord, ItemStatus, NewAuditEntry, NewRun, OrgState,
    Payload, RemoteState, RunItem, RunItemOutcome, RunOutcome, RunTrigger, StateStore,
};
use crate::validate::Validated;
use chrono::Utc;
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// Progress callbacks for the terminal (bars) or logs.
pub trait Progress: Send + Sync {
    fn planned(&self, total: usize);
    fn done(&self, result: &ItemResult);
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub trigger: RunTrigger,
    pub full: bool,
    pub only: Option<Vec<ItemKind>>,
    pub item: Option<String>,
    pub dry_run: bool,
    pub allow_mass_archive: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            trigger: RunTrigger::Manual,
            full: false,
            only: None,
            item: None,
            dry_run: false,
            allow_mass_archive: false,
        }
    }
}

/// A failure that stops a run before any item is attempted.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("organisation {org}: {source}")]
    Source {
        org: String,
        #[source]
        source: crate::source::SourceError,
    },
    #[error("organisation {org}: state store: {source}")]
    Store {
        org: String,
        #[source]
        source: crate::store::StoreError,
    },
}

pub struct Engine {
    pub org: OrgConfig,
    pub store: Arc<dyn StateStore>,
    pub api: Arc<dyn PtvApi>,
    /// "daemon", or the OS user who ran the command.
    pub actor: String,
    pub progress: Option<Arc<dyn Progress>>,
    /// Cancelled on shutdown: the items in flight finish and are committed, no new ones start.
    pub cancel: CancellationToken,
}

/// The working copy of the organisation's rows during a run.
type Rows = Arc<Mutex<HashMap<(ItemKind, String), ItemRecord>>>;

struct Ctx<'a> {
    validated: &'a Validated,
    /// Creates not sent this run (an existing PTV item needs adoption).
    held: existing::Held,
    rows: Rows,
    run_id: Option<i64>,
}

impl Engine {
    /// Reads the source, plans and applies. Returns `Err` only when nothing could be done.
    pub async fn run(&self, opts: &RunOptions) -> Result<RunReport, RunError> {
        let started = std::time::Instant::now();
        let org = &self.org.name;
        let store_err = |source| RunError::Store {
            org: org.clone(),
            source,
        };
        // Heads: the payloads of services and channels are read when a step needs them.
        let (validated, records) =
            crate::sync::read_with(&self.org, self.store.item_heads(org)).await;
        let validated = match validated {
            Ok(v) => v,
            Err(source) => {
                if !opts.dry_run {
                    self.record_failed_run(opts).await;
                }
                return Err(RunError::Source {
                    org: org.clone(),
                    source,
                });
            }
        };
        let mut records = records.map_err(store_err)?;
        let priors = crate::sync::priors(&records);
        let now = Utc::now();
        let mut plan = crate::sync::plan_for(
            &self.org,
            &validated,
            &priors,
            Some(self.store.as_ref()),
            opts.full,
            now,
        )
        .await
        .map_err(store_err)?;
        plan.steps.retain(|s| selected(s, opts));
        if opts.item.is_some() {
            plan.unchanged.clear();
        } else if let Some(kinds) = &opts.only {
            plan.unchanged.retain(|kind, _| {
                kinds.contains(kind)
                    || (*kind == ItemKind::Connections && kinds.contains(&ItemKind::Service))
            });
        }
        let held = if opts.dry_run {
            existing::Held::new()
        } else {
            self.check_existing(&validated, &mut records, &mut plan)
                .await
        };
        let live = crate::sync::live_items(&priors);
        drop(priors);
        let guard = if opts.allow_mass_archive {
            None
        } else {
            guard_trips(&plan, validated.present.len(), live, self.org.guard)
        };
        if let Some(reason) = &guard {
            tracing::warn!(organization = %org, "archive guard tripped: {reason}");
            metrics::counter!("ptv_sync_guard_trips_total", "org" => org.clone()).increment(1);
        }
        let unchanged = plan.count(Action::Unchanged);
        let invalid = plan.count(Action::Invalid);
        let mut report = RunReport {
            organization: org.clone(),
            run_id: None,
            dry_run: opts.dry_run,
            outcome: RunOutcome::Ok,
            guard: guard.clone(),
            results: Vec::new(),
            unchanged,
            invalid,
            duration_ms: 0,
            plan: Plan::default(),
        };
        let work: Vec<Step> = plan
            .steps
            .iter()
            .filter(|s| s.action.writes())
            .cloned()
            .collect();
        if let Some(p) = &self.progress {
            p.planned(work.len());
        }
        if opts.dry_run {
            for s in &work {
                let skipped = guard.is_some() && s.action == Action::Archive;
                report.results.push(ItemResult {
                    kind: s.kind,
                    id: s.id.clone(),
                    action: s.action,
                    outcome: Outcome::Skipped,
                    error: skipped.then(|| "archive guard".to_owned()),
                });
            }
            report.plan = plan;
            report.duration_ms = started.elapsed().as_millis();
            return Ok(report);
        }
        let run_id = self
            .store
            .begin_run(&NewRun {
                org: org.clone(),
                trigger: opts.trigger,
                actor: self.actor.clone(),
                started_at: now,
                dry_run: false,
            })
            .await
            .map_err(store_err)?;
        report.run_id = Some(run_id);
        let rows: Rows = Arc::new(Mutex::new(
            records
                .into_iter()
                .map(|r| ((r.kind, r.source_id.clone()), r))
                .collect(),
        ));
        let ctx = Ctx {
            validated: &validated,
            held,
            rows,
            run_id: Some(run_id),
        };
        for wave in waves(&work, &ctx.rows) {
            let steps: Vec<&Step> = wave
                .into_iter()
                .filter(|s| !(guard.is_some() && s.action == Action::Archive))
                .collect();
            let concurrency = self.org.ptv.max_in_flight.max(1) * 2;
            let results = self.run_wave(&ctx, &steps, concurrency).await;
            report.results.extend(results);
        }
        if guard.is_some() {
            for s in work.iter().filter(|s| s.action == Action::Archive) {
                report.results.push(ItemResult {
                    kind: s.kind,
                    id: s.id.clone(),
                    action: s.action,
                    outcome: Outcome::Skipped,
                    error: Some("archive guard tripped".into()),
                });
            }
        }
        report.outcome = if report.failures().next().is_some()
            || report
                .results
                .iter()
                .any(|r| r.outcome == Outcome::Skipped && guard.is_none())
        {
            RunOutcome::Partial
        } else if guard.is_some() {
            RunOutcome::GuardTripped
        } else {
            RunOutcome::Ok
        };
        self.store
            .finish_run(run_id, report.outcome, &report.counts_json())
            .await
            .map_err(store_err)?;
        let mut state = self
            .store
            .org_state(org)
            .await
            .map_err(store_err)?
            .unwrap_or_else(|| OrgState::new(org));
        let finished = Utc::now();
        state.last_run_id = Some(run_id);
        state.last_run_at = Some(finished);
        // Success (for DVV's daily freshness) means every planned item was attempted; item
        // failures are tracked per item. A run cut short by shutdown skipped some.
        if !self.cancel.is_cancelled() {
            state.last_success_at = Some(finished);
        }
        if guard.is_some() {
            state.guard_trips += 1;
        }
        state.token_expires_at = self.api.token_expiry();
        self.store.put_org_state(&state).await.map_err(store_err)?;
        report.plan = plan;
        report.duration_ms = started.elapsed().as_millis();
        metrics::histogram!("ptv_sync_run_duration_seconds", "org" => org.clone())
            .record(started.elapsed().as_secs_f64());
        metrics::gauge!("ptv_sync_last_success_timestamp_seconds", "org" => org.clone())
            .set(finished.timestamp() as f64);
        Ok(report)
    }

    async fn record_failed_run(&self, opts: &RunOptions) {
        let run = NewRun {
            org: self.org.name.clone(),
            trigger: opts.trigger,
            actor: self.actor.clone(),
            started_at: Utc::now(),
            dry_run: false,
        };
        if let Ok(id) = self.store.begin_run(&run).await {
            let _ = self
                .store
                .finish_run(
                    id,
                    RunOutcome::Failed,
                    &serde_json::json!({"error": "source could not be read"}),
                )
                .await;
        }
    }

    /// Runs one wave's steps, at most `concurrency` at a time, each as soon as what it
    /// waits for is written or has failed ([`wave_dependencies`]): waves by kind and
    /// depth left slots idle while each wave's slowest write finished.
    async fn run_wave(
        &self,
        ctx: &Ctx<'_>,
        steps: &[&Step],
        concurrency: usize,
    ) -> Vec<ItemResult> {
        use futures::stream::FuturesUnordered;
        let WaveDependencies {
            mut waiting,
            dependents,
        } = wave_dependencies(steps, ctx.validated);
        // Organisations first whenever one is ready: the rest of the run waits on them.
        let rank = |i: usize| (u8::from(steps[i].kind != ItemKind::Organization), i);
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<(u8, usize)>> = (0..steps
            .len())
            .filter(|&i| waiting[i] == 0)
            .map(|i| std::cmp::Reverse(rank(i)))
            .collect();
        let mut running = FuturesUnordered::new();
        let mut results = Vec::with_capacity(steps.len());
        loop {
            while running.len() < concurrency.max(1)
                && let Some(std::cmp::Reverse((_, i))) = ready.pop()
            {
                // Built when started: at most `concurrency` futures exist at a time.
                running.push(self.step_at(ctx, steps[i], i));
            }
            let Some((i, result)) = running.next().await else {
                break;
            };
            for &d in &dependents[i] {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    ready.push(std::cmp::Reverse(rank(d)));
                }
            }
            // Reported as each finishes: the first wave now holds nearly every write.
            if let Some(p) = &self.progress {
                p.done(&result);
            }
            metrics::counter!("ptv_sync_items_total", "org" => self.org.name.clone(), "kind" => result.kind.as_str(), "action" => result.action.as_str(), "outcome" => result.outcome.as_str()).increment(1);
            results.push(result);
        }
        results
    }

    async fn step_at(&self, ctx: &Ctx<'_>, s: &Step, i: usize) -> (usize, ItemResult) {
        (i, self.step(ctx, s).await)
    }

    async fn step(&self, ctx: &Ctx<'_>, s: &Step) -> ItemResult {
        let mut result = ItemResult {
            kind: s.kind,
            id: s.id.clone(),
            action: s.action,
            outcome: Outcome::Ok,
            error: None,
        };
        if self.cancel.is_cancelled() {
            result.outcome = Outcome::Skipped;
            result.error = Some("shutting down".into());
            return result;
        }
        let outcome = if let Some(held) = ctx.held.get(&(s.kind, s.id.clone())) {
            Err(held.clone())
        } else {
            match s.action {
                Action::Archive => self.archive(ctx, s).await,
                Action::Create | Action::Update | Action::Restore
                    if s.kind == ItemKind::Connections =>
                {
                    self.connections(ctx, s).await
                }
                Action::Create | Action::Update | Action::Restore => self.upsert(ctx, s).await,
                _ => Ok(()),
            }
        };
        if let Err((o, msg)) = outcome {
            result.outcome = o;
            result.error = Some(msg);
        }
        if let Some(run_id) = ctx.run_id {
            let item = RunItem {
                kind: s.kind,
                source_id: s.id.clone(),
                action: store_action(s),
                outcome: match result.outcome {
                    Outcome::Ok => RunItemOutcome::Ok,
                    Outcome::Failed => RunItemOutcome::Failed,
                    Outcome::NeedsPerson | Outcome::Blocked => RunItemOutcome::Blocked,
                    Outcome::Skipped => RunItemOutcome::Skipped,
                },
                error: result.error.clone(),
            };
            if let Err(e) = self.store.record_run_item(run_id, &item).await {
                tracing::warn!("cannot record run item {} {}: {e}", s.kind, s.id);
            }
        }
        result
    }

    fn row(&self, ctx: &Ctx<'_>, kind: ItemKind, id: &str) -> ItemRecord {
        let rows = ctx.rows.lock().expect("rows lock");
        rows.get(&(kind, id.to_owned()))
            .cloned()
            .unwrap_or_else(|| {
                let mut r = ItemRecord::new(&self.org.name, kind, id, Utc::now());
                r.ptv_source_id = ptv_source_id(&self.org.source_id_prefix, kind, id, 0);
                r
            })
    }

    /// The row with its stored payload: the working copy holds services and channels as
    /// heads. The store is never behind the working copy (`commit` writes it first).
    async fn whole_row(
        &self,
        ctx: &Ctx<'_>,
        kind: ItemKind,
        id: &str,
    ) -> Result<ItemRecord, (Outcome, String)> {
        if matches!(kind, ItemKind::Service | ItemKind::Channel) {
            let stored = self
                .store
                .item(&self.org.name, kind, id)
                .await
                .map_err(|e| (Outcome::Failed, format!("state store: {e}")))?;
            if let Some(rec) = stored {
                return Ok(rec);
            }
        }
        Ok(self.row(ctx, kind, id))
    }

    fn ptv_id_of(
        &self,
        ctx: &Ctx<'_>,
        kind: ItemKind,
        id: Option<&SourceId>,
    ) -> Result<String, String> {
        let Some(id) = id else {
            return Ok(self.org.main_organization_id.to_string());
        };
        let rows = ctx.rows.lock().expect("rows lock");
        rows.get(&(kind, id.to_string()))
            .filter(|r| r.remote == RemoteState::Live)
            .and_then(|r| r.ptv_id.clone())
            .ok_or_else(|| format!("waiting for {kind} '{id}', which is not in PTV yet"))
    }

    /// Commits a row: first in the store, then in the working copy.
    async fn commit(&self, ctx: &Ctx<'_>, rec: ItemRecord) -> Result<(), (Outcome, String)> {
        self.store
            .put_item(&rec)
            .await
            .map_err(|e| (Outcome::Failed, format!("state store: {e}")))?;
        let mut head = rec;
        if matches!(head.kind, ItemKind::Service | ItemKind::Channel) {
            head.payload = None; // see `whole_row`
        }
        ctx.rows
            .lock()
            .expect("rows lock")
            .insert((head.kind, head.source_id.clone()), head);
        Ok(())
    }

    async fn audit(
        &self,
        kind: ItemKind,
        id: &str,
        action: ItemAction,
        ptv_id: Option<&str>,
        status: u16,
        body_sha: &str,
    ) {
        let entry = NewAuditEntry {
            at: Utc::now(),
            org: self.org.name.clone(),
            actor: self.actor.clone(),
            action,
            kind,
            source_id: id.to_owned(),
            ptv_id: ptv_id.map(str::to_owned),
            http_status: Some(status),
            body_sha256: (!body_sha.is_empty()).then(|| body_sha.to_owned()),
        };
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!("audit append failed for {kind} {id}: {e}");
        }
    }

    /// Records a failed attempt on the row and turns the error into a result.
    async fn fail(
        &self,
        ctx: &Ctx<'_>,
        mut rec: ItemRecord,
        s: &Step,
        e: &PtvError,
        action: ItemAction,
    ) -> (Outcome, String) {
        let class = match e.class() {
            crate::ptv::ErrorClass::Terminal => ErrorClass::Terminal,
            crate::ptv::ErrorClass::Transient => ErrorClass::Transient,
            crate::ptv::ErrorClass::NeedsPerson => ErrorClass::NeedsPerson,
        };
        let message = e.to_string();
        if let Some(status) = e.http_status() {
            self.audit(s.kind, &s.id, action, rec.ptv_id.as_deref(), status, "")
                .await;
        }
        rec.status = if class == ErrorClass::NeedsPerson {
            ItemStatus::Blocked
        } else {
            ItemStatus::Failed
        };
        rec.last_error = Some(Box::new(ItemError {
            class,
            message: message.clone(),
            fields: e.fields().cloned().unwrap_or_default(),
            fingerprint: s.fingerprint.map(|f| f.to_string()),
            at: Utc::now(),
        }));
        rec.attempts += 1;
        rec.last_touched_at = Utc::now();
        tracing::warn!(organization = %self.org.name, kind = %s.kind, id = %s.id, "{message}");
        metrics::counter!("ptv_sync_writes_total", "org" => self.org.name.clone(), "kind" => s.kind.as_str(), "action" => action.as_str(), "outcome" => class.as_str()).increment(1);
        let outcome = if class == ErrorClass::NeedsPerson {
            Outcome::NeedsPerson
        } else {
            Outcome::Failed
        };
        if let Err(err) = self.commit(ctx, rec).await {
            return err;
        }
        (outcome, message)
    }

    async fn succeed(
        &self,
        ctx: &Ctx<'_>,
        mut rec: ItemRecord,
        s: &Step,
        w: &Written,
        action: ItemAction,
        payload: Option<serde_json::Value>,
    ) -> Result<(), (Outcome, String)> {
        let now = Utc::now();
        rec.ptv_id = Some(w.ptv_id.clone());
        if action == ItemAction::Archive {
            rec.remote = RemoteState::Archived;
            rec.status = ItemStatus::Archived;
        } else {
            rec.remote = RemoteState::Live;
            rec.status = ItemStatus::Active;
            rec.fingerprint = s.fingerprint.map(|f| f.to_string());
            rec.payload = payload.map(Payload::from);
            rec.first_pushed_at.get_or_insert(now);
            rec.last_pushed_at = Some(now);
        }
        rec.last_error = None;
        rec.attempts = 0;
        rec.last_touched_at = now;
        let audited = if w.adopted { ItemAction::Adopt } else { action };
        // Commit first: the audit line describes a write that the store already reflects.
        self.commit(ctx, rec).await?;
        self.audit(
            s.kind,
            &s.id,
            audited,
            Some(&w.ptv_id),
            w.http_status,
            &w.body_sha256,
        )
        .await;
        metrics::counter!("ptv_sync_writes_total", "org" => self.org.name.clone(), "kind" => s.kind.as_str(), "action" => audited.as_str(), "outcome" => "ok").increment(1);
        Ok(())
    }

    fn desired(&self, ctx: &Ctx<'_>, kind: ItemKind, id: &str) -> Option<Item> {
        let v = ctx.validated;
        match kind {
            ItemKind::Organization => v
                .organizations
                .get(id)
                .map(|o| Item::Organization((**o).clone())),
            ItemKind::Service => v.services.get(id).map(|s| Item::Service((**s).clone())),
            ItemKind::Channel => v.channels.get(id).map(|c| {
                Item::Channel(crate::plan::resolved_channel(
                    v,
                    c,
                    self.org.main_area.as_ref(),
                ))
            }),
            ItemKind::Connections => None,
        }
    }

    /// The PTV id of the organisation an item hangs under.
    fn owner_ptv_id(&self, ctx: &Ctx<'_>, item: &Item) -> Result<String, String> {
        match item {
            Item::Organization(o) => self.ptv_id_of(ctx, ItemKind::Organization, o.parent.as_ref()),
            Item::Service(s) => {
                self.ptv_id_of(ctx, ItemKind::Organization, s.organization.as_ref())
            }
            Item::Channel(c) => {
                self.ptv_id_of(ctx, ItemKind::Organization, c.organization.as_ref())
            }
        }
    }

    fn write_for(
        &self,
        rec: &ItemRecord,
        item: &Item,
        owner: String,
    ) -> Result<Write, (Outcome, String)> {
        let body = wire::item_body(self.api.version(), item, &owner).map_err(|e| {
            (
                Outcome::Failed,
                format!("cannot build the {} body: {e}", self.api.version()),
            )
        })?;
        Ok(Write {
            kind: item.kind(),
            channel_type: match item {
                Item::Channel(c) => Some(c.channel_type),
                _ => None,
            },
            source_id: rec.ptv_source_id.clone(),
            organization_ptv_id: owner,
            name_fi: Some(item.display_name()),
            body,
        })
    }

    /// Picks the next free generation for an item whose sourceId PTV still holds.
    async fn next_generation(&self, rec: &mut ItemRecord) -> Result<(), (Outcome, String)> {
        let scope = rec.ptv_scope().unwrap_or("connection");
        let mut g = rec.generation + 1;
        loop {
            let candidate = ptv_source_id(&self.org.source_id_prefix, rec.kind, &rec.source_id, g);
            let taken = self
                .store
                .source_id_taken(&self.org.name, scope, &candidate)
                .await
                .map_err(|e| (Outcome::Failed, format!("state store: {e}")))?;
            if !taken {
                rec.generation = g;
                rec.ptv_source_id = candidate;
                rec.ptv_id = None;
                rec.remote = RemoteState::Absent;
                return Ok(());
            }
            g += 1;
        }
    }

    async fn upsert(&self, ctx: &Ctx<'_>, s: &Step) -> Result<(), (Outcome, String)> {
        let Some(item) = self.desired(ctx, s.kind, &s.id) else {
            return Err((Outcome::Skipped, "no longer in the source".into()));
        };
        let owner = self
            .owner_ptv_id(ctx, &item)
            .map_err(|m| (Outcome::Blocked, m))?;
        let payload = crate::plan::payload(
            ctx.validated,
            desired_ref(&item),
            self.org.main_area.as_ref(),
        );
        let mut rec = self.whole_row(ctx, s.kind, &s.id).await?;

        // A channel cannot change type in PTV: archive the old one, create afresh.
        if s.action == Action::Update
            && let (Item::Channel(c), Some(old)) = (&item, rec.payload.as_ref())
            && let Ok(old_channel) = old.parse::<crate::model::Channel>()
            && old_channel.channel_type != c.channel_type
        {
            if let Some(old_id) = rec.ptv_id.clone() {
                let old_item: Option<Item> = Some(Item::Channel(old_channel));
                if let Some(old_item) = old_item {
                    let w = self.write_for(&rec, &old_item, owner.clone())?;
                    match self.api.archive(&old_id, &w).await {
                        Ok(wr) => {
                            self.audit(
                                s.kind,
                                &s.id,
                                ItemAction::Archive,
                                Some(&wr.ptv_id),
                                wr.http_status,
                                &wr.body_sha256,
                            )
                            .await;
                        }
                        Err(e) => {
                            return Err(self.fail(ctx, rec, s, &e, ItemAction::Archive).await);
                        }
                    }
                }
            }
            self.next_generation(&mut rec).await?;
            let w = self.write_for(&rec, &item, owner)?;
            self.record_intent(ctx, &mut rec, &payload).await?;
            return match self.api.create(&w).await {
                Ok(wr) => {
                    self.succeed(ctx, rec, s, &wr, ItemAction::Create, Some(payload))
                        .await
                }
                Err(e) => Err(self.fail(ctx, rec, s, &e, ItemAction::Create).await),
            };
        }

        let (action, result) = match (s.action, rec.ptv_id.clone()) {
            (Action::Update, Some(id)) => (
                ItemAction::Update,
                self.api
                    .update(&id, &self.write_for(&rec, &item, owner.clone())?)
                    .await,
            ),
            (Action::Restore, Some(id)) => (
                ItemAction::Restore,
                self.api
                    .restore(&id, &self.write_for(&rec, &item, owner.clone())?)
                    .await,
            ),
            _ => {
                let w = self.write_for(&rec, &item, owner.clone())?;
                self.record_intent(ctx, &mut rec, &payload).await?;
                (ItemAction::Create, self.api.create(&w).await)
            }
        };
        match result {
            Ok(w) => self.succeed(ctx, rec, s, &w, action, Some(payload)).await,
            // PTV no longer has it (removed, or archived by someone else beyond restore):
            // create it afresh under the next generation of its sourceId.
            Err(PtvError::NotFound { .. }) if action != ItemAction::Create => {
                tracing::warn!(organization = %self.org.name, kind = %s.kind, id = %s.id, "PTV no longer has this item; creating it again under a new sourceId generation");
                self.next_generation(&mut rec).await?;
                let w = self.write_for(&rec, &item, owner)?;
                self.record_intent(ctx, &mut rec, &payload).await?;
                match self.api.create(&w).await {
                    Ok(wr) => {
                        self.succeed(ctx, rec, s, &wr, ItemAction::Create, Some(payload))
                            .await
                    }
                    Err(e) => Err(self.fail(ctx, rec, s, &e, ItemAction::Create).await),
                }
            }
            Err(e) => Err(self.fail(ctx, rec, s, &e, action).await),
        }
    }

    /// Before a create, the row records the attempt and what is being created: if the
    /// process dies after PTV applied it but before we commit, and the item then leaves the
    /// source, the planner still knows to find it in PTV and archive it.
    async fn record_intent(
        &self,
        ctx: &Ctx<'_>,
        rec: &mut ItemRecord,
        payload: &serde_json::Value,
    ) -> Result<(), (Outcome, String)> {
        if rec.remote == RemoteState::Live {
            return Ok(());
        }
        rec.attempts += 1;
        rec.payload = Some(Payload::new(payload));
        rec.last_touched_at = Utc::now();
        self.commit(ctx, rec.clone()).await
    }

    async fn connections(&self, ctx: &Ctx<'_>, s: &Step) -> Result<(), (Outcome, String)> {
        let Some(set) = ctx.validated.connections.get(s.id.as_str()) else {
            return Err((Outcome::Skipped, "no longer in the source".into()));
        };
        let service = self
            .ptv_id_of(
                ctx,
                ItemKind::Service,
                Some(&SourceId::parse(&s.id).map_err(|m| (Outcome::Failed, m))?),
            )
            .map_err(|m| (Outcome::Blocked, m))?;
        let mut targets = Vec::with_capacity(set.len());
        for c in set {
            let ch = self
                .ptv_id_of(ctx, ItemKind::Channel, Some(&c.channel))
                .map_err(|m| (Outcome::Blocked, m))?;
            let ty = ctx
                .validated
                .channels
                .get(&c.channel)
                .map_or(ChannelType::WebPage, |x| x.channel_type);
            targets.push((c, ch, ty));
        }
        let rec = self.row(ctx, ItemKind::Connections, &s.id);
        let previous = previous_channel_ids(&rec);
        let service_row = self.row(ctx, ItemKind::Service, &s.id);
        let write = ConnectionsWrite {
            service_ptv_id: service.clone(),
            service_source_id: service_row.ptv_source_id.clone(),
            desired: wire::connection_bodies(self.api.version(), &service, &targets),
            desired_channel_ids: targets.iter().map(|t| t.1.clone()).collect(),
            previous_channel_ids: previous,
        };
        let mut payload = crate::plan::payload(
            ctx.validated,
            crate::plan::DesiredRef::Connections(
                &SourceId::parse(&s.id).map_err(|m| (Outcome::Failed, m))?,
                set,
            ),
            None,
        );
        // Remember the channel PTV ids we set, for v12's removals next time.
        if let serde_json::Value::Array(items) = &mut payload {
            for (v, t) in items.iter_mut().zip(sorted_targets(&targets)) {
                if let serde_json::Value::Object(m) = v {
                    m.insert(
                        crate::plan::CHANNEL_PTV_ID.into(),
                        serde_json::Value::String(t),
                    );
                }
            }
        }
        match self.api.set_connections(&write).await {
            Ok(w) => {
                self.succeed(ctx, rec, s, &w, ItemAction::Connections, Some(payload))
                    .await
            }
            Err(e) => Err(self.fail(ctx, rec, s, &e, ItemAction::Connections).await),
        }
    }

    async fn archive(&self, ctx: &Ctx<'_>, s: &Step) -> Result<(), (Outcome, String)> {
        let rec = self.whole_row(ctx, s.kind, &s.id).await?;
        if rec.protected {
            return Ok(());
        }
        let item: Option<Item> = rec.payload.as_ref().and_then(|p| match s.kind {
            ItemKind::Organization => p.parse().ok().map(Item::Organization),
            ItemKind::Service => p.parse().ok().map(Item::Service),
            ItemKind::Channel => p.parse().ok().map(Item::Channel),
            ItemKind::Connections => None,
        });
        // The owner's PTV id matters for lookups (v11 lists by organisation).
        let owner = item
            .as_ref()
            .and_then(|i| self.owner_ptv_id(ctx, i).ok())
            .unwrap_or_else(|| self.org.main_organization_id.to_string());
        let write = match item
            .as_ref()
            .map(|i| self.write_for(&rec, i, owner.clone()))
        {
            Some(Ok(w)) => w,
            Some(Err(_)) | None => Write {
                kind: s.kind,
                channel_type: None,
                source_id: rec.ptv_source_id.clone(),
                organization_ptv_id: owner,
                name_fi: None,
                body: serde_json::json!({}),
            },
        };
        // No PTV id: a create was attempted but never confirmed. Find it by sourceId; if PTV
        // never got it, there is nothing to archive and the row is cleared.
        let ptv_id = match rec.ptv_id.clone() {
            Some(id) => id,
            None => match self.api.find(&crate::ptv::Lookup::of(&write)).await {
                Ok(Some(found)) if !found.archived => found.ptv_id,
                Ok(_) => {
                    let mut cleared = rec;
                    cleared.attempts = 0;
                    cleared.last_error = None;
                    cleared.payload = None;
                    cleared.last_touched_at = Utc::now();
                    return self.commit(ctx, cleared).await;
                }
                Err(e) => return Err(self.fail(ctx, rec, s, &e, ItemAction::Archive).await),
            },
        };
        let result = match self.api.archive(&ptv_id, &write).await {
            // Already gone from PTV's live set: the archive is done.
            Err(PtvError::NotFound { .. }) => Ok(Written {
                ptv_id: ptv_id.clone(),
                http_status: 404,
                body_sha256: sha256_hex(b""),
                adopted: false,
                requests: 1,
            }),
            other => other,
        };
        match result {
            Ok(w) => {
                self.succeed(ctx, rec, s, &w, ItemAction::Archive, None)
                    .await?;
                if s.kind == ItemKind::Service {
                    // The service's connection set goes with it; PTV needs no write for that.
                    let mut conn = self.row(ctx, ItemKind::Connections, &s.id);
                    if conn.remote == RemoteState::Live {
                        conn.remote = RemoteState::Archived;
                        conn.status = ItemStatus::Archived;
                        conn.last_touched_at = Utc::now();
                        self.commit(ctx, conn).await?;
                    }
                }
                Ok(())
            }
            Err(e) => Err(self.fail(ctx, rec, s, &e, ItemAction::Archive).await),
        }
    }
}

fn sorted_targets(targets: &[(&crate::model::Connection, String, ChannelType)]) -> Vec<String> {
    let mut t: Vec<(&SourceId, String)> = targets
        .iter()
        .map(|(c, id, _)| (&c.channel, id.clone()))
        .collect();
    t.sort_by(|a, b| a.0.cmp(b.0));
    t.into_iter().map(|x| x.1).collect()
}

fn previous_channel_ids(rec: &ItemRecord) -> Vec<String> {
    crate::plan::stored_channel_ids(rec.payload.as_ref())
        .into_iter()
        .map(|(_, id)| id)
        .collect()
}

fn desired_ref(item: &Item) -> crate::plan::DesiredRef<'_> {
    match item {
        Item::Organization(o) => crate::plan::DesiredRef::Organization(o),
        Item::Service(s) => crate::plan::DesiredRef::Service(s),
        Item::Channel(c) => crate::plan::DesiredRef::Channel(c),
    }
}

fn store_action(s: &Step) -> ItemAction {
    match (s.action, s.kind) {
        (_, ItemKind::Connections) => ItemAction::Connections,
        (Action::Update, _) => ItemAction::Update,
        (Action::Restore, _) => ItemAction::Restore,
        (Action::Archive, _) => ItemAction::Archive,
        _ => ItemAction::Create,
    }
}

fn selected(s: &Step, opts: &RunOptions) -> bool {
    let kind_ok = opts.only.as_ref().is_none_or(|kinds| {
        kinds.contains(&s.kind)
            || (s.kind == ItemKind::Connections && kinds.contains(&ItemKind::Service))
    });
    let item_ok = opts.item.as_ref().is_none_or(|id| &s.id == id);
    kind_ok && item_ok
}

/// Groups steps into waves: every create, update and restore in one (ordered inside by
/// [`wave_dependencies`]), then the archives of services, channels and connection sets,
/// then those of organisations, children first.
fn waves<'a>(work: &'a [Step], rows: &Rows) -> Vec<Vec<&'a Step>> {
    let rows = rows.lock().expect("rows lock");
    let depth_stored = |id: &str| {
        let parent = |id: &str| {
            rows.get(&(ItemKind::Organization, id.to_owned()))
                .and_then(|r| crate::plan::stored_parent(r.payload.as_ref()))
        };
        let mut d = 0;
        let mut cur = parent(id);
        while let Some(p) = cur {
            d += 1;
            cur = parent(&p);
            if d > 16 {
                break;
            }
        }
        d
    };
    let mut by_key: BTreeMap<(u8, i64), Vec<&Step>> = BTreeMap::new();
    for s in work {
        let key = match (s.action, s.kind) {
            (Action::Archive, ItemKind::Service | ItemKind::Channel | ItemKind::Connections) => {
                (5, 0)
            }
            (Action::Archive, ItemKind::Organization) => (6, -i64::from(depth_stored(&s.id))),
            // Creates, updates and restores: one wave, ordered inside by what each step
            // waits for (`wave_dependencies`).
            _ => (0, 0),
        };
        by_key.entry(key).or_default().push(s);
    }
    by_key.into_values().collect()
}

/// Which steps of a wave wait for which, where both are written in it: an organisation for
/// its parent, a service or channel for its organisation, a connection set for its service
/// and the channels it names.
struct WaveDependencies {
    /// Per step, how many steps it waits for.
    waiting: Vec<usize>,
    /// Per step, the steps waiting for it.
    dependents: Vec<Vec<usize>>,
}

fn wave_dependencies(steps: &[&Step], v: &Validated) -> WaveDependencies {
    fn org(o: Option<&SourceId>) -> Option<(ItemKind, &str)> {
        o.map(|o| (ItemKind::Organization, o.as_str()))
    }
    let writes = |s: &&Step| s.action != Action::Archive;
    let index: HashMap<(ItemKind, &str), usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| writes(s))
        .map(|(i, s)| ((s.kind, s.id.as_str()), i))
        .collect();
    let mut deps = WaveDependencies {
        waiting: vec![0; steps.len()],
        dependents: vec![Vec::new(); steps.len()],
    };
    for (i, s) in steps.iter().enumerate().filter(|(_, s)| writes(s)) {
        let id = s.id.as_str();
        let on: Vec<(ItemKind, &str)> = match s.kind {
            ItemKind::Organization => org(v.organizations.get(id).and_then(|o| o.parent.as_ref()))
                .into_iter()
                .collect(),
            ItemKind::Service => org(v.services.get(id).and_then(|x| x.organization.as_ref()))
                .into_iter()
                .collect(),
            ItemKind::Channel => org(v.channels.get(id).and_then(|x| x.organization.as_ref()))
                .into_iter()
                .collect(),
            ItemKind::Connections => std::iter::once((ItemKind::Service, id))
                .chain(
                    v.connections
                        .get(id)
                        .into_iter()
                        .flatten()
                        .map(|c| (ItemKind::Channel, c.channel.as_str())),
                )
                .collect(),
        };
        let mut on: Vec<usize> = on.iter().filter_map(|k| index.get(k).copied()).collect();
        on.sort_unstable();
        on.dedup();
        deps.waiting[i] = on.len();
        for d in on {
            deps.dependents[d].push(i);
        }
    }
    deps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What step `on` is to step `s`, if `s` must wait for it.
    fn waits_for(v: &Validated, s: &Step, on: &Step) -> bool {
        let id = s.id.as_str();
        let owner = match s.kind {
            ItemKind::Organization => v.organizations[id].parent.as_ref(),
            ItemKind::Service => v.services[id].organization.as_ref(),
            ItemKind::Channel => v.channels[id].organization.as_ref(),
            ItemKind::Connections => {
                return (on.kind == ItemKind::Service && on.id == s.id)
                    || (on.kind == ItemKind::Channel
                        && v.connections[id]
                            .iter()
                            .any(|c| c.channel.as_str() == on.id));
            }
        };
        on.kind == ItemKind::Organization && owner.is_some_and(|o| o.as_str() == on.id)
    }

    #[test]
    fn each_write_waits_for_exactly_what_it_depends_on() {
        let snapshot = crate::synth::generate(crate::synth::Shape::new(200, 3)).snapshot();
        let v =
            crate::validate::validate_owned(snapshot, &crate::validate::ValidateOptions::default());
        let plan = crate::plan::plan(&v, &[], &crate::plan::PlanOptions::default());
        let steps: Vec<&Step> = plan.steps.iter().collect();
        let deps = wave_dependencies(&steps, &v);
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in steps.iter().enumerate() {
            let expected: Vec<usize> = (0..steps.len())
                .filter(|&d| waits_for(&v, s, steps[d]))
                .collect();
            let actual: Vec<usize> = (0..steps.len())
                .filter(|&d| deps.dependents[d].contains(&i))
                .collect();
            assert_eq!(actual, expected, "{} {}", s.kind, s.id);
            assert_eq!(deps.waiting[i], expected.len());
            seen.extend(expected.iter().map(|&d| (steps[d].kind, s.kind)));
        }
        // Every kind of dependency occurs, so the check above is not vacuous.
        for pair in [
            (ItemKind::Organization, ItemKind::Organization),
            (ItemKind::Organization, ItemKind::Service),
            (ItemKind::Organization, ItemKind::Channel),
            (ItemKind::Service, ItemKind::Connections),
            (ItemKind::Channel, ItemKind::Connections),
        ] {
            assert!(seen.contains(&pair), "no {pair:?} dependency in the sample");
        }
    }
}

//! One organisation's way from source to plan: read the snapshot whole, validate it, load
//! what the store knows, plan, select what the run's options ask for and check the archive
//! guard ([`prepare`]). Shared by `validate`, `plan`, `resync`, `demo` and the daemon so
//! that a dry run and a real run walk the same path; `apply` takes a [`Prepared`] and only
//! applies it.

use crate::config::OrgConfig;
use crate::model::{ItemKind, OrgName, SourceId};
use crate::plan::{self, Plan, PlanOptions, Step, guard_trips};
use crate::source::SourceError;
use crate::store::{ItemRecord, PlanRow, RemoteState, RunTrigger, StateStore, StoreError};
use crate::validate::{self, ValidateOptions, Validated};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// What one run is asked to do: the same for the command line, the daemon's schedule and
/// its admin endpoint (which receives it as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    pub trigger: RunTrigger,
    /// Re-send every item, failed ones included.
    pub full: bool,
    /// Only these kinds; a service includes its connection set.
    pub only: Option<Vec<ItemKind>>,
    /// Only the item with this source id.
    pub item: Option<String>,
    /// Walk the same path and write nothing.
    pub dry_run: bool,
    /// Lift the archive guard for this run.
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

impl RunOptions {
    /// Whether `--only` lets this kind through: services bring their connection sets.
    #[must_use]
    pub fn selects_kind(&self, kind: ItemKind) -> bool {
        self.only.as_ref().is_none_or(|kinds| {
            kinds.contains(&kind)
                || (kind == ItemKind::Connections && kinds.contains(&ItemKind::Service))
        })
    }

    /// Whether the run touches this step.
    #[must_use]
    pub fn selects(&self, s: &Step) -> bool {
        self.selects_kind(s.kind) && self.item.as_ref().is_none_or(|id| s.id == id.as_str())
    }

    /// Narrows a plan to what the options select.
    pub fn narrow(&self, plan: &mut Plan) {
        plan.steps.retain(|s| self.selects(s));
        if self.item.is_some() {
            plan.unchanged.clear();
        } else {
            plan.unchanged.retain(|kind, _| self.selects_kind(*kind));
        }
    }
}

/// A plan ready to apply: the validated source it was made from, the organisation's
/// rows as the store held them (heads: services and channels without their payload), and
/// the archive guard's verdict.
pub struct Prepared {
    pub validated: Validated,
    pub plan: Plan,
    pub rows: Vec<ItemRecord>,
    /// Why the archive phase is skipped, when the guard tripped.
    pub guard: Option<String>,
    /// When the plan was made.
    pub now: DateTime<Utc>,
    /// When preparing began: a run's duration counts reading and planning too.
    pub started: std::time::Instant,
}

/// Why nothing could be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads, validates and plans one organisation against its stored rows, narrowed to what
/// `opts` selects, with the archive guard checked; `now` is the engine's clock.
pub async fn prepare(
    org: &OrgConfig,
    store: &dyn StateStore,
    opts: &RunOptions,
    now: DateTime<Utc>,
) -> Result<Prepared, PrepareError> {
    let started = std::time::Instant::now();
    // Heads: the payloads of services and channels are read when a step needs them.
    let (validated, rows) = read_with(org, store.item_heads(org.state_key())).await;
    let validated = validated?;
    let rows = rows?;
    let priors = priors(&rows);
    let mut plan = plan_for(org, &validated, &priors, Some(store), opts.full, now).await?;
    warn_old_writes(
        &org.name,
        &plan::touch::WriteAges::of(&priors, &org.touch, now),
    );
    opts.narrow(&mut plan);
    let live = live_items(&priors);
    drop(priors);
    // --allow-mass-archive lifts the size guard only: an unreadable file's items are
    // unknown, not meant to go.
    let guard = plan::unreadable_guard(&plan, &validated.unreadable).or_else(|| {
        if opts.allow_mass_archive {
            None
        } else {
            guard_trips(&plan, validated.present.len(), live, org.guard)
        }
    });
    Ok(Prepared {
        validated,
        plan,
        rows,
        guard,
        now,
        started,
    })
}

/// A warning naming every item past PTV's 15-month warning: the touch should have
/// re-sent it (is it failing, held, or are runs not happening?).
fn warn_old_writes(org: &OrgName, ages: &plan::touch::WriteAges) {
    for w in &ages.past_warning {
        tracing::warn!(
            organization = %org,
            kind = %w.kind,
            id = %w.id,
            "last written to PTV at {}, over 15 months ago: PTV archives it automatically at {} unless it is written before; check that it is not failing or held",
            w.last_written.to_rfc3339(),
            w.ptv_archives_at.map_or_else(|| "?".to_owned(), |t| t.to_rfc3339()),
        );
    }
}

#[must_use]
pub fn validate_options(org: &OrgConfig) -> ValidateOptions {
    ValidateOptions {
        api: org.api_version,
        main_area: org.main_area.clone(),
        ..ValidateOptions::default()
    }
}

/// Reads and validates the organisation's source; fails whole or not at all. Validation
/// runs off the async threads, so that the store can list rows meanwhile
/// ([`read_with_heads`]).
pub async fn read_source(org: &OrgConfig) -> Result<Validated, SourceError> {
    read_source_with(org, validate_options(org)).await
}

/// [`read_source`] with other validation options (`validate` adds the content checks).
pub async fn read_source_with(
    org: &OrgConfig,
    opts: ValidateOptions,
) -> Result<Validated, SourceError> {
    let snapshot = org.source.build().snapshot().await?;
    Ok(
        tokio::task::spawn_blocking(move || validate::validate_owned(snapshot, &opts))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
    )
}

/// The validated source and `rows` (what the store knows), read at the same time: at
/// 100,000 items each takes a good part of a second, and neither needs the other.
pub async fn read_with<T>(
    org: &OrgConfig,
    rows: impl Future<Output = T>,
) -> (Result<Validated, SourceError>, T) {
    tokio::join!(read_source(org), rows)
}

/// What a plan needs of the organisation's stored rows ([`StateStore::plan_rows`]); none
/// without a store.
pub async fn plan_rows(
    org: &OrgConfig,
    store: Option<&dyn StateStore>,
) -> Result<Vec<PlanRow>, StoreError> {
    match store {
        Some(s) => s.plan_rows(org.state_key()).await,
        None => Ok(Vec::new()),
    }
}

/// The planner's view of whole or head rows ([`StateStore::item_heads`]).
#[must_use]
pub fn priors(records: &[ItemRecord]) -> Vec<PlanRow> {
    records.iter().map(PlanRow::from).collect()
}

#[must_use]
pub fn plan_options(org: &OrgConfig, full: bool, now: DateTime<Utc>) -> PlanOptions {
    PlanOptions {
        api: org.api_version,
        main_area: org.main_area.clone(),
        full,
        retry_after: chrono::Duration::from_std(org.retry_failed_after)
            .unwrap_or_else(|_| chrono::Duration::days(1)),
        now: Some(now),
        touch: Some(crate::plan::TouchOptions {
            policy: org.touch,
            every: run_interval(org, now),
        }),
    }
}

/// The time between the organisation's scheduled runs around `now` (a day when the
/// schedule says nothing): touches are spread over runs.
#[must_use]
pub fn run_interval(org: &OrgConfig, now: DateTime<Utc>) -> std::time::Duration {
    org.schedule
        .next_after(now)
        .and_then(|a| Some((a, org.schedule.next_after(a)?)))
        .and_then(|(a, b)| (b - a).to_std().ok())
        .unwrap_or(std::time::Duration::from_secs(86_400))
}

/// Plans one organisation against its stored rows. Rows without the payload of a service
/// or channel ([`StateStore::plan_rows`]) name the changed fields of an update from the
/// stored payload, read from `store` one item at a time and dropped.
pub async fn plan_for(
    org: &OrgConfig,
    validated: &Validated,
    rows: &[PlanRow],
    store: Option<&dyn StateStore>,
    full: bool,
    now: DateTime<Utc>,
) -> Result<Plan, StoreError> {
    let opts = plan_options(org, full, now);
    let mut plan = plan::draft(validated, rows, &opts);
    if let Some(store) = store {
        // Keyed by the few updates, not by the many rows.
        let updates: HashSet<(ItemKind, &str)> = plan
            .steps
            .iter()
            .filter(|s| s.action == crate::model::Action::Update)
            .map(|s| (s.kind, s.id.as_str()))
            .collect();
        let headless: HashSet<(ItemKind, SourceId)> = rows
            .iter()
            .filter(|r| r.payload.is_none() && r.remote == RemoteState::Live)
            .filter(|r| updates.contains(&(r.kind, r.source_id.as_str())))
            .map(|r| (r.kind, r.source_id.clone()))
            .collect();
        for step in &mut plan.steps {
            if step.action == crate::model::Action::Update
                && headless.contains(&(step.kind, step.id.clone()))
                && let Some(rec) = store
                    .item(org.state_key(), step.kind, step.id.as_str())
                    .await?
                && let Some(stored) = &rec.payload
            {
                plan::describe(validated, &opts, step, stored);
            }
        }
    }
    plan::finish(validated, rows, &mut plan);
    Ok(plan)
}

/// Items PTV holds live for this organisation, as far as the store knows.
#[must_use]
pub fn live_items(records: &[PlanRow]) -> usize {
    records
        .iter()
        .filter(|r| r.remote == RemoteState::Live && r.kind != ItemKind::Connections)
        .count()
}

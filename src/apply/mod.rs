//! The applier: takes a prepared plan ([`crate::pipeline::Prepared`]) and turns it into
//! PTV writes so that PTV ends up equal to the source, whatever fails on the way. It never
//! plans and never sees the PTV API version.
//!
//! - Creates, updates and restores run concurrently, bounded, each as soon as what it
//!   depends on is written (an organisation's parent, a service's or channel's
//!   organisation, a connection set's service and channels); archives then run in
//!   waves in reverse dependency order ([`schedule`]).
//! - Each item's row is committed right after PTV confirms it, and no transaction is ever
//!   held across an HTTP call: a crash at any instant leaves a consistent store, and the
//!   next run converges through the client's safe creates (lookup and adopt, never a
//!   blind second POST) ([`commit`]).
//! - Only items in the store (created or adopted by us) are ever archived ([`step`]).
//! - The run is recorded with its counts, and the organisation's state updated once it
//!   ends ([`record`], [`report`]).

mod commit;
mod error;
mod existing;
mod record;
mod report;
mod schedule;
mod step;

pub use crate::pipeline::RunOptions;
pub use error::StepError;
pub use report::{ItemResult, RunReport, STATE_LABELS, state_label, state_label_of};

use crate::config::OrgConfig;
use crate::model::{Action, OrgName};
use crate::pipeline::{PrepareError, Prepared};
use crate::plan::Step;
use crate::ptv::PtvApi;
use crate::store::StateStore;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Progress callbacks for the terminal (bars) or logs.
pub trait Progress: Send + Sync {
    fn planned(&self, total: usize);
    fn done(&self, result: &ItemResult);
}

/// A failure that stops a run before any item is attempted.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("organisation {org}: {source}")]
    Source {
        org: OrgName,
        #[source]
        source: crate::source::SourceError,
    },
    /// PTV refused the login or could not be reached before anything was written.
    #[error("organisation {org}: {source}")]
    Ptv {
        org: OrgName,
        #[source]
        source: crate::ptv::PtvError,
    },
    #[error("organisation {org}: state store: {source}")]
    Store {
        org: OrgName,
        #[source]
        source: crate::store::StoreError,
    },
}

/// One organisation's applier; built by [`crate::startup::EngineBuilder`].
pub struct Engine {
    pub(crate) org: OrgConfig,
    pub(crate) store: Arc<dyn StateStore>,
    pub(crate) api: Arc<dyn PtvApi>,
    /// "daemon", or the OS user who ran the command.
    pub(crate) actor: String,
    pub(crate) progress: Option<Arc<dyn Progress>>,
    /// Where "now" comes from for plans, rows, audit entries and run records.
    pub(crate) clock: crate::clock::SharedClock,
    /// Cancelled on shutdown: the items in flight finish and are committed, no new ones start.
    pub(crate) cancel: CancellationToken,
}

impl Engine {
    /// Prepares ([`crate::pipeline::prepare`]) and applies. Returns `Err` only when nothing
    /// could be done.
    pub async fn run(&self, opts: &RunOptions) -> Result<RunReport, RunError> {
        let now = self.clock.now();
        match crate::pipeline::prepare(&self.org, self.store.as_ref(), opts, now).await {
            Ok(prepared) => self.apply(prepared, opts).await,
            Err(PrepareError::Source(source)) => {
                if !opts.dry_run {
                    self.record_failed_run(opts).await;
                }
                Err(RunError::Source {
                    org: self.org.name.clone(),
                    source,
                })
            }
            Err(PrepareError::Store(source)) => Err(self.store_error(source)),
        }
    }

    /// Applies a prepared plan: a dry run only reports what it would do.
    pub async fn apply(
        &self,
        prepared: Prepared,
        opts: &RunOptions,
    ) -> Result<RunReport, RunError> {
        let Prepared {
            validated,
            mut plan,
            mut rows,
            guard,
            now,
            started,
        } = prepared;
        let org = &self.org.name;
        if let Some(reason) = &guard {
            tracing::warn!(organization = %org, "archive guard tripped: {reason}");
            metrics::counter!("ptv_sync_guard_trips_total", "org" => org.to_string()).increment(1);
        }
        // Before anything is created: an unlinked PTV item the create would duplicate.
        let held = if opts.dry_run {
            existing::Held::new()
        } else {
            self.check_existing(&validated, &mut rows, &mut plan).await
        };
        let mut report = RunReport::begin(org, opts.dry_run, guard.clone(), &plan);
        let work: Vec<Step> = plan
            .steps
            .iter()
            .filter(|s| s.action.writes())
            .cloned()
            .collect();
        if let Some(p) = &self.progress {
            p.planned(work.len());
        }
        let archive_skipped = |s: &Step| guard.is_some() && s.action == Action::Archive;
        if opts.dry_run {
            for s in &work {
                report.push_skipped(s, archive_skipped(s).then_some("archive guard"));
            }
            return Ok(report.end(plan, started));
        }
        // A wrong password or an unreachable PTV would otherwise fail
        // every item in turn; it is one error for the organisation, and no item is marked.
        if !work.is_empty() {
            self.api.login().await.map_err(|source| RunError::Ptv {
                org: org.clone(),
                source,
            })?;
        }
        let run_id = self.begin_run(opts, now).await?;
        report.run_id = Some(run_id);
        // The steps hold what they send: the rest of the snapshot is not needed.
        drop(validated);
        let mut ctx = commit::Ctx::new(rows, run_id);
        ctx.held = held;
        for wave in schedule::waves(&work) {
            let steps: Vec<&Step> = wave.into_iter().filter(|s| !archive_skipped(s)).collect();
            let concurrency = self.org.ptv.max_in_flight.max(1) * 2;
            let results = self.run_wave(&ctx, &steps, concurrency).await;
            report.results.extend(results);
        }
        drop(ctx);
        for s in work.iter().filter(|s| archive_skipped(s)) {
            report.push_skipped(s, Some("archive guard tripped"));
        }
        self.finish_run(run_id, &mut report).await?;
        Ok(report.end(plan, started))
    }

    fn store_error(&self, source: crate::store::StoreError) -> RunError {
        RunError::Store {
            org: self.org.name.clone(),
            source,
        }
    }
}

//! The run record: opening a run in the store, closing it with its outcome and counts, and
//! the organisation's state (last run, last success, guard trips, token expiry).

use crate::model::Outcome;

use super::{Engine, RunError, RunOptions, RunReport};
use crate::store::{NewRun, OrgState, RunOutcome};
use chrono::{DateTime, Utc};

impl Engine {
    pub(super) async fn begin_run(
        &self,
        opts: &RunOptions,
        started_at: DateTime<Utc>,
    ) -> Result<i64, RunError> {
        self.store
            .begin_run(&NewRun {
                org: self.org.state_key().to_owned(),
                trigger: opts.trigger,
                actor: self.actor.clone(),
                started_at,
                dry_run: false,
            })
            .await
            .map_err(|e| self.store_error(e))
    }

    /// A run whose source could not be read: recorded as failed, best effort.
    pub(super) async fn record_failed_run(&self, opts: &RunOptions) {
        if let Ok(id) = self.begin_run(opts, self.clock.now()).await {
            let _ = self
                .store
                .finish_run(
                    id,
                    RunOutcome::Failed,
                    &serde_json::json!({"error": "source could not be read"}),
                    self.clock.now(),
                )
                .await;
        }
    }

    /// Sets the run's outcome, closes its record and updates the organisation's state.
    pub(super) async fn finish_run(
        &self,
        run_id: i64,
        report: &mut RunReport,
    ) -> Result<(), RunError> {
        let key = self.org.state_key();
        let guarded = report.guard.is_some();
        report.outcome = if report.failures().next().is_some()
            || report
                .results
                .iter()
                .any(|r| r.outcome == Outcome::Skipped && !guarded)
        {
            RunOutcome::Partial
        } else if guarded {
            RunOutcome::GuardTripped
        } else {
            RunOutcome::Ok
        };
        let finished = self.clock.now();
        self.store
            .finish_run(run_id, report.outcome, &report.counts_json(), finished)
            .await
            .map_err(|e| self.store_error(e))?;
        let mut state = self
            .store
            .org_state(key)
            .await
            .map_err(|e| self.store_error(e))?
            .unwrap_or_else(|| OrgState::new(key));
        state.last_run_id = Some(run_id);
        state.last_run_at = Some(finished);
        // Success (for DVV's daily freshness) means every planned item was attempted; item
        // failures are tracked per item. A run cut short by shutdown skipped some.
        if !self.cancel.is_cancelled() {
            state.last_success_at = Some(finished);
        }
        if guarded {
            state.guard_trips += 1;
        }
        state.token_expires_at = self.api.token_expiry();
        self.store
            .put_org_state(&state)
            .await
            .map_err(|e| self.store_error(e))?;
        metrics::gauge!("ptv_sync_last_success_timestamp_seconds", "org" => self.org.name.to_string())
            .set(finished.timestamp() as f64);
        Ok(())
    }
}

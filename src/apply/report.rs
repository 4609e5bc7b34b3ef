//! What a run did, for the summary table, `status`, metrics and exit codes.

use crate::model::{Action, ItemKind, OrgName, Outcome, SourceId};
use crate::plan::{Plan, Step};
use crate::store::{ItemRecord, ItemStatus, RemoteState, RunOutcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemResult {
    pub kind: ItemKind,
    pub id: SourceId,
    pub action: Action,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub organization: OrgName,
    pub run_id: Option<i64>,
    pub dry_run: bool,
    pub outcome: RunOutcome,
    /// Why the archive phase was skipped, when the guard tripped.
    pub guard: Option<String>,
    pub results: Vec<ItemResult>,
    pub unchanged: usize,
    pub invalid: usize,
    pub duration_ms: u128,
    #[serde(skip)]
    pub plan: Plan,
}

impl RunReport {
    /// The report of a run about to apply `plan`.
    #[must_use]
    pub fn begin(org: &OrgName, dry_run: bool, guard: Option<String>, plan: &Plan) -> Self {
        RunReport {
            organization: org.clone(),
            run_id: None,
            dry_run,
            outcome: RunOutcome::Ok,
            guard,
            results: Vec::new(),
            unchanged: plan.count(Action::Unchanged),
            invalid: plan.count(Action::Invalid),
            duration_ms: 0,
            plan: Plan::default(),
        }
    }
    /// A step not attempted, and why where it is not a dry run.
    pub fn push_skipped(&mut self, s: &Step, why: Option<&str>) {
        self.results.push(ItemResult {
            kind: s.kind,
            id: s.id.clone(),
            action: s.action,
            outcome: Outcome::Skipped,
            error: why.map(str::to_owned),
        });
    }
    /// The finished report, holding the plan it applied.
    #[must_use]
    pub fn end(mut self, plan: Plan, started: std::time::Instant) -> Self {
        self.plan = plan;
        self.duration_ms = started.elapsed().as_millis();
        if !self.dry_run {
            metrics::histogram!("ptv_sync_run_duration_seconds", "org" => self.organization.to_string())
                .record(started.elapsed().as_secs_f64());
        }
        self
    }
    #[must_use]
    pub fn count(&self, action: Action, outcome: Outcome) -> usize {
        self.results
            .iter()
            .filter(|r| r.action == action && r.outcome == outcome)
            .count()
    }
    pub fn failures(&self) -> impl Iterator<Item = &ItemResult> {
        self.results
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Ok | Outcome::Skipped))
    }
    /// Counts per action and outcome, as stored with the run.
    #[must_use]
    pub fn counts_json(&self) -> serde_json::Value {
        let mut m: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for r in &self.results {
            *m.entry(r.action.as_str().to_owned())
                .or_default()
                .entry(r.outcome.as_str().to_owned())
                .or_default() += 1;
        }
        serde_json::json!({"actions": m, "unchanged": self.unchanged, "invalid": self.invalid, "guard": self.guard})
    }
    /// Writes that PTV confirmed.
    #[must_use]
    pub fn writes_ok(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome == Outcome::Ok && r.action.writes())
            .count()
    }
}

/// The states an item is reported in (`status`, `/metrics`).
pub const STATE_LABELS: [&str; 6] = [
    "live",
    "archived",
    "failed",
    "needs_person",
    "drifted",
    "not_in_ptv",
];

/// An item's reported state: a failure or a needed person first, else what PTV holds.
#[must_use]
pub fn state_label(r: &ItemRecord) -> &'static str {
    state_label_of(r.remote, r.status)
}

/// [`state_label`] of a (remote, status) pair, as
/// [`StateStore::item_state_counts`](crate::store::StateStore::item_state_counts) gives them.
#[must_use]
pub fn state_label_of(remote: RemoteState, status: ItemStatus) -> &'static str {
    match (remote, status) {
        (_, ItemStatus::Failed) => "failed",
        (_, ItemStatus::Blocked) => "needs_person",
        (_, ItemStatus::Drifted) => "drifted",
        (RemoteState::Live, _) => "live",
        (RemoteState::Archived, _) => "archived",
        (RemoteState::Absent, _) => "not_in_ptv",
    }
}

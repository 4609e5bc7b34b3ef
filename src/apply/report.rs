//! What a run did, for the summary table, `status`, metrics and exit codes.

use crate::model::ItemKind;
use crate::plan::{Action, Plan};
use crate::store::RunOutcome;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    /// Needs a person (Modified or locked in PTV's UI, rights).
    NeedsPerson,
    /// Waiting for an item it depends on.
    Blocked,
    /// Not attempted: dry run, guard trip or shutdown.
    Skipped,
}

impl Outcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::NeedsPerson => "needs_person",
            Outcome::Blocked => "blocked",
            Outcome::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemResult {
    pub kind: ItemKind,
    pub id: String,
    pub action: Action,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub organization: String,
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

//! No duplicate on a first run: before a run creates organisations, services or channels
//! the state does not know, it reads PTV's catalogue once (one paged list per kind and
//! organisation, [`crate::adopt::survey`]) and looks for an unlinked item it would
//! duplicate (same kind, channel type, owner and normalised Finnish name).
//!
//! - `on_existing = "stop"` (default): such a create is not sent; the item is reported
//!   as needing adoption, with the command to run. Other items go on.
//! - `on_existing = "adopt"`: an unambiguous match is linked (state row and audit entry,
//!   as `adopt --apply`) and the create becomes an update of the existing item.
//!
//! Ambiguous names always wait for a person. Items carrying our own sourceId, and items
//! whose earlier create was sent but never confirmed, are left to the safe create, which
//! adopts them. When the catalogue cannot be read, the creates wait for the next run
//! rather than risk a duplicate.

use crate::model::{Action, ItemKind, Outcome, SourceId};

use super::Engine;
use crate::adopt::{MatchedBy, Row};
use crate::config::OnExisting;
use crate::plan::Plan;
use crate::store::ItemRecord;
use crate::validate::Validated;
use std::collections::{HashMap, HashSet};

/// Creates that must not be sent this run, with the outcome and message to report.
pub(super) type Held = HashMap<(ItemKind, SourceId), (Outcome, String)>;

fn creates_items(plan: &Plan) -> impl Iterator<Item = (ItemKind, &SourceId)> {
    plan.steps
        .iter()
        .filter(|s| s.action == Action::Create && s.kind != ItemKind::Connections)
        .map(|s| (s.kind, &s.id))
}

impl Engine {
    /// See the module documentation. `records` gains the rows linked in `adopt` mode, and
    /// their creates in `plan` become updates.
    pub(super) async fn check_existing(
        &self,
        validated: &Validated,
        records: &mut Vec<ItemRecord>,
        plan: &mut Plan,
    ) -> Held {
        let mut held = Held::new();
        // A create sent before but never confirmed is ours to find, not a stranger's item
        // to hold for adoption: the step looks it up first (v12 channels by name).
        let unconfirmed: HashSet<(ItemKind, &str)> = records
            .iter()
            .filter(|r| super::step::unconfirmed_create(r))
            .map(|r| (r.kind, r.source_id.as_str()))
            .collect();
        let creates: HashSet<(ItemKind, SourceId)> = creates_items(plan)
            .filter(|(k, id)| !unconfirmed.contains(&(*k, id.as_str())))
            .map(|(k, id)| (k, id.clone()))
            .collect();
        if creates.is_empty() {
            return held;
        }
        let survey = match crate::adopt::survey(&self.org, self.api.as_ref(), validated, records)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                let msg = format!(
                    "not created: cannot check PTV's catalogue for an existing copy ({e}); tried again next run"
                );
                for key in creates {
                    held.insert(key, (Outcome::Failed, msg.clone()));
                }
                return held;
            }
        };
        let cmd = format!("ptv-sync adopt --org {} --apply", self.org.name);
        let mut adopt = survey.clone();
        adopt.rows.clear();
        for row in &survey.rows {
            match row {
                Row::Matched {
                    wanted,
                    ptv_id,
                    by: MatchedBy::Name | MatchedBy::PtvId,
                } if creates.contains(&(wanted.kind, wanted.source_id.clone())) => {
                    if self.org.on_existing == OnExisting::Adopt {
                        adopt.rows.push(row.clone());
                    } else {
                        held.insert(
                            (wanted.kind, wanted.source_id.clone()),
                            (
                                Outcome::NeedsPerson,
                                format!(
                                    "needs adoption: PTV already holds {} '{}' (PTV id {ptv_id}, not linked to the source); run `{cmd}` to link it, or set on_existing = \"adopt\"",
                                    wanted.kind,
                                    wanted.name_fi.as_deref().unwrap_or_default()
                                ),
                            ),
                        );
                    }
                }
                Row::Refused {
                    wanted,
                    ptv_id,
                    reason,
                } if creates.contains(&(wanted.kind, wanted.source_id.clone())) => {
                    held.insert(
                        (wanted.kind, wanted.source_id.clone()),
                        (
                            Outcome::NeedsPerson,
                            format!("not created: the source names PTV item {ptv_id} (`ptvId`), but {reason}"),
                        ),
                    );
                }
                Row::Ambiguous { wanted, candidates }
                    if creates.contains(&(wanted.kind, wanted.source_id.clone())) =>
                {
                    held.insert(
                        (wanted.kind, wanted.source_id.clone()),
                        (
                            Outcome::NeedsPerson,
                            format!(
                                "needs adoption: the name '{}' is held by {} PTV items ({}); rename one in PTV or in the source, then run `{cmd}`",
                                wanted.name_fi.as_deref().unwrap_or_default(),
                                candidates.len(),
                                candidates
                                    .iter()
                                    .map(ToString::to_string)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ),
                    );
                }
                _ => {}
            }
        }
        if adopt.rows.is_empty() {
            return held;
        }
        match crate::adopt::link(
            &self.org,
            self.store.as_ref(),
            validated,
            &adopt,
            &self.actor,
            self.clock.now(),
        )
        .await
        {
            Ok(_) => {
                for row in &adopt.rows {
                    let Row::Matched { wanted, .. } = row else {
                        continue;
                    };
                    let key = (wanted.kind, wanted.source_id.clone());
                    match self
                        .store
                        .item(self.org.state_key(), key.0, key.1.as_str())
                        .await
                    {
                        Ok(Some(rec)) => {
                            records.retain(|r| (r.kind, &r.source_id) != (key.0, &key.1));
                            records.push(rec);
                            for s in &mut plan.steps {
                                if (s.kind, &s.id) == (key.0, &key.1) && s.action == Action::Create
                                {
                                    s.action = Action::Update;
                                }
                            }
                        }
                        Ok(None) | Err(_) => {
                            held.insert(
                                key,
                                (
                                    Outcome::Failed,
                                    "linked to the existing PTV item but the state row cannot be read back; tried again next run".into(),
                                ),
                            );
                        }
                    }
                }
            }
            Err(e) => {
                for row in &adopt.rows {
                    if let Row::Matched { wanted, .. } = row {
                        held.insert(
                            (wanted.kind, wanted.source_id.clone()),
                            (
                                Outcome::Failed,
                                format!("not created: linking the existing PTV item failed: {e}"),
                            ),
                        );
                    }
                }
            }
        }
        held
    }
}

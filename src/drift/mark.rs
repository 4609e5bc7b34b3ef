//! Recording a drift check in the state, by the organisation's policy (see the module
//! documentation of [`super`]).

use super::{DRIFT_NOTE_PREFIX, DriftError, DriftReport, Verdict, check};
use crate::config::{DriftPolicy, OrgConfig};
use crate::model::PtvId;
use crate::plan::CHANNEL_PTV_ID;
use crate::ptv::PtvApi;
use crate::store::{
    ErrorClass, ItemError, ItemStatus, Payload, RemoteState, StateStore, StoreError,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// A stored connection set without the channel PTV ids of the links PTV no longer
/// holds: the next write then sends them (v12 posts only the links it did not send
/// before).
fn forget_links(payload: &Payload, missing: &[PtvId]) -> Payload {
    let mut v = payload.value();
    for link in v.as_array_mut().into_iter().flatten() {
        if let Some(o) = link.as_object_mut()
            && o.get(CHANNEL_PTV_ID)
                .and_then(serde_json::Value::as_str)
                .is_some_and(|id| missing.iter().any(|m| m.to_string() == id))
        {
            o.remove(CHANNEL_PTV_ID);
        }
    }
    Payload::new(&v)
}

/// What [`mark`] changed in the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Marked {
    /// Marked `drifted`, left as PTV has it (policy `report`).
    pub left: usize,
    /// To be sent again at the next run: overwritten edits, restores, connection sets.
    pub to_resend: usize,
    /// Drifted before, in step now.
    pub cleared: usize,
}

/// Records a check's verdicts in the state, by `policy` (see the module documentation).
pub async fn mark(
    org: &OrgConfig,
    store: &dyn StateStore,
    report: &DriftReport,
    now: DateTime<Utc>,
) -> Result<Marked, StoreError> {
    let mut marked = Marked::default();
    let mut changed = Vec::new();
    for (kind, id) in &report.in_step_keys {
        if let Some(mut rec) = store.item(org.state_key(), *kind, id.as_str()).await?
            && rec.status == ItemStatus::Drifted
            && rec.remote == RemoteState::Live
        {
            rec.status = ItemStatus::Active;
            rec.last_error = None;
            changed.push(rec);
            marked.cleared += 1;
        }
    }
    for d in &report.drifted {
        let resend = match (&d.verdict, org.drift.policy) {
            (Verdict::Edited { .. }, DriftPolicy::Report) => false,
            (
                Verdict::Edited { .. }
                | Verdict::Archived { .. }
                | Verdict::ConnectionsDiffer { .. },
                _,
            ) => true,
            (Verdict::InStep | Verdict::ModifiedVersion { .. } | Verdict::Gone, _) => continue,
        };
        let Some(mut rec) = store.item(org.state_key(), d.kind, d.id.as_str()).await? else {
            continue;
        };
        // A failed or blocked item keeps its own error (and the planner's hold on it): an
        // edit is reported, not recorded; an archive or a lost connection still is, as
        // the next write needs it.
        if matches!(d.verdict, Verdict::Edited { .. })
            && matches!(rec.status, ItemStatus::Failed | ItemStatus::Blocked)
        {
            continue;
        }
        let note = format!("{DRIFT_NOTE_PREFIX}{}", d.verdict.detail());
        rec.status = ItemStatus::Drifted;
        rec.last_error = Some(Box::new(ItemError {
            class: ErrorClass::NeedsPerson,
            message: note,
            fields: match &d.verdict {
                Verdict::Edited { paths, .. } => paths
                    .iter()
                    .map(|p| (p.clone(), vec!["edited in PTV".to_owned()]))
                    .collect(),
                _ => BTreeMap::new(),
            },
            fingerprint: None,
            at: now,
        }));
        match &d.verdict {
            Verdict::Archived { .. } => rec.remote = RemoteState::Archived,
            Verdict::ConnectionsDiffer { missing, .. } => {
                rec.payload = rec.payload.as_ref().map(|p| forget_links(p, missing));
            }
            _ => {}
        }
        if resend {
            rec.fingerprint = None;
            marked.to_resend += 1;
        } else {
            marked.left += 1;
        }
        tracing::warn!(organization = %org.name, kind = %d.kind, id = %d.id, "{}", rec.last_error.as_ref().map(|e| e.message.as_str()).unwrap_or_default());
        changed.push(rec);
    }
    store.put_items(&changed).await?;
    Ok(marked)
}

/// One drift check of an organisation, recorded in the state (as of `now`, the caller's
/// clock): [`check`], then [`mark`]. The caller holds the organisation's single-writer lock.
pub async fn check_and_mark(
    org: &OrgConfig,
    store: &dyn StateStore,
    api: &dyn PtvApi,
    now: DateTime<Utc>,
) -> Result<(DriftReport, Marked), DriftError> {
    let report = check(org, store, api).await?;
    let marked = mark(org, store, &report, now)
        .await
        .map_err(|source| DriftError::Store {
            org: org.name.clone(),
            source,
        })?;
    tracing::info!(
        organization = %org.name,
        checked = report.checked,
        drifted = report.drifted.len(),
        reads = report.reads,
        complete = report.complete,
        "drift check: {} of {} items in step; {} left as PTV has them, {} to send again, {} in step again",
        report.in_step,
        report.checked,
        marked.left,
        marked.to_resend,
        marked.cleared
    );
    Ok((report, marked))
}

//! Read-back and drift: what PTV holds for every item ptv-sync manages, against what we
//! last sent. `ptv-sync drift` and the daemon's drift schedule ([`check`], then [`mark`]).
//!
//! # Contract
//!
//! - **What is read.** Every item the state says is live in PTV with a PTV id
//!   (organisations, services, channels; a service's connection set with its service), in
//!   (kind, source id) order: batched published reads (`read_many`), the latest version
//!   (`read_latest`, v11 `active/{id}`) of what the published read did not show, and the
//!   archived lists of the kinds that had such items. Reads go through the client, so the
//!   in-flight limits and retries of every other request apply; [`DriftReport::reads`]
//!   counts the HTTP requests.
//! - **Slices.** With `max_reads_per_run`, one check reads at most that many items and
//!   records where it stopped (`StateStore::drift_cursor`); the next check continues after
//!   it, and a check that reaches the end clears it.
//! - **Verdicts** ([`Verdict`]), one per item: in step; edited in PTV (the changed field
//!   paths of the wire body, with PTV's `modified` / `modifiedBy`); has a Modified
//!   version; archived in PTV (`Manual` / `Automatic`, when); gone (PTV shows it nowhere);
//!   connections differ (channel ids missing in PTV, and extra ones: v11 shows a service's
//!   connections on it, v12 searches them, 20 services a request). Bodies are compared on the fields we send, normalised ([`compare`]).
//! - **What the state records** ([`mark`]), by `[organization.drift] policy`:
//!   an edit under `report` makes the item `drifted` and keeps its fingerprint, so runs
//!   leave PTV's version until the source changes the item or `resync --item ID --force`;
//!   under `overwrite` the fingerprint is cleared, so the next run sends our version. An
//!   item archived in PTV is recorded archived (the next run restores it, under both
//!   policies), a connection set that differs loses its fingerprint (re-sent). The note in
//!   `last_error` starts with [`DRIFT_NOTE_PREFIX`]; the planner shows it as the step's
//!   reason and the applier writes it into the audit entry. A drifted item found in step
//!   again is active again. Modified versions and gone items are reported only, and so
//!   is an edit of an item that failed or is blocked (its own error stays).

pub mod compare;
mod mark;

pub use mark::{Marked, check_and_mark, mark};

use crate::config::OrgConfig;
use crate::model::{ApiVersion, Item, ItemKind, OrgName, PtvId, SourceId};
use crate::plan::stored_channel_ptv_ids;
use crate::ptv::{ArchivedItem, ItemWrite, PtvApi, PtvError, RemoteItem, RemoteStatus};
use crate::store::{ItemRecord, ItemStatus, RemoteState, StateStore, StoreError};
use chrono::Utc;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

pub use crate::store::DRIFT_NOTE_PREFIX;

/// What PTV holds for one item, against what we sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    InStep,
    /// A person (or another API user) published other content.
    Edited {
        paths: Vec<String>,
        modified: Option<String>,
        modified_by: Option<String>,
    },
    /// An unpublished edit sits on top: API writes fail until someone publishes or
    /// discards it in PTV's user interface.
    ModifiedVersion {
        modified: Option<String>,
        modified_by: Option<String>,
    },
    Archived {
        archiving_type: Option<String>,
        archived_at: Option<String>,
    },
    /// Neither read nor archived list shows it.
    Gone,
    ConnectionsDiffer {
        missing: Vec<PtvId>,
        extra: Vec<PtvId>,
    },
}

impl Verdict {
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::InStep => "in step",
            Verdict::Edited { .. } => "edited in PTV",
            Verdict::ModifiedVersion { .. } => "Modified version",
            Verdict::Archived { .. } => "archived in PTV",
            Verdict::Gone => "gone",
            Verdict::ConnectionsDiffer { .. } => "connections differ",
        }
    }

    /// One line for a table, a log and the state's note.
    #[must_use]
    pub fn detail(&self) -> String {
        match self {
            Verdict::InStep => String::new(),
            Verdict::Edited {
                paths,
                modified,
                modified_by,
            } => format!(
                "edited in PTV{}: {}",
                by_at(modified_by.as_deref(), modified.as_deref()),
                paths.join(", ")
            ),
            Verdict::ModifiedVersion {
                modified,
                modified_by,
            } => format!(
                "an unpublished (Modified) version{}: publish or discard it in PTV",
                by_at(modified_by.as_deref(), modified.as_deref())
            ),
            Verdict::Archived {
                archiving_type,
                archived_at,
            } => format!(
                "archived in PTV ({}){}",
                archiving_type
                    .as_deref()
                    .unwrap_or("archiving type not told"),
                by_at(None, archived_at.as_deref())
            ),
            Verdict::Gone => "PTV shows it nowhere (not published, not archived)".to_owned(),
            Verdict::ConnectionsDiffer { missing, extra } => {
                let list = |ids: &[PtvId]| {
                    ids.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut parts = Vec::new();
                if !missing.is_empty() {
                    parts.push(format!("missing in PTV: {}", list(missing)));
                }
                if !extra.is_empty() {
                    parts.push(format!("only in PTV: {}", list(extra)));
                }
                format!("connections differ ({})", parts.join("; "))
            }
        }
    }
}

/// " by WHO at WHEN", each part where known.
#[must_use]
pub fn by_at(by: Option<&str>, at: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(by) = by {
        s.push_str(" by ");
        s.push_str(by);
    }
    if let Some(at) = at {
        s.push_str(" at ");
        s.push_str(at);
    }
    s
}

/// One item's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemDrift {
    pub kind: ItemKind,
    pub id: SourceId,
    pub ptv_id: PtvId,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// What one check found for one organisation.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub organization: OrgName,
    /// Items read (a service and its connection set count once).
    pub checked: usize,
    pub in_step: usize,
    /// Every item not in step.
    pub drifted: Vec<ItemDrift>,
    /// HTTP requests the check made.
    pub reads: u32,
    /// Whether this check read up to the last item (else the next one continues).
    pub complete: bool,
    /// Items marked drifted before and found in step now, for [`mark`].
    #[serde(skip)]
    pub(crate) in_step_keys: Vec<(ItemKind, SourceId)>,
}

impl DriftReport {
    /// Whether anything is out of step.
    #[must_use]
    pub fn has_drift(&self) -> bool {
        !self.drifted.is_empty()
    }
}

/// Why a check could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error("organisation {org}: reading PTV: {source}")]
    Ptv {
        org: OrgName,
        #[source]
        source: PtvError,
    },
    #[error("organisation {org}: state store: {source}")]
    Store {
        org: OrgName,
        #[source]
        source: StoreError,
    },
}

/// The position of an item in check order, as the drift cursor stores it.
fn position(kind: ItemKind, id: &str) -> String {
    format!("{}/{id}", kind.as_str())
}

/// The item a stored payload describes.
fn stored_item(r: &ItemRecord) -> Option<Item> {
    let p = r.payload.as_ref()?;
    match r.kind {
        ItemKind::Organization => p.parse().ok().map(Item::Organization),
        ItemKind::Service => p.parse().ok().map(Item::Service),
        ItemKind::Channel => p.parse().ok().map(Item::Channel),
        ItemKind::Connections => None,
    }
}

/// Reads what PTV holds for the organisation's managed items (a slice of them with
/// `max_reads_per_run`) and compares it with what we last sent. Writes nothing but the
/// drift cursor.
pub async fn check(
    org: &OrgConfig,
    store: &dyn StateStore,
    api: &dyn PtvApi,
) -> Result<DriftReport, DriftError> {
    let store_err = |source| DriftError::Store {
        org: org.name.clone(),
        source,
    };
    let ptv_err = |source| DriftError::Ptv {
        org: org.name.clone(),
        source,
    };
    let rows = store.items(org.state_key()).await.map_err(store_err)?;
    let org_ptv: HashMap<&str, PtvId> = rows
        .iter()
        .filter(|r| r.kind == ItemKind::Organization && r.remote == RemoteState::Live)
        .filter_map(|r| Some((r.source_id.as_str(), r.ptv_id?)))
        .collect();
    let connections: HashMap<&str, &ItemRecord> = rows
        .iter()
        .filter(|r| r.kind == ItemKind::Connections && r.remote == RemoteState::Live)
        .map(|r| (r.source_id.as_str(), r))
        .collect();
    let mut units: Vec<&ItemRecord> = rows
        .iter()
        .filter(|r| r.kind != ItemKind::Connections && r.remote == RemoteState::Live)
        .filter(|r| r.ptv_id.is_some())
        .collect();
    // Check order is cursor order: (kind name, source id).
    units.sort_by(|a, b| (a.kind.as_str(), &a.source_id).cmp(&(b.kind.as_str(), &b.source_id)));
    let cursor = store
        .drift_cursor(org.state_key())
        .await
        .map_err(store_err)?;
    let start = cursor
        .as_deref()
        .and_then(|c| c.split_once('/'))
        .map_or(0, |(kind, id)| {
            units
                .iter()
                .position(|r| (r.kind.as_str(), r.source_id.as_str()) > (kind, id))
                .unwrap_or(units.len())
        });
    // A cursor past the end (items left the state) starts a new round.
    let start = if start >= units.len() { 0 } else { start };
    let take = org.drift.max_reads_per_run.unwrap_or(usize::MAX);
    let end = start.saturating_add(take).min(units.len());
    let slice = &units[start..end];
    let complete = end == units.len();

    let mut reads = 0_u32;
    let mut held: HashMap<PtvId, RemoteItem> = HashMap::new();
    let by_kind = |kind: ItemKind| -> Vec<PtvId> {
        slice
            .iter()
            .filter(|r| r.kind == kind)
            .filter_map(|r| r.ptv_id)
            .collect()
    };
    let (orgs, channels, services) = (
        by_kind(ItemKind::Organization),
        by_kind(ItemKind::Channel),
        by_kind(ItemKind::Service),
    );
    let (o, c, s) = futures::future::try_join3(
        read_many(api, ItemKind::Organization, &orgs),
        read_many(api, ItemKind::Channel, &channels),
        read_many(api, ItemKind::Service, &services),
    )
    .await
    .map_err(ptv_err)?;
    for f in [o, c, s] {
        reads += f.requests;
        held.extend(f.value.into_iter().map(|r| (r.ptv_id, r)));
    }
    // Not in the published read: the latest version, where PTV shows one (v12 has no
    // read of unpublished versions: its `read_latest` is the published read again).
    let unseen: Vec<&ItemRecord> = slice
        .iter()
        .copied()
        .filter(|r| r.ptv_id.is_some_and(|id| !held.contains_key(&id)))
        .collect();
    let latest_reads: &[&ItemRecord] = if org.api_version == ApiVersion::V11 {
        &unseen
    } else {
        &[]
    };
    let latest = futures::future::try_join_all(
        latest_reads
            .iter()
            .filter_map(|r| Some((r.kind, r.ptv_id?)))
            .map(|(kind, id)| async move { api.read_latest(kind, &id).await }),
    )
    .await
    .map_err(ptv_err)?;
    reads += u32::try_from(latest_reads.len()).unwrap_or(u32::MAX);
    let mut latest_of: HashMap<PtvId, RemoteItem> = HashMap::new();
    for item in latest.into_iter().flatten() {
        latest_of.insert(item.ptv_id, item);
    }
    // Neither: look in the archived lists of the kinds concerned.
    let missing_kinds: BTreeSet<ItemKind> = unseen
        .iter()
        .filter(|r| {
            r.kind != ItemKind::Organization
                && r.ptv_id.is_some_and(|id| !latest_of.contains_key(&id))
        })
        .map(|r| r.kind)
        .collect();
    let mut archived: HashMap<PtvId, ArchivedItem> = HashMap::new();
    if !missing_kinds.is_empty() {
        let since = rows
            .iter()
            .filter_map(|r| r.first_pushed_at)
            .min()
            .unwrap_or_else(Utc::now)
            - chrono::Duration::days(1);
        // v11 lists per organisation; v12's list is the whole API key's.
        let mut owners = vec![org.main_organization_id];
        if org.api_version == ApiVersion::V11 {
            owners.extend(org_ptv.values().copied());
        }
        let lists = futures::future::try_join_all(missing_kinds.iter().flat_map(|kind| {
            owners
                .iter()
                .map(move |owner| api.list_archived(owner, *kind, since))
        }))
        .await
        .map_err(ptv_err)?;
        for l in lists {
            reads += l.requests;
            archived.extend(l.value.into_iter().map(|a| (a.ptv_id, a)));
        }
    }

    let mut report = DriftReport {
        organization: org.name.clone(),
        checked: slice.len(),
        in_step: 0,
        drifted: Vec::new(),
        reads,
        complete,
        in_step_keys: Vec::new(),
    };
    let owner_of = |item: &Item| -> PtvId {
        let parent = match item {
            Item::Organization(o) => o.parent.as_ref(),
            Item::Service(s) => s.organization.as_ref(),
            Item::Channel(c) => c.organization.as_ref(),
        };
        parent
            .and_then(|p| org_ptv.get(p.as_str()))
            .copied()
            .unwrap_or(org.main_organization_id)
    };
    let mut link_checks: Vec<(&ItemRecord, &RemoteItem, BTreeSet<PtvId>)> = Vec::new();
    for r in slice {
        // Every unit is linked (filtered above).
        let Some(ptv_id) = r.ptv_id else { continue };
        let verdict = if let Some(remote) = held.get(&ptv_id) {
            if remote.publishing_status == RemoteStatus::Modified {
                Verdict::ModifiedVersion {
                    modified: remote.modified.clone(),
                    modified_by: remote.modified_by.clone(),
                }
            } else {
                edited(api, r, remote, &owner_of)
            }
        } else if let Some(latest) = latest_of.get(&ptv_id) {
            match latest.publishing_status {
                RemoteStatus::Published => edited(api, r, latest, &owner_of),
                RemoteStatus::Archived => Verdict::Archived {
                    archiving_type: None,
                    archived_at: latest.modified.clone(),
                },
                RemoteStatus::Draft | RemoteStatus::Modified => Verdict::ModifiedVersion {
                    modified: latest.modified.clone(),
                    modified_by: latest.modified_by.clone(),
                },
            }
        } else if let Some(a) = archived.get(&ptv_id) {
            Verdict::Archived {
                archiving_type: a.archiving_type.clone(),
                archived_at: a.archived_at.clone(),
            }
        } else {
            Verdict::Gone
        };
        if verdict == Verdict::InStep {
            report.in_step += 1;
            if r.status == ItemStatus::Drifted {
                report.in_step_keys.push((r.kind, r.source_id.clone()));
            }
        } else {
            report.drifted.push(ItemDrift {
                kind: r.kind,
                id: r.source_id.clone(),
                ptv_id,
                verdict,
            });
        }
        // A service's connection set, against the service as PTV holds it.
        if r.kind == ItemKind::Service
            && let (Some(set), Some(remote)) = (
                connections.get(r.source_id.as_str()),
                held.get(&ptv_id).or_else(|| latest_of.get(&ptv_id)),
            )
        {
            let expected: BTreeSet<PtvId> = stored_channel_ptv_ids(set.payload.as_ref())
                .into_iter()
                .map(|(_, id)| id)
                .collect();
            link_checks.push((*set, remote, expected));
        }
    }
    // Every set at once: v11 shows them on the services read, v12 searches 20 services a
    // request.
    let services: Vec<RemoteItem> = link_checks.iter().map(|(_, r, _)| (*r).clone()).collect();
    let found = if services.is_empty() {
        crate::ptv::Fetched::default()
    } else {
        api.connections(&services).await.map_err(ptv_err)?
    };
    report.reads += found.requests;
    let mut present: HashMap<PtvId, BTreeSet<PtvId>> = HashMap::new();
    for c in &found.value {
        present.entry(c.service).or_default().insert(c.channel);
    }
    for (set, remote, expected) in &link_checks {
        let none = BTreeSet::new();
        let present = present.get(&remote.ptv_id).unwrap_or(&none);
        let missing: Vec<PtvId> = expected.difference(present).copied().collect();
        let extra: Vec<PtvId> = present.difference(expected).copied().collect();
        if missing.is_empty() && extra.is_empty() {
            if set.status == ItemStatus::Drifted {
                report
                    .in_step_keys
                    .push((ItemKind::Connections, set.source_id.clone()));
            }
        } else {
            report.drifted.push(ItemDrift {
                kind: ItemKind::Connections,
                id: set.source_id.clone(),
                ptv_id: remote.ptv_id,
                verdict: Verdict::ConnectionsDiffer { missing, extra },
            });
        }
    }
    let next = if complete {
        None
    } else {
        slice.last().map(|r| position(r.kind, r.source_id.as_str()))
    };
    store
        .set_drift_cursor(org.state_key(), next.as_deref())
        .await
        .map_err(store_err)?;
    metrics::counter!(crate::monitoring::DRIFT_READS, "org" => org.name.to_string())
        .increment(u64::from(report.reads));
    Ok(report)
}

async fn read_many(
    api: &dyn PtvApi,
    kind: ItemKind,
    ids: &[PtvId],
) -> Result<crate::ptv::Fetched<Vec<RemoteItem>>, PtvError> {
    if ids.is_empty() {
        return Ok(crate::ptv::Fetched::default());
    }
    api.read_many(kind, ids).await
}

/// In step, or edited: the body our last payload maps to against PTV's.
fn edited(
    api: &dyn PtvApi,
    r: &ItemRecord,
    remote: &RemoteItem,
    owner_of: &dyn Fn(&Item) -> PtvId,
) -> Verdict {
    let Some(item) = stored_item(r) else {
        return Verdict::InStep;
    };
    let owner = owner_of(&item);
    let Ok(sent) = api.sent_body(&ItemWrite {
        item: &item,
        source_id: &r.ptv_source_id,
        owner: &owner,
    }) else {
        return Verdict::InStep;
    };
    let paths = compare::edited_paths(&sent, &remote.body);
    if paths.is_empty() {
        Verdict::InStep
    } else {
        Verdict::Edited {
            paths,
            modified: remote.modified.clone(),
            modified_by: remote.modified_by.clone(),
        }
    }
}

//! The planner: a pure function from (validated snapshot, prior state) to the ordered list
//! of steps that makes PTV equal to the source.

mod desired;
pub mod touch;

pub use desired::{
    CHANNEL_PTV_ID, Desired, DesiredRef, desired, in_order, payload, resolved_channel,
    stored_channel_ids, stored_channel_ptv_ids, stored_parent,
};

use crate::fingerprint::Fingerprint;
use crate::fingerprint::{changed_paths, changed_values};
use crate::model::{Action, ApiVersion, Area, ItemKind, SourceId};
use crate::store::{DRIFT_NOTE_PREFIX, Payload, PlanRow, RemoteState};
use crate::validate::Validated;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub action: Action,
    pub kind: ItemKind,
    pub id: SourceId,
    /// Changed field paths for updates (from the last pushed payload).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<String>,
    /// The changed fields' old and new values, cut short for display.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    pub fingerprint: Option<Fingerprint>,
    /// What a create, update or restore sends (boxed: most listed steps send nothing).
    #[serde(skip)]
    pub desired: Option<Box<Desired>>,
    /// An organisation's archive: how deep it sits under the main organisation, from the
    /// last pushed payloads (children are archived before their parents).
    #[serde(skip)]
    pub depth: usize,
}

/// One changed field of an update: its path and its old and new value (compact JSON, cut
/// to [`SHOWN_VALUE_CHARS`] characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub old: String,
    pub new: String,
}

/// Values in a plan are cut to this length: a plan shows what changes, not whole texts.
pub const SHOWN_VALUE_CHARS: usize = 60;

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub api: ApiVersion,
    pub main_area: Option<Area>,
    /// Re-send every item, failed ones included.
    pub full: bool,
    /// How long a terminal failure waits before the same content is tried again.
    pub retry_after: chrono::Duration,
    pub now: Option<DateTime<Utc>>,
    /// Re-send long-unchanged services and channels; `None`: never.
    pub touch: Option<TouchOptions>,
}

/// The touch policy and the time between scheduled runs, which the spread counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TouchOptions {
    pub policy: touch::TouchPolicy,
    pub every: std::time::Duration,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Plan {
    /// Every step but the unchanged ones.
    pub steps: Vec<Step>,
    /// Unchanged items per kind: counted, not listed (nearly every item, most runs).
    pub unchanged: BTreeMap<ItemKind, usize>,
}

impl Plan {
    #[must_use]
    pub fn count(&self, action: Action) -> usize {
        let listed = self.steps.iter().filter(|s| s.action == action).count();
        if action == Action::Unchanged {
            listed + self.unchanged.values().sum::<usize>()
        } else {
            listed
        }
    }
    #[must_use]
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| s.action.writes())
    }
    /// Counts per (kind, action), for the summary table.
    #[must_use]
    pub fn counts(&self) -> BTreeMap<(ItemKind, Action), usize> {
        let mut m = BTreeMap::new();
        for s in &self.steps {
            *m.entry((s.kind, s.action)).or_insert(0) += 1;
        }
        for (kind, n) in &self.unchanged {
            *m.entry((*kind, Action::Unchanged)).or_insert(0) += n;
        }
        m
    }
}

/// The whole plan, in one pure step: [`draft`], then [`finish`].
#[must_use]
pub fn plan(v: &Validated, prior: &[PlanRow], opts: &PlanOptions) -> Plan {
    let mut plan = draft(v, prior, opts);
    finish(v, prior, &mut plan);
    plan
}

/// Every step but the re-sending of connection sets whose channels were re-created,
/// which needs to know which channels change type: an update of an item whose prior came
/// without its payload names no fields until [`describe`] has seen the stored one.
#[must_use]
pub fn draft(v: &Validated, prior: &[PlanRow], opts: &PlanOptions) -> Plan {
    let now = opts.now.unwrap_or_else(Utc::now);
    let by_key: HashMap<(ItemKind, &str), &PlanRow> = prior
        .iter()
        .map(|p| ((p.kind, p.source_id.as_str()), p))
        .collect();
    let mut steps = Vec::new();
    let mut unchanged: BTreeMap<ItemKind, usize> = BTreeMap::new();
    // Unchanged services and channels due for a touch: (last write, kind, id, fingerprint).
    let mut due: Vec<(Option<DateTime<Utc>>, ItemKind, &SourceId, Fingerprint)> = Vec::new();

    let items = in_order(v);
    let fingerprints = fingerprints(v, &items, opts);
    for (item, fp) in items.into_iter().zip(fingerprints) {
        let kind = item.kind();
        let id = match item {
            DesiredRef::Organization(o) => &o.id,
            DesiredRef::Channel(c) => &c.id,
            DesiredRef::Service(s) => &s.id,
            DesiredRef::Connections(id, _) => id,
        };
        let p = by_key.get(&(kind, id.as_str())).copied();
        if let DesiredRef::Connections(_, set) = item
            && set.is_empty()
            && p.is_none_or(|p| {
                p.payload.as_ref().is_none_or(|x| {
                    x.parse::<Vec<serde::de::IgnoredAny>>()
                        .is_ok_and(|v| v.is_empty())
                })
            })
        {
            continue; // never had connections and has none: nothing to say
        }
        let held = p.and_then(|p| p.failure.as_ref()).is_some_and(|f| {
            !opts.full
                && f.fingerprint.as_deref().is_some_and(|t| fp.is(t))
                && now - f.at < opts.retry_after
        });
        let mut step = Step {
            action: Action::Unchanged,
            kind,
            id: id.clone(),
            changed: Vec::new(),
            values: Vec::new(),
            reason: None,
            fingerprint: None,
            desired: None,
            depth: 0,
        };
        step.action = match p.map_or(RemoteState::Absent, |p| p.remote) {
            _ if held => {
                step.reason = p
                    .and_then(|p| p.failure.as_ref())
                    .map(|f| f.message.clone());
                Action::Held
            }
            RemoteState::Absent => Action::Create,
            RemoteState::Archived => Action::Restore,
            RemoteState::Live => {
                let p = p.expect("live implies a stored row");
                // The same fingerprint is the same payload, whatever failed since.
                if p.fingerprint == Some(fp) && !opts.full {
                    Action::Unchanged
                } else {
                    if let Some(old) = &p.payload {
                        let body = payload(v, item, opts.main_area.as_ref());
                        let old = old.value();
                        step.changed = changed_paths(&old, &body);
                        step.values = changed_values(&old, &body, SHOWN_VALUE_CHARS)
                            .into_iter()
                            .map(|(path, old, new)| FieldChange { path, old, new })
                            .collect();
                    }
                    Action::Update
                }
            }
        };
        // What the drift check found is why an item is sent again unchanged (its
        // fingerprint cleared) or restored: the reason, and the audit entry's.
        if matches!(step.action, Action::Update | Action::Restore)
            && step.reason.is_none()
            && let Some(note) = p
                .and_then(|p| p.failure.as_ref())
                .map(|f| f.message.as_str())
                .filter(|m| m.starts_with(DRIFT_NOTE_PREFIX))
        {
            step.reason = Some(note.to_owned());
        }
        // Unchanged items are counted, not listed; connection sets stay listed until
        // `finish`, which may turn them into updates. A listed step carries the
        // fingerprint that a successful write stores.
        if step.action == Action::Unchanged && kind != ItemKind::Connections {
            if let (Some(t), Some(p)) = (opts.touch, p)
                && matches!(kind, ItemKind::Service | ItemKind::Channel)
                && t.policy.is_due(p.last_pushed_at, now)
            {
                due.push((p.last_pushed_at, kind, id, fp));
            } else {
                *unchanged.entry(kind).or_insert(0) += 1;
            }
            continue;
        }
        step.fingerprint = Some(fp);
        if matches!(
            step.action,
            Action::Create | Action::Update | Action::Restore
        ) {
            step.desired = Desired::of(
                v,
                kind,
                id.as_str(),
                opts.main_area.as_ref(),
                p.and_then(|p| p.payload.as_ref()),
            )
            .map(Box::new);
        }
        steps.push(step);
    }

    if let Some(t) = opts.touch {
        touches(v, opts, t, now, &by_key, due, &mut steps, &mut unchanged);
    }

    for ((kind, id), findings) in &v.invalid {
        let reason = findings.first().map(|f| {
            if f.path.is_empty() {
                f.message.clone()
            } else {
                format!("{}: {}", f.path, f.message)
            }
        });
        steps.push(Step {
            action: Action::Invalid,
            kind: *kind,
            id: id.clone(),
            changed: Vec::new(),
            values: Vec::new(),
            reason,
            fingerprint: None,
            desired: None,
            depth: 0,
        });
    }

    // Archives: live items gone from the source, in reverse dependency order.
    let mut gone: Vec<&PlanRow> = prior
        .iter()
        .filter(|p| {
            (p.remote == RemoteState::Live || (p.remote == RemoteState::Absent && p.maybe_in_ptv))
                && p.kind != ItemKind::Connections
        })
        .filter(|p| !v.present.contains_key(&(p.kind, p.source_id.clone())))
        .collect();
    gone.sort_by_key(|p| {
        (
            archive_rank(p.kind),
            org_depth_desc(p, prior),
            p.source_id.clone(),
        )
    });
    for p in gone {
        steps.push(Step {
            action: if p.protected {
                Action::Protected
            } else {
                Action::Archive
            },
            kind: p.kind,
            id: p.source_id.clone(),
            changed: Vec::new(),
            values: Vec::new(),
            reason: p.protected.then(|| "protected: kept in PTV".to_owned()),
            fingerprint: p.fingerprint,
            desired: None,
            depth: org_depth_desc(p, prior).0,
        });
    }
    Plan { steps, unchanged }
}

/// Turns the oldest due items into touches, as many as [`touch::touches_this_run`]
/// allows; the rest stay unchanged this run.
#[allow(clippy::too_many_arguments)] // `draft`'s state, handed over once
fn touches(
    v: &Validated,
    opts: &PlanOptions,
    t: TouchOptions,
    now: DateTime<Utc>,
    by_key: &HashMap<(ItemKind, &str), &PlanRow>,
    mut due: Vec<(Option<DateTime<Utc>>, ItemKind, &SourceId, Fingerprint)>,
    steps: &mut Vec<Step>,
    unchanged: &mut BTreeMap<ItemKind, usize>,
) {
    // Oldest first (never written first of all), then by id, so runs agree.
    due.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let lasts: Vec<Option<DateTime<Utc>>> = due.iter().map(|d| d.0).collect();
    let send = touch::touches_this_run(&lasts, &t.policy, now, t.every);
    for (i, (last, kind, id, fp)) in due.into_iter().enumerate() {
        if i >= send {
            *unchanged.entry(kind).or_insert(0) += 1;
            continue;
        }
        let stored = by_key
            .get(&(kind, id.as_str()))
            .and_then(|p| p.payload.as_ref());
        steps.push(Step {
            action: Action::Touch,
            kind,
            id: id.clone(),
            changed: Vec::new(),
            values: Vec::new(),
            reason: Some(match last {
                Some(at) => format!("unchanged; last written {} days ago", (now - at).num_days()),
                None => "unchanged; never written by ptv-sync (adopted)".to_owned(),
            }),
            fingerprint: Some(fp),
            desired: Desired::of(v, kind, id.as_str(), opts.main_area.as_ref(), stored)
                .map(Box::new),
            depth: 0,
        });
    }
}

/// The fingerprints of `items`, computed on every core: serialising and hashing 100,000
/// payloads is most of a plan's own time.
fn fingerprints(v: &Validated, items: &[DesiredRef<'_>], opts: &PlanOptions) -> Vec<Fingerprint> {
    crate::parallel::map_chunks(items, |chunk| {
        chunk
            .iter()
            .map(|item| {
                let body = payload(v, *item, opts.main_area.as_ref());
                crate::fingerprint::fingerprint(opts.api, &body)
            })
            .collect()
    })
}

/// Names the changed fields of an update from the payload stored for it.
pub fn describe(v: &Validated, opts: &PlanOptions, step: &mut Step, stored: &Payload) {
    if let Some(item) = desired(v, step.kind, step.id.as_str()) {
        let body = payload(v, item, opts.main_area.as_ref());
        step.changed = changed_paths(&stored.value(), &body);
    }
}

/// Completes a [`draft`]: connection sets naming a channel that gets a new PTV entity are
/// re-sent.
pub fn finish(v: &Validated, prior: &[PlanRow], plan: &mut Plan) {
    let by_key: HashMap<(ItemKind, &str), &PlanRow> = prior
        .iter()
        .map(|p| ((p.kind, p.source_id.as_str()), p))
        .collect();
    force_stale_connections(v, &by_key, &mut plan.steps);
    let unchanged = &mut plan.unchanged;
    plan.steps.retain(|s| {
        if s.action == Action::Unchanged {
            *unchanged.entry(s.kind).or_insert(0) += 1;
        }
        s.action != Action::Unchanged
    });
}

/// A connection set must be re-sent when a channel it names gets a new PTV entity: its
/// type changes in this run (archive and create afresh), or the stored set still names
/// a PTV id the channel no longer has.
fn force_stale_connections(
    v: &Validated,
    by_key: &HashMap<(ItemKind, &str), &PlanRow>,
    steps: &mut [Step],
) {
    let retyped: std::collections::HashSet<SourceId> = steps
        .iter()
        .filter(|s| {
            s.kind == ItemKind::Channel
                && s.action == Action::Update
                && s.changed.iter().any(|c| c == "channelType")
        })
        .map(|s| s.id.clone())
        .collect();
    for step in steps
        .iter_mut()
        .filter(|s| s.kind == ItemKind::Connections && s.action == Action::Unchanged)
    {
        let Some(set) = v.connections.get(step.id.as_str()) else {
            continue;
        };
        let stored: HashMap<String, String> = stored_channel_ids(
            by_key
                .get(&(ItemKind::Connections, step.id.as_str()))
                .and_then(|p| p.payload.as_ref()),
        )
        .into_iter()
        .collect();
        let stale: Vec<String> = set
            .iter()
            .filter(|c| {
                let id = c.channel.as_str();
                let now = by_key
                    .get(&(ItemKind::Channel, id))
                    .and_then(|p| p.channel_ptv_id.as_deref());
                retyped.contains(id) || stored.get(id).is_some_and(|was| Some(was.as_str()) != now)
            })
            .map(|c| format!("channel {} re-created in PTV", c.channel))
            .collect();
        if !stale.is_empty() {
            step.action = Action::Update;
            step.changed = stale;
            step.desired = Desired::of(
                v,
                ItemKind::Connections,
                step.id.as_str(),
                None,
                by_key
                    .get(&(ItemKind::Connections, step.id.as_str()))
                    .and_then(|p| p.payload.as_ref()),
            )
            .map(Box::new);
        }
    }
}

fn archive_rank(kind: ItemKind) -> u8 {
    match kind {
        ItemKind::Connections => 0,
        ItemKind::Service => 1,
        ItemKind::Channel => 2,
        ItemKind::Organization => 3,
    }
}

/// Deeper organisations first, reading the parent chain from the last pushed payloads.
fn org_depth_desc(p: &PlanRow, prior: &[PlanRow]) -> std::cmp::Reverse<usize> {
    if p.kind != ItemKind::Organization {
        return std::cmp::Reverse(0);
    }
    let parent_of = |id: &str| {
        prior
            .iter()
            .find(|q| q.kind == ItemKind::Organization && q.source_id == id)
            .and_then(|q| stored_parent(q.payload.as_ref()))
    };
    let mut depth = 0;
    let mut cur = parent_of(p.source_id.as_str());
    while let Some(c) = cur {
        depth += 1;
        if depth > 16 {
            break;
        }
        cur = parent_of(&c);
    }
    std::cmp::Reverse(depth)
}

/// The archive guard's verdict for one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GuardLimits {
    /// Trip when more than this many archives are planned…
    pub max_items: usize,
    /// …and they are more than this share (percent) of the live items.
    pub max_percent: f64,
}

impl Default for GuardLimits {
    fn default() -> Self {
        GuardLimits {
            max_items: 10,
            max_percent: 20.0,
        }
    }
}

/// Archives wait while any source file is unreadable: the items it held are not in the
/// snapshot, and would look deleted. Creates and updates go on. Reported (as a guard trip)
/// even when nothing would be archived, so that a broken file never passes unnoticed.
#[must_use]
pub fn unreadable_guard(plan: &Plan, unreadable: &[crate::source::Unreadable]) -> Option<String> {
    if unreadable.is_empty() {
        return None;
    }
    let archives = plan.count(Action::Archive);
    let files: Vec<&str> = unreadable.iter().take(3).map(|u| u.file.as_str()).collect();
    let more = unreadable.len().saturating_sub(files.len());
    Some(format!(
        "{} source file(s) could not be read ({}{}); what they hold is unknown, so no archive goes ({archives} planned) until they are fixed (see `validate`)",
        unreadable.len(),
        files.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// `Some(reason)` when the archive phase must be skipped.
#[must_use]
pub fn guard_trips(
    plan: &Plan,
    snapshot_items: usize,
    live_items: usize,
    limits: GuardLimits,
) -> Option<String> {
    let archives = plan.count(Action::Archive);
    if archives == 0 {
        return None;
    }
    if snapshot_items == 0 {
        return Some(format!(
            "the source snapshot is empty but {archives} items would be archived; check the source, or run with --allow-mass-archive if this is intended"
        ));
    }
    let share = if live_items == 0 {
        100.0
    } else {
        archives as f64 * 100.0 / live_items as f64
    };
    (archives > limits.max_items && share > limits.max_percent).then(|| {
        format!(
            "{archives} archives ({share:.0} % of {live_items} live items) exceed the guard (more than {} items and more than {} %); check the source, or run with --allow-mass-archive",
            limits.max_items, limits.max_percent
        )
    })
}

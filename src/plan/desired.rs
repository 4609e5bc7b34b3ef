//! What should exist in PTV, item by item: the resolved, normalised payload and its
//! fingerprint. Defaults that depend on other items (a channel's area) are resolved here
//! so that a change to them changes the fingerprint.

use crate::model::{
    Area, Channel, Connection, Item, ItemKind, Organization, PtvId, Service, SourceId,
};
use crate::store::Payload;
use crate::validate::Validated;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a create, update or restore step sends, as the planner resolved it: the
/// applier writes it and stores its payload without going back to the snapshot. Items
/// are shared with the validated snapshot, not copied.
#[derive(Debug, Clone)]
pub enum Desired {
    Organization(Arc<Organization>),
    Service(Arc<Service>),
    /// A channel, and the area it takes from its organisation (or the main
    /// organisation's configured one) when it names none.
    Channel(Arc<Channel>, Option<Area>),
    /// A service's connection set, and the PTV ids of the channels its stored set named
    /// (v12 removes the ones no longer desired; a stored id that is no GUID names nothing
    /// PTV could hold, so there is nothing to remove).
    Connections {
        set: Vec<Connection>,
        previous_channel_ids: Vec<PtvId>,
    },
}

impl Desired {
    /// The desired item of a kind and source id, resolved for writing; `None` if the
    /// snapshot does not send it.
    #[must_use]
    pub fn of(
        v: &Validated,
        kind: ItemKind,
        id: &str,
        main_area: Option<&Area>,
        stored: Option<&Payload>,
    ) -> Option<Self> {
        Some(match kind {
            ItemKind::Organization => Desired::Organization(v.organizations.get(id)?.clone()),
            ItemKind::Service => Desired::Service(v.services.get(id)?.clone()),
            ItemKind::Channel => {
                let c = v.channels.get(id)?;
                let area = if c.area.is_none() {
                    inherited_area(v, c, main_area)
                } else {
                    None
                };
                Desired::Channel(c.clone(), area)
            }
            ItemKind::Connections => Desired::Connections {
                set: v.connections.get(id)?.clone(),
                previous_channel_ids: stored_channel_ptv_ids(stored)
                    .into_iter()
                    .map(|(_, id)| id)
                    .collect(),
            },
        })
    }

    /// The item to send (a channel with its area resolved); `None` for a connection set.
    #[must_use]
    pub fn item(&self) -> Option<Item> {
        Some(match self {
            Desired::Organization(o) => Item::Organization((**o).clone()),
            Desired::Service(s) => Item::Service((**s).clone()),
            Desired::Channel(c, area) => Item::Channel(with_area(c, area.as_ref())),
            Desired::Connections { .. } => return None,
        })
    }

    /// The payload stored as "last pushed": the same as [`payload`] of the same item.
    #[must_use]
    pub fn payload(&self) -> Value {
        match self {
            Desired::Organization(o) => serde_json::to_value(&**o),
            Desired::Service(s) => serde_json::to_value(&**s),
            Desired::Channel(c, None) => serde_json::to_value(&**c),
            Desired::Channel(c, area) => serde_json::to_value(with_area(c, area.as_ref())),
            Desired::Connections { set, .. } => serde_json::to_value(sorted(set)),
        }
        .expect("model types always serialise")
    }

    /// A connection set's stored payload: each link also remembers the PTV id of its
    /// channel (`channel_ptv_ids` in the set's order), read back by [`stored_channel_ids`].
    #[must_use]
    pub fn connections_payload(&self, channel_ptv_ids: &[PtvId]) -> Value {
        let Desired::Connections { set, .. } = self else {
            return self.payload();
        };
        let mut links: Vec<(&Connection, &PtvId)> = set.iter().zip(channel_ptv_ids).collect();
        links.sort_by(|a, b| a.0.channel.cmp(&b.0.channel));
        let mut payload = serde_json::to_value(links.iter().map(|l| l.0).collect::<Vec<_>>())
            .expect("model types always serialise");
        if let Value::Array(items) = &mut payload {
            for (v, (_, id)) in items.iter_mut().zip(&links) {
                if let Value::Object(m) = v {
                    m.insert(CHANNEL_PTV_ID.into(), Value::String(id.to_string()));
                }
            }
        }
        payload
    }
}

fn with_area(c: &Channel, area: Option<&Area>) -> Channel {
    let mut c = c.clone();
    if c.area.is_none() {
        c.area = area.cloned();
    }
    c
}

fn sorted(set: &[Connection]) -> Vec<&Connection> {
    let mut sorted: Vec<&Connection> = set.iter().collect();
    sorted.sort_by(|a, b| a.channel.cmp(&b.channel));
    sorted
}

/// A desired item, borrowed from the validated snapshot.
#[derive(Debug, Clone, Copy)]
pub enum DesiredRef<'a> {
    Organization(&'a Organization),
    Channel(&'a Channel),
    Service(&'a Service),
    Connections(&'a SourceId, &'a [Connection]),
}

impl DesiredRef<'_> {
    #[must_use]
    pub fn kind(&self) -> ItemKind {
        match self {
            DesiredRef::Organization(_) => ItemKind::Organization,
            DesiredRef::Channel(_) => ItemKind::Channel,
            DesiredRef::Service(_) => ItemKind::Service,
            DesiredRef::Connections(..) => ItemKind::Connections,
        }
    }
}

/// A channel with its area resolved: absent means its organisation's area (the main
/// organisation's configured area when it has none in the source).
#[must_use]
pub fn resolved_channel(v: &Validated, c: &Channel, main_area: Option<&Area>) -> Channel {
    let mut resolved = c.clone();
    if resolved.area.is_none() {
        resolved.area = inherited_area(v, c, main_area);
    }
    resolved
}

/// The area a channel without one takes: its organisation's, else the main one's.
fn inherited_area(v: &Validated, c: &Channel, main_area: Option<&Area>) -> Option<Area> {
    match &c.organization {
        Some(o) => v.organizations.get(o).and_then(|o| o.effective_area()),
        None => main_area.cloned(),
    }
}

/// The payload we fingerprint, diff and store as "last pushed".
#[must_use]
pub fn payload(v: &Validated, item: DesiredRef<'_>, main_area: Option<&Area>) -> Value {
    match item {
        DesiredRef::Organization(o) => serde_json::to_value(o),
        DesiredRef::Service(s) => serde_json::to_value(s),
        DesiredRef::Channel(c) => {
            if c.area.is_some() {
                serde_json::to_value(c)
            } else {
                serde_json::to_value(resolved_channel(v, c, main_area))
            }
        }
        DesiredRef::Connections(_, set) => serde_json::to_value(sorted(set)),
    }
    .expect("model types always serialise")
}

/// All desired items in dependency order: organisations parent first, then channels,
/// services and connection sets.
#[must_use]
pub fn in_order(v: &Validated) -> Vec<DesiredRef<'_>> {
    let mut out = Vec::with_capacity(v.valid_count() + v.connections.len());
    let mut depth: BTreeMap<&SourceId, usize> = BTreeMap::new();
    for o in v.organizations.values() {
        let mut d = 0;
        let mut cur = o.parent.as_ref();
        while let Some(p) = cur {
            d += 1;
            cur = v.organizations.get(p).and_then(|x| x.parent.as_ref());
            if d > v.organizations.len() {
                break;
            }
        }
        depth.insert(&o.id, d);
    }
    let mut orgs: Vec<&Organization> = v.organizations.values().map(|o| &**o).collect();
    orgs.sort_by_key(|o| (depth[&o.id], &o.id));
    out.extend(orgs.into_iter().map(DesiredRef::Organization));
    out.extend(v.channels.values().map(|c| DesiredRef::Channel(c)));
    out.extend(v.services.values().map(|s| DesiredRef::Service(s)));
    out.extend(
        v.connections
            .iter()
            .map(|(id, set)| DesiredRef::Connections(id, set.as_slice())),
    );
    out
}

/// The key under which a stored connection set remembers each channel's PTV id.
pub const CHANNEL_PTV_ID: &str = "channelPtvId";

/// (channel source id, channel PTV id) pairs of a stored connection-set payload.
#[must_use]
pub fn stored_channel_ids(payload: Option<&Payload>) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Link {
        channel: Option<String>,
        #[serde(rename = "channelPtvId")]
        ptv_id: Option<String>,
    }
    payload
        .and_then(|p| p.parse::<Vec<Link>>().ok())
        .into_iter()
        .flatten()
        .filter_map(|l| Some((l.channel?, l.ptv_id?)))
        .collect()
}

/// [`stored_channel_ids`] with the PTV ids parsed; one that is not a GUID (never written
/// so: they come from PTV's answers, parsed) is left out.
#[must_use]
pub fn stored_channel_ptv_ids(payload: Option<&Payload>) -> Vec<(String, PtvId)> {
    stored_channel_ids(payload)
        .into_iter()
        .filter_map(|(channel, id)| Some((channel, PtvId::parse(&id).ok()?)))
        .collect()
}

/// The parent organisation named in a stored organisation payload.
#[must_use]
pub fn stored_parent(payload: Option<&Payload>) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Parent {
        parent: Option<String>,
    }
    payload?.parse::<Parent>().ok()?.parent
}

/// The desired item of a kind and source id, if the snapshot sends it.
#[must_use]
pub fn desired<'a>(v: &'a Validated, kind: ItemKind, id: &str) -> Option<DesiredRef<'a>> {
    match kind {
        ItemKind::Organization => v.organizations.get(id).map(|o| DesiredRef::Organization(o)),
        ItemKind::Service => v.services.get(id).map(|s| DesiredRef::Service(s)),
        ItemKind::Channel => v.channels.get(id).map(|c| DesiredRef::Channel(c)),
        ItemKind::Connections => v
            .connections
            .get_key_value(id)
            .map(|(k, set)| DesiredRef::Connections(k, set.as_slice())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::plan::{PlanOptions, plan};

    /// What a step carries is what the planner fingerprinted: the applier stores exactly
    /// the payload the next plan compares against.
    #[test]
    fn a_step_carries_the_payload_the_planner_fingerprinted() {
        let snapshot = crate::synth::generate(crate::synth::Shape::new(200, 5)).snapshot();
        let v =
            crate::validate::validate_owned(snapshot, &crate::validate::ValidateOptions::default());
        let opts = PlanOptions::default();
        let p = plan(&v, &[], &opts);
        let mut kinds = std::collections::BTreeSet::new();
        for s in p.steps.iter().filter(|s| s.action == Action::Create) {
            let d = s
                .desired
                .as_deref()
                .expect("a create carries what it sends");
            let want = payload(&v, desired(&v, s.kind, s.id.as_str()).unwrap(), None);
            assert_eq!(d.payload(), want, "{} {}", s.kind, s.id);
            assert_eq!(
                s.fingerprint,
                Some(crate::fingerprint::fingerprint(opts.api, &want))
            );
            if let Desired::Connections { set, .. } = d {
                let ids: Vec<PtvId> = (0..set.len())
                    .map(|i| PtvId::parse(&format!("00000000-0000-4000-8000-{i:012}")).unwrap())
                    .collect();
                let stored = Payload::new(&d.connections_payload(&ids));
                let mut back = stored_channel_ids(Some(&stored));
                back.sort();
                let mut sent: Vec<(String, String)> = set
                    .iter()
                    .map(|c| c.channel.to_string())
                    .zip(ids.iter().map(ToString::to_string))
                    .collect();
                sent.sort();
                assert_eq!(back, sent);
            }
            kinds.insert(s.kind);
        }
        assert_eq!(kinds.len(), 4, "every kind is created in the sample");
    }
}

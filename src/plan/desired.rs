//! What should exist in PTV, item by item: the resolved, normalised payload and its
//! fingerprint. Defaults that depend on other items (a channel's area) are resolved here
//! so that a change to them changes the fingerprint.

use crate::model::{Area, Channel, Connection, ItemKind, Organization, Service, SourceId};
use crate::store::Payload;
use crate::validate::Validated;
use serde_json::Value;
use std::collections::BTreeMap;

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
        resolved.area = match &c.organization {
            Some(o) => v.organizations.get(o).and_then(|o| o.effective_area()),
            None => main_area.cloned(),
        };
    }
    resolved
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
        DesiredRef::Connections(_, set) => {
            let mut sorted: Vec<&Connection> = set.iter().collect();
            sorted.sort_by(|a, b| a.channel.cmp(&b.channel));
            serde_json::to_value(sorted)
        }
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

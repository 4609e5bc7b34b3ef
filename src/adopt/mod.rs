//! Joining a catalogue that already exists: `ptv-sync adopt`.
//!
//! [`survey`] reads what PTV holds for the main organisation and its sub-organisations
//! ([`crate::ptv::read_catalogue`]) and matches it to the validated source
//! ([`matching`]). [`link`] writes each new match as a state row plus an audit entry
//! (`adopt`), and nothing to PTV:
//!
//! - matched by our own sourceId / externalId (a lost state being rebuilt): the row
//!   records the source's current fingerprint, because PTV already holds what we sent;
//! - matched by `ptvId` or by name: when PTV's item, read back into the source format
//!   ([`crate::ptv::read_back`]), is the source's document (an export used as the
//!   source, or an editor who typed the same), the row records the fingerprint too:
//!   nothing needs sending. Otherwise the row has no fingerprint, so the next run sends
//!   the source's content with a PUT by PTV id, which on v11 also gives the item our
//!   sourceId (PTV's documented way to adopt an item made in the UI);
//! - a linked service's connection set is recorded when PTV's connections (v11: the
//!   service's `serviceChannels`; v12: the connection search), read back, are exactly
//!   the desired ones.
//!
//! Items in PTV only are listed and left alone; ambiguous names are never linked.

pub mod matching;

pub use matching::{MatchedBy, Row, Wanted, match_items, normalise};

use crate::config::OrgConfig;
use crate::model::{
    Action, Connection, Item, ItemKind, Lang, OrgName, PtvId, PtvSourceId, SourceId, ptv_source_id,
};
use crate::plan::{CHANNEL_PTV_ID, Desired, DesiredRef, payload};
use crate::ptv::{
    PtvApi, PtvError, RemoteCatalogue, RemoteConnection, RemoteItem, body_of, connection_body_of,
    read_back, read_back_connection, read_catalogue,
};
use crate::store::{
    ItemRecord, ItemStatus, NewAuditEntry, Payload, RemoteState, StateStore, StoreError,
};
use crate::validate::Validated;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// What `adopt` found for one organisation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Survey {
    pub organization: OrgName,
    pub rows: Vec<Row>,
    /// Requests the catalogue read took, and the fewest that could read it.
    pub requests: u32,
    pub ideal_requests: u32,
    #[serde(skip)]
    remote: HashMap<PtvId, RemoteItem>,
    /// Each service's connections as PTV shows them, by the service's PTV id.
    #[serde(skip)]
    connections: HashMap<PtvId, Vec<RemoteConnection>>,
}

impl Survey {
    /// Rows `--apply` would link.
    pub fn to_link(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.to_link())
    }

    /// Count of rows per outcome: matched (new), already linked, ambiguous, source
    /// only, PTV only, refused `ptvId`.
    #[must_use]
    pub fn counts(&self) -> [usize; 6] {
        let mut c = [0; 6];
        for r in &self.rows {
            let i = match r {
                Row::Matched {
                    by: MatchedBy::State,
                    ..
                } => 1,
                Row::Matched { .. } => 0,
                Row::Ambiguous { .. } => 2,
                Row::SourceOnly { .. } => 3,
                Row::PtvOnly { .. } => 4,
                Row::Refused { .. } => 5,
            };
            c[i] += 1;
        }
        c
    }
}

/// The source's items as matching sees them, with what the state already links.
#[must_use]
pub fn wanted(org: &OrgConfig, v: &Validated, records: &[ItemRecord]) -> Vec<Wanted> {
    let linked: HashMap<(ItemKind, &str), PtvId> = records
        .iter()
        .filter(|r| r.remote == RemoteState::Live)
        .filter_map(|r| Some(((r.kind, r.source_id.as_str()), r.ptv_id?)))
        .collect();
    let want = |kind,
                id: &SourceId,
                channel_type,
                owner: Option<&SourceId>,
                name: Option<&str>,
                ptv_id: Option<PtvId>| Wanted {
        kind,
        channel_type,
        source_id: id.clone(),
        ptv_source_id: ptv_source_id(&org.source_id_prefix, kind, id, 0),
        owner: owner.map(ToString::to_string),
        name_fi: name.map(str::to_owned),
        linked: linked.get(&(kind, id.as_str())).copied(),
        ptv_id,
    };
    let mut out = Vec::with_capacity(v.valid_count());
    for o in v.organizations.values() {
        let name = o.language_versions.get(&Lang::Fi).map(|l| l.name.as_str());
        out.push(want(
            ItemKind::Organization,
            &o.id,
            None,
            o.parent.as_ref(),
            name,
            o.ptv_id,
        ));
    }
    for c in v.channels.values() {
        let name = c.language_versions.get(&Lang::Fi).map(|l| l.name.as_str());
        out.push(want(
            ItemKind::Channel,
            &c.id,
            Some(c.channel_type),
            c.organization.as_ref(),
            name,
            c.ptv_id,
        ));
    }
    for s in v.services.values() {
        let name = s.language_versions.get(&Lang::Fi).map(|l| l.name.as_str());
        out.push(want(
            ItemKind::Service,
            &s.id,
            None,
            s.organization.as_ref(),
            name,
            s.ptv_id,
        ));
    }
    out
}

/// Reads the catalogue and matches it to the source.
pub async fn survey(
    org: &OrgConfig,
    api: &dyn PtvApi,
    v: &Validated,
    records: &[ItemRecord],
) -> Result<Survey, PtvError> {
    let main = org.main_organization_id;
    let cat: RemoteCatalogue = read_catalogue(api, &main).await?;
    let remote: Vec<RemoteItem> = cat.iter().cloned().collect();
    let rows = match_items(&main, &wanted(org, v, records), &remote);
    let mut connections: HashMap<PtvId, Vec<RemoteConnection>> = HashMap::new();
    for c in cat.connections {
        connections.entry(c.service).or_default().push(c);
    }
    Ok(Survey {
        organization: org.name.clone(),
        rows,
        requests: cat.requests,
        ideal_requests: cat.ideal_requests,
        remote: remote.into_iter().map(|r| (r.ptv_id, r)).collect(),
        connections,
    })
}

fn desired<'a>(v: &'a Validated, kind: ItemKind, id: &str) -> Option<DesiredRef<'a>> {
    crate::plan::desired(v, kind, id)
}

/// The generation of `sid`, a `base` or `base.gN` sourceId.
fn generation_of(sid: &str, base: &str) -> i32 {
    sid.get(base.len()..)
        .and_then(|rest| rest.strip_prefix(".g"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Writes every new match of `survey` as a state row and an audit entry, stamped `now`.
/// Answers the number of item rows written.
pub async fn link(
    org: &OrgConfig,
    store: &dyn StateStore,
    v: &Validated,
    survey: &Survey,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let api = org.api_version;
    let main_area = org.main_area.as_ref();
    // Every channel's PTV id, linked before or now: connection sets name channels by it.
    let mut channel_ids: HashMap<&str, PtvId> = HashMap::new();
    for r in &survey.rows {
        if let Row::Matched { wanted, ptv_id, .. } = r
            && wanted.kind == ItemKind::Channel
        {
            channel_ids.insert(wanted.source_id.as_str(), *ptv_id);
        }
    }
    // Every matched organisation's and channel's source id by PTV id, to read PTV's
    // references back in the source's terms.
    let mut source_ids: HashMap<PtvId, &str> = HashMap::new();
    for r in &survey.rows {
        if let Row::Matched { wanted, ptv_id, .. } = r
            && matches!(wanted.kind, ItemKind::Organization | ItemKind::Channel)
        {
            source_ids.insert(*ptv_id, wanted.source_id.as_str());
        }
    }
    let refs = Refs {
        main: org.main_organization_id,
        source_ids: &source_ids,
    };
    let mut written = 0;
    for row in survey.to_link() {
        let Row::Matched { wanted, ptv_id, by } = row else {
            continue;
        };
        let mut rec = ItemRecord::new(org.state_key(), wanted.kind, &wanted.source_id, now);
        rec.ptv_id = Some(*ptv_id);
        rec.remote = RemoteState::Live;
        rec.status = ItemStatus::Active;
        rec.ptv_source_id.clone_from(&wanted.ptv_source_id);
        let ours = *by == MatchedBy::SourceId;
        // Keep the generation PTV holds (`….g2`): the base may belong to an archived item.
        if ours
            && let Some(sid) = survey
                .remote
                .get(ptv_id)
                .and_then(|r| r.source_id.as_deref())
                .and_then(|sid| PtvSourceId::parse(sid).ok())
        {
            rec.generation = generation_of(sid.as_str(), wanted.ptv_source_id.as_str());
            rec.ptv_source_id = sid;
        }
        if let Some(item) = desired(v, wanted.kind, wanted.source_id.as_str()) {
            let body = payload(v, item, main_area);
            // PTV holds the source's content when we sent it (a lost state being rebuilt)
            // or when what it holds, read back into the source format, is what a write
            // would send (an export used as the source, or an editor who typed the same).
            let holds = ours
                || survey.remote.get(ptv_id).is_some_and(|r| {
                    holds_content(api, r, wanted.source_id.as_str(), v, main_area, &refs)
                });
            if holds {
                rec.fingerprint = Some(crate::fingerprint::fingerprint(api, &body).to_string());
                rec.first_pushed_at = Some(now);
                rec.last_pushed_at = Some(now);
            }
            rec.payload = Some(Payload::new(&body));
        }
        store.put_item(&rec).await?;
        store
            .append_audit(&NewAuditEntry {
                at: now,
                org: org.state_key().to_owned(),
                actor: actor.to_owned(),
                action: Action::Adopt,
                kind: wanted.kind,
                source_id: wanted.source_id.to_string(),
                ptv_id: Some(ptv_id.to_string()),
                http_status: None,
                body_sha256: None,
                reason: None,
            })
            .await?;
        written += 1;
        if wanted.kind == ItemKind::Service {
            link_connections(
                org,
                store,
                v,
                survey,
                wanted,
                ptv_id,
                &channel_ids,
                &refs,
                now,
            )
            .await?;
        }
    }
    Ok(written)
}

/// An owning organisation in the source's terms.
#[derive(Debug, PartialEq, Eq)]
enum Owner {
    /// The configured main organisation (no `organization` / `parent` in the source).
    Main,
    Source(String),
}

/// How PTV's references (owners, connected channels) read in the source's terms.
struct Refs<'a> {
    main: PtvId,
    source_ids: &'a HashMap<PtvId, &'a str>,
}

impl Refs<'_> {
    /// The organisation `ptv_id` in the source's terms; `None` when it is not matched.
    fn owner(&self, ptv_id: Option<PtvId>) -> Option<Owner> {
        let id = ptv_id?;
        if id == self.main {
            return Some(Owner::Main);
        }
        self.source_ids
            .get(&id)
            .map(|s| Owner::Source((*s).to_owned()))
    }
}

/// Whether PTV's item, read back as the source document `id`, names the same owner as
/// the desired item and maps to the body a write of it would send: then PTV holds all
/// of the source's content that this version can carry.
fn holds_content(
    api: crate::model::ApiVersion,
    remote: &RemoteItem,
    id: &str,
    v: &Validated,
    main_area: Option<&crate::model::Area>,
    refs: &Refs<'_>,
) -> bool {
    let Some(want) = Desired::of(v, remote.kind, id, main_area, None).and_then(|d| d.item()) else {
        return false;
    };
    let Some(owner) = refs.owner(remote.organization_id) else {
        return false;
    };
    let want_owner = match &want {
        Item::Organization(o) => o.parent.as_ref(),
        Item::Service(s) => s.organization.as_ref(),
        Item::Channel(c) => c.organization.as_ref(),
    };
    let wanted = want_owner.map_or(Owner::Main, |o| Owner::Source(o.to_string()));
    if wanted != owner {
        return false;
    }
    let mut doc = read_back(api, remote).document;
    doc.remove("kind");
    doc.insert("id".into(), id.into());
    let doc = Value::Object(doc);
    let held = match remote.kind {
        ItemKind::Organization => serde_json::from_value(doc).map(Item::Organization),
        ItemKind::Service => serde_json::from_value(doc).map(Item::Service),
        ItemKind::Channel => serde_json::from_value(doc).map(Item::Channel),
        ItemKind::Connections => return false,
    };
    let Ok(held) = held else { return false };
    body_of(api, &held).is_some_and(|h| Some(h) == body_of(api, &want))
}

/// Records a linked service's connection set when PTV's connections, read back, are
/// exactly the desired ones (channels, charge types, descriptions, hours); otherwise the
/// next run writes them.
#[allow(clippy::too_many_arguments)]
async fn link_connections(
    org: &OrgConfig,
    store: &dyn StateStore,
    v: &Validated,
    survey: &Survey,
    service: &Wanted,
    ptv_id: &PtvId,
    channel_ids: &HashMap<&str, PtvId>,
    refs: &Refs<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(set) = v.connections.get(&service.source_id) else {
        return Ok(());
    };
    if set.is_empty()
        || set
            .iter()
            .any(|c| !channel_ids.contains_key(c.channel.as_str()))
    {
        return Ok(());
    }
    let held: Option<Vec<Connection>> = survey
        .connections
        .get(ptv_id)
        .into_iter()
        .flatten()
        .map(|c| {
            let mut doc = read_back_connection(org.api_version, c).document;
            let channel = refs.source_ids.get(&c.channel)?;
            doc.insert("channel".into(), (*channel).into());
            serde_json::from_value(Value::Object(doc)).ok()
        })
        .collect();
    let body = payload(v, DesiredRef::Connections(&service.source_id, set), None);
    let Some(held) = held else {
        return Ok(());
    };
    // Equal when each channel's connection maps to the same write (what this version
    // can carry of it).
    let writes = |set: &[Connection]| -> BTreeMap<String, Value> {
        set.iter()
            .map(|c| {
                (
                    c.channel.to_string(),
                    connection_body_of(org.api_version, c),
                )
            })
            .collect()
    };
    if held.len() != set.len() || writes(&held) != writes(set) {
        return Ok(());
    }
    let mut stored = body.clone();
    if let Value::Array(items) = &mut stored {
        for item in items.iter_mut() {
            let channel = item
                .get("channel")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if let (Value::Object(m), Some(ch)) = (item, channel_ids.get(channel.as_str())) {
                m.insert(CHANNEL_PTV_ID.into(), Value::String(ch.to_string()));
            }
        }
    }
    let mut rec = ItemRecord::new(
        org.state_key(),
        ItemKind::Connections,
        &service.source_id,
        now,
    );
    rec.ptv_source_id = ptv_source_id(
        &org.source_id_prefix,
        ItemKind::Connections,
        &service.source_id,
        0,
    );
    rec.ptv_id = Some(*ptv_id);
    rec.remote = RemoteState::Live;
    rec.status = ItemStatus::Active;
    rec.fingerprint = Some(crate::fingerprint::fingerprint(org.api_version, &body).to_string());
    rec.payload = Some(Payload::new(&stored));
    rec.first_pushed_at = Some(now);
    rec.last_pushed_at = Some(now);
    store.put_item(&rec).await
}

//! Joining a catalogue that already exists: `ptv-sync adopt`.
//!
//! [`survey`] reads what PTV holds for the main organisation and its sub-organisations
//! ([`crate::ptv::read_catalogue`]) and matches it to the validated source
//! ([`matching`]). [`link`] writes each new match as a state row plus an audit entry
//! (`adopt`), and nothing to PTV:
//!
//! - matched by our own sourceId / externalId (a lost state being rebuilt): the row
//!   records the source's current fingerprint, because PTV already holds what we sent;
//!   a v11 service's connection set is recorded too when PTV's connections are exactly
//!   the desired ones;
//! - matched by name (made in the UI): the row has no fingerprint, so the next run sends
//!   the source's content with a PUT by PTV id, which on v11 also gives the item our
//!   sourceId (PTV's documented way to adopt an item made in the UI).
//!
//! Items in PTV only are listed and left alone; ambiguous names are never linked.

pub mod matching;

pub use matching::{MatchedBy, Row, Wanted, match_items, normalise};

use crate::config::OrgConfig;
use crate::model::{ItemKind, Lang, SourceId, ptv_source_id};
use crate::plan::{CHANNEL_PTV_ID, DesiredRef, payload};
use crate::ptv::{PtvApi, PtvError, RemoteCatalogue, RemoteItem, read_catalogue};
use crate::store::{
    ItemAction, ItemRecord, ItemStatus, NewAuditEntry, Payload, RemoteState, StateStore, StoreError,
};
use crate::validate::Validated;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// What `adopt` found for one organisation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Survey {
    pub organization: String,
    pub rows: Vec<Row>,
    /// Requests the catalogue read took, and the fewest that could read it.
    pub requests: u32,
    pub ideal_requests: u32,
    #[serde(skip)]
    remote: HashMap<String, RemoteItem>,
}

impl Survey {
    /// Rows `--apply` would link.
    pub fn to_link(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.to_link())
    }

    /// Count of rows per outcome: matched (new), already linked, ambiguous, source
    /// only, PTV only.
    #[must_use]
    pub fn counts(&self) -> [usize; 5] {
        let mut c = [0; 5];
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
            };
            c[i] += 1;
        }
        c
    }
}

/// The source's items as matching sees them, with what the state already links.
#[must_use]
pub fn wanted(org: &OrgConfig, v: &Validated, records: &[ItemRecord]) -> Vec<Wanted> {
    let linked: HashMap<(ItemKind, &str), &str> = records
        .iter()
        .filter(|r| r.remote == RemoteState::Live)
        .filter_map(|r| Some(((r.kind, r.source_id.as_str()), r.ptv_id.as_deref()?)))
        .collect();
    let want =
        |kind, id: &SourceId, channel_type, owner: Option<&SourceId>, name: Option<&str>| Wanted {
            kind,
            channel_type,
            source_id: id.to_string(),
            ptv_source_id: ptv_source_id(&org.source_id_prefix, kind, id.as_str(), 0),
            owner: owner.map(ToString::to_string),
            name_fi: name.map(str::to_owned),
            linked: linked.get(&(kind, id.as_str())).map(|s| (*s).to_owned()),
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
    let main = org.main_organization_id.to_string();
    let cat: RemoteCatalogue = read_catalogue(api, &main).await?;
    let remote: Vec<RemoteItem> = cat.iter().cloned().collect();
    let rows = match_items(&main, &wanted(org, v, records), &remote);
    Ok(Survey {
        organization: org.name.clone(),
        rows,
        requests: cat.requests,
        ideal_requests: cat.ideal_requests,
        remote: remote.into_iter().map(|r| (r.ptv_id.clone(), r)).collect(),
    })
}

fn desired<'a>(v: &'a Validated, kind: ItemKind, id: &str) -> Option<DesiredRef<'a>> {
    crate::plan::desired(v, kind, id)
}

/// The channel PTV ids a v11 service shows in `serviceChannels`.
fn remote_channels(item: &RemoteItem) -> BTreeSet<String> {
    item.body
        .get("serviceChannels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            c.pointer("/serviceChannel/id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
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
    let mut channel_ids: HashMap<&str, &str> = HashMap::new();
    for r in &survey.rows {
        if let Row::Matched { wanted, ptv_id, .. } = r
            && wanted.kind == ItemKind::Channel
        {
            channel_ids.insert(wanted.source_id.as_str(), ptv_id.as_str());
        }
    }
    let mut written = 0;
    for row in survey.to_link() {
        let Row::Matched { wanted, ptv_id, by } = row else {
            continue;
        };
        let mut rec = ItemRecord::new(&org.name, wanted.kind, &wanted.source_id, now);
        rec.ptv_id = Some(ptv_id.clone());
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
        {
            rec.generation = generation_of(sid, &wanted.ptv_source_id);
            rec.ptv_source_id = sid.to_owned();
        }
        if let Some(item) = desired(v, wanted.kind, &wanted.source_id) {
            let body = payload(v, item, main_area);
            // Only a lost state being rebuilt may claim that PTV holds what we sent.
            if ours {
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
                org: org.name.clone(),
                actor: actor.to_owned(),
                action: ItemAction::Adopt,
                kind: wanted.kind,
                source_id: wanted.source_id.clone(),
                ptv_id: Some(ptv_id.clone()),
                http_status: None,
                body_sha256: None,
            })
            .await?;
        written += 1;
        if ours && wanted.kind == ItemKind::Service {
            link_connections(org, store, v, survey, wanted, ptv_id, &channel_ids, now).await?;
        }
    }
    Ok(written)
}

/// Records a rebuilt service's connection set when PTV's connections are exactly the
/// desired ones; otherwise the next run writes them.
#[allow(clippy::too_many_arguments)] // `link`'s context, passed through once
async fn link_connections(
    org: &OrgConfig,
    store: &dyn StateStore,
    v: &Validated,
    survey: &Survey,
    service: &Wanted,
    ptv_id: &str,
    channel_ids: &HashMap<&str, &str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(remote) = survey.remote.get(ptv_id) else {
        return Ok(());
    };
    let Ok(id) = SourceId::parse(&service.source_id) else {
        return Ok(());
    };
    let Some(set) = v.connections.get(&id) else {
        return Ok(());
    };
    let targets: Option<Vec<&str>> = set
        .iter()
        .map(|c| channel_ids.get(c.channel.as_str()).copied())
        .collect();
    let Some(targets) = targets else {
        return Ok(());
    };
    let desired_ids: BTreeSet<String> = targets.iter().map(|s| (*s).to_owned()).collect();
    if set.is_empty() || desired_ids != remote_channels(remote) {
        return Ok(());
    }
    let body = payload(v, DesiredRef::Connections(&id, set), None);
    let mut stored = body.clone();
    if let Value::Array(items) = &mut stored {
        for item in items.iter_mut() {
            let channel = item
                .get("channel")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if let (Value::Object(m), Some(ch)) = (item, channel_ids.get(channel.as_str())) {
                m.insert(CHANNEL_PTV_ID.into(), Value::String((*ch).to_owned()));
            }
        }
    }
    let mut rec = ItemRecord::new(&org.name, ItemKind::Connections, &service.source_id, now);
    rec.ptv_source_id = ptv_source_id(
        &org.source_id_prefix,
        ItemKind::Connections,
        &service.source_id,
        0,
    );
    rec.ptv_id = Some(ptv_id.to_owned());
    rec.remote = RemoteState::Live;
    rec.status = ItemStatus::Active;
    rec.fingerprint = Some(crate::fingerprint::fingerprint(org.api_version, &body).to_string());
    rec.payload = Some(Payload::new(&stored));
    rec.first_pushed_at = Some(now);
    rec.last_pushed_at = Some(now);
    store.put_item(&rec).await
}

//! A catalogue that exists before ptv-sync arrives: items made in PTV's user interface
//! (no sourceId), items of another API user, drafts, items with an unpublished edit
//! (Modified) and archived items, with their connections. Seeded from [`SeedItem`]s given in the
//! [`SimConfig`](super::SimConfig) (`ptv-sync sim --seed-catalogue FILE`), by
//! [`SimHandle::seed_catalogue`](super::SimHandle::seed_catalogue) or by
//! `POST /_sim/catalogue`.
//!
//! Seeding bypasses the write rules on purpose (the UI has its own), but keeps the
//! catalogue's invariants: a live name stays unique per kind and organisation, a
//! sourceId or externalId unique per owner and scope, and the owning organisation
//! must exist.

use super::state::Shared;
use super::store::{ArchivingType, Catalogue, Entity, PublishingStatus, SimEntity, SimKind};
use crate::model::ChannelType;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// One item of a seeded catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedItem {
    pub kind: SimKind,
    /// PTV id; a random one when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// Services and channels: the owning organisation; organisations: the parent.
    pub organization: Uuid,
    /// Name per language (`fi` at least, for matching).
    pub names: BTreeMap<String, String>,
    #[serde(default = "published")]
    pub status: PublishingStatus,
    /// A sourceId in the namespace of `owner` (an API user's name).
    #[serde(default)]
    pub source_id: Option<String>,
    /// A v12 externalId in the namespace of `owner`.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The API user owning `source_id` / `external_id`.
    #[serde(default)]
    pub owner: Option<String>,
    /// Extra fields of the stored entity (v11 shape), e.g. descriptions.
    #[serde(default)]
    pub body: Option<Value>,
    /// When it was last saved (RFC 3339, or PTV's `yyyy-MM-ddTHH:mm:ss` in UTC); the
    /// sim clock's now when absent. An old date makes it due for automatic archiving.
    #[serde(default)]
    pub modified: Option<String>,
    /// Who saved it last; `seed` when absent.
    #[serde(default)]
    pub modified_by: Option<String>,
    /// Services: the connected channels (seeded before the service).
    #[serde(default)]
    pub connections: Vec<Uuid>,
}

impl SeedItem {
    /// The item as an editor would have made it in PTV's UI: the same content, id,
    /// owner, status and connections, without any API user's sourceId or externalId.
    #[must_use]
    pub fn made_in_the_ui(e: &SimEntity) -> Option<SeedItem> {
        let mut body = e.last_body.clone();
        if let Value::Object(m) = &mut body {
            for key in [
                "sourceId",
                "externalId",
                "id",
                "contentId",
                "publishingStatus",
                "status",
                "modified",
                "modifiedBy",
                "modifiedAt",
            ] {
                m.remove(key);
            }
        }
        Some(SeedItem {
            kind: e.kind,
            id: Some(e.id),
            organization: e.organization_id?,
            names: e.names.clone(),
            status: e.status,
            source_id: None,
            external_id: None,
            owner: None,
            body: Some(body),
            modified: None,
            modified_by: None,
            connections: e.connections.clone(),
        })
    }
}

fn published() -> PublishingStatus {
    PublishingStatus::Published
}

/// Why a seed item was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeedError {
    #[error("seed item {index}: organisation {org} does not exist in the simulator; seed it first")]
    NoOrganization { index: usize, org: Uuid },
    #[error("seed item {index}: id {id} is already taken")]
    IdTaken { index: usize, id: Uuid },
    #[error(
        "seed item {index}: the live name '{name}' ({lang}) is already taken in that organisation"
    )]
    NameTaken {
        index: usize,
        lang: String,
        name: String,
    },
    #[error("seed item {index}: sourceId or externalId '{id}' is already taken for its owner")]
    IdentityTaken { index: usize, id: String },
    #[error("seed item {index}: a sourceId or externalId needs its owner (an API user name)")]
    NoOwner { index: usize },
    #[error("seed item {index}: names must hold at least one language")]
    NoNames { index: usize },
    #[error(
        "seed item {index}: connection to {channel}, which is not a channel seeded before it; seed channels before the services connected to them"
    )]
    NoChannel { index: usize, channel: Uuid },
    #[error(
        "seed item {index}: modified '{value}' is not a date and time; give RFC 3339, e.g. 2025-01-31T12:00:00Z"
    )]
    BadModified { index: usize, value: String },
}

/// A timestamp as tests and PTV write it: RFC 3339, or PTV's zone-less UTC form.
pub(crate) fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// The v11 names list key of a kind.
fn names_key(kind: SimKind) -> &'static str {
    match kind {
        SimKind::Organization => "organizationNames",
        SimKind::Service => "serviceNames",
        SimKind::Channel(_) => "serviceChannelNames",
    }
}

fn owner_key(kind: SimKind) -> &'static str {
    match kind {
        SimKind::Organization => "parentOrganizationId",
        SimKind::Service => "mainResponsibleOrganization",
        SimKind::Channel(_) => "organizationId",
    }
}

fn entity_of(item: &SeedItem, index: usize, cat: &Catalogue) -> Result<Entity, SeedError> {
    if item.names.is_empty() {
        return Err(SeedError::NoNames { index });
    }
    let org = item.organization;
    if cat.get(org).is_none_or(|o| o.kind != SimKind::Organization) {
        return Err(SeedError::NoOrganization { index, org });
    }
    let id = item.id.unwrap_or_else(Uuid::new_v4);
    if cat.get(id).is_some() {
        return Err(SeedError::IdTaken { index, id });
    }
    let live = item.status != PublishingStatus::Deleted;
    if live && let Some((lang, name)) = cat.name_taken(item.kind, Some(org), &item.names, None) {
        return Err(SeedError::NameTaken { index, lang, name });
    }
    let identity = |value: &Option<String>,
                    find: &dyn Fn(&str, &str) -> Option<Uuid>|
     -> Result<Option<(String, String)>, SeedError> {
        let Some(v) = value else { return Ok(None) };
        let owner = item.owner.clone().ok_or(SeedError::NoOwner { index })?;
        if find(&owner, v).is_some() {
            return Err(SeedError::IdentityTaken {
                index,
                id: v.clone(),
            });
        }
        Ok(Some((owner, v.clone())))
    };
    if let Some(channel) = item.connections.iter().find(|c| {
        !cat.get(**c)
            .is_some_and(|e| matches!(e.kind, SimKind::Channel(_)))
    }) {
        return Err(SeedError::NoChannel {
            index,
            channel: *channel,
        });
    }
    let scope = item.kind.scope();
    let source = identity(&item.source_id, &|o, v| cat.by_source(o, scope, v))?;
    let external = identity(&item.external_id, &|o, v| cat.by_external(o, scope, v))?;
    let mut body = match &item.body {
        Some(Value::Object(o)) => Value::Object(o.clone()),
        _ => json!({}),
    };
    body[names_key(item.kind)] = item
        .names
        .iter()
        .map(|(lang, name)| json!({"language": lang, "type": "Name", "value": name}))
        .collect();
    body[owner_key(item.kind)] = json!(org);
    if let SimKind::Channel(t) = item.kind {
        body["serviceChannelType"] = json!(match t {
            ChannelType::EService => "EChannel",
            other => other.as_str(),
        });
    }
    let modified = match &item.modified {
        None => cat.now(),
        Some(value) => parse_time(value).ok_or_else(|| SeedError::BadModified {
            index,
            value: value.clone(),
        })?,
    };
    let archived = item.status == PublishingStatus::Deleted;
    let area_type = body
        .get("areaType")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| (item.kind == SimKind::Organization).then(|| "Nationwide".to_owned()));
    Ok(Entity {
        kind: item.kind,
        id,
        org: Some(org),
        source,
        external,
        status: item.status,
        versions: 1,
        languages: item.names.keys().cloned().collect(),
        names: item.names.clone(),
        area_type,
        visible_for_all: true,
        body,
        api: "seed",
        connections: if item.kind == SimKind::Service {
            item.connections.clone()
        } else {
            Vec::new()
        },
        locked_by: None,
        modified,
        modified_by: item
            .modified_by
            .clone()
            .unwrap_or_else(|| "seed".to_owned()),
        archived_at: archived.then_some(modified),
        archiving_type: archived.then_some(ArchivingType::Manual),
    })
}

/// Adds the items in order (an organisation before what it owns), all or nothing.
/// Answers the PTV id of each.
pub(crate) fn seed(shared: &Shared, items: &[SeedItem]) -> Result<Vec<Uuid>, SeedError> {
    let mut cat = shared.catalogue();
    // Check everything against a scratch copy first, so a bad item leaves nothing half done.
    let mut scratch = cat.clone();
    let mut entities = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let e = entity_of(item, index, &scratch)?;
        scratch.put(e.clone());
        entities.push(e);
    }
    *cat = scratch;
    Ok(entities.iter().map(|e| e.id).collect())
}

/// A seed file: a JSON array of items, or `{"items": [...]}`.
pub fn parse_seed(json: &str) -> Result<Vec<SeedItem>, serde_json::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum File {
        Bare(Vec<SeedItem>),
        Wrapped { items: Vec<SeedItem> },
    }
    Ok(match serde_json::from_str::<File>(json)? {
        File::Bare(items) | File::Wrapped { items } => items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_files_parse_bare_or_wrapped() {
        let org = Uuid::nil();
        let one = json!({"kind": "Service", "organization": org, "names": {"fi": "Kirjasto"}});
        let bare = parse_seed(&json!([one]).to_string()).unwrap();
        let wrapped = parse_seed(&json!({"items": [one]}).to_string()).unwrap();
        assert_eq!(bare, wrapped);
        assert_eq!(bare[0].status, PublishingStatus::Published);
        let channel = json!([{"kind": {"Channel": "Phone"}, "organization": org,
            "names": {"fi": "Neuvonta"}, "status": "Draft"}]);
        let parsed = parse_seed(&channel.to_string()).unwrap();
        assert_eq!(parsed[0].kind, SimKind::Channel(ChannelType::Phone));
        assert!(parse_seed(r#"[{"kind": "Service", "organization": "x"}]"#).is_err());
    }
}

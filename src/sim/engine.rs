//! Version-neutral write rules: identity (reference §4), lifecycle (§5), rights and
//! locks (§2.4, §5), and the catalogue-wide checks of §12 (unique names, the
//! organisation's languages, area width, archive order). The v11 and v12 front ends
//! validate and merge bodies, then hand a [`Change`] to these functions and map each
//! [`Refusal`] to their own error shape.

use super::auth::Caller;
use super::store::{Catalogue, Entity, PublishingStatus, Scope, SimKind};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The state an accepted write leaves.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub kind: SimKind,
    pub org: Option<Uuid>,
    pub names: BTreeMap<String, String>,
    pub languages: Vec<String>,
    /// In v11 vocabulary: `Nationwide`, `NationwideExceptAlandIslands` or `LimitedType`.
    pub area_type: Option<String>,
    pub visible_for_all: bool,
    pub body: Value,
    pub status: PublishingStatus,
    /// Services: the new connection set, when the write sets one.
    pub connections: Option<Vec<Uuid>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    SourceExists(String),
    SourceTaken { source: String, holder: Uuid },
    ExternalExists(String),
    SourceNotFound(String),
    NotFound(Uuid),
    NoRights,
    OrganizationNotAllowed,
    Locked(String),
    Status(String),
    NameTaken { language: String, name: String },
    OrganizationLanguage(String),
    AreaTooWide(String),
    ArchiveBlocked(Uuid),
    ParentNotFound,
}

/// What a requested publishing status does to the current one (reference §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    Write,
    Archive,
    Restore,
    /// `Deleted` on an archived item.
    Nothing,
}

pub(crate) fn transition(
    current: PublishingStatus,
    requested: PublishingStatus,
) -> Result<Transition, Refusal> {
    use PublishingStatus::{Deleted, Draft, Modified, Published};
    let refuse = || {
        Err(Refusal::Status(format!(
            "You cannot set Publishing status as {} when current one is {}.",
            requested.as_str(),
            current.as_str()
        )))
    };
    match (current, requested) {
        (Modified, _) => Err(Refusal::Status(
            "You cannot update entity with status Modified.".to_owned(),
        )),
        (Draft, Draft | Published) | (Published, Published | Modified) => Ok(Transition::Write),
        (Published, Deleted) => Ok(Transition::Archive),
        (Deleted, Published | Modified) => Ok(Transition::Restore),
        (Deleted, Deleted) => Ok(Transition::Nothing),
        _ => refuse(),
    }
}

/// Finds the target of a write by sourceId in the caller's namespace.
pub(crate) fn by_source(
    cat: &Catalogue,
    caller: &Caller,
    scope: Scope,
    source_id: &str,
) -> Result<Uuid, Refusal> {
    cat.by_source(&caller.email, scope, source_id)
        .ok_or_else(|| Refusal::SourceNotFound(source_id.to_owned()))
}

/// The entity a caller may write: it exists, is of an accepted kind, belongs to the
/// caller's organisation tree and is not open in the UI editor.
pub(crate) fn writable<'c>(
    cat: &'c Catalogue,
    caller: &Caller,
    id: Uuid,
    kind_ok: impl Fn(SimKind) -> bool,
) -> Result<&'c Entity, Refusal> {
    let entity = cat
        .get(id)
        .filter(|e| kind_ok(e.kind))
        .ok_or(Refusal::NotFound(id))?;
    let owner = match entity.kind {
        SimKind::Organization => Some(entity.id),
        _ => entity.org,
    };
    if !owner.is_some_and(|org| cat.is_within(org, caller.organization_id)) {
        return Err(Refusal::NoRights);
    }
    if let Some(by) = &entity.locked_by {
        return Err(Refusal::Locked(by.clone()));
    }
    Ok(entity)
}

fn area_rank(area: Option<&str>) -> u8 {
    match area {
        Some("LimitedType") => 0,
        Some("NationwideExceptAlandIslands") => 1,
        _ => 2,
    }
}

/// The catalogue-wide rules a resulting state must meet.
fn check(cat: &Catalogue, change: &Change, except: Option<Uuid>) -> Result<(), Refusal> {
    if change.status == PublishingStatus::Deleted {
        return Ok(());
    }
    if change.kind != SimKind::Organization
        && let Some((language, name)) =
            cat.name_taken(change.kind, change.org, &change.names, except)
    {
        return Err(Refusal::NameTaken { language, name });
    }
    let org = change.org.and_then(|id| cat.get(id));
    if change.status == PublishingStatus::Published
        && change.kind != SimKind::Organization
        && let Some(org) = org
        && let Some(missing) = change.languages.iter().find(|l| !org.languages.contains(l))
    {
        return Err(Refusal::OrganizationLanguage(missing.clone()));
    }
    if change.kind == SimKind::Service
        && let Some(org) = org
        && area_rank(change.area_type.as_deref()) > area_rank(org.area_type.as_deref())
    {
        return Err(Refusal::AreaTooWide(
            change.area_type.clone().unwrap_or_default(),
        ));
    }
    Ok(())
}

/// Creates an entity; answers its new id.
pub(crate) fn create(
    cat: &mut Catalogue,
    caller: &Caller,
    change: Change,
    source_id: Option<String>,
    external_id: Option<String>,
    api: &'static str,
) -> Result<Uuid, Refusal> {
    let scope = change.kind.scope();
    if let Some(sid) = &source_id
        && cat.by_source(&caller.email, scope, sid).is_some()
    {
        return Err(Refusal::SourceExists(sid.clone()));
    }
    if let Some(xid) = &external_id
        && cat.by_external(&caller.email, scope, xid).is_some()
    {
        return Err(Refusal::ExternalExists(xid.clone()));
    }
    match change.org {
        Some(org)
            if cat
                .get(org)
                .is_some_and(|o| o.kind == SimKind::Organization) =>
        {
            if !cat.is_within(org, caller.organization_id) {
                return Err(Refusal::OrganizationNotAllowed);
            }
        }
        _ if change.kind == SimKind::Organization => return Err(Refusal::ParentNotFound),
        _ => return Err(Refusal::OrganizationNotAllowed),
    }
    check(cat, &change, None)?;
    let id = Uuid::new_v4();
    let now = cat.now();
    cat.put(Entity {
        kind: change.kind,
        id,
        org: change.org,
        source: source_id.map(|s| (caller.email.clone(), s)),
        external: external_id.map(|x| (caller.email.clone(), x)),
        status: change.status,
        versions: 1,
        names: change.names,
        languages: change.languages,
        area_type: change.area_type,
        visible_for_all: change.visible_for_all,
        body: change.body,
        api,
        connections: change.connections.unwrap_or_default(),
        locked_by: None,
        modified: now,
        modified_by: caller.email.clone(),
        archived_at: None,
        archiving_type: None,
    });
    Ok(id)
}

/// Applies an update that [`transition`] allowed. A sourceId in the body sets or moves
/// the caller's mapping, except when archiving (reference §4).
pub(crate) fn update(
    cat: &mut Catalogue,
    caller: &Caller,
    id: Uuid,
    change: Change,
    transition: Transition,
    source_id: Option<String>,
    api: &'static str,
) -> Result<(), Refusal> {
    let mut entity = cat.get(id).ok_or(Refusal::NotFound(id))?.clone();
    if transition == Transition::Nothing {
        return Ok(());
    }
    if transition == Transition::Archive
        && entity.kind == SimKind::Organization
        && cat.children(id).any(Entity::is_live)
    {
        return Err(Refusal::ArchiveBlocked(id));
    }
    let source_id = source_id.filter(|_| transition != Transition::Archive);
    if let Some(sid) = &source_id {
        match cat.by_source(&caller.email, entity.kind.scope(), sid) {
            Some(holder) if holder != id => {
                return Err(Refusal::SourceTaken {
                    source: sid.clone(),
                    holder,
                });
            }
            _ => {}
        }
    }
    check(cat, &change, Some(id))?;
    if let Some(sid) = source_id {
        entity.source = Some((caller.email.clone(), sid));
    }
    entity.status = change.status;
    entity.names = change.names;
    entity.languages = change.languages;
    entity.area_type = change.area_type;
    entity.visible_for_all = change.visible_for_all;
    entity.body = change.body;
    entity.versions += 1;
    entity.api = api;
    if let Some(connections) = change.connections {
        entity.connections = connections;
    }
    let now = cat.now();
    entity.saved(now, &caller.email);
    match transition {
        Transition::Archive => entity.archive_manually(now),
        Transition::Restore => {
            entity.archived_at = None;
            entity.archiving_type = None;
        }
        Transition::Write | Transition::Nothing => {}
    }
    cat.put(entity);
    Ok(())
}

/// A channel a service of `service_org` may connect to: it exists, is live, and is
/// either the same organisation's or visible for all (reference §3.4).
pub(crate) fn connectable(
    cat: &Catalogue,
    service_org: Option<Uuid>,
    channel: Uuid,
) -> Result<(), String> {
    match cat.get(channel) {
        Some(e) if matches!(e.kind, SimKind::Channel(_)) && e.is_live() => {
            if e.visible_for_all || e.org == service_org {
                Ok(())
            } else {
                Err(format!(
                    "Service channel '{channel}' is restricted only for defined organization."
                ))
            }
        }
        _ => Err(format!("Service channel with id '{channel}' not found.")),
    }
}

/// Replaces a service's connection set. Connection writes leave versions and the
/// modified date alone, as PTV does (reference §3.4): they do not reset the 18-month
/// automatic archiving clock either, so a "touch" must save the item itself.
pub(crate) fn set_connections(cat: &mut Catalogue, service: Uuid, channels: Vec<Uuid>) {
    if let Some(e) = cat.get_mut_unindexed(service) {
        e.connections = channels;
    }
}

//! The v11 write pipeline shared by organisations, services and channels: parse,
//! check `publishingStatus` and identity, merge a PUT onto the stored state (reference
//! §6), validate the result, then let the engine apply it.

use super::check::{Check, camel_keys, is_source_id, parse_guid};
use super::extract::{Ctx, Extract};
use super::{channel, organization, service};
use crate::model::ChannelType;
use crate::sim::auth::{Bearer, Caller};
use crate::sim::engine::{self, Change, Refusal, Transition};
use crate::sim::error::ApiError;
use crate::sim::state::Shared;
use crate::sim::store::{Catalogue, Entity, PublishingStatus, SimKind, rfc3339};
use serde_json::{Map, Value, json};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Organization,
    Service,
    Channel(ChannelType),
}

impl Family {
    pub fn kind(self) -> SimKind {
        match self {
            Family::Organization => SimKind::Organization,
            Family::Service => SimKind::Service,
            Family::Channel(t) => SimKind::Channel(t),
        }
    }

    fn flags(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Family::Organization => organization::FLAGS,
            Family::Service => service::FLAGS,
            Family::Channel(_) => channel::FLAGS,
        }
    }

    fn validate(self, check: &mut Check, body: &Value, ctx: &Ctx) -> Extract {
        match self {
            Family::Organization => organization::validate(check, body, ctx),
            Family::Service => service::validate(check, body, ctx),
            Family::Channel(t) => channel::validate(check, body, ctx, t),
        }
    }

    fn org_key(self) -> &'static str {
        match self {
            Family::Organization => "ParentOrganizationId",
            Family::Service => "MainResponsibleOrganization",
            Family::Channel(_) => "OrganizationId",
        }
    }

    fn names_key(self) -> &'static str {
        match self {
            Family::Organization => "OrganizationNames",
            Family::Service => "ServiceNames",
            Family::Channel(_) => "ServiceChannelNames",
        }
    }
}

pub(crate) enum Target {
    Create,
    Id(String),
    Source(String),
}

/// Maps an engine refusal to PTV's v11 answer (reference §4, §5, §8).
pub(crate) fn refusal(family: Family, r: Refusal) -> ApiError {
    let label = family.kind().label();
    match r {
        Refusal::SourceExists(s) | Refusal::ExternalExists(s) => ApiError::Server(format!(
            "The external source '{s}' already exists. Please use update endpoint!"
        )),
        Refusal::SourceTaken { source, holder } => ApiError::Server(format!(
            "The external source '{source}' already exists for entity '{holder}'. Please use another sourceId!"
        )),
        Refusal::SourceNotFound(s) => {
            ApiError::NotFound(format!("{label} with source id '{s}' not found."))
        }
        Refusal::NotFound(id) => ApiError::NotFound(format!("{label} with id '{id}' not found.")),
        Refusal::NoRights => ApiError::NotFound(match family {
            Family::Channel(_) => "User has no rights to update or create this entity!".to_owned(),
            _ => "User has no rights to update this entity!".to_owned(),
        }),
        Refusal::OrganizationNotAllowed | Refusal::ParentNotFound => ApiError::field(
            family.org_key(),
            "Record not found or user does not have rights for it!",
        ),
        Refusal::Locked(by) => ApiError::NotFound(format!("{label} is locked by '{by}'.")),
        Refusal::Status(message) => ApiError::field("PublishingStatus", message),
        Refusal::NameTaken { language, name } => ApiError::field(
            family.names_key(),
            format!(
                "Value '{name}' of language code '{language}' already exists within organization. The name must be unique."
            ),
        ),
        Refusal::OrganizationLanguage(language) => ApiError::field(
            family.org_key(),
            format!(
                "Organisation language version '{language}' missing! Add the language version to the organisation first."
            ),
        ),
        Refusal::AreaTooWide(area) => ApiError::field(
            "AreaType",
            format!("Area information type {area} is too wide."),
        ),
        Refusal::ArchiveBlocked(id) => ApiError::Server(format!(
            "You cannot delete organization {id}. Services or service channels attached!"
        )),
    }
}

pub(crate) fn parse_body(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::field(
            "RequestIsNull",
            "The request must contain data.",
        ));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::field("Model", format!("Invalid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::field(
            "RequestIsNull",
            "The request must contain data.",
        ));
    }
    Ok(camel_keys(value))
}

/// A PUT body merged onto the stored one: omitted fields and empty collections leave
/// the stored value; sent values replace it whole; `deleteAll…` flags clear.
fn merge(stored: &Value, request: &Value, flags: &[(&str, &str)]) -> Value {
    let mut merged = stored.as_object().cloned().unwrap_or_default();
    let request = request.as_object().cloned().unwrap_or_default();
    for (key, value) in &request {
        if flags.iter().any(|(flag, _)| flag == key) || key == "sourceId" || value.is_null() {
            continue;
        }
        if value.as_array().is_some_and(Vec::is_empty) && merged.contains_key(key) {
            continue;
        }
        merged.insert(key.clone(), value.clone());
    }
    for (flag, field) in flags {
        if request.get(*flag).and_then(Value::as_bool) == Some(true) {
            merged.remove(*field);
        }
    }
    Value::Object(merged)
}

fn strip(request: &Value, flags: &[(&str, &str)]) -> Value {
    let mut map: Map<String, Value> = request.as_object().cloned().unwrap_or_default();
    map.remove("sourceId");
    for (flag, _) in flags {
        map.remove(*flag);
    }
    Value::Object(map)
}

/// The v11 out-shape of an entity: the stored state plus identity and status;
/// `sourceId` only for the user who set it (reference §2.3).
pub(crate) fn render(cat: &Catalogue, entity: &Entity, caller: Option<&Caller>) -> Value {
    let mut body = entity.body.clone();
    if !body.is_object() {
        body = json!({});
    }
    body["id"] = json!(entity.id);
    body["publishingStatus"] = json!(entity.status.as_str());
    body["modified"] = json!(rfc3339(entity.modified));
    body["modifiedBy"] = json!(entity.modified_by);
    body["sourceId"] = match (&entity.source, caller) {
        (Some((owner, sid)), Some(c)) if owner.eq_ignore_ascii_case(&c.email) => json!(sid),
        _ => Value::Null,
    };
    match entity.kind {
        SimKind::Service => {
            body["serviceChannels"] = if entity.connections.is_empty() {
                Value::Null
            } else {
                entity
                    .connections
                    .iter()
                    .map(|ch| {
                        let name = cat.get(*ch).and_then(|c| c.names.values().next().cloned());
                        json!({"serviceChannel": {"id": ch, "name": name}})
                    })
                    .collect()
            };
        }
        SimKind::Channel(t) => {
            body["serviceChannelType"] = json!(match t {
                ChannelType::EService => "EChannel",
                other => other.as_str(),
            });
        }
        SimKind::Organization => {}
    }
    body
}

/// Checks the channels a service POST connects to (or the services a channel POST
/// connects to) before anything is created.
fn connection_targets(
    cat: &Catalogue,
    caller: &Caller,
    family: Family,
    org: Option<Uuid>,
    ids: &[Uuid],
) -> Result<(), ApiError> {
    let mut check = Check::default();
    for (i, id) in ids.iter().enumerate() {
        let problem = match family {
            Family::Service => engine::connectable(cat, org, *id).err(),
            _ => match cat.get(*id) {
                Some(s)
                    if s.kind == SimKind::Service
                        && s.org
                            .is_some_and(|o| cat.is_within(o, caller.organization_id)) =>
                {
                    None
                }
                _ => Some(format!("Service with id '{id}' not found.")),
            },
        };
        if let Some(message) = problem {
            let key = if family == Family::Service {
                "ServiceChannels"
            } else {
                "Services"
            };
            check.add(format!("{key}[{i}]"), message);
        }
    }
    check.finish()
}

/// One v11 write, start to end, under the catalogue lock.
pub(crate) fn write(
    shared: &Shared,
    bearer: &Bearer,
    family: Family,
    target: &Target,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let caller = bearer.caller().ok_or(ApiError::Unauthorized)?.clone();
    let path_id = match target {
        Target::Id(raw) => Some(parse_guid(raw).ok_or_else(|| ApiError::bad_guid("id"))?),
        Target::Source(raw) if !is_source_id(raw) => {
            return Err(ApiError::field(
                "sourceId",
                "The field sourceId must match the regular expression '^[A-Za-z0-9-.]*$'.",
            ));
        }
        _ => None,
    };
    let mut request = parse_body(bytes)?;
    if family == Family::Organization {
        organization::truncate_names(&mut request);
    }
    let post = matches!(target, Target::Create);
    let mut check = Check::default();
    let allowed: &[&str] = if post {
        &["Draft", "Published"]
    } else {
        &["Draft", "Published", "Deleted", "Modified"]
    };
    let status = check
        .enumeration(
            &request,
            "publishingStatus",
            "publishingStatus",
            allowed,
            true,
        )
        .and_then(PublishingStatus::parse);
    let source_id = check
        .string(&request, "sourceId", "sourceId")
        .map(str::to_owned);
    if let Some(sid) = &source_id {
        check.pattern("sourceId", sid, is_source_id(sid), "^[A-Za-z0-9-.]*$");
    }
    let Some(status) = status else {
        return Err(ApiError::Invalid(check.errors));
    };

    let mut cat = shared.catalogue();
    let (id, applied) = if post {
        (
            create(
                &mut cat, &caller, family, &request, check, status, source_id,
            )?,
            true,
        )
    } else {
        update(
            &mut cat, &caller, family, target, path_id, &request, check, status, source_id,
        )?
    };
    let entity = cat.get(id).expect("just written");
    let answer = render(&cat, entity, Some(&caller));
    drop(cat);
    if applied {
        shared.write_applied();
    }
    Ok(answer)
}

/// A POST: validate the body, check connection targets, create.
fn create(
    cat: &mut Catalogue,
    caller: &Caller,
    family: Family,
    request: &Value,
    mut check: Check,
    status: PublishingStatus,
    source_id: Option<String>,
) -> Result<Uuid, ApiError> {
    let post = true;
    let extract = family.validate(&mut check, request, &Ctx { post, status });
    check.finish()?;
    let connections = extract.connections.clone().unwrap_or_default();
    connection_targets(cat, caller, family, extract.org, &connections)?;
    let change = Change {
        kind: family.kind(),
        org: extract.org,
        names: extract.names,
        languages: extract.languages,
        area_type: extract.area_type,
        visible_for_all: extract.visible_for_all,
        body: strip(request, family.flags()),
        status,
        connections: (family == Family::Service).then_some(connections.clone()),
    };
    let id = engine::create(cat, caller, change, source_id, None, "v11")
        .map_err(|r| refusal(family, r))?;
    if matches!(family, Family::Channel(_)) {
        for service in connections {
            if let Some(s) = cat.get(service) {
                let mut set = s.connections.clone();
                if !set.contains(&id) {
                    set.push(id);
                }
                engine::set_connections(cat, service, set);
            }
        }
    }
    Ok(id)
}

/// A PUT: resolve the target, check rights, lock and status, merge, validate, update.
/// Answers the id, and whether anything changed.
#[allow(clippy::too_many_arguments)]
fn update(
    cat: &mut Catalogue,
    caller: &Caller,
    family: Family,
    target: &Target,
    path_id: Option<Uuid>,
    request: &Value,
    mut check: Check,
    status: PublishingStatus,
    source_id: Option<String>,
) -> Result<(Uuid, bool), ApiError> {
    let post = false;
    let id = match (target, path_id) {
        (_, Some(id)) => id,
        (Target::Source(sid), _) => engine::by_source(cat, caller, family.kind().scope(), sid)
            .map_err(|r| refusal(family, r))?,
        _ => unreachable!("a PUT has a GUID or a sourceId"),
    };
    let current = engine::writable(cat, caller, id, |k| k == family.kind())
        .map_err(|r| refusal(family, r))?
        .clone();
    let transition = engine::transition(current.status, status).map_err(|r| refusal(family, r))?;
    if transition == Transition::Nothing {
        return Ok((id, false));
    }
    let mut merged = merge(&current.body, request, family.flags());
    merged["publishingStatus"] = json!(status.as_str());
    let extract = family.validate(&mut check, &merged, &Ctx { post, status });
    check.finish()?;
    let change = Change {
        kind: current.kind,
        org: current.org,
        names: extract.names,
        languages: extract.languages,
        area_type: extract.area_type,
        visible_for_all: extract.visible_for_all,
        body: merged,
        status,
        connections: None,
    };
    engine::update(cat, caller, id, change, transition, source_id, "v11")
        .map_err(|r| refusal(family, r))?;
    Ok((id, true))
}

//! v11 reads: anonymous and published-only, except the restricted `active` reads
//! (reference §2.3, §3, §9.1).

use super::check::parse_guid;
use super::write::render;
use crate::sim::auth::{Bearer, Caller};
use crate::sim::error::ApiError;
use crate::sim::state::Shared;
use crate::sim::store::{PublishingStatus, SimKind};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Full-entity lists page by 100 (reference §9.1).
pub(crate) const PAGE_SIZE: usize = 100;

/// The caller of an anonymous read. A bearer that is not even a JWT breaks PTV's
/// pipeline before authorisation, so it answers 500 (reference §2.3).
pub(crate) fn reader(bearer: &Bearer) -> Result<Option<Caller>, ApiError> {
    match bearer {
        Bearer::Malformed => Err(ApiError::Server(format!(
            "An unexpected error occurred. Trace id: {}",
            uuid::Uuid::new_v4().simple()
        ))),
        Bearer::Active(c) => Ok(Some(c.clone())),
        Bearer::Absent | Bearer::Inactive => Ok(None),
    }
}

fn visible(status: PublishingStatus, active: bool) -> bool {
    match status {
        PublishingStatus::Published | PublishingStatus::Modified => true,
        PublishingStatus::Draft => active,
        PublishingStatus::Deleted => false,
    }
}

/// GET by id. `active` reads need a token and also show drafts.
pub(crate) fn one(
    shared: &Shared,
    bearer: &Bearer,
    raw_id: &str,
    kind_ok: impl Fn(SimKind) -> bool,
    label: &str,
    active: bool,
) -> Result<Value, ApiError> {
    let caller = reader(bearer)?;
    if active && caller.is_none() {
        return Err(ApiError::Unauthorized);
    }
    let id = parse_guid(raw_id).ok_or_else(|| ApiError::bad_guid("id"))?;
    let cat = shared.catalogue();
    match cat.get(id) {
        Some(e) if kind_ok(e.kind) && visible(e.status, active) => {
            Ok(render(&cat, e, caller.as_ref()))
        }
        _ => Err(ApiError::NotFound(format!(
            "{label} with id '{id}' not found."
        ))),
    }
}

/// `list/organization?organizationId=&page=`: published full entities, 100 a page.
pub(crate) fn by_organization(
    shared: &Shared,
    bearer: &Bearer,
    query: &HashMap<String, String>,
    kind_ok: impl Fn(SimKind) -> bool,
) -> Result<Value, ApiError> {
    let caller = reader(bearer)?;
    let query: HashMap<String, &String> =
        query.iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
    let org = query
        .get("organizationid")
        .and_then(|s| parse_guid(s))
        .ok_or_else(|| ApiError::bad_guid("organizationId"))?;
    let page: i64 = match query.get("page") {
        None => 1,
        Some(p) => p
            .parse()
            .map_err(|_| ApiError::field("page", format!("The value '{p}' is not valid.")))?,
    };
    if page < 0 {
        return Err(ApiError::field(
            "page",
            "The page number cannot be negative value.",
        ));
    }
    let page = page.max(1) as usize;
    let cat = shared.catalogue();
    let items: Vec<_> = cat
        .children(org)
        .filter(|e| kind_ok(e.kind) && visible(e.status, false))
        .collect();
    let page_count = items.len().div_ceil(PAGE_SIZE);
    let list: Vec<Value> = items
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|e| render(&cat, e, caller.as_ref()))
        .collect();
    Ok(json!({
        "pageNumber": page,
        "pageSize": PAGE_SIZE,
        "pageCount": page_count,
        "itemList": if list.is_empty() { Value::Null } else { Value::Array(list) },
    }))
}

/// `list?guids=`: published full entities by id, at most 100 ids; unknown ids are left out.
pub(crate) fn by_guids(
    shared: &Shared,
    bearer: &Bearer,
    query: &HashMap<String, String>,
    kind_ok: impl Fn(SimKind) -> bool,
) -> Result<Value, ApiError> {
    let caller = reader(bearer)?;
    let raw = query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("guids"))
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        ids.push(parse_guid(part).ok_or_else(|| ApiError::bad_guid("guids"))?);
    }
    if ids.is_empty() {
        return Err(ApiError::field("guids", "The guids field is required."));
    }
    if ids.len() > PAGE_SIZE {
        return Err(ApiError::field(
            "guids",
            format!("Maximum number of guids is {PAGE_SIZE}."),
        ));
    }
    let cat = shared.catalogue();
    let list: Vec<Value> = ids
        .iter()
        .filter_map(|id| cat.get(*id))
        .filter(|e| kind_ok(e.kind) && visible(e.status, false))
        .map(|e| render(&cat, e, caller.as_ref()))
        .collect();
    Ok(Value::Array(list))
}

/// `Organization/Hierarchy/{id}`: the organisation and its published sub-organisations,
/// nested (anonymous, published only).
pub(crate) fn hierarchy(shared: &Shared, bearer: &Bearer, raw_id: &str) -> Result<Value, ApiError> {
    reader(bearer)?;
    let id = parse_guid(raw_id).ok_or_else(|| ApiError::bad_guid("id"))?;
    let cat = shared.catalogue();
    let node = |e: &crate::sim::store::Entity| json!({"id": e.id, "name": e.names.get("fi").or_else(|| e.names.values().next())});
    match cat.get(id) {
        Some(root) if root.kind == SimKind::Organization && visible(root.status, false) => {
            fn subtree(
                cat: &crate::sim::store::Catalogue,
                id: uuid::Uuid,
                node: &dyn Fn(&crate::sim::store::Entity) -> Value,
                depth: usize,
            ) -> Vec<Value> {
                if depth > 16 {
                    return Vec::new();
                }
                cat.children(id)
                    .filter(|e| e.kind == SimKind::Organization && visible(e.status, false))
                    .map(|e| {
                        let mut n = node(e);
                        n["subOrganizations"] = Value::Array(subtree(cat, e.id, node, depth + 1));
                        n
                    })
                    .collect()
            }
            let mut out = node(root);
            out["subOrganizations"] = Value::Array(subtree(&cat, id, &node, 0));
            Ok(out)
        }
        _ => Err(ApiError::NotFound(format!(
            "Organization with id '{id}' not found."
        ))),
    }
}

/// Take at most this many per `archived/list` call (reference §9.1).
pub(crate) const ARCHIVED_TAKE: usize = 100;

/// `Service/archived/list` and `ServiceChannel/archived/list` with `organizationId`,
/// `archivingType`, `minArchivingDate`, `maxArchivingDate`, `skip` and `take`.
///
/// The reference names the model (`V11VmOpenApiGetArchivedServices`) but not its
/// fields, so the shape here is an assumption: `{"itemList": [{"id", "sourceId",
/// "name", "organizationId", "archivingType", "archivedAt"}], "skip", "take",
/// "totalCount"}`, `sourceId` shown only to the API user that set it as in other
/// reads, `itemList` null when empty as in the paged lists.
pub(crate) fn archived_list(
    shared: &Shared,
    bearer: &Bearer,
    query: &HashMap<String, String>,
    kind_ok: impl Fn(SimKind) -> bool,
) -> Result<Value, ApiError> {
    use crate::sim::archived::{ArchivedQuery, archived};
    use crate::sim::store::{ArchivingType, rfc3339};
    let caller = reader(bearer)?;
    let query: HashMap<String, &String> =
        query.iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
    let organization = match query.get("organizationid") {
        Some(raw) => Some(parse_guid(raw).ok_or_else(|| ApiError::bad_guid("organizationId"))?),
        None => None,
    };
    let archiving_type = match query.get("archivingtype") {
        Some(raw) => Some(ArchivingType::parse(raw).ok_or_else(|| {
            ApiError::field(
                "archivingType",
                format!("The value '{raw}' is not valid. Use Manual or Automatic."),
            )
        })?),
        None => None,
    };
    let date = |key: &str, name: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
        match query.get(key) {
            None => Ok(None),
            Some(raw) => crate::sim::catalogue::parse_time(raw)
                .map(Some)
                .ok_or_else(|| {
                    ApiError::field(name, format!("The value '{raw}' is not valid for {name}."))
                }),
        }
    };
    let number = |key: &str, name: &str, default: usize| -> Result<usize, ApiError> {
        match query.get(key) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<usize>()
                .map_err(|_| ApiError::field(name, format!("The value '{raw}' is not valid."))),
        }
    };
    let q = ArchivedQuery {
        organization,
        archiving_type,
        from: date("minarchivingdate", "minArchivingDate")?,
        to: date("maxarchivingdate", "maxArchivingDate")?,
    };
    let skip = number("skip", "skip", 0)?;
    let take = number("take", "take", ARCHIVED_TAKE)?;
    if !(1..=ARCHIVED_TAKE).contains(&take) {
        return Err(ApiError::field(
            "take",
            format!("The field take must be between 1 and {ARCHIVED_TAKE}."),
        ));
    }
    let cat = shared.catalogue();
    let items = archived(&cat, kind_ok, &q);
    let list: Vec<Value> = items
        .iter()
        .skip(skip)
        .take(take)
        .map(|(e, at)| {
            let source_id = match (&e.source, &caller) {
                (Some((owner, sid)), Some(c)) if owner.eq_ignore_ascii_case(&c.email) => {
                    json!(sid)
                }
                _ => Value::Null,
            };
            json!({
                "id": e.id,
                "sourceId": source_id,
                "name": e.names.get("fi").or_else(|| e.names.values().next()),
                "organizationId": e.org,
                "archivingType": e.archiving_type.unwrap_or(ArchivingType::Manual).as_str(),
                "archivedAt": rfc3339(*at),
            })
        })
        .collect();
    Ok(json!({
        "itemList": if list.is_empty() { Value::Null } else { Value::Array(list) },
        "skip": skip,
        "take": take,
        "totalCount": items.len(),
    }))
}

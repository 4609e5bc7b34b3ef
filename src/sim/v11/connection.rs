//! v11 connection writes (reference §3.4, rule 17 of §12): PUT replaces a service's
//! whole set, POST adds single connections and answers a message per item.

use super::check::{Check, camel_keys, is_source_id, parse_guid};
use super::write::{Family, parse_body, refusal, render};
use crate::sim::auth::{Bearer, Caller};
use crate::sim::engine;
use crate::sim::error::ApiError;
use crate::sim::state::Shared;
use crate::sim::store::{Catalogue, PublishingStatus, Scope, SimKind};
use serde_json::Value;
use uuid::Uuid;

pub(crate) enum ServiceRef {
    Id(String),
    Source(String),
}

fn connectable_service(cat: &Catalogue, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    let service = engine::writable(cat, caller, id, |k| k == SimKind::Service)
        .map_err(|r| refusal(Family::Service, r))?;
    if matches!(
        service.status,
        PublishingStatus::Draft | PublishingStatus::Published
    ) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "Service with id '{id}' not found."
        )))
    }
}

fn relation_details(check: &mut Check, item: &Value, path: &str) {
    check.enumeration(
        item,
        "serviceChargeType",
        &format!("{path}.serviceChargeType"),
        &["Chargeable", "FreeOfCharge"],
        false,
    );
    for (dpath, d) in check.objects(item, "description", &format!("{path}.description")) {
        check.enumeration(
            d,
            "type",
            &format!("{dpath}.type"),
            &["Description", "ChargeTypeAdditionalInfo"],
            true,
        );
        if let Some(l) = check.required_string(d, "language", &format!("{dpath}.language")) {
            check.language(&format!("{dpath}.language"), l);
        }
        if let Some(v) = check.required_string(d, "value", &format!("{dpath}.value")) {
            check.max_len(&format!("{dpath}.value"), v, 500, "Description");
        }
    }
    super::fields::service_hours(check, item, "serviceHours");
}

/// `PUT /Connection/serviceId/{id}` and `/Connection/serviceSourceId/{sourceId}`.
pub(crate) fn replace(
    shared: &Shared,
    bearer: &Bearer,
    service: &ServiceRef,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let caller = bearer.caller().ok_or(ApiError::Unauthorized)?.clone();
    let by_source = matches!(service, ServiceRef::Source(_));
    let path_id = match service {
        ServiceRef::Id(raw) => {
            Some(parse_guid(raw).ok_or_else(|| ApiError::bad_guid("serviceId"))?)
        }
        ServiceRef::Source(raw) if !is_source_id(raw) => {
            return Err(ApiError::field(
                "serviceSourceId",
                "The field serviceSourceId must match the regular expression '^[A-Za-z0-9-.]*$'.",
            ));
        }
        ServiceRef::Source(_) => None,
    };
    let body = parse_body(bytes)?;
    let mut check = Check::default();
    let delete_all = check
        .boolean(
            &body,
            "deleteAllChannelRelations",
            "deleteAllChannelRelations",
        )
        .unwrap_or(false);
    let relations = check.objects(&body, "channelRelations", "channelRelations");
    let channel_key = if by_source {
        "serviceChannelSourceId"
    } else {
        "serviceChannelId"
    };
    let mut refs = Vec::new();
    for (path, item) in &relations {
        relation_details(&mut check, item, path);
        let field = format!("{path}.{channel_key}");
        if by_source {
            if let Some(sid) = check.required_string(item, channel_key, &field) {
                refs.push(sid.to_owned());
            }
        } else if let Some(id) = check.guid(item, channel_key, &field) {
            refs.push(id.to_string());
        } else {
            check.required(&field);
        }
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = refs.iter().find(|r| !seen.insert(r.as_str())) {
        check.add(
            "ChannelRelations",
            format!(
                "Duplicate items not allowed! Service channel '{dup}' is listed more than once."
            ),
        );
    }
    check.finish()?;

    let mut cat = shared.catalogue();
    let id = match (service, path_id) {
        (_, Some(id)) => id,
        (ServiceRef::Source(sid), _) => engine::by_source(&cat, &caller, Scope::Service, sid)
            .map_err(|r| refusal(Family::Service, r))?,
        _ => unreachable!("a service is named by GUID or sourceId"),
    };
    connectable_service(&cat, &caller, id)?;
    let org = cat.get(id).and_then(|s| s.org);
    let mut channels = Vec::new();
    let mut unresolved = Vec::new();
    let mut check = Check::default();
    for (i, r) in refs.iter().enumerate() {
        let channel = if by_source {
            let Some(c) = cat.by_source(&caller.email, Scope::ServiceChannel, r) else {
                unresolved.push(format!("Service channel with source id '{r}' not found."));
                continue;
            };
            c
        } else {
            Uuid::parse_str(r).expect("checked above")
        };
        match engine::connectable(&cat, org, channel) {
            Ok(()) => channels.push(channel),
            Err(message) if by_source => unresolved.push(message),
            Err(message) => check.add(format!("ChannelRelations[{i}].ServiceChannelId"), message),
        }
    }
    if !unresolved.is_empty() {
        // PTV joins the per-item exceptions into one, which its filter maps to 500.
        return Err(ApiError::Server(unresolved.join(" ")));
    }
    check.finish()?;
    if !refs.is_empty() || delete_all {
        engine::set_connections(&mut cat, id, channels);
    }
    let answer = render(&cat, cat.get(id).expect("checked above"), Some(&caller));
    drop(cat);
    shared.write_applied();
    Ok(answer)
}

/// `POST /Connection` and `POST /Connection/Source`: adds single connections; every
/// item gets a message and failures stay inside the 200.
pub(crate) fn add(
    shared: &Shared,
    bearer: &Bearer,
    by_source: bool,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let caller = bearer.caller().ok_or(ApiError::Unauthorized)?.clone();
    let body: Value = serde_json::from_slice(bytes)
        .map(camel_keys)
        .map_err(|e| ApiError::field("Model", format!("Invalid JSON: {e}")))?;
    let Value::Array(items) = body else {
        return Err(ApiError::field(
            "RequestIsNull",
            "The request must contain data.",
        ));
    };
    let mut messages = Vec::new();
    let mut applied = 0;
    let mut cat = shared.catalogue();
    for item in &items {
        let (service_key, channel_key) = if by_source {
            ("serviceSourceId", "serviceChannelSourceId")
        } else {
            ("serviceId", "serviceChannelId")
        };
        let service_ref = item
            .get(service_key)
            .and_then(Value::as_str)
            .unwrap_or_default();
        let channel_ref = item
            .get(channel_key)
            .and_then(Value::as_str)
            .unwrap_or_default();
        let resolve = |scope: Scope, r: &str| {
            if by_source {
                cat.by_source(&caller.email, scope, r)
            } else {
                parse_guid(r)
            }
        };
        let Some(service) = resolve(Scope::Service, service_ref) else {
            messages.push(format!("Service with id '{service_ref}' not found!"));
            continue;
        };
        let Some(channel) = resolve(Scope::ServiceChannel, channel_ref) else {
            messages.push(format!(
                "Service channel with id '{channel_ref}' not found!"
            ));
            continue;
        };
        let status = match cat.get(service) {
            Some(s) if s.kind == SimKind::Service => s.status,
            _ => {
                messages.push(format!("Service with id '{service_ref}' not found!"));
                continue;
            }
        };
        if let Err(e) = connectable_service(&cat, &caller, service) {
            messages.push(match e {
                ApiError::NotFound(_) if !matches!(status, PublishingStatus::Draft | PublishingStatus::Published) => format!(
                    "Publishing status for service '{service}' is {}. You cannot update service!",
                    status.as_str()
                ),
                ApiError::NotFound(m) | ApiError::Server(m) => m,
                _ => format!("Service with id '{service_ref}' not found!"),
            });
            continue;
        }
        let org = cat.get(service).and_then(|s| s.org);
        if let Err(message) = engine::connectable(&cat, org, channel) {
            messages.push(message);
            continue;
        }
        let mut set = cat
            .get(service)
            .map(|s| s.connections.clone())
            .unwrap_or_default();
        if !set.contains(&channel) {
            set.push(channel);
        }
        engine::set_connections(&mut cat, service, set);
        applied += 1;
        messages.push(format!(
            "Relationship data for service channel(s) '{channel}' and service '{service}' added or updated."
        ));
    }
    drop(cat);
    if applied > 0 {
        shared.write_applied();
    }
    Ok(Value::from(messages))
}

//! The v12 API under `/api/v12`, with write paths as `v12-write-contract.md` assumes
//! them. Bodies are validated against the official schemas; the catalogue rules are
//! the engine's, shared with v11. Status codes for refusals v12 has no documented
//! answer for: a Modified or locked item, or an organisation with live children,
//! answer 409; unknown or foreign items 404 with `reason: Unknown`.

mod schema;

use crate::model::ChannelType;
use crate::sim::auth::{Bearer, Caller};
use crate::sim::engine::{self, Change, Refusal, Transition};
use crate::sim::error::{ApiError, Problem};
use crate::sim::state::Shared;
use crate::sim::store::{Catalogue, Entity, PublishingStatus, SimKind, rfc3339};
use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, Query, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

const CHANNELS: [(&str, ChannelType, &str, &str); 5] = [
    (
        "e-service",
        ChannelType::EService,
        "PostEServiceChannelRequest",
        "PutEServiceChannelRequestSchema",
    ),
    (
        "web-page",
        ChannelType::WebPage,
        "PostWebPageChannelRequest",
        "PutWebPageChannelRequest",
    ),
    (
        "printable-form",
        ChannelType::PrintableForm,
        "PostPrintableFormChannelRequest",
        "PutPrintableFormChannelRequestSchema",
    ),
    (
        "service-location",
        ChannelType::ServiceLocation,
        "PostServiceLocationChannelRequest",
        "PutServiceLocationChannelRequestSchema",
    ),
    (
        "telephone",
        ChannelType::Phone,
        "PostTelephoneChannelRequest",
        "PutTelephoneChannelRequestSchema",
    ),
];

fn problem(status: StatusCode, detail: impl Into<String>, instance: &str) -> ApiError {
    ApiError::Problem(Problem::new(status, detail, instance))
}

fn not_found(instance: &str, reason: &'static str) -> ApiError {
    let mut p = Problem::new(
        StatusCode::NOT_FOUND,
        "The requested item was not found.",
        instance,
    );
    p.reason = Some(reason);
    ApiError::Problem(p)
}

fn invalid(instance: &str, errors: Vec<(String, String)>) -> ApiError {
    let mut p = Problem::new(
        StatusCode::BAD_REQUEST,
        "One or more validation errors occurred.",
        instance,
    );
    p.errors = errors;
    ApiError::Problem(p)
}

fn unauthorized(instance: &str, detail: &str) -> ApiError {
    problem(StatusCode::UNAUTHORIZED, detail, instance)
}

fn refusal(r: Refusal, kind: SimKind, instance: &str) -> ApiError {
    let one = |path: &str, message: String| invalid(instance, vec![(path.to_owned(), message)]);
    let org_path = if kind == SimKind::Organization {
        "/parentOrganizationContentId"
    } else {
        "/organizationContentId"
    };
    match r {
        Refusal::SourceExists(x) | Refusal::ExternalExists(x) => problem(
            StatusCode::CONFLICT,
            format!("An item with externalId '{x}' already exists."),
            instance,
        ),
        Refusal::SourceTaken { source, holder } => problem(
            StatusCode::CONFLICT,
            format!("The external id '{source}' already belongs to '{holder}'."),
            instance,
        ),
        Refusal::SourceNotFound(_) | Refusal::NotFound(_) | Refusal::NoRights => {
            not_found(instance, "Unknown")
        }
        Refusal::Locked(by) => problem(
            StatusCode::CONFLICT,
            format!("{} is locked by '{by}'.", kind.label()),
            instance,
        ),
        Refusal::Status(message) => problem(StatusCode::CONFLICT, message, instance),
        Refusal::ArchiveBlocked(id) => problem(
            StatusCode::CONFLICT,
            format!("You cannot delete organization {id}. Services or service channels attached!"),
            instance,
        ),
        Refusal::OrganizationNotAllowed | Refusal::ParentNotFound => one(
            org_path,
            "Record not found or user does not have rights for it!".to_owned(),
        ),
        Refusal::NameTaken { language, name } => one(
            &format!("/languageVersions/{language}/name"),
            format!("Value '{name}' already exists within organization. The name must be unique."),
        ),
        Refusal::OrganizationLanguage(language) => one(
            "/languageVersions",
            format!("Organisation language version '{language}' missing!"),
        ),
        Refusal::AreaTooWide(area) => one(
            "/area",
            format!("Area information type {area} is too wide."),
        ),
    }
}

/// Every v12 call needs a known `x-api-key`.
async fn api_key(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let instance = req.uri().path().to_owned();
    let ok = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| shared.api_keys.contains(k));
    if ok {
        next.run(req).await
    } else {
        unauthorized(&instance, "A valid x-api-key header is required.").into_response()
    }
}

fn writer(bearer: &Bearer, instance: &str) -> Result<Caller, ApiError> {
    bearer
        .caller()
        .cloned()
        .ok_or_else(|| unauthorized(instance, "A valid bearer token is required for writes."))
}

fn area_type(body: &Value) -> Option<String> {
    let v11 = match body.pointer("/area/areaType")?.as_str()? {
        "WholeCountry" => "Nationwide",
        "WholeCountryExceptAland" => "NationwideExceptAlandIslands",
        _ => "LimitedType",
    };
    Some(v11.to_owned())
}

/// The parts of a schema-valid body the catalogue rules need.
fn change_of(kind: SimKind, body: Value) -> Change {
    let versions = body.get("languageVersions").and_then(Value::as_object);
    let names: BTreeMap<String, String> = versions
        .into_iter()
        .flatten()
        .filter_map(|(lang, v)| Some((lang.clone(), v.get("name")?.as_str()?.to_owned())))
        .collect();
    let org_key = if kind == SimKind::Organization {
        "parentOrganizationContentId"
    } else {
        "organizationContentId"
    };
    Change {
        kind,
        org: body
            .get(org_key)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok()),
        languages: names.keys().cloned().collect(),
        names,
        area_type: area_type(&body),
        visible_for_all: body.get("allowedConnectionType").and_then(Value::as_str)
            != Some("OwnOrganizations"),
        status: PublishingStatus::Published,
        connections: None,
        body,
    }
}

fn render(e: &Entity) -> Value {
    let mut body = if e.body.is_object() {
        e.body.clone()
    } else {
        json!({})
    };
    body["contentId"] = json!(e.id);
    body["externalId"] = json!(e.external.as_ref().map(|(_, x)| x));
    // Items seeded or last written through v11 hold a v11 body: show what every v12
    // response carries (owner, type, names) from the catalogue itself.
    let owner_key = if e.kind == SimKind::Organization {
        "parentOrganizationContentId"
    } else {
        "organizationContentId"
    };
    if body.get(owner_key).is_none_or(Value::is_null)
        && let Some(org) = e.org
    {
        body[owner_key] = json!(org);
    }
    if let SimKind::Channel(t) = e.kind {
        body["serviceChannelType"] = json!(match t {
            ChannelType::EService => "EService",
            ChannelType::WebPage => "WebPage",
            ChannelType::PrintableForm => "PrintableForm",
            ChannelType::ServiceLocation => "ServiceLocation",
            ChannelType::Phone => "TelephoneService",
        });
    }
    if !body.get("languageVersions").is_some_and(Value::is_object) {
        body["languageVersions"] = json!({});
    }
    for (lang, name) in &e.names {
        if body["languageVersions"].get(lang).is_none() {
            body["languageVersions"][lang] = json!({"name": name});
        }
    }
    // The beta document declares no modification fields; the client reads
    // `modifiedAt` (as PTV's v12 read models name it), and `modified` mirrors v11.
    body["modifiedAt"] = json!(rfc3339(e.modified));
    body["modified"] = json!(rfc3339(e.modified));
    body["modifiedBy"] = json!(e.modified_by);
    body["status"] = json!(match e.status {
        PublishingStatus::Deleted => "Archived",
        PublishingStatus::Draft => "Draft",
        PublishingStatus::Published | PublishingStatus::Modified => "Published",
    });
    body
}

fn parse(bytes: &[u8], instance: &str) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        invalid(
            instance,
            vec![("/".to_owned(), format!("Invalid JSON: {e}"))],
        )
    })
}

fn validate(schema_name: &'static str, body: &Value, instance: &str) -> Result<(), ApiError> {
    let errors = schema::violations(schema_name, body);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(instance, errors))
    }
}

fn create(
    shared: &Shared,
    bearer: &Bearer,
    kind: SimKind,
    schema_name: &'static str,
    bytes: &[u8],
    instance: &str,
) -> Result<Response, ApiError> {
    let caller = writer(bearer, instance)?;
    let body = parse(bytes, instance)?;
    validate(schema_name, &body, instance)?;
    let external = body
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let change = change_of(kind, body);
    let mut cat = shared.catalogue();
    let id = engine::create(&mut cat, &caller, change, None, external, "v12")
        .map_err(|r| refusal(r, kind, instance))?;
    let answer = render(cat.get(id).expect("just created"));
    drop(cat);
    shared.write_applied();
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

fn content_id(raw: &str, instance: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        invalid(
            instance,
            vec![("/contentId".to_owned(), "Invalid UUID.".to_owned())],
        )
    })
}

/// Update, or restore when archived: PUT of the full body.
fn update(
    shared: &Shared,
    bearer: &Bearer,
    kind: SimKind,
    schema_name: &'static str,
    raw_id: &str,
    bytes: &[u8],
    instance: &str,
) -> Result<Response, ApiError> {
    let caller = writer(bearer, instance)?;
    let id = content_id(raw_id, instance)?;
    let body = parse(bytes, instance)?;
    validate(schema_name, &body, instance)?;
    let mut change = change_of(kind, body);
    let mut cat = shared.catalogue();
    let current = engine::writable(&cat, &caller, id, |k| k == kind)
        .map_err(|r| refusal(r, kind, instance))?;
    let transition = engine::transition(current.status, PublishingStatus::Published)
        .map_err(|r| refusal(r, kind, instance))?;
    change.org = current.org;
    engine::update(&mut cat, &caller, id, change, transition, None, "v12")
        .map_err(|r| refusal(r, kind, instance))?;
    let answer = render(cat.get(id).expect("just updated"));
    drop(cat);
    shared.write_applied();
    Ok(Json(answer).into_response())
}

fn archive(
    shared: &Shared,
    bearer: &Bearer,
    kind_ok: fn(SimKind) -> bool,
    raw_id: &str,
    instance: &str,
) -> Result<Response, ApiError> {
    let caller = writer(bearer, instance)?;
    let id = content_id(raw_id, instance)?;
    let mut cat = shared.catalogue();
    let label_kind = cat.get(id).map_or(SimKind::Service, |e| e.kind);
    let current = engine::writable(&cat, &caller, id, kind_ok)
        .map_err(|r| refusal(r, label_kind, instance))?
        .clone();
    let kind = current.kind;
    let transition = engine::transition(current.status, PublishingStatus::Deleted)
        .map_err(|r| refusal(r, kind, instance))?;
    let change = Change {
        kind,
        org: current.org,
        names: current.names,
        languages: current.languages,
        area_type: current.area_type,
        visible_for_all: current.visible_for_all,
        body: current.body,
        status: PublishingStatus::Deleted,
        connections: None,
    };
    engine::update(&mut cat, &caller, id, change, transition, None, "v12")
        .map_err(|r| refusal(r, kind, instance))?;
    drop(cat);
    if transition != Transition::Nothing {
        shared.write_applied();
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn read_one(
    shared: &Shared,
    kind_ok: fn(SimKind) -> bool,
    raw_id: &str,
    instance: &str,
) -> Result<Response, ApiError> {
    let id = content_id(raw_id, instance)?;
    let cat = shared.catalogue();
    match cat.get(id) {
        Some(e) if kind_ok(e.kind) => match e.status {
            PublishingStatus::Published | PublishingStatus::Modified => {
                Ok(Json(render(e)).into_response())
            }
            PublishingStatus::Draft => Err(not_found(instance, "NotPublished")),
            PublishingStatus::Deleted => Err(not_found(instance, "Unknown")),
        },
        _ => Err(not_found(instance, "Unknown")),
    }
}

fn paging(query: &HashMap<String, String>, instance: &str) -> Result<(usize, usize), ApiError> {
    let number = |key: &str, default: usize, max: usize| -> Result<usize, ApiError> {
        match query.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    invalid(
                        instance,
                        vec![(
                            format!("/{key}"),
                            format!("{key} must be between 1 and {max}."),
                        )],
                    )
                }),
        }
    };
    Ok((number("page", 1, 1_000_000)?, number("pageSize", 100, 100)?))
}

fn page_of(items: &[&Entity], page: usize, page_size: usize) -> Value {
    let total = items.len();
    json!({
        "page": page,
        "pageSize": page_size,
        "totalItems": total,
        "totalPages": total.div_ceil(page_size),
        "items": items.iter().skip((page - 1) * page_size).take(page_size).map(|e| render(e)).collect::<Vec<_>>(),
    })
}

/// `…/archived?page=&pageSize=&archivedAtOrAfter=` (all three required by the beta
/// document; page and pageSize have defaults there, so only the date is enforced):
/// `ArchivedEntitiesResponse`, whose items carry nothing but `contentId`.
fn archived(
    shared: &Shared,
    kind_ok: fn(SimKind) -> bool,
    query: &HashMap<String, String>,
    instance: &str,
) -> Result<Response, ApiError> {
    let (page, page_size) = paging(query, instance)?;
    let from = match query.get("archivedAtOrAfter") {
        None => {
            return Err(invalid(
                instance,
                vec![(
                    "/archivedAtOrAfter".to_owned(),
                    "archivedAtOrAfter is required.".to_owned(),
                )],
            ));
        }
        Some(raw) => crate::sim::catalogue::parse_time(raw).ok_or_else(|| {
            invalid(
                instance,
                vec![(
                    "/archivedAtOrAfter".to_owned(),
                    format!("'{raw}' is not a date-time, e.g. 2025-09-22T07:32:52.026Z."),
                )],
            )
        })?,
    };
    let q = crate::sim::archived::ArchivedQuery {
        from: Some(from),
        ..Default::default()
    };
    let cat = shared.catalogue();
    let items = crate::sim::archived::archived(&cat, kind_ok, &q);
    let total = items.len();
    let page_items: Vec<Value> = items
        .iter()
        .skip((page - 1) * page_size)
        .take(page_size)
        .map(|(e, _)| json!({"contentId": e.id}))
        .collect();
    Ok(Json(json!({
        "page": page,
        "pageSize": page_size,
        "totalItems": total,
        "totalPages": total.div_ceil(page_size),
        "items": page_items,
    }))
    .into_response())
}

/// `search`: live items, by organisation and/or externalId.
fn list(
    shared: &Shared,
    bearer: &Bearer,
    kind_ok: fn(SimKind) -> bool,
    query: &HashMap<String, String>,
    instance: &str,
) -> Result<Response, ApiError> {
    let (page, page_size) = paging(query, instance)?;
    // The beta document names the filter `organizationContentIds` (an array); one id is enough here.
    let org = match query
        .get("organizationContentIds")
        .or_else(|| query.get("organizationContentId"))
    {
        Some(raw) => Some(content_id(raw, instance)?),
        None => None,
    };
    let external = query.get("externalId");
    let caller = bearer.caller();
    let cat = shared.catalogue();
    let matches = |e: &&Entity| {
        kind_ok(e.kind)
            && e.is_live()
            && e.status != PublishingStatus::Draft
            && external.is_none_or(|x| {
                e.external.as_ref().is_some_and(|(owner, id)| {
                    id == x && caller.is_none_or(|c| owner.eq_ignore_ascii_case(&c.email))
                })
            })
    };
    let items: Vec<&Entity> = match org {
        Some(org) => cat.children(org).filter(matches).collect(),
        None => cat.all().filter(matches).collect(),
    };
    Ok(Json(page_of(&items, page, page_size)).into_response())
}

fn connect(
    shared: &Shared,
    bearer: &Bearer,
    bytes: &[u8],
    instance: &str,
) -> Result<Response, ApiError> {
    let caller = writer(bearer, instance)?;
    let body = parse(bytes, instance)?;
    validate("ConnectionRequest", &body, instance)?;
    let service = content_id(
        body["serviceContentId"].as_str().unwrap_or_default(),
        instance,
    )?;
    let channel = content_id(
        body["channelContentId"].as_str().unwrap_or_default(),
        instance,
    )?;
    let mut cat = shared.catalogue();
    let s = connectable_service(&cat, &caller, service, instance)?;
    engine::connectable(&cat, s.org, channel)
        .map_err(|m| invalid(instance, vec![("/channelContentId".to_owned(), m)]))?;
    let mut set = s.connections.clone();
    if !set.contains(&channel) {
        set.push(channel);
    }
    engine::set_connections(&mut cat, service, set);
    drop(cat);
    shared.write_applied();
    Ok((
        StatusCode::CREATED,
        Json(json!({"serviceContentId": service, "channelContentId": channel})),
    )
        .into_response())
}

fn connectable_service<'c>(
    cat: &'c Catalogue,
    caller: &Caller,
    service: Uuid,
    instance: &str,
) -> Result<&'c Entity, ApiError> {
    let s = engine::writable(cat, caller, service, |k| k == SimKind::Service)
        .map_err(|r| refusal(r, SimKind::Service, instance))?;
    if matches!(
        s.status,
        PublishingStatus::Draft | PublishingStatus::Published
    ) {
        Ok(s)
    } else {
        Err(refusal(
            Refusal::Status(format!(
                "You cannot update entity with status {}.",
                s.status.as_str()
            )),
            SimKind::Service,
            instance,
        ))
    }
}

fn disconnect(
    shared: &Shared,
    bearer: &Bearer,
    raw_service: &str,
    raw_channel: &str,
    instance: &str,
) -> Result<Response, ApiError> {
    let caller = writer(bearer, instance)?;
    let service = content_id(raw_service, instance)?;
    let channel = content_id(raw_channel, instance)?;
    let mut cat = shared.catalogue();
    let s = connectable_service(&cat, &caller, service, instance)?;
    if !s.connections.contains(&channel) {
        return Err(not_found(instance, "Unknown"));
    }
    let set: Vec<Uuid> = s
        .connections
        .iter()
        .copied()
        .filter(|c| *c != channel)
        .collect();
    engine::set_connections(&mut cat, service, set);
    drop(cat);
    shared.write_applied();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `organization/hierarchy/{contentId}`: parent/child edges of the published
/// organisations below it.
fn hierarchy(shared: &Shared, raw_id: &str, instance: &str) -> Result<Response, ApiError> {
    let id = content_id(raw_id, instance)?;
    let cat = shared.catalogue();
    let published = |e: &Entity| {
        matches!(
            e.status,
            PublishingStatus::Published | PublishingStatus::Modified
        )
    };
    match cat.get(id) {
        Some(root) if root.kind == SimKind::Organization && published(root) => {
            let mut edges = Vec::new();
            let mut next = vec![id];
            for _ in 0..16 {
                let mut deeper = Vec::new();
                for parent in next {
                    for c in cat
                        .children(parent)
                        .filter(|e| e.kind == SimKind::Organization && published(e))
                    {
                        edges.push(json!({"parentContentId": parent, "childContentId": c.id}));
                        deeper.push(c.id);
                    }
                }
                if deeper.is_empty() {
                    break;
                }
                next = deeper;
            }
            Ok(Json(json!({ "edges": edges })).into_response())
        }
        _ => Err(not_found(instance, "Unknown")),
    }
}

fn read_connection(
    shared: &Shared,
    raw_service: &str,
    raw_channel: &str,
    instance: &str,
) -> Result<Response, ApiError> {
    let service = content_id(raw_service, instance)?;
    let channel = content_id(raw_channel, instance)?;
    let cat = shared.catalogue();
    match cat.get(service) {
        Some(s) if s.connections.contains(&channel) && s.is_live() => Ok(Json(
            json!({"serviceContentId": service, "channelContentId": channel}),
        )
        .into_response()),
        _ => Err(not_found(instance, "Unknown")),
    }
}

/// `connection/search`: published connections of published services and channels, by
/// `serviceContentIds` and/or `channelContentIds` (each at most 20, repeated or
/// comma-separated), paged. The catalogue keeps no connection details, so each answer
/// carries the `ConnectionResponse` keys empty.
fn search_connections(
    shared: &Shared,
    raw_query: Option<&str>,
    instance: &str,
) -> Result<Response, ApiError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(raw_query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let ids = |key: &str| -> Result<Option<Vec<Uuid>>, ApiError> {
        let raw: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .filter(|v| !v.is_empty())
            .collect();
        if raw.is_empty() {
            return Ok(None);
        }
        if raw.len() > 20 {
            return Err(invalid(
                instance,
                vec![(
                    format!("/{key}"),
                    "At most 20 items are allowed.".to_owned(),
                )],
            ));
        }
        raw.into_iter()
            .map(|r| content_id(r, instance))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    };
    let services = ids("serviceContentIds")?;
    let channels = ids("channelContentIds")?;
    let last: HashMap<String, String> = pairs.iter().cloned().collect();
    let (page, page_size) = paging(&last, instance)?;
    let cat = shared.catalogue();
    let published = |e: &Entity| {
        matches!(
            e.status,
            PublishingStatus::Published | PublishingStatus::Modified
        )
    };
    let mut items = Vec::new();
    for s in cat
        .all()
        .filter(|e| e.kind == SimKind::Service && published(e))
    {
        if services.as_ref().is_some_and(|ids| !ids.contains(&s.id)) {
            continue;
        }
        for ch in &s.connections {
            if channels.as_ref().is_some_and(|ids| !ids.contains(ch))
                || !cat.get(*ch).is_some_and(published)
            {
                continue;
            }
            items.push(json!({
                "serviceContentId": s.id,
                "channelContentId": ch,
                "contactAddresses": {"foreignAddresses": [], "postOfficeBoxAddresses": [], "streetAddresses": []},
                "chargeType": null,
                "serviceHours": {"hours": [], "holidayServiceHours": null},
                "languageVersions": {},
                "publishedAt": null,
            }));
        }
    }
    let total = items.len();
    let answer = json!({
        "page": page,
        "pageSize": page_size,
        "totalItems": total,
        "totalPages": total.div_ceil(page_size),
        "items": items.into_iter().skip((page - 1) * page_size).take(page_size).collect::<Vec<_>>(),
    });
    Ok(Json(answer).into_response())
}

fn respond(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

fn is_org(k: SimKind) -> bool {
    k == SimKind::Organization
}
fn is_service(k: SimKind) -> bool {
    k == SimKind::Service
}
fn is_channel(k: SimKind) -> bool {
    matches!(k, SimKind::Channel(_))
}

type S = State<Arc<Shared>>;
type B = Extension<Bearer>;
type Q = Query<HashMap<String, String>>;
type P = Path<String>;

fn entity_routes(
    router: Router<Arc<Shared>>,
    segment: &'static str,
    kind_ok: fn(SimKind) -> bool,
) -> Router<Arc<Shared>> {
    router
        .route(
            &format!("/api/v12/{segment}/{{contentId}}"),
            get(move |State(s): S, m: MatchedPath, Path(id): P| async move {
                respond(read_one(&s, kind_ok, &id, m.as_str()))
            })
            .delete(
                move |State(s): S, Extension(b): B, m: MatchedPath, Path(id): P| async move {
                    respond(archive(&s, &b, kind_ok, &id, m.as_str()))
                },
            ),
        )
        .route(
            &format!("/api/v12/{segment}/search"),
            get(
                move |State(s): S, Extension(b): B, m: MatchedPath, Query(q): Q| async move {
                    respond(list(&s, &b, kind_ok, &q, m.as_str()))
                },
            ),
        )
        .route(
            &format!("/api/v12/{segment}/archived"),
            get(move |State(s): S, m: MatchedPath, Query(q): Q| async move {
                respond(archived(&s, kind_ok, &q, m.as_str()))
            }),
        )
}

pub(crate) fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    debug_assert!(
        CHANNELS
            .iter()
            .all(|(_, _, p, u)| schema::exists(p) && schema::exists(u))
    );
    let mut router = Router::new();
    router = entity_routes(router, "organization", is_org);
    router = entity_routes(router, "service", is_service);
    router = entity_routes(router, "service-channel", is_channel);
    router = router
        .route(
            "/api/v12/organization",
            post(|State(s): S, Extension(b): B, m: MatchedPath, body: Bytes| async move {
                respond(create(&s, &b, SimKind::Organization, "PostSubOrganizationExternalIdReques", &body, m.as_str()))
            }),
        )
        .route(
            "/api/v12/organization/hierarchy/{contentId}",
            get(|State(s): S, m: MatchedPath, Path(id): P| async move {
                respond(hierarchy(&s, &id, m.as_str()))
            }),
        )
        .route(
            "/api/v12/organization/{contentId}",
            put(|State(s): S, Extension(b): B, m: MatchedPath, Path(id): P, body: Bytes| async move {
                respond(update(&s, &b, SimKind::Organization, "PutSubOrganizationRequest", &id, &body, m.as_str()))
            }),
        )
        .route(
            "/api/v12/service",
            post(|State(s): S, Extension(b): B, m: MatchedPath, body: Bytes| async move {
                respond(create(&s, &b, SimKind::Service, "ServiceExternalIdRequest", &body, m.as_str()))
            }),
        )
        .route(
            "/api/v12/service/{contentId}",
            put(|State(s): S, Extension(b): B, m: MatchedPath, Path(id): P, body: Bytes| async move {
                respond(update(&s, &b, SimKind::Service, "PutServiceRequest", &id, &body, m.as_str()))
            }),
        )
        .route(
            "/api/v12/connection",
            post(|State(s): S, Extension(b): B, m: MatchedPath, body: Bytes| async move {
                respond(connect(&s, &b, &body, m.as_str()))
            }),
        )
        .route(
            "/api/v12/connection/search",
            get(|State(s): S, m: MatchedPath, RawQuery(q): RawQuery| async move {
                respond(search_connections(&s, q.as_deref(), m.as_str()))
            }),
        )
        .route(
            "/api/v12/connection/{serviceContentId}/{channelContentId}",
            get(|State(s): S, m: MatchedPath, Path((sv, ch)): Path<(String, String)>| async move {
                respond(read_connection(&s, &sv, &ch, m.as_str()))
            })
            .delete(|State(s): S, Extension(b): B, m: MatchedPath, Path((sv, ch)): Path<(String, String)>| async move {
                respond(disconnect(&s, &b, &sv, &ch, m.as_str()))
            }),
        );
    for (segment, t, post_schema, put_schema) in CHANNELS {
        let kind = SimKind::Channel(t);
        router = router
            .route(
                &format!("/api/v12/service-channel/{segment}"),
                post(
                    move |State(s): S, Extension(b): B, m: MatchedPath, body: Bytes| async move {
                        respond(create(&s, &b, kind, post_schema, &body, m.as_str()))
                    },
                ),
            )
            .route(
                &format!("/api/v12/service-channel/{segment}/{{contentId}}"),
                put(
                    move |State(s): S,
                          Extension(b): B,
                          m: MatchedPath,
                          Path(id): P,
                          body: Bytes| async move {
                        respond(update(&s, &b, kind, put_schema, &id, &body, m.as_str()))
                    },
                ),
            );
    }
    router.route_layer(axum::middleware::from_fn_with_state(shared, api_key))
}

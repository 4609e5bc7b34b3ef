//! The v11 IN API (reference §3) under `/api/v11`.

mod channel;
pub(crate) mod check;
mod connection;
mod extract;
mod fields;
mod organization;
mod read;
mod service;
mod write;

use crate::model::ChannelType;
use crate::sim::auth::Bearer;
use crate::sim::error::ApiError;
use crate::sim::state::Shared;
use crate::sim::store::SimKind;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use connection::ServiceRef;
use std::collections::HashMap;
use std::sync::Arc;
use write::{Family, Target};

/// Every v11 route, for case-insensitive matching: ASP.NET routes ignore case
/// (LIPAS calls `/Service/SourceId/…`), axum's do not, so the connection layer
/// rewrites literal segments to these spellings before routing.
pub(crate) const ROUTES: &[&str] = &[
    "/api/v11/Organization",
    "/api/v11/Organization/{id}",
    "/api/v11/Organization/sourceId/{sourceId}",
    "/api/v11/Organization/list",
    "/api/v11/Organization/Hierarchy/{id}",
    "/api/v11/Service/list",
    "/api/v11/ServiceChannel/list",
    "/api/v11/Service",
    "/api/v11/Service/{id}",
    "/api/v11/Service/sourceId/{sourceId}",
    "/api/v11/Service/list/organization",
    "/api/v11/Service/active/{id}",
    "/api/v11/Service/archived/list",
    "/api/v11/ServiceChannel/archived/list",
    "/api/v11/ServiceChannel/{id}",
    "/api/v11/ServiceChannel/list/organization",
    "/api/v11/ServiceChannel/active/{id}",
    "/api/v11/ServiceChannel/EChannel",
    "/api/v11/ServiceChannel/EChannel/{id}",
    "/api/v11/ServiceChannel/EChannel/sourceId/{sourceId}",
    "/api/v11/ServiceChannel/Phone",
    "/api/v11/ServiceChannel/Phone/{id}",
    "/api/v11/ServiceChannel/Phone/sourceId/{sourceId}",
    "/api/v11/ServiceChannel/WebPage",
    "/api/v11/ServiceChannel/WebPage/{id}",
    "/api/v11/ServiceChannel/WebPage/sourceId/{sourceId}",
    "/api/v11/ServiceChannel/PrintableForm",
    "/api/v11/ServiceChannel/PrintableForm/{id}",
    "/api/v11/ServiceChannel/PrintableForm/sourceId/{sourceId}",
    "/api/v11/ServiceChannel/ServiceLocation",
    "/api/v11/ServiceChannel/ServiceLocation/{id}",
    "/api/v11/ServiceChannel/ServiceLocation/sourceId/{sourceId}",
    "/api/v11/Connection",
    "/api/v11/Connection/Source",
    "/api/v11/Connection/serviceId/{serviceId}",
    "/api/v11/Connection/serviceSourceId/{serviceSourceId}",
    "/api/auth/api-login",
];

fn answer(result: Result<serde_json::Value, ApiError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

type S = State<Arc<Shared>>;
type B = Extension<Bearer>;

fn channel_routes(
    router: Router<Arc<Shared>>,
    segment: &'static str,
    t: ChannelType,
) -> Router<Arc<Shared>> {
    let family = Family::Channel(t);
    router
        .route(
            &format!("/api/v11/ServiceChannel/{segment}"),
            post(move |State(s): S, Extension(b): B, body: Bytes| async move {
                answer(write::write(&s, &b, family, &Target::Create, &body))
            }),
        )
        .route(
            &format!("/api/v11/ServiceChannel/{segment}/{{id}}"),
            put(move |State(s): S, Extension(b): B, Path(id): Path<String>, body: Bytes| async move {
                answer(write::write(&s, &b, family, &Target::Id(id), &body))
            }),
        )
        .route(
            &format!("/api/v11/ServiceChannel/{segment}/sourceId/{{sourceId}}"),
            put(move |State(s): S, Extension(b): B, Path(sid): Path<String>, body: Bytes| async move {
                answer(write::write(&s, &b, family, &Target::Source(sid), &body))
            }),
        )
}

fn entity_routes(
    router: Router<Arc<Shared>>,
    segment: &'static str,
    family: Family,
) -> Router<Arc<Shared>> {
    router
        .route(
            &format!("/api/v11/{segment}"),
            post(move |State(s): S, Extension(b): B, body: Bytes| async move {
                answer(write::write(&s, &b, family, &Target::Create, &body))
            }),
        )
        .route(
            &format!("/api/v11/{segment}/{{id}}"),
            put(move |State(s): S, Extension(b): B, Path(id): Path<String>, body: Bytes| async move {
                answer(write::write(&s, &b, family, &Target::Id(id), &body))
            })
            .get(move |State(s): S, Extension(b): B, Path(id): Path<String>| async move {
                let kind = family.kind();
                answer(read::one(&s, &b, &id, |k| k == kind, kind.label(), false))
            }),
        )
        .route(
            &format!("/api/v11/{segment}/sourceId/{{sourceId}}"),
            put(move |State(s): S, Extension(b): B, Path(sid): Path<String>, body: Bytes| async move {
                answer(write::write(&s, &b, family, &Target::Source(sid), &body))
            }),
        )
}

fn is_channel(k: SimKind) -> bool {
    matches!(k, SimKind::Channel(_))
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    let mut router = Router::new();
    router = entity_routes(router, "Organization", Family::Organization);
    router = entity_routes(router, "Service", Family::Service);
    for (segment, t) in [
        ("EChannel", ChannelType::EService),
        ("Phone", ChannelType::Phone),
        ("WebPage", ChannelType::WebPage),
        ("PrintableForm", ChannelType::PrintableForm),
        ("ServiceLocation", ChannelType::ServiceLocation),
    ] {
        router = channel_routes(router, segment, t);
    }
    router
        .route(
            "/api/v11/Organization/list",
            get(|State(s): S, Extension(b): B, Query(q): Query<HashMap<String, String>>| async move {
                answer(read::by_guids(&s, &b, &q, |k| k == SimKind::Organization))
            }),
        )
        .route(
            "/api/v11/Organization/Hierarchy/{id}",
            get(|State(s): S, Extension(b): B, Path(id): Path<String>| async move {
                answer(read::hierarchy(&s, &b, &id))
            }),
        )
        .route(
            "/api/v11/Service/list",
            get(|State(s): S, Extension(b): B, Query(q): Query<HashMap<String, String>>| async move {
                answer(read::by_guids(&s, &b, &q, |k| k == SimKind::Service))
            }),
        )
        .route(
            "/api/v11/ServiceChannel/list",
            get(|State(s): S, Extension(b): B, Query(q): Query<HashMap<String, String>>| async move {
                answer(read::by_guids(&s, &b, &q, is_channel))
            }),
        )
        .route(
            "/api/v11/Service/list/organization",
            get(|State(s): S, Extension(b): B, Query(q): Query<HashMap<String, String>>| async move {
                answer(read::by_organization(&s, &b, &q, |k| k == SimKind::Service))
            }),
        )
        .route(
            "/api/v11/Service/archived/list",
            get(|State(s): S, Extension(b): B, Query(q): Query<HashMap<String, String>>| async move {
                answer(read::archived_list(&s, &b, &q, |k| k == SimKind::Service))
            }),
        )
        .route(
            "/api/v11/ServiceChannel/archived/list",
            get(|State(s): S, Extension(b): B, Query(q): Query<HashMap<String, String>>| async move {
                answer(read::archived_list(&s, &b, &q, is_channel))
            }),
        )
        .route(
            "/api/v11/Service/active/{id}",
            get(|State(s): S, Extension(b): B, Path(id): Path<String>| async move {
                answer(read::one(&s, &b, &id, |k| k == SimKind::Service, "Service", true))
            }),
        )
        .route(
            "/api/v11/ServiceChannel/{id}",
            get(|State(s): S, Extension(b): B, Path(id): Path<String>| async move {
                answer(read::one(&s, &b, &id, is_channel, "Service channel", false))
            }),
        )
        .route(
            "/api/v11/ServiceChannel/list/organization",
            get(|State(s): S, Extension(b): B, Query(q): Query<HashMap<String, String>>| async move {
                answer(read::by_organization(&s, &b, &q, is_channel))
            }),
        )
        .route(
            "/api/v11/ServiceChannel/active/{id}",
            get(|State(s): S, Extension(b): B, Path(id): Path<String>| async move {
                answer(read::one(&s, &b, &id, is_channel, "Service channel", true))
            }),
        )
        .route(
            "/api/v11/Connection",
            post(|State(s): S, Extension(b): B, body: Bytes| async move {
                answer(connection::add(&s, &b, false, &body))
            }),
        )
        .route(
            "/api/v11/Connection/Source",
            post(|State(s): S, Extension(b): B, body: Bytes| async move {
                answer(connection::add(&s, &b, true, &body))
            }),
        )
        .route(
            "/api/v11/Connection/serviceId/{serviceId}",
            put(|State(s): S, Extension(b): B, Path(id): Path<String>, body: Bytes| async move {
                answer(connection::replace(&s, &b, &ServiceRef::Id(id), &body))
            }),
        )
        .route(
            "/api/v11/Connection/serviceSourceId/{serviceSourceId}",
            put(|State(s): S, Extension(b): B, Path(sid): Path<String>, body: Bytes| async move {
                answer(connection::replace(&s, &b, &ServiceRef::Source(sid), &body))
            }),
        )
}

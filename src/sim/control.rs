//! The `/_sim` control surface, so a simulator run as its own process
//! (`ptv-sync sim --port N`) can be inspected and driven from scripts. Faults never
//! apply here.

use super::config::Faults;
use super::state::Shared;
use super::store::PublishingStatus;
use super::ui::{self, UI_USER, UiError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use uuid::Uuid;

pub(crate) fn set_modified(shared: &Shared, id: Uuid) -> bool {
    let mut cat = shared.catalogue();
    match cat.get_mut_unindexed(id) {
        Some(e) if e.is_live() => {
            e.status = PublishingStatus::Modified;
            true
        }
        _ => false,
    }
}

pub(crate) fn set_locked(shared: &Shared, id: Uuid, by: Option<String>) -> bool {
    let mut cat = shared.catalogue();
    match cat.get_mut_unindexed(id) {
        Some(e) => {
            e.locked_by = by;
            true
        }
        None => false,
    }
}

/// `POST /_sim/catalogue` with a seed file's JSON: 200 with the new ids, or 400.
fn seed_from(shared: &Shared, body: &[u8]) -> axum::response::Response {
    let items = match std::str::from_utf8(body)
        .map_err(|e| e.to_string())
        .and_then(|s| super::catalogue::parse_seed(s).map_err(|e| e.to_string()))
    {
        Ok(items) => items,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    match super::catalogue::seed(shared, &items) {
        Ok(ids) => Json(ids).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

fn found(ok: bool) -> StatusCode {
    if ok {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

#[derive(Deserialize, Default)]
struct Lock {
    by: Option<String>,
}

/// `POST /_sim/clock`: exactly one of the two.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_secs: Option<i64>,
    set: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UiEdit {
    set: Map<String, Value>,
    by: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UiBy {
    by: Option<String>,
}

fn clock_answer(now: DateTime<Utc>) -> axum::response::Response {
    Json(json!({"now": super::store::rfc3339(now)})).into_response()
}

fn change_clock(shared: &Shared, body: &[u8]) -> axum::response::Response {
    let bad = |m: String| (StatusCode::BAD_REQUEST, m).into_response();
    let change: ClockChange = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(e) => return bad(format!("clock change: {e}")),
    };
    match (change.advance_secs, change.set) {
        (Some(secs), None) => match TimeDelta::try_seconds(secs) {
            Some(by) => clock_answer(shared.advance_clock(by)),
            None => bad(format!("advance_secs {secs} is out of range")),
        },
        (None, Some(at)) => match super::catalogue::parse_time(&at) {
            Some(at) => clock_answer(shared.set_clock(at)),
            None => bad(format!(
                "set '{at}' is not a date and time; give RFC 3339, e.g. 2027-06-01T12:00:00Z"
            )),
        },
        _ => bad("give exactly one of {\"advance_secs\": N} or {\"set\": \"RFC 3339\"}".to_owned()),
    }
}

/// An optional JSON body (a control call without one takes the defaults).
fn body_or_default<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

fn ui_answer(result: Result<super::store::SimEntity, UiError>) -> axum::response::Response {
    match result {
        Ok(view) => Json(view).into_response(),
        Err(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            e.to_string(),
        )
            .into_response(),
    }
}

fn ui_edit(shared: &Shared, id: Uuid, body: &[u8]) -> axum::response::Response {
    let edit: UiEdit = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("ui-edit: {e}")).into_response(),
    };
    let set: Vec<(&str, Value)> = edit
        .set
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let by = edit.by.as_deref().unwrap_or(UI_USER);
    ui_answer(ui::edit(shared, id, &set, by))
}

type S = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_sim/catalogue",
            get(|State(s): S| async move {
                let all: Vec<_> = s
                    .catalogue()
                    .all()
                    .map(super::store::Entity::view)
                    .collect();
                Json(all)
            })
            .post(|State(s): S, body: Bytes| async move { seed_from(&s, &body) }),
        )
        .route(
            "/_sim/duplicates",
            get(|State(s): S| async move { Json(s.catalogue().duplicates()) }),
        )
        .route(
            "/_sim/stats",
            get(|State(s): S| async move { Json(s.stats().clone()) }),
        )
        .route(
            "/_sim/faults",
            put(|State(s): S, Json(f): Json<Faults>| async move {
                s.set_faults(f);
                StatusCode::NO_CONTENT
            })
            .get(|State(s): S| async move { Json(s.faults()) }),
        )
        .route(
            "/_sim/revoke-tokens",
            post(|State(s): S| async move {
                s.auth.revoke_all();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/modified/{id}",
            post(|State(s): S, Path(id): Path<Uuid>| async move { found(set_modified(&s, id)) }),
        )
        .route(
            "/_sim/locked/{id}",
            post(
                |State(s): S, Path(id): Path<Uuid>, body: Bytes| async move {
                    let lock: Lock = if body.is_empty() {
                        Lock::default()
                    } else {
                        match serde_json::from_slice(&body) {
                            Ok(lock) => lock,
                            Err(e) => {
                                return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
                            }
                        }
                    };
                    found(set_locked(&s, id, lock.by)).into_response()
                },
            ),
        )
        .route(
            "/_sim/clock",
            get(|State(s): S| async move { clock_answer(s.catalogue().now()) })
                .post(|State(s): S, body: Bytes| async move { change_clock(&s, &body) }),
        )
        .route(
            "/_sim/ui-edit/{id}",
            post(|State(s): S, Path(id): Path<Uuid>, body: Bytes| async move {
                ui_edit(&s, id, &body)
            }),
        )
        .route(
            "/_sim/ui-archive/{id}",
            post(|State(s): S, Path(id): Path<Uuid>, body: Bytes| async move {
                match body_or_default::<UiBy>(&body) {
                    Ok(b) => ui_answer(ui::archive(&s, id, b.by.as_deref().unwrap_or(UI_USER))),
                    Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
                }
            }),
        )
        .route(
            "/_sim/ui-disconnect/{service}/{channel}",
            post(
                |State(s): S, Path((service, channel)): Path<(Uuid, Uuid)>, body: Bytes| async move {
                    match body_or_default::<UiBy>(&body) {
                        Ok(b) => ui_answer(ui::disconnect(
                            &s,
                            service,
                            channel,
                            b.by.as_deref().unwrap_or(UI_USER),
                        )),
                        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
                    }
                },
            ),
        )
        .route("/_sim/health", get(|| async { "ok" }))
}

//! The `/_sim` control surface, so a simulator run as its own process
//! (`ptv-sync sim --port N`) can be inspected and driven from scripts. Faults never
//! apply here.

use super::config::Faults;
use super::state::Shared;
use super::store::PublishingStatus;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
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
        .route("/_sim/health", get(|| async { "ok" }))
}

//! `POST /api/auth/api-login` (reference §2.1): JSON `{username, password,
//! apiUserOrganisation?}`, names bound case-insensitively.

use super::error::ApiError;
use super::state::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use std::sync::Arc;

fn field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

async fn login(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let answer = match (field(&body, "username"), field(&body, "password")) {
        (Some(user), Some(password)) => {
            shared
                .auth
                .login(user, password, field(&body, "apiUserOrganisation"))
        }
        _ => None,
    };
    let mut stats = shared.stats();
    if let Some(token) = answer {
        stats.logins += 1;
        Json(token).into_response()
    } else {
        stats.failed_logins += 1;
        ApiError::BadCredentials.into_response()
    }
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/api/auth/api-login", post(login))
}

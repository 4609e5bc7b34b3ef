//! The daemon's loopback listener: `/healthz`, `/readyz`, `/metrics`, and the admin
//! endpoint `POST /admin/resync` that `ptv-sync resync` uses to ask a running daemon to
//! sync now. The admin endpoint answers loopback connections only, and needs the bearer
//! secret from the state directory's `admin.token` (mode 0600, readable by the daemon's
//! user and root only), checked before the request body is read.

use super::{Daemon, ResyncRequest};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

pub fn router(d: Arc<Daemon>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/admin/resync", post(resync))
        .with_state(d)
}

async fn readyz(State(d): State<Arc<Daemon>>) -> Response {
    match d.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(d): State<Arc<Daemon>>) -> Response {
    d.refresh_gauges().await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        d.prometheus.render(),
    )
        .into_response()
}

async fn resync(
    State(d): State<Arc<Daemon>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !peer.ip().is_loopback() {
        return (
            StatusCode::FORBIDDEN,
            "the admin endpoint answers on loopback only: run `ptv-sync resync` on the daemon's host\n",
        )
            .into_response();
    }
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !presented.is_some_and(|p| constant_time_eq(p.as_bytes(), d.admin_token.as_bytes())) {
        return (
            StatusCode::UNAUTHORIZED,
            "admin token required: run as the daemon's user or root\n",
        )
            .into_response();
    }
    let req = match resync_request(&body) {
        Ok(r) => r,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    match d.resync_now(req).await {
        Ok(reports) => Json(reports).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e:#}\n")).into_response(),
    }
}

/// The body of `POST /admin/resync`; an error names the field at fault (`org: 'a b' must
/// be letters, ...`), so a hand-written request can be corrected.
fn resync_request(body: &[u8]) -> Result<ResyncRequest, String> {
    let refused =
        |e: &dyn std::fmt::Display| format!("the request body is not a resync request: {e}\n");
    let mut de = serde_json::Deserializer::from_slice(body);
    let req = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        if path == "." {
            refused(&e)
        } else {
            refused(&format!("{path}: {e}"))
        }
    })?;
    de.end().map_err(|e| refused(&e))?;
    Ok(req)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::resync_request;

    #[test]
    fn a_resync_request_names_the_field_at_fault() {
        let r = resync_request(br#"{"org": "espoo", "actor": "ignored"}"#).unwrap();
        assert_eq!(r.org.unwrap().as_str(), "espoo");
        let e = resync_request(br#"{"org": "espoo kunta"}"#).unwrap_err();
        assert!(
            e.contains("org: 'espoo kunta' must be letters, digits, '-' or '_'"),
            "{e}"
        );
        let e = resync_request(b"{} trailing").unwrap_err();
        assert!(
            e.starts_with("the request body is not a resync request"),
            "{e}"
        );
    }
}

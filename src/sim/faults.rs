//! Fault injection, as middleware around every faultable route: latency, 429s (random
//! and over the per-user concurrency cap), 500s before or after applying a write, and
//! connections dropped before or after applying one.

use super::error::{ApiError, Problem};
use super::state::Shared;
use super::stats::NO_ANSWER;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Set on a response to make the connection layer close the connection unanswered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DropConnection {}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Decrements the caller's in-flight count however the request ends.
struct InFlight {
    shared: Arc<Shared>,
    user: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.shared.leave(&self.user);
    }
}

/// Middleware for the v11 and v12 APIs.
pub(crate) async fn api(
    State(shared): State<Arc<Shared>>,
    mut req: Request,
    next: Next,
) -> Response {
    let template = template(&req);
    let method = req.method().clone();
    let v12 = template.starts_with("/api/v12");
    let bearer = shared.auth.bearer(
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    );
    let user = bearer
        .caller()
        .map_or_else(|| "anonymous".to_owned(), super::auth::Caller::owner_key);
    let plan = shared.plan(is_write(&method), true);
    // Counted in before the added latency: a slow request holds its slot, as in PTV.
    let in_flight = shared.enter(&user);
    let _guard = InFlight {
        shared: shared.clone(),
        user,
    };
    if !plan.latency.is_zero() {
        shared.fault("latency");
        tokio::time::sleep(plan.latency).await;
    }
    let response = if plan.max_in_flight.is_some_and(|max| in_flight > max) {
        shared.fault("in_flight");
        ApiError::TooMany.into_response()
    } else if plan.rate_limited {
        shared.fault("rate_limit");
        ApiError::TooMany.into_response()
    } else {
        req.extensions_mut().insert(bearer);
        if let Some(applied) = plan.error {
            if applied {
                let _lost = next.run(req).await;
            }
            shared.fault(if applied { "lost_response" } else { "error" });
            server_error(v12, &template)
        } else if let Some(applied) = plan.drop {
            if applied {
                let _lost = next.run(req).await;
            }
            shared.fault(if applied { "drop_after_apply" } else { "drop" });
            let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            response.extensions_mut().insert(DropConnection);
            response
        } else {
            next.run(req).await
        }
    };
    let status = if response.extensions().get::<DropConnection>().is_some() {
        NO_ANSWER
    } else {
        response.status().as_u16()
    };
    shared.record(method.as_str(), template, status);
    response
}

/// Middleware for the login: latency and 429s only, so logging in never 5xxs.
pub(crate) async fn login(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let template = template(&req);
    let method = req.method().clone();
    let plan = shared.plan(false, true);
    if !plan.latency.is_zero() {
        shared.fault("latency");
        tokio::time::sleep(plan.latency).await;
    }
    let response = if plan.rate_limited {
        shared.fault("rate_limit");
        ApiError::TooMany.into_response()
    } else {
        next.run(req).await
    };
    shared.record(method.as_str(), template, response.status().as_u16());
    response
}

fn template(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |m| m.as_str().to_owned())
}

fn server_error(v12: bool, template: &str) -> Response {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    if v12 {
        ApiError::Problem(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("An unexpected error occurred. Trace id: {trace}"),
            template,
        ))
        .into_response()
    } else {
        ApiError::Server(format!("An unexpected error occurred. Trace id: {trace}")).into_response()
    }
}

//! PTV's error answers, in the exact shapes of reference §8 (v11) and the v12 contract.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub(crate) const TOO_MANY: &str = "Too many requests sent to server, try again later";
pub(crate) const GUID_MESSAGE: &str =
    "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).";

/// Model-state errors: `PascalCase` path → messages, as ASP.NET's 400 answers carry them.
pub(crate) type FieldErrors = BTreeMap<String, Vec<String>>;

/// One failed request, v11 or v12 flavoured.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// v11 400 `{"Path": ["msg"]}`.
    Invalid(FieldErrors),
    /// v11 404 `{"errorMessage": …}`.
    NotFound(String),
    /// v11 500 `{"errorMessage": …}`: PTV maps every unhandled exception to it.
    Server(String),
    /// 401 from the introspection handler.
    Unauthorized,
    /// 403 from the login endpoint.
    BadCredentials,
    /// 429 plain text.
    TooMany,
    /// v12 RFC 7807 problem detail.
    Problem(Problem),
}

/// A v12 problem detail.
#[derive(Debug)]
pub(crate) struct Problem {
    pub status: StatusCode,
    pub detail: String,
    pub errors: Vec<(String, String)>,
    pub reason: Option<&'static str>,
    pub instance: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>, instance: &str) -> Self {
        Problem {
            status,
            detail: detail.into(),
            errors: Vec::new(),
            reason: None,
            instance: instance.to_owned(),
        }
    }

    fn body(&self) -> Value {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let mut body = json!({
            "type": format!("https://httpstatuses.io/{}", self.status.as_u16()),
            "title": title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "instance": self.instance,
            "requestId": uuid::Uuid::new_v4().to_string(),
        });
        if self.status == StatusCode::BAD_REQUEST {
            body["errors"] = self
                .errors
                .iter()
                .map(|(path, message)| json!({"path": path, "message": message}))
                .collect();
        }
        if let Some(reason) = self.reason {
            body["reason"] = json!(reason);
        }
        body
    }
}

impl ApiError {
    pub fn field(path: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(path.into(), vec![message.into()]);
        ApiError::Invalid(errors)
    }

    pub fn bad_guid(param: &str) -> Self {
        ApiError::field(param, GUID_MESSAGE)
    }

    /// Whether the request was rejected before anything could change.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::BadCredentials => StatusCode::FORBIDDEN,
            ApiError::TooMany => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Problem(p) => p.status,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            ApiError::Invalid(errors) => (status, axum::Json(errors)).into_response(),
            ApiError::NotFound(message) | ApiError::Server(message) => {
                (status, axum::Json(json!({ "errorMessage": message }))).into_response()
            }
            ApiError::Unauthorized => {
                let mut response = status.into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                response
            }
            ApiError::BadCredentials => (
                status,
                axum::Json(json!({"error": "invalid_grant", "message": "credentails are wrong"})),
            )
                .into_response(),
            ApiError::TooMany => (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                TOO_MANY,
            )
                .into_response(),
            ApiError::Problem(problem) => {
                let mut response = (status, axum::Json(problem.body())).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/problem+json"),
                );
                if status == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer error=\"invalid_token\""),
                    );
                }
                response
            }
        }
    }
}

//! PTV tokens, one cache per organisation.
//!
//! Login is `POST <token_url>` with JSON `{username, password, apiUserOrganisation?}`;
//! the answer carries the JWT as `serviceToken` (production), `ptvToken` (test
//! environment) or `access_token`. The token's `exp` claim, read without verifying the
//! signature, only tells us when to log in again: PTV itself decides whether a token is
//! good, and a 401 on a write drops the token (`invalidate`) so that the next caller logs
//! in afresh.
//!
//! Single flight: the cached token sits behind a `tokio::sync::Mutex`; a caller that
//! finds it missing or due logs in while holding the lock, so concurrent callers wait
//! and then reuse the fresh token. The password is re-read from its `SecretSource` at
//! every login and dropped right after the request is built.

use super::error::{PtvError, Redactor, describe_reqwest_error, redirected, shown, truncate};
use super::retry::RetryPolicy;
use crate::secret::SecretSource;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use url::Url;

/// How long a token without a readable `exp` is trusted before the next login.
const FALLBACK_LIFETIME: Duration = Duration::from_secs(3600);

/// A token handed to one request, with the generation that lets a 401 drop exactly it.
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) value: SecretString,
    pub(crate) generation: u64,
}

struct Cached {
    token: Token,
    refresh_at: DateTime<Utc>,
}

pub(crate) struct TokenManager {
    http: reqwest::Client,
    token_url: Url,
    username: String,
    password: SecretSource,
    api_user_organisation: Option<String>,
    margin: Duration,
    org: String,
    retry: RetryPolicy,
    log: Option<super::client::RequestLog>,
    cached: tokio::sync::Mutex<Option<Cached>>,
    expiry: StdMutex<Option<DateTime<Utc>>>,
    logins: AtomicU64,
    generation: AtomicU64,
}

pub(crate) struct TokenSettings {
    pub token_url: Url,
    pub username: String,
    pub password: SecretSource,
    pub api_user_organisation: Option<String>,
    pub margin: Duration,
    pub org: String,
    pub retry: RetryPolicy,
    pub log: Option<super::client::RequestLog>,
}

#[derive(serde::Deserialize)]
struct Claims {
    exp: Option<i64>,
}

impl TokenManager {
    pub(crate) fn new(http: reqwest::Client, s: TokenSettings) -> Self {
        TokenManager {
            http,
            token_url: s.token_url,
            username: s.username,
            password: s.password,
            api_user_organisation: s.api_user_organisation,
            margin: s.margin,
            org: s.org,
            retry: s.retry,
            log: s.log,
            cached: tokio::sync::Mutex::new(None),
            expiry: StdMutex::new(None),
            logins: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// Logins made so far (successful or not).
    pub(crate) fn logins(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    /// When the cached token expires, as its `exp` claim says.
    pub(crate) fn expiry(&self) -> Option<DateTime<Utc>> {
        *self
            .expiry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A token that is not due for refresh, logging in if needed (once for all callers).
    pub(crate) async fn get(&self) -> Result<Token, PtvError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| Utc::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        *cached = None;
        let (value, exp) = self.login().await?;
        let now = Utc::now();
        let refresh_at = match exp {
            Some(exp) => {
                let margin = chrono::Duration::from_std(self.margin).unwrap_or_default();
                // A lifetime shorter than the margin still gets used for half of it.
                (exp - margin).max(now + (exp - now) / 2)
            }
            None => now + chrono::Duration::from_std(FALLBACK_LIFETIME).unwrap_or_default(),
        };
        let token = Token {
            value,
            generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
        };
        *self
            .expiry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = exp;
        *cached = Some(Cached {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// PTV refused `generation` (401): forget it unless another caller already did.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut cached = self.cached.lock().await;
        if cached
            .as_ref()
            .is_some_and(|c| c.token.generation == generation)
        {
            tracing::info!(org = %self.org, "PTV refused the cached token; logging in again");
            *cached = None;
        }
    }

    fn login_item(&self) -> String {
        format!(
            "login of organisation {} at {}",
            self.org,
            shown(&self.token_url)
        )
    }

    async fn login(&self) -> Result<(SecretString, Option<DateTime<Utc>>), PtvError> {
        let mut delays = self.retry.delays();
        loop {
            let outcome = self.login_once().await;
            match outcome {
                Ok(t) => return Ok(t),
                Err(e @ PtvError::Transient { .. }) => match delays.next() {
                    Some(d) => {
                        tracing::warn!(org = %self.org, error = %e, "PTV login failed; retrying in {d:?}");
                        tokio::time::sleep(d).await;
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }

    async fn login_once(&self) -> Result<(SecretString, Option<DateTime<Utc>>), PtvError> {
        self.logins.fetch_add(1, Ordering::Relaxed);
        let password = self
            .password
            .read(&format!("PTV password of organisation {}", self.org))
            .map_err(|e| PtvError::config(e.to_string()))?;
        let redactor = Redactor::default().with(password.expose_secret());
        let mut body = serde_json::json!({
            "username": self.username,
            "password": password.expose_secret(),
        });
        if let Some(o) = &self.api_user_organisation {
            body["apiUserOrganisation"] = serde_json::Value::String(o.clone());
        }
        let request = self.http.post(self.token_url.clone()).json(&body);
        drop(body);
        drop(password);
        tracing::debug!(org = %self.org, url = %shown(&self.token_url), "logging in to PTV");
        let started = std::time::Instant::now();
        let record = |status: Option<u16>| {
            if let Some(log) = &self.log {
                log.push("POST", &self.token_url, status, started.elapsed());
            }
        };
        let response = request.send().await.map_err(|e| {
            record(None);
            PtvError::Transient {
                item: self.login_item(),
                status: None,
                message: redactor.scrub(&describe_reqwest_error(&e)),
            }
        })?;
        let status = response.status().as_u16();
        let text = response.text().await;
        record(Some(status));
        let text = text.map_err(|e| PtvError::Transient {
            item: self.login_item(),
            status: Some(status),
            message: redactor.scrub(&describe_reqwest_error(&e)),
        })?;
        if (300..400).contains(&status) {
            return Err(redirected(&reqwest::Method::POST, &self.token_url, status));
        }
        if status == 429 || status >= 500 {
            return Err(PtvError::Transient {
                item: self.login_item(),
                status: Some(status),
                message: redactor.scrub(&truncate(&text)),
            });
        }
        if !(200..300).contains(&status) {
            return Err(PtvError::Auth {
                org: self.org.clone(),
                status: Some(status),
                message: redactor.scrub(&truncate(&login_error_message(&text))),
            });
        }
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|_| PtvError::Auth {
            org: self.org.clone(),
            status: Some(status),
            message: "the login answer is not JSON; is token_url the api-login endpoint?".into(),
        })?;
        let token = ["serviceToken", "ptvToken", "access_token"]
            .iter()
            .find_map(|k| json.get(*k).and_then(serde_json::Value::as_str))
            .filter(|t| !t.is_empty())
            .map(|t| SecretString::from(t.to_owned()))
            .ok_or_else(|| PtvError::Auth {
                org: self.org.clone(),
                status: Some(status),
                message: "the login answer has no serviceToken, ptvToken or access_token".into(),
            })?;
        let exp = token_expiry(token.expose_secret()).or_else(|| {
            json.get("expiration")
                .and_then(serde_json::Value::as_str)
                .and_then(|s| s.parse::<DateTime<Utc>>().ok())
        });
        tracing::info!(org = %self.org, expires_at = ?exp, "logged in to PTV");
        Ok((token, exp))
    }
}

/// The `exp` claim of a JWT, read without checking the signature (a hint only).
pub(crate) fn token_expiry(token: &str) -> Option<DateTime<Utc>> {
    let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    DateTime::from_timestamp(claims.exp?, 0)
}

/// PTV's login errors are `{error, message}`; fall back to the raw text.
fn login_error_message(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            let m = v.get("message").and_then(serde_json::Value::as_str);
            let e = v.get("error").and_then(serde_json::Value::as_str);
            match (e, m) {
                (Some(e), Some(m)) => Some(format!("{e}: {m}")),
                (None, Some(s)) | (Some(s), None) => Some(s.to_owned()),
                (None, None) => None,
            }
        })
        .unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(exp: i64) -> String {
        let enc = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            enc(&serde_json::json!({"alg": "HS256", "typ": "JWT"})),
            enc(&serde_json::json!({"exp": exp, "username": "api@x.fi"}))
        )
    }

    #[test]
    fn expiry_is_read_from_the_exp_claim() {
        assert_eq!(
            token_expiry(&jwt(1_900_000_000)),
            DateTime::from_timestamp(1_900_000_000, 0)
        );
        assert_eq!(token_expiry("not-a-jwt"), None);
    }

    #[test]
    fn login_errors_show_ptv_message() {
        assert_eq!(
            login_error_message(r#"{"error":"invalid_grant","message":"credentails are wrong"}"#),
            "invalid_grant: credentails are wrong"
        );
        assert_eq!(login_error_message("nope"), "nope");
    }
}

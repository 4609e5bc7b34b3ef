//! HTTP transport to PTV: one `reqwest` client (rustls, TLS 1.2 or newer) per
//! organisation, bounded concurrency, retries with backoff, token handling and error
//! classification. The version adapters build calls; this module sends them.

use super::auth::{TokenManager, TokenSettings};
use super::error::{
    Answer, PtvError, Redactor, classify, describe_reqwest_error, redirected, shown, truncate,
};
use super::retry::{Limiter, RetryPolicy, parse_retry_after};
use crate::model::{ApiVersion, ItemKind};
use crate::secret::SecretSource;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use url::Url;

/// Everything needed to talk to PTV for one organisation.
#[derive(Debug, Clone)]
pub struct PtvClientConfig {
    pub api_version: ApiVersion,
    /// Production refuses plain `http://` URLs.
    pub production: bool,
    /// e.g. `https://api.palvelutietovaranto.suomi.fi` (v11) or
    /// `https://api-gw.palvelutietovaranto.suomi.fi` (v12); a path prefix is kept.
    pub api_base: Url,
    /// e.g. `https://palveluhallinta.suomi.fi/api/auth/api-login`.
    pub token_url: Url,
    pub username: String,
    pub password: SecretSource,
    /// Palveluhallinta organisation id, for API users linked to several organisations.
    pub api_user_organisation: Option<String>,
    /// v12 `x-api-key`; required for v12.
    pub api_key: Option<SecretSource>,
    /// PTV id of the configured main organisation (parent of sub-organisations).
    pub main_organization_id: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Log in again this long before the token's `exp`.
    pub token_refresh_margin: Duration,
    /// Requests in flight for this organisation (halved on 429, grows back).
    pub max_in_flight: usize,
    pub retry: RetryPolicy,
    /// PEM file holding a client certificate and its private key.
    pub client_cert_pem: Option<PathBuf>,
    /// PEM file with extra CA certificates to trust (a proxy or security server).
    pub extra_ca_pem: Option<PathBuf>,
    /// Our name of the organisation, for messages and logs.
    pub org_name: String,
    /// Where every HTTP request (login included) is recorded, for the readiness report.
    pub request_log: Option<RequestLog>,
}

/// One HTTP request as a report shows it: method, path, status and time, never a header,
/// a body or a query (where tokens, passwords and keys travel).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestRecord {
    pub method: String,
    /// The URL's path only: no scheme, host or query.
    pub path: String,
    /// `None` when no answer came (the connection failed or was dropped).
    pub status: Option<u16>,
    pub duration_ms: u64,
}

/// An observer of every request a client makes, shared with whoever reads it.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<std::sync::Mutex<Vec<RequestRecord>>>);

impl RequestLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RequestRecord>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn push(&self, method: &str, url: &Url, status: Option<u16>, took: Duration) {
        self.lock().push(RequestRecord {
            method: method.to_owned(),
            path: url.path().to_owned(),
            status,
            duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        });
    }

    /// Requests recorded so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The requests recorded after the first `start`.
    #[must_use]
    pub fn since(&self, start: usize) -> Vec<RequestRecord> {
        self.lock()
            .get(start..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }
}

impl PtvClientConfig {
    /// A configuration with the defaults: 10 s connect and 90 s request timeouts, token
    /// refresh 5 minutes before expiry, 4 requests in flight, default retries.
    #[must_use]
    pub fn new(
        api_version: ApiVersion,
        api_base: Url,
        token_url: Url,
        username: String,
        password: SecretSource,
        main_organization_id: String,
        org_name: String,
    ) -> Self {
        PtvClientConfig {
            api_version,
            production: true,
            api_base,
            token_url,
            username,
            password,
            api_user_organisation: None,
            api_key: None,
            main_organization_id,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(90),
            token_refresh_margin: Duration::from_secs(300),
            max_in_flight: 4,
            retry: RetryPolicy::default(),
            client_cert_pem: None,
            extra_ca_pem: None,
            org_name,
            request_log: None,
        }
    }
}

/// How a failed attempt may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Repeating the request is harmless (GET, PUT, DELETE): retry every transient failure.
    Idempotent,
    /// A create: repeat only when PTV surely did not act on it (429, refused connection).
    /// Any other transient failure returns `Transient` at once: the outcome is unknown
    /// and the caller must look the item up before creating again.
    Create,
}

/// One logical request.
pub(crate) struct Call<'a> {
    pub method: Method,
    /// Path segments under `api_base`, e.g. `["api", "v11", "Service", id]`.
    pub path: Vec<String>,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<&'a Value>,
    /// Send the bearer token (writes and restricted reads only).
    pub bearer: bool,
    pub mode: Mode,
    pub kind: ItemKind,
    /// What the call is about, for messages: "service espoo-service-x".
    pub item: &'a str,
}

/// Bookkeeping of one adapter operation, which may take several requests.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    pub requests: u32,
    pub last_body_sha256: Option<String>,
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
}

pub(crate) struct Transport {
    http: reqwest::Client,
    base: Url,
    version: ApiVersion,
    tokens: TokenManager,
    api_key: Option<SecretSource>,
    limiter: Limiter,
    global: Arc<Semaphore>,
    retry: RetryPolicy,
    org: String,
    log: Option<RequestLog>,
}

fn check_url(what: &str, url: &Url, production: bool) -> Result<(), PtvError> {
    let shown_url = shown(url);
    match url.scheme() {
        "http" if production => Err(PtvError::config(format!(
            "{what} {shown_url} uses plain http://, which is refused in production; use https://"
        ))),
        "https" | "http" => Ok(()),
        other => Err(PtvError::config(format!(
            "{what} {shown_url} has scheme {other}; use https://"
        ))),
    }
}

fn read_pem(what: &str, path: &PathBuf) -> Result<Vec<u8>, PtvError> {
    std::fs::read(path).map_err(|e| {
        PtvError::config(format!(
            "cannot read {what} {}: {e}; check the path and that the service user may read it",
            path.display()
        ))
    })
}

pub(crate) fn build_http(cfg: &PtvClientConfig) -> Result<reqwest::Client, PtvError> {
    check_url("api_base", &cfg.api_base, cfg.production)?;
    check_url("token_url", &cfg.token_url, cfg.production)?;
    let mut b = reqwest::Client::builder()
        .tls_backend_rustls()
        .tls_version_min(reqwest::tls::Version::TLS_1_2)
        .https_only(cfg.production)
        // A redirect would re-send the login body (the password) or the API key to
        // wherever it points; an API client needs none (see `interpret`).
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(cfg.connect_timeout)
        .timeout(cfg.request_timeout)
        .user_agent(concat!("ptv-sync/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &cfg.client_cert_pem {
        let pem = read_pem("client certificate", path)?;
        let id = reqwest::Identity::from_pem(&pem).map_err(|e| {
            PtvError::config(format!(
                "client certificate {} is not a PEM certificate with its private key: {e}",
                path.display()
            ))
        })?;
        b = b.identity(id);
    }
    if let Some(path) = &cfg.extra_ca_pem {
        let pem = read_pem("CA bundle", path)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                PtvError::config(format!(
                    "CA bundle {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                ))
            })?;
        b = b.tls_certs_merge(certs);
    }
    b.build()
        .map_err(|e| PtvError::config(format!("cannot build the HTTP client: {e}")))
}

enum Attempt {
    Done(Reply),
    /// Retry after a delay; `retry_after` from the server, `safe` = PTV surely did not act.
    Retry {
        status: Option<u16>,
        message: String,
        retry_after: Option<Duration>,
        safe: bool,
    },
    Relogin(u64),
    Fail(PtvError),
}

impl Transport {
    pub(crate) fn new(cfg: PtvClientConfig, global: Arc<Semaphore>) -> Result<Self, PtvError> {
        if cfg.api_version == ApiVersion::V12 && cfg.api_key.is_none() {
            return Err(PtvError::config(format!(
                "organisation {} writes to PTV v12, which needs an API key; set api_key",
                cfg.org_name
            )));
        }
        if cfg.retry.max_attempts == 0 {
            return Err(PtvError::config("retry.max_attempts must be at least 1"));
        }
        let http = build_http(&cfg)?;
        let tokens = TokenManager::new(
            http.clone(),
            TokenSettings {
                token_url: cfg.token_url,
                username: cfg.username,
                password: cfg.password,
                api_user_organisation: cfg.api_user_organisation,
                margin: cfg.token_refresh_margin,
                org: cfg.org_name.clone(),
                retry: cfg.retry.clone(),
                log: cfg.request_log.clone(),
            },
        );
        Ok(Transport {
            http,
            base: cfg.api_base,
            version: cfg.api_version,
            tokens,
            api_key: cfg.api_key,
            limiter: Limiter::new(cfg.max_in_flight),
            global,
            retry: cfg.retry,
            org: cfg.org_name,
            log: cfg.request_log,
        })
    }

    pub(crate) fn tokens(&self) -> &TokenManager {
        &self.tokens
    }

    /// Current limit on requests in flight (after 429 reductions).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn in_flight_limit(&self) -> usize {
        self.limiter.limit()
    }

    fn url(&self, call: &Call<'_>) -> Result<Url, PtvError> {
        let mut url = self.base.clone();
        {
            let mut segs = url.path_segments_mut().map_err(|()| {
                PtvError::config(format!("api_base {} cannot take a path", shown(&self.base)))
            })?;
            segs.pop_if_empty();
            for s in &call.path {
                segs.push(s);
            }
        }
        if !call.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &call.query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Sends `call`, retrying transient failures per the policy and logging in again
    /// once on a 401. Non-success answers come back classified.
    pub(crate) async fn send(&self, call: &Call<'_>, trace: &mut Trace) -> Result<Reply, PtvError> {
        let url = self.url(call)?;
        let body_bytes = match call.body {
            Some(b) => Some(
                serde_json::to_vec(b)
                    .map_err(|e| PtvError::config(format!("cannot serialise the body: {e}")))?,
            ),
            None => None,
        };
        if let Some(bytes) = &body_bytes {
            trace.last_body_sha256 = Some(hex::encode(Sha256::digest(bytes)));
        }
        let mut delays = self.retry.delays();
        let mut relogged = false;
        loop {
            let attempt = self.attempt(call, &url, body_bytes.as_deref(), trace).await;
            match attempt {
                Attempt::Done(r) => return Ok(r),
                Attempt::Fail(e) => return Err(e),
                Attempt::Relogin(generation) => {
                    if relogged {
                        return Err(PtvError::Auth {
                            org: self.org.clone(),
                            status: Some(401),
                            message: format!(
                                "PTV refused a freshly issued token for {} {}",
                                call.method,
                                url.path()
                            ),
                        });
                    }
                    relogged = true;
                    self.tokens.invalidate(generation).await;
                }
                Attempt::Retry {
                    status,
                    message,
                    retry_after,
                    safe,
                } => {
                    let transient = PtvError::Transient {
                        item: call.item.to_owned(),
                        status,
                        message,
                    };
                    if call.mode == Mode::Create && !safe {
                        return Err(transient);
                    }
                    let Some(computed) = delays.next() else {
                        return Err(transient);
                    };
                    let delay = self.retry.with_retry_after(computed, retry_after);
                    tracing::warn!(
                        org = %self.org,
                        method = %call.method,
                        path = url.path(),
                        status = ?status,
                        "PTV request failed transiently; retrying in {delay:?}"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// The request with its headers; `redactor` learns the secrets put into it.
    async fn build(
        &self,
        call: &Call<'_>,
        url: &Url,
        body: Option<&[u8]>,
        redactor: &mut Redactor,
    ) -> Result<(reqwest::RequestBuilder, Option<u64>), PtvError> {
        let mut req = self.http.request(call.method.clone(), url.clone());
        if let Some(source) = &self.api_key {
            let key = source
                .read(&format!("PTV API key of organisation {}", self.org))
                .map_err(|e| PtvError::config(e.to_string()))?;
            *redactor = std::mem::take(redactor).with(key.expose_secret());
            let mut value = HeaderValue::from_str(key.expose_secret()).map_err(|_| {
                PtvError::config(format!(
                    "the PTV API key of organisation {} is not a valid header value",
                    self.org
                ))
            })?;
            value.set_sensitive(true);
            req = req.header("x-api-key", value);
        }
        let mut generation = None;
        if call.bearer {
            let token = self.tokens.get().await?;
            *redactor = std::mem::take(redactor).with(token.value.expose_secret());
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", token.value.expose_secret())).map_err(
                    |_| PtvError::Auth {
                        org: self.org.clone(),
                        status: None,
                        message: "the token PTV issued is not a valid header value".into(),
                    },
                )?;
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
            generation = Some(token.generation);
        }
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        Ok((req, generation))
    }

    async fn attempt(
        &self,
        call: &Call<'_>,
        url: &Url,
        body: Option<&[u8]>,
        trace: &mut Trace,
    ) -> Attempt {
        let mut redactor = Redactor::default();
        let (req, generation) = match self.build(call, url, body, &mut redactor).await {
            Ok(r) => r,
            Err(e) => return Attempt::Fail(e),
        };
        let _slot = self.limiter.acquire().await;
        let _global = Arc::clone(&self.global)
            .acquire_owned()
            .await
            .expect("the global PTV semaphore is never closed");
        trace.requests += 1;
        tracing::debug!(org = %self.org, method = %call.method, path = url.path(), "PTV request");
        let started = std::time::Instant::now();
        let record = |status: Option<u16>| {
            if let Some(log) = &self.log {
                log.push(call.method.as_str(), url, status, started.elapsed());
            }
        };
        let response = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                record(None);
                metrics::counter!("ptv_sync_http_responses_total", "org" => self.org.clone(), "status" => "none").increment(1);
                return Attempt::Retry {
                    status: None,
                    message: redactor.scrub(&describe_reqwest_error(&e)),
                    retry_after: None,
                    safe: e.is_connect(),
                };
            }
        };
        let status = response.status().as_u16();
        metrics::counter!("ptv_sync_http_responses_total", "org" => self.org.clone(), "status" => status.to_string()).increment(1);
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let text = response.text().await;
        record(Some(status));
        let text = match text {
            Ok(t) => redactor.scrub(&t),
            Err(e) => {
                return Attempt::Retry {
                    status: Some(status),
                    message: redactor.scrub(&describe_reqwest_error(&e)),
                    retry_after: None,
                    safe: false,
                };
            }
        };
        tracing::debug!(org = %self.org, method = %call.method, path = url.path(), status, "PTV answered");
        self.interpret(call, url, status, retry_after, text, generation)
    }

    fn interpret(
        &self,
        call: &Call<'_>,
        url: &Url,
        status: u16,
        retry_after: Option<Duration>,
        text: String,
        generation: Option<u64>,
    ) -> Attempt {
        match status {
            200..=299 => {
                self.limiter.succeeded();
                let body = if text.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text).unwrap_or(Value::String(text))
                };
                Attempt::Done(Reply { status, body })
            }
            300..=399 => Attempt::Fail(redirected(&call.method, url, status)),
            401 => match generation {
                Some(g) => Attempt::Relogin(g),
                None => Attempt::Fail(PtvError::Forbidden {
                    item: call.item.to_owned(),
                    message: format!("401 on {} {}: {}", call.method, url.path(), truncate(&text)),
                }),
            },
            429 => {
                self.limiter.throttled();
                Attempt::Retry {
                    status: Some(429),
                    message: truncate(&text),
                    retry_after,
                    safe: true,
                }
            }
            _ => {
                let err = classify(&Answer {
                    status,
                    body: &text,
                    version: self.version,
                    kind: call.kind,
                    item: call.item,
                });
                match err {
                    PtvError::Transient {
                        status, message, ..
                    } => Attempt::Retry {
                        status,
                        message,
                        retry_after,
                        safe: false,
                    },
                    other => Attempt::Fail(other),
                }
            }
        }
    }
}

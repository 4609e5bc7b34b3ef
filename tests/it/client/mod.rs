//! The PTV client against wiremock (exact protocol situations) and against the PTV
//! simulator (a whole PTV with its rules and faults).

mod catalogue;
mod errors;
mod mapping;
mod odd_ids;
mod safe_create;
mod secrets;
mod simulator;
mod thousand;
mod tokens;
mod transport;

use base64::Engine as _;
use ptv_sync::model::{ApiVersion, ChannelType, ItemKind, PtvId, PtvSourceId};
use ptv_sync::ptv::wire::{Wire, Write};
use ptv_sync::ptv::{PtvClientConfig, RetryPolicy};
use ptv_sync::secret::SecretSource;
use secrecy::SecretString;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const PASSWORD: &str = "pw-Very-Secret-4711";
pub const API_KEY: &str = "key-Very-Secret-0815";
pub const ORG: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
pub const LOGIN_PATH: &str = "/api/auth/api-login";

/// An unsigned JWT with `exp` `secs` from now and a marker making each token unique.
pub fn jwt(secs: i64, marker: &str) -> String {
    let enc = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let exp = chrono::Utc::now().timestamp() + secs;
    format!(
        "{}.{}.c2lnbmF0dXJl",
        enc(&serde_json::json!({"alg": "HS256", "typ": "JWT"})),
        enc(&serde_json::json!({"exp": exp, "username": "api@example.fi", "n": marker}))
    )
}

/// Answers logins with the given tokens in turn (the last one repeats), counting them.
pub struct Issuer {
    tokens: Vec<String>,
    pub count: Arc<AtomicUsize>,
}

impl Issuer {
    pub fn new(tokens: Vec<String>) -> (Self, Arc<AtomicUsize>) {
        let count = Arc::new(AtomicUsize::new(0));
        (
            Issuer {
                tokens,
                count: Arc::clone(&count),
            },
            count,
        )
    }
}

impl Respond for Issuer {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        let token = &self.tokens[n.min(self.tokens.len() - 1)];
        ResponseTemplate::new(200).set_body_json(serde_json::json!({ "serviceToken": token }))
    }
}

/// Mounts a login answering `tokens` in turn; returns the login counter.
pub async fn mount_login(server: &MockServer, tokens: Vec<String>) -> Arc<AtomicUsize> {
    let (issuer, count) = Issuer::new(tokens);
    Mock::given(method("POST"))
        .and(path(LOGIN_PATH))
        .respond_with(issuer)
        .mount(server)
        .await;
    count
}

pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        min_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(2),
        jitter: true,
    }
}

pub fn config(base: &str, version: ApiVersion) -> PtvClientConfig {
    let base = url::Url::parse(base).unwrap();
    let mut cfg = PtvClientConfig::new(
        version,
        base.clone(),
        base.join(LOGIN_PATH).unwrap(),
        "api@example.fi".into(),
        SecretSource::Inline(SecretString::from(PASSWORD.to_owned())),
        ORG.into(),
        "testorg".into(),
    );
    cfg.production = false;
    cfg.retry = fast_retry(4);
    cfg.request_timeout = Duration::from_secs(5);
    cfg.token_refresh_margin = Duration::from_millis(500);
    if version == ApiVersion::V12 {
        cfg.api_key = Some(SecretSource::Inline(SecretString::from(API_KEY.to_owned())));
    }
    cfg
}

pub fn connect(cfg: PtvClientConfig) -> Arc<dyn Wire> {
    ptv_sync::ptv::wire::connect(cfg, Arc::new(Semaphore::new(64))).unwrap()
}

/// A PTV id of the fixtures (all GUIDs).
pub fn pid(id: &str) -> PtvId {
    PtvId::parse(id).unwrap()
}

pub fn service_write(source_id: &str) -> Write {
    Write {
        kind: ItemKind::Service,
        channel_type: None,
        source_id: PtvSourceId::parse(source_id).unwrap(),
        organization_ptv_id: pid(ORG),
        name_fi: Some("Rakennuslupa".into()),
        body: serde_json::json!({
            "fundingType": "PubliclyFunded",
            "serviceNames": [{"language": "fi", "type": "Name", "value": "Rakennuslupa"}],
        }),
    }
}

pub fn channel_write(source_id: &str, t: ChannelType, name: &str) -> Write {
    Write {
        kind: ItemKind::Channel,
        channel_type: Some(t),
        source_id: PtvSourceId::parse(source_id).unwrap(),
        organization_ptv_id: pid(ORG),
        name_fi: Some(name.into()),
        body: serde_json::json!({"organizationId": ORG}),
    }
}

/// Requests the server received whose path is `p`.
pub async fn received(server: &MockServer, m: &str, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method.as_str() == m && r.url.path() == p)
        .collect()
}

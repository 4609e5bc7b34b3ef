//! Transport: configuration checks, User-Agent, concurrency reduction on 429.

use super::{ORG, config, jwt, mount_login, pid, received, service_write};
use ptv_sync::model::ApiVersion;
use ptv_sync::ptv::PtvError;
use ptv_sync::ptv::v11::V11Client;
use ptv_sync::ptv::wire::Wire;
use std::sync::Arc;
use tokio::sync::Semaphore;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config_error(cfg: ptv_sync::ptv::PtvClientConfig) -> String {
    match ptv_sync::ptv::connect(cfg, Arc::new(Semaphore::new(1))) {
        Err(e @ PtvError::Config { .. }) => e.to_string(),
        Err(e) => panic!("expected a configuration error, got {e:?}"),
        Ok(_) => panic!("expected a configuration error"),
    }
}

#[test]
fn plain_http_is_refused_in_production() {
    let mut cfg = config("http://127.0.0.1:9", ApiVersion::V11);
    cfg.production = true;
    let msg = config_error(cfg);
    assert!(
        msg.contains("http://") && msg.contains("production"),
        "{msg}"
    );

    let mut cfg = config("https://api.palvelutietovaranto.suomi.fi", ApiVersion::V11);
    cfg.production = true;
    cfg.token_url = url::Url::parse("http://palveluhallinta.suomi.fi/api/auth/api-login").unwrap();
    let msg = config_error(cfg);
    assert!(msg.contains("token_url"), "{msg}");

    let mut cfg = config("https://api.palvelutietovaranto.suomi.fi", ApiVersion::V11);
    cfg.production = true;
    cfg.token_url = url::Url::parse("https://palveluhallinta.suomi.fi/api/auth/api-login").unwrap();
    assert!(ptv_sync::ptv::connect(cfg, Arc::new(Semaphore::new(1))).is_ok());
}

#[test]
fn unusable_certificates_and_a_missing_v12_key_are_configuration_errors() {
    let mut cfg = config("http://127.0.0.1:9", ApiVersion::V11);
    cfg.client_cert_pem = Some("/nonexistent/client.pem".into());
    assert!(config_error(cfg).contains("/nonexistent/client.pem"));

    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("ca.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let mut cfg = config("http://127.0.0.1:9", ApiVersion::V11);
    cfg.extra_ca_pem = Some(bogus.clone());
    assert!(config_error(cfg).contains(&bogus.display().to_string()));

    let mut cfg = config("http://127.0.0.1:9", ApiVersion::V12);
    cfg.api_key = None;
    assert!(config_error(cfg).contains("API key"));
}

#[tokio::test]
async fn the_user_agent_names_ptv_sync_and_its_version() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    let ua = format!("ptv-sync/{}", env!("CARGO_PKG_VERSION"));
    Mock::given(method("PUT"))
        .and(header("user-agent", ua.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": ORG})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(400))
        .with_priority(10)
        .mount(&server)
        .await;
    let api = super::connect(config(&server.uri(), ApiVersion::V11));
    api.update(&pid(ORG), &service_write("x")).await.unwrap();
    let login = &received(&server, "POST", super::LOGIN_PATH).await[0];
    assert_eq!(login.headers["user-agent"].to_str().unwrap(), ua);
}

#[tokio::test]
async fn throttling_halves_the_requests_in_flight_and_success_grows_them_back() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/v11/Service/{ORG}")))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/v11/Service/{ORG}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": ORG})))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), ApiVersion::V11);
    cfg.max_in_flight = 4;
    let client = V11Client::new(cfg, Arc::new(Semaphore::new(8))).unwrap();
    assert_eq!(client.in_flight_limit(), 4);
    let w = client.update(&pid(ORG), &service_write("x")).await.unwrap();
    assert_eq!(w.requests, 4);
    // 4 → 2 → 1 → 1 on the three 429s, then one success at limit 1 adds one.
    assert_eq!(client.in_flight_limit(), 2);
    for _ in 0..5 {
        client.update(&pid(ORG), &service_write("x")).await.unwrap();
    }
    assert_eq!(
        client.in_flight_limit(),
        4,
        "additive increase back to the configured cap"
    );
}

#[tokio::test]
async fn the_global_cap_bounds_requests_across_organisations() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": ORG}))
                .set_delay(std::time::Duration::from_millis(100)),
        )
        .mount(&server)
        .await;
    let global = Arc::new(Semaphore::new(1));
    let a =
        ptv_sync::ptv::wire::connect(config(&server.uri(), ApiVersion::V11), Arc::clone(&global))
            .unwrap();
    let b =
        ptv_sync::ptv::wire::connect(config(&server.uri(), ApiVersion::V11), Arc::clone(&global))
            .unwrap();
    let w = service_write("x");
    let started = std::time::Instant::now();
    let id = pid(ORG);
    let (ra, rb) = tokio::join!(
        async { futures::future::join_all((0..2).map(|_| a.update(&id, &w))).await },
        async { futures::future::join_all((0..2).map(|_| b.update(&id, &w))).await },
    );
    assert!(ra.iter().chain(rb.iter()).all(Result::is_ok));
    // One permit: the four 100 ms requests run one after another.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

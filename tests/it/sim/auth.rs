//! Rule 1 and the login (reference §2).

use super::support::{Sim, service};
use base64::Engine;
use ptv_sync::sim::{SimConfig, Simulator, TokenStyle};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn rule_01_write_without_token_is_401_with_invalid_token_challenge() {
    let sim = Sim::start().await;
    let a = sim
        .call(
            Method::POST,
            "/api/v11/Service",
            None,
            Some(&service(sim.org, "A", "a")),
        )
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert!(
        sim.handle
            .catalogue()
            .iter()
            .all(|e| e.name_fi.as_deref() != Some("A"))
    );
}

#[tokio::test]
async fn rule_01_unknown_token_is_401() {
    let sim = Sim::start().await;
    // A well-formed JWT this simulator never issued (signed by another simulator).
    let other = Sim::start().await;
    let a = sim
        .call(
            Method::POST,
            "/api/v11/Service",
            Some(&other.token),
            Some(&service(sim.org, "A", "a")),
        )
        .await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn rule_01_token_is_rejected_after_its_lifetime() {
    let (mut config, user, org) = SimConfig::single_org();
    config.token_lifetime = Duration::from_secs(1);
    let sim = Sim::with(config, user, org).await;
    assert_eq!(
        sim.post("/api/v11/Service", &service(org, "A", "a"))
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let a = sim.post("/api/v11/Service", &service(org, "B", "b")).await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn rule_01_revoked_token_is_401_before_exp() {
    let sim = Sim::start().await;
    sim.handle.revoke_all_tokens();
    assert_eq!(
        sim.post("/api/v11/Service", &service(sim.org, "A", "a"))
            .await
            .status,
        401
    );
    let fresh = sim.login_as(&sim.user.username, &sim.user.password).await;
    let a = sim
        .call(
            Method::POST,
            "/api/v11/Service",
            Some(&fresh),
            Some(&service(sim.org, "A", "a")),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("json claims")
}

#[tokio::test]
async fn login_production_style_answers_service_token_with_ptv_claims() {
    let (config, user, org) = SimConfig::single_org();
    let handle = Simulator::start(config).await.unwrap();
    let body: Value = reqwest::Client::new()
        .post(format!("{}/api/auth/api-login", handle.base_url()))
        .json(&json!({"username": user.username, "password": user.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["serviceToken"].as_str().expect("serviceToken");
    assert!(body.get("ptvToken").is_none());
    let c = claims(token);
    assert_eq!(c["activeOrganizationId"], org.to_string());
    assert_eq!(c["email"], user.username);
    assert_eq!(c["roles"], json!({"ptv": ["api"]}));
    let lifetime = c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap();
    assert!((86_399..=86_401).contains(&lifetime), "{lifetime}");
    assert_eq!(handle.stats().logins, 1);
}

#[tokio::test]
async fn login_test_style_answers_ptv_token_and_binds_names_case_insensitively() {
    let (mut config, user, _) = SimConfig::single_org();
    config.token_style = TokenStyle::Test;
    let handle = Simulator::start(config).await.unwrap();
    let body: Value = reqwest::Client::new()
        .post(format!("{}/api/auth/api-login", handle.base_url()))
        .json(&json!({"UserName": user.username.to_uppercase(), "Password": user.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["ptvToken"].is_string(), "{body}");
    assert!(body.get("serviceToken").is_none());
}

#[tokio::test]
async fn login_with_wrong_credentials_is_403_with_error_and_message() {
    let sim = Sim::start().await;
    let a = sim
        .call(
            Method::POST,
            "/api/auth/api-login",
            None,
            Some(&json!({"username": sim.user.username, "password": "wrong"})),
        )
        .await;
    assert_eq!(a.status, 403);
    assert!(
        a.body["error"].is_string() && a.body["message"].is_string(),
        "{}",
        a.text
    );
    assert_eq!(sim.handle.stats().failed_logins, 1);
}

#[tokio::test]
async fn login_for_another_organisation_is_403() {
    let sim = Sim::start().await;
    let a = sim
        .call(
            Method::POST,
            "/api/auth/api-login",
            None,
            Some(
                &json!({"username": sim.user.username, "password": sim.user.password,
                         "apiUserOrganisation": uuid::Uuid::new_v4()}),
            ),
        )
        .await;
    assert_eq!(a.status, 403);
}

#[tokio::test]
async fn malformed_bearer_on_anonymous_get_is_500() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    let path = format!("/api/v11/Service/{id}");
    assert_eq!(sim.get(&path).await.status, 200);
    let a = sim.call(Method::GET, &path, Some("not-a-jwt"), None).await;
    assert_eq!(a.status, 500);
    assert!(a.body["errorMessage"].is_string());
}

#[tokio::test]
async fn restricted_active_read_needs_a_token() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    let path = format!("/api/v11/Service/active/{id}");
    assert_eq!(sim.get(&path).await.status, 401);
    assert_eq!(sim.get_authed(&path).await.status, 200);
}

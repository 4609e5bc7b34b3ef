//! Logins: single flight, refresh before expiry, one re-login on 401, where tokens go.

use super::{API_KEY, ORG, config, connect, jwt, mount_login, pid, received, service_write};
use ptv_sync::model::{ApiVersion, ItemKind};
use ptv_sync::ptv::{ErrorClass, PtvError};
use std::sync::atomic::Ordering;
use std::time::Duration;
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SERVICE: &str = "11111111-2222-4333-8444-555555555555";

async fn mount_put_ok(server: &MockServer) {
    Mock::given(method("PUT"))
        .and(path(format!("/api/v11/Service/{SERVICE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": SERVICE})))
        .mount(server)
        .await;
}

#[tokio::test]
async fn twenty_concurrent_writes_with_an_expired_token_log_in_once() {
    let server = MockServer::start().await;
    // The first token lives one second; with a 500 ms margin it is due after ~0.5 s.
    let logins = mount_login(&server, vec![jwt(1, "first"), jwt(3600, "second")]).await;
    mount_put_ok(&server).await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let w = service_write("t-service-1");
    api.update(&pid(SERVICE), &w).await.unwrap();
    assert_eq!(logins.load(Ordering::SeqCst), 1);
    let first_expiry = api.token_expiry().expect("expiry of the first token");

    tokio::time::sleep(Duration::from_millis(700)).await;
    let id = pid(SERVICE);
    let writes = futures::future::join_all((0..20).map(|_| api.update(&id, &w))).await;
    assert!(writes.iter().all(Result::is_ok), "{writes:?}");
    assert_eq!(
        logins.load(Ordering::SeqCst),
        2,
        "one login for all 20 writes"
    );
    assert_eq!(api.logins(), 2);
    assert!(api.token_expiry().unwrap() > first_expiry + chrono::Duration::minutes(30));
    let puts = received(&server, "PUT", &format!("/api/v11/Service/{SERVICE}")).await;
    assert_eq!(puts.len(), 21);
}

#[tokio::test]
async fn a_revoked_token_costs_one_relogin_and_no_failed_write() {
    let server = MockServer::start().await;
    let (old, new) = (jwt(3600, "old"), jwt(3600, "new"));
    let logins = mount_login(&server, vec![old.clone(), new.clone()]).await;
    mount_put_ok(&server).await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let w = service_write("t-service-1");
    for _ in 0..3 {
        api.update(&pid(SERVICE), &w).await.unwrap();
    }
    // PTV forgets the old token before its exp ("tokens from yesterday").
    Mock::given(method("PUT"))
        .and(header("authorization", format!("Bearer {old}").as_str()))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("www-authenticate", "Bearer error=\"invalid_token\""),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let id = pid(SERVICE);
    let writes = futures::future::join_all((0..10).map(|_| api.update(&id, &w))).await;
    assert!(writes.iter().all(Result::is_ok), "{writes:?}");
    assert_eq!(logins.load(Ordering::SeqCst), 2, "exactly one re-login");
    let with_new = received(&server, "PUT", &format!("/api/v11/Service/{SERVICE}"))
        .await
        .into_iter()
        .filter(|r| {
            r.headers.get("authorization").unwrap().to_str().unwrap() == format!("Bearer {new}")
        })
        .count();
    assert_eq!(with_new, 10, "every write went through with the new token");
}

#[tokio::test]
async fn a_token_refused_twice_is_an_auth_error_not_a_loop() {
    let server = MockServer::start().await;
    let logins = mount_login(&server, vec![jwt(3600, "a"), jwt(3600, "b")]).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let err = api
        .update(&pid(SERVICE), &service_write("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PtvError::Auth {
                status: Some(401),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(logins.load(Ordering::SeqCst), 2);
    assert_eq!(
        received(&server, "PUT", &format!("/api/v11/Service/{SERVICE}"))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error_without_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(super::LOGIN_PATH))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            serde_json::json!({"error": "invalid_grant", "message": "credentails are wrong"}),
        ))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let err = api
        .update(&pid(SERVICE), &service_write("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PtvError::Auth {
                status: Some(403),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Terminal);
    assert!(err.to_string().contains("credentails are wrong"));
    assert!(err.to_string().contains("testorg"));
    assert_eq!(received(&server, "POST", super::LOGIN_PATH).await.len(), 1);
    assert!(
        received(&server, "PUT", &format!("/api/v11/Service/{SERVICE}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn test_environment_token_keys_and_login_body_are_understood() {
    let server = MockServer::start().await;
    let token = jwt(7200, "t");
    Mock::given(method("POST"))
        .and(path(super::LOGIN_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"ptvToken": token})),
        )
        .mount(&server)
        .await;
    mount_put_ok(&server).await;
    let mut cfg = config(&server.uri(), ApiVersion::V11);
    cfg.api_user_organisation = Some("saha-123".into());
    let api = connect(cfg);
    assert_eq!(api.token_expiry(), None, "no token before the first login");
    api.update(&pid(SERVICE), &service_write("x"))
        .await
        .unwrap();
    let exp = api.token_expiry().unwrap();
    let lifetime = exp - chrono::Utc::now();
    assert!(
        lifetime > chrono::Duration::minutes(110) && lifetime <= chrono::Duration::minutes(120)
    );
    let login = &received(&server, "POST", super::LOGIN_PATH).await[0];
    let body: serde_json::Value = login.body_json().unwrap();
    assert_eq!(body["username"], "api@example.fi");
    assert_eq!(body["password"], super::PASSWORD);
    assert_eq!(body["apiUserOrganisation"], "saha-123");
    let put = &received(&server, "PUT", &format!("/api/v11/Service/{SERVICE}")).await[0];
    assert_eq!(
        put.headers["authorization"].to_str().unwrap(),
        format!("Bearer {token}")
    );
}

#[tokio::test]
async fn v11_public_reads_go_without_a_token_restricted_reads_with_one() {
    let server = MockServer::start().await;
    let logins = mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("GET"))
        .and(path_regex("^/api/v11/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": ORG})))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let org = api
        .read(ItemKind::Organization, None, &pid(ORG))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org["id"], ORG);
    assert_eq!(
        logins.load(Ordering::SeqCst),
        0,
        "a public read needs no login"
    );
    let public = &received(&server, "GET", &format!("/api/v11/Organization/{ORG}")).await[0];
    assert!(public.headers.get("authorization").is_none());

    api.read(ItemKind::Service, None, &pid(SERVICE))
        .await
        .unwrap();
    let active = &received(
        &server,
        "GET",
        &format!("/api/v11/Service/active/{SERVICE}"),
    )
    .await[0];
    assert!(active.headers.get("authorization").is_some());
}

#[tokio::test]
async fn v12_sends_the_api_key_everywhere_and_the_token_on_writes_only() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v12/service/{SERVICE}")))
        .and(header("x-api-key", API_KEY))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"contentId": SERVICE})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/v12/service/{SERVICE}")))
        .and(header("x-api-key", API_KEY))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"contentId": SERVICE})),
        )
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V12));
    assert!(
        api.read(ItemKind::Service, None, &pid(SERVICE))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(api.logins(), 0);
    let w = api
        .update(&pid(SERVICE), &service_write("x"))
        .await
        .unwrap();
    assert_eq!(w.http_status, 200);
    let get = &received(&server, "GET", &format!("/api/v12/service/{SERVICE}")).await[0];
    assert!(get.headers.get("authorization").is_none());
    let put = &received(&server, "PUT", &format!("/api/v12/service/{SERVICE}")).await[0];
    assert!(put.headers.get("authorization").is_some());
    assert_eq!(api.logins(), 1);
}

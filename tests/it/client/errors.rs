//! Retries of transient failures, and terminal answers arriving typed and unretried.

use super::{config, connect, fast_retry, jwt, mount_login, pid, received, service_write};
use ptv_sync::model::{ApiVersion, ItemKind};
use ptv_sync::ptv::{ErrorClass, PtvError};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SERVICE: &str = "11111111-2222-4333-8444-555555555555";

fn put_path() -> String {
    format!("/api/v11/Service/{SERVICE}")
}

async fn server_with_login() -> MockServer {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    server
}

/// The first `n` PUTs answer `first`, the rest 200.
async fn mount_then_ok(server: &MockServer, first: ResponseTemplate, n: u64) {
    Mock::given(method("PUT"))
        .and(path(put_path()))
        .respond_with(first)
        .up_to_n_times(n)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("PUT"))
        .and(path(put_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": SERVICE})))
        .mount(server)
        .await;
}

/// The answer to one PUT that PTV always answers with `answer`.
async fn single_answer(answer: ResponseTemplate) -> (PtvError, usize) {
    let server = server_with_login().await;
    Mock::given(method("PUT"))
        .and(path(put_path()))
        .respond_with(answer)
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let err = api
        .update(&pid(SERVICE), &service_write("t-service-1"))
        .await
        .unwrap_err();
    (err, received(&server, "PUT", &put_path()).await.len())
}

#[tokio::test]
async fn a_429_with_retry_after_is_honoured_then_the_write_succeeds() {
    let server = server_with_login().await;
    mount_then_ok(
        &server,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_string("Too many requests sent to server, try again later"),
        1,
    )
    .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let started = Instant::now();
    let w = api
        .update(&pid(SERVICE), &service_write("t-service-1"))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    assert_eq!((w.http_status, w.requests), (200, 2));
    assert_eq!(received(&server, "PUT", &put_path()).await.len(), 2);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = server_with_login().await;
    mount_then_ok(&server, ResponseTemplate::new(503), 2).await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let w = api
        .update(&pid(SERVICE), &service_write("t-service-1"))
        .await
        .unwrap();
    assert_eq!(w.requests, 3);
    assert_eq!(w.ptv_id, pid(SERVICE));
    assert_eq!(w.body_sha256.len(), 64);
}

#[tokio::test]
async fn the_retry_cap_ends_in_a_transient_error() {
    let server = server_with_login().await;
    Mock::given(method("PUT"))
        .and(path(put_path()))
        .respond_with(ResponseTemplate::new(502).set_body_string("Bad Gateway"))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), ApiVersion::V11);
    cfg.retry = fast_retry(3);
    let api = connect(cfg);
    let err = api
        .update(&pid(SERVICE), &service_write("t-service-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            PtvError::Transient {
                status: Some(502),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Transient);
    assert_eq!(received(&server, "PUT", &put_path()).await.len(), 3);
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let server = server_with_login().await;
    mount_then_ok(
        &server,
        ResponseTemplate::new(200).set_delay(Duration::from_millis(800)),
        1,
    )
    .await;
    let mut cfg = config(&server.uri(), ApiVersion::V11);
    cfg.request_timeout = Duration::from_millis(300);
    let api = connect(cfg);
    let w = api
        .update(&pid(SERVICE), &service_write("t-service-1"))
        .await
        .unwrap();
    assert_eq!(w.requests, 2);
}

#[tokio::test]
async fn a_400_is_not_retried_and_carries_translated_fields() {
    let (err, puts) = single_answer(ResponseTemplate::new(400).set_body_json(serde_json::json!({
        "ServiceNames": ["Type - Required value 'Name' was not found!"],
        "ServiceDescriptions[1].Value": ["Maximum length of property 'Value' for 'Summary' must be '150'."],
        "FundingType": ["The FundingType field is required."]
    })))
    .await;
    assert_eq!(puts, 1, "a terminal answer is never retried");
    assert_eq!(err.class(), ErrorClass::Terminal);
    assert_eq!(err.http_status(), Some(400));
    let PtvError::Validation { fields, item, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        item.contains("t-service-1") && item.contains(SERVICE),
        "{item}"
    );
    assert_eq!(
        fields.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![
            "fundingType",
            "languageVersions.*.name",
            "languageVersions.*.summary/description"
        ]
    );
    assert!(err.to_string().contains("Required value 'Name'"));
}

#[tokio::test]
async fn v12_problem_details_arrive_with_source_paths() {
    let server = server_with_login().await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/v12/service/{SERVICE}")))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "type": "https://example/validation", "title": "Validation failed", "status": 400,
            "detail": "Request body is invalid", "instance": "/api/v12/service", "requestId": "r-1",
            "errors": [{"path": "/languageVersions/fi/name", "message": "must be at most 100 characters"}]
        })))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V12));
    let err = api
        .update(&pid(SERVICE), &service_write("t-service-1"))
        .await
        .unwrap_err();
    let fields = err.fields().expect("validation error");
    assert_eq!(
        fields["languageVersions.fi.name"],
        vec!["must be at most 100 characters".to_owned()]
    );
    assert_eq!(
        received(&server, "PUT", &format!("/api/v12/service/{SERVICE}"))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn forbidden_not_found_modified_and_locked_arrive_typed() {
    let (err, puts) = single_answer(ResponseTemplate::new(403)).await;
    assert!(matches!(err, PtvError::Forbidden { .. }), "{err:?}");
    assert_eq!((err.http_status(), puts), (Some(403), 1));

    let (err, puts) = single_answer(ResponseTemplate::new(404).set_body_json(
        serde_json::json!({"errorMessage": "User has no rights to update this entity!"}),
    ))
    .await;
    assert!(matches!(err, PtvError::NotFound { .. }), "{err:?}");
    assert_eq!((err.class(), puts), (ErrorClass::Terminal, 1));

    let (err, puts) = single_answer(ResponseTemplate::new(400).set_body_json(
        serde_json::json!({"PublishingStatus": ["You cannot update entity with status Modified."]}),
    ))
    .await;
    assert!(matches!(err, PtvError::Modified { .. }), "{err:?}");
    assert_eq!((err.class(), puts), (ErrorClass::NeedsPerson, 1));
    assert!(err.to_string().contains("publish or discard"));

    let (err, puts) = single_answer(ResponseTemplate::new(404).set_body_json(
        serde_json::json!({"errorMessage": "Service is locked by 'maija.meikalainen@espoo.fi'."}),
    ))
    .await;
    assert!(
        matches!(&err, PtvError::Locked { by, .. } if by == "maija.meikalainen@espoo.fi"),
        "{err:?}"
    );
    assert_eq!((err.class(), puts), (ErrorClass::NeedsPerson, 1));
}

#[tokio::test]
async fn reads_of_unknown_items_are_none() {
    let server = server_with_login().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    assert!(
        api.read(ItemKind::Service, None, &pid(SERVICE))
            .await
            .unwrap()
            .is_none()
    );
}

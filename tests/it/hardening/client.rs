//! The PTV client against a server that redirects or echoes escaped secrets.

use crate::client::{LOGIN_PATH, ORG, config, connect, jwt, mount_login, pid, service_write};
use ptv_sync::model::ApiVersion;
use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

// issue 16 item 4
#[tokio::test]
async fn the_ptv_client_follows_no_redirect_and_names_the_url() {
    for version in [ApiVersion::V11, ApiVersion::V12] {
        // The login answers 307: reqwest would re-send the password to `elsewhere`.
        let elsewhere = MockServer::start().await;
        mount_login(&elsewhere, vec![jwt(3600, "stolen")]).await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": ORG})))
            .mount(&elsewhere)
            .await;
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(LOGIN_PATH))
            .respond_with(ResponseTemplate::new(307).insert_header(
                "location",
                format!("{}{LOGIN_PATH}", elsewhere.uri()).as_str(),
            ))
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": ORG})))
            .mount(&server)
            .await;
        let api = connect(config(&server.uri(), version));
        let err = api
            .update(&pid(ORG), &service_write("x"))
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, ptv_sync::ptv::PtvError::Config { .. }),
            "{version:?}: {err:?}"
        );
        assert!(
            msg.contains("redirect") && msg.contains(&format!("{}{LOGIN_PATH}", server.uri())),
            "{msg}"
        );
        assert!(
            elsewhere.received_requests().await.unwrap().is_empty(),
            "{version:?}: followed the redirect"
        );

        // An API call answered with 308 (the key header would cross hosts).
        let server = MockServer::start().await;
        mount_login(&server, vec![jwt(3600, "t")]).await;
        Mock::given(method("PUT"))
            .respond_with(
                ResponseTemplate::new(308)
                    .insert_header("location", format!("{}/moved", elsewhere.uri()).as_str()),
            )
            .mount(&server)
            .await;
        let api = connect(config(&server.uri(), version));
        let err = api
            .update(&pid(ORG), &service_write("x"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ptv_sync::ptv::PtvError::Config { .. })
                && err.to_string().contains("redirect"),
            "{version:?}: {err:?}"
        );
        assert!(elsewhere.received_requests().await.unwrap().is_empty());
    }
}

/// Echoes the request body inside a JSON error answer.
struct Echo;

impl Respond for Echo {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "errorMessage": format!("refused {}", String::from_utf8_lossy(&r.body))
        }))
    }
}

// issue 16 item 23
#[tokio::test]
async fn a_json_escaped_password_is_scrubbed_too() {
    let password = r#"pw"Very\Secret"#;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(LOGIN_PATH))
        .respond_with(Echo)
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri(), ApiVersion::V11);
    cfg.password = ptv_sync::secret::SecretSource::Inline(SecretString::from(password.to_owned()));
    let err = connect(cfg)
        .update(&pid(ORG), &service_write("x"))
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("refused"),
        "the echo reached the error: {text}"
    );
    for leak in ["Very", password] {
        assert!(!text.contains(leak), "leaks the password: {text}");
    }
}

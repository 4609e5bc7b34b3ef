//! No password, token or API key in logs (TRACE included), errors or Debug output.

use super::{API_KEY, PASSWORD, config, connect, jwt, pid, service_write};
use ptv_sync::model::ApiVersion;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt as _;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SERVICE: &str = "11111111-2222-4333-8444-555555555555";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A careless server that echoes every header and the body back in its error answers.
struct Echo(u16);

impl Respond for Echo {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let headers: Vec<String> = r
            .headers
            .iter()
            .map(|(k, v)| format!("{k}={}", v.to_str().unwrap_or_default()))
            .collect();
        ResponseTemplate::new(self.0).set_body_json(serde_json::json!({
            "errorMessage": format!("echo {} {}", headers.join(" "), String::from_utf8_lossy(&r.body))
        }))
    }
}

#[tokio::test]
async fn trace_logs_errors_and_debug_output_hold_no_secret() {
    let capture = Capture::default();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish()
        .set_default();
    // Tests run in parallel threads, and a callsite that another test registers while
    // this scoped subscriber is being installed can cache "no interest" for good. A
    // first pass registers every callsite of the run; the interest cache is rebuilt;
    // the second pass is the one checked.
    run_and_check(&capture, false).await;
    tracing::callsite::rebuild_interest_cache();
    capture.0.lock().unwrap().clear();
    run_and_check(&capture, true).await;
}

async fn run_and_check(capture: &Capture, check_capture: bool) {
    let tokens = [jwt(3600, "first-token"), jwt(3600, "second-token")];
    let server = MockServer::start().await;
    super::mount_login(&server, tokens.to_vec()).await;
    // The first write is refused (401) to force a re-login; the rest succeed.
    Mock::given(method("PUT"))
        .and(path(format!("/api/v12/service/{SERVICE}")))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/api/v12/service/{SERVICE}")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"contentId": SERVICE})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v12/service"))
        .respond_with(Echo(400))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(Echo(503))
        .mount(&server)
        .await;

    let cfg = config(&server.uri(), ApiVersion::V12);
    let debug_cfg = format!("{cfg:?}");
    let api = connect(cfg);
    let w = service_write("t-service-1");
    api.update(&pid(SERVICE), &w).await.unwrap();
    api.update(&pid(SERVICE), &w).await.unwrap();
    assert_eq!(api.logins(), 2, "the 401 forced a re-login");
    let create_err = api.create(&w).await.unwrap_err();
    let archive_err = api.archive(&pid(SERVICE), &w).await.unwrap_err();

    // A login server that echoes the password in its refusal.
    let careless = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(super::LOGIN_PATH))
        .respond_with(Echo(403))
        .mount(&careless)
        .await;
    let api2 = connect(config(&careless.uri(), ApiVersion::V11));
    let login_err = api2.update(&pid(SERVICE), &w).await.unwrap_err();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    if check_capture {
        assert!(
            logs.contains("logged in to PTV"),
            "the capture works: {logs}"
        );
        assert!(logs.contains("TRACE") && logs.contains("DEBUG"));
    }
    let outputs = [
        ("logs", logs),
        ("config Debug", debug_cfg),
        ("create error", format!("{create_err} {create_err:?}")),
        ("archive error", format!("{archive_err} {archive_err:?}")),
        ("login error", format!("{login_err} {login_err:?}")),
    ];
    // The echoes did reach the errors (so the scrubbing is what keeps secrets out).
    assert!(outputs[2].1.contains("echo") && outputs[4].1.contains("echo"));
    let token_payloads: Vec<String> = tokens
        .iter()
        .map(|t| t.split('.').nth(1).unwrap().to_owned())
        .collect();
    for (what, text) in &outputs {
        for secret in [
            PASSWORD,
            API_KEY,
            &tokens[0],
            &tokens[1],
            &token_payloads[0],
            &token_payloads[1],
        ] {
            assert!(!text.contains(secret), "{what} leaks a secret");
        }
    }
}

//! A wrong password or an unreachable PTV is one error for the organisation, not one per
//! item.

use crate::support::{Options, spawn_with};
use ptv_sync::model::ApiVersion;
use ptv_sync::synth::{Shape, generate};

async fn app(v12: bool, docs: &ptv_sync::synth::Docs) -> crate::support::TestApp {
    let version = if v12 {
        ApiVersion::V12
    } else {
        ApiVersion::V11
    };
    spawn_with(docs, Options::on(version)).await
}

// issue 16 item 13
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_one_fatal_error_and_no_item_fails() {
    for v12 in [false, true] {
        let docs = generate(Shape::new(30, 1613));
        let app = app(v12, &docs).await;
        std::fs::write(app.dir.path().join("password"), "not-the-password\n").unwrap();
        let err = app
            .engine()
            .run(&ptv_sync::apply::RunOptions::default())
            .await
            .map(|r| r.outcome)
            .expect_err("the run stops");
        let msg = err.to_string();
        assert!(msg.contains("login") || msg.contains("password"), "{msg}");
        assert!(
            app.store.items("test").await.unwrap().is_empty(),
            "v12={v12}: no item is recorded as failed"
        );
        let out = crate::cli::bin()
            .arg("--config")
            .arg(app.config_path())
            .arg("resync")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "v12={v12}: {all}");
        assert!(
            !all.contains("blocked") && !all.contains("failed create"),
            "v12={v12}: reported once, not per item: {all}"
        );
    }
}

// issue 16 item 13
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_ptv_is_one_fatal_error_and_no_item_fails() {
    for v12 in [false, true] {
        let docs = generate(Shape::new(30, 1613));
        let app = app(v12, &docs).await;
        let mut org = app.cfg.organizations[0].clone();
        // Nothing listens on the discard port.
        org.ptv.api_base = "http://127.0.0.1:9/".parse().unwrap();
        org.ptv.token_url = "http://127.0.0.1:9/api/auth/api-login".parse().unwrap();
        let api = ptv_sync::ptv::connect(
            ptv_sync::startup::client_config(&org),
            std::sync::Arc::new(tokio::sync::Semaphore::new(8)),
        )
        .unwrap();
        let engine =
            ptv_sync::startup::EngineBuilder::new(org, app.store.clone(), api, "test").build();
        let err = engine
            .run(&ptv_sync::apply::RunOptions::default())
            .await
            .map(|r| r.outcome)
            .expect_err("the run stops");
        assert!(err.to_string().contains("connect"), "v12={v12}: {err}");
        assert!(
            app.store.items("test").await.unwrap().is_empty(),
            "v12={v12}: no item is recorded as failed"
        );
    }
}

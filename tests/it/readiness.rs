//! `ptv-sync readiness`: DVV's technical readiness test against the simulator, on v11 and
//! v12: every checklist item passed and read back, the reports and the workbook written,
//! a refused item failing its item (exit 2), production refused, the test set archived at
//! the end (or kept), and no secret in the reports.

use crate::cli::run;
use crate::support::{Options, TestApp, config_text, spawn_with};
use ptv_sync::model::ApiVersion;
use ptv_sync::sim::{Faults, PublishingStatus, SimConfig};
use ptv_sync::synth::{Shape, generate};
use serde_json::Value;
use std::io::Read as _;

async fn app(v12_api: bool) -> TestApp {
    let docs = generate(Shape::new(30, 17));
    spawn_with(
        &docs,
        Options::on(if v12_api {
            ApiVersion::V12
        } else {
            ApiVersion::V11
        }),
    )
    .await
}

/// Runs the command; its exit code, the `--json` result and the output directory.
fn readiness(app: &TestApp, extra: &[&str]) -> (i32, Value, std::path::PathBuf) {
    let out = app.dir.path().join("readiness");
    let out_s = out.to_str().unwrap().to_owned();
    let mut args = vec!["readiness", "--org", "test", "--out", &out_s, "--json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args, &app.config_path());
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}); exit {code}; stderr: {stderr}; stdout: {stdout}")
    });
    (code, json, out)
}

/// The sim's items of this run (their sourceId or externalId carries the run id).
fn of_run(app: &TestApp, run_id: &str) -> Vec<ptv_sync::sim::SimEntity> {
    app.sim
        .catalogue()
        .into_iter()
        .filter(|e| {
            [&e.source_id, &e.external_id]
                .iter()
                .any(|s| s.as_deref().is_some_and(|s| s.contains(run_id)))
                || e.name_fi.as_deref().is_some_and(|n| n.contains(run_id))
        })
        .collect()
}

fn sheet_names(xlsx: &std::path::Path) -> String {
    let file = std::fs::File::open(xlsx).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut book = String::new();
    zip.by_name("xl/workbook.xml")
        .unwrap()
        .read_to_string(&mut book)
        .unwrap();
    book
}

async fn every_item_passes_and_is_archived(v12_api: bool) {
    let app = app(v12_api).await;
    let (code, r, out) = readiness(&app, &[]);
    let failed: Vec<String> = r["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] != Value::Bool(true))
        .map(|c| {
            let bad: Vec<String> = c["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["ok"] != Value::Bool(true))
                .map(|i| {
                    format!(
                        "  {} {}: {} / {}",
                        i["kind"], i["source_id"], i["outcome"], i["readback"]
                    )
                })
                .collect();
            format!(
                "{} {}: {}\n{}",
                c["number"],
                c["title"],
                c["note"],
                bad.join("\n")
            )
        })
        .collect();
    assert!(failed.is_empty(), "failed items:\n{}", failed.join("\n"));
    assert_eq!(code, 0, "{r:#}");
    let items = r["checklist"].as_array().unwrap();
    assert_eq!(items.len(), 18);
    for c in items {
        assert!(!c["items"].as_array().unwrap().is_empty(), "{c:#}");
        assert!(!c["requests"].as_array().unwrap().is_empty(), "{c:#}");
    }
    for c in items.iter().filter(|c| c["number"].as_u64() != Some(17)) {
        for i in c["items"].as_array().unwrap() {
            assert!(
                i["readback"].as_str().unwrap().starts_with("read back:"),
                "{i:#}"
            );
            assert!(i["ptv_id"].is_string(), "{i:#}");
        }
    }
    // Item 17: broken documents refused locally, one refused by PTV with its answer.
    let f = &items[16];
    let refused_by_ptv = f["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["readback"].as_str().unwrap().starts_with("PTV's answer:"))
        .count();
    assert_eq!(refused_by_ptv, 1, "{f:#}");
    assert_eq!(
        r["cleanup"]["passed"],
        Value::Bool(true),
        "{:#}",
        r["cleanup"]
    );
    assert!(r["connection"]["logins"].as_u64().unwrap() >= 1);

    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| Result | PASSED: 18 of 18"), "{md}");
    assert!(md.contains("### 15. Add connections with additional information: passed"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<style>"));
    assert!(!html.contains("<link") && !html.contains("<script"));
    for text in [&md, &html] {
        for secret in [
            SimConfig::DEMO_PASSWORD,
            SimConfig::DEMO_API_KEY,
            "Bearer",
            "eyJ",
        ] {
            assert!(!text.contains(secret), "{secret} in a report");
        }
    }
    let book = sheet_names(&out.join("content.xlsx"));
    for sheet in [
        "Organisations",
        "Services",
        "EService channels",
        "WebPage channels",
        "Phone channels",
        "PrintableForm channels",
        "ServiceLocation channels",
        "Connections",
    ] {
        assert!(
            book.contains(&format!("name=\"{sheet}\"")),
            "{sheet}: {book}"
        );
    }

    let run_id = r["run_id"].as_str().unwrap();
    let ours = of_run(&app, run_id);
    assert!(ours.len() >= 8, "{ours:#?}");
    for e in &ours {
        assert_eq!(e.status, PublishingStatus::Deleted, "{e:#?}");
    }
    // The organisation's own state was never touched.
    assert!(app.store.items("test").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_every_item_passes_is_read_back_and_the_test_set_is_archived() {
    every_item_passes_and_is_archived(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_every_item_passes_is_read_back_and_the_test_set_is_archived() {
    every_item_passes_and_is_archived(true).await;
}

async fn keep_leaves_the_test_set_published(v12_api: bool) {
    let app = app(v12_api).await;
    let (code, r, out) = readiness(&app, &["--keep"]);
    assert_eq!(code, 0, "{r:#}");
    assert!(r["cleanup"].is_null());
    let ours = of_run(&app, r["run_id"].as_str().unwrap());
    let live = ours
        .iter()
        .filter(|e| e.status == PublishingStatus::Published)
        .count();
    assert!(live >= 8, "{ours:#?}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("kept (--keep)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_keep_leaves_the_test_set_published() {
    keep_leaves_the_test_set_published(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_keep_leaves_the_test_set_published() {
    keep_leaves_the_test_set_published(true).await;
}

async fn refused_writes_fail_their_item_and_exit_2(v12_api: bool) {
    let app = app(v12_api).await;
    // Fault injection: PTV answers every write with a 500.
    app.sim.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let (code, r, out) = readiness(&app, &[]);
    assert_eq!(code, 2, "{r:#}");
    let first = &r["checklist"][0];
    assert_eq!(first["passed"], Value::Bool(false), "{first:#}");
    let item = &first["items"][0];
    assert_eq!(item["ok"], Value::Bool(false));
    assert!(
        item["readback"]
            .as_str()
            .unwrap()
            .contains("the write did not succeed"),
        "{item:#}"
    );
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| Result | FAILED:"), "{md}");
    assert!(md.contains("### 1. Add sub-organisations: FAILED"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_refused_writes_fail_their_item_and_exit_2() {
    refused_writes_fail_their_item_and_exit_2(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_refused_writes_fail_their_item_and_exit_2() {
    refused_writes_fail_their_item_and_exit_2(true).await;
}

#[test]
fn production_is_refused() {
    let (_, user, main_org) = SimConfig::single_org();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password"), &user.password).unwrap();
    generate(Shape::new(10, 1))
        .write_dir(&dir.path().join("source"))
        .unwrap();
    let opts = Options {
        extra_org_toml: "environment = \"production\"".into(),
        ..Options::default()
    };
    let text = config_text(
        dir.path(),
        "https://127.0.0.1:9",
        &user.username,
        main_org,
        &opts,
    );
    let config = dir.path().join("config.toml");
    std::fs::write(&config, text).unwrap();
    let out = dir.path().join("readiness");
    let (code, stdout, stderr) = run(
        &["readiness", "--org", "test", "--out", out.to_str().unwrap()],
        &config,
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("environment = \\\"production\\\"")
            || stderr.contains("environment = \"production\""),
        "{stderr}"
    );
    assert!(stderr.contains("customer test environment"), "{stderr}");
    assert!(!out.join("report.md").exists());
}

//! Read-back and drift (`ptv-sync drift`), on v11 and v12: a catalogue in step, a person's
//! edit under `report` and `overwrite`, an item archived in PTV, a connection removed in
//! PTV, a Modified version, and a large catalogue read in slices.

use crate::cli::run;
use crate::support::{Options, TestApp, spawn_with};
use ptv_sync::drift::{DriftReport, Marked, Verdict};
use ptv_sync::model::{Action, ApiVersion, ItemKind};
use ptv_sync::sim::PublishingStatus;
use ptv_sync::store::{ItemStatus, RemoteState};
use ptv_sync::synth::{Docs, Shape, generate};
use serde_json::{Value, json};
use std::sync::Arc;

const EDITOR: &str = "editor@kunta.example";

fn options(version: ApiVersion, drift_toml: &str) -> Options {
    let mut o = Options::on(version);
    if !drift_toml.is_empty() {
        o.extra_org_toml.push_str("[organization.drift]\n");
        o.extra_org_toml.push_str(drift_toml);
    }
    o
}

/// A synced catalogue.
async fn synced(version: ApiVersion, items: usize, drift_toml: &str) -> (Docs, TestApp) {
    let docs = generate(Shape::new(items, 11));
    let app = spawn_with(&docs, options(version, drift_toml)).await;
    let report = app.sync().await;
    assert_eq!(report.failures().count(), 0, "{report:?}");
    (docs, app)
}

/// One drift check through the library, recorded in the state.
async fn drift(app: &TestApp) -> (DriftReport, Marked) {
    let org = &app.cfg.organizations[0];
    let api =
        ptv_sync::startup::ptv_client(org, Arc::new(tokio::sync::Semaphore::new(64))).unwrap();
    // The state records the check at the simulator's time, as the daemon's clock would.
    let now = ptv_sync::clock::Clock::now(&app.sim);
    ptv_sync::drift::check_and_mark(org, app.store.as_ref(), api.as_ref(), now)
        .await
        .unwrap()
}

async fn ptv_id(app: &TestApp, kind: ItemKind, id: &str) -> String {
    app.store
        .item("test", kind, id)
        .await
        .unwrap()
        .unwrap()
        .ptv_id
        .unwrap()
        .to_string()
}

async fn sim_post(app: &TestApp, path: &str, body: Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", app.sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

/// A JSON pointer to the Finnish summary in the body PTV stores, and the path the drift
/// check names it by.
fn summary_pointer(version: ApiVersion, body: &Value) -> (String, &'static str) {
    match version {
        ApiVersion::V11 => {
            let i = body["serviceDescriptions"]
                .as_array()
                .unwrap()
                .iter()
                .position(|d| d["language"] == "fi" && d["type"] == "Summary")
                .unwrap();
            (
                format!("/serviceDescriptions/{i}/value"),
                "serviceDescriptions.fi.Summary",
            )
        }
        ApiVersion::V12 => (
            "/languageVersions/fi/summary".to_owned(),
            "languageVersions.fi.summary",
        ),
    }
}

/// A person publishes a new Finnish summary of the first service in PTV's UI. Answers
/// the service's source id, PTV id, the pointer and the path drift names.
async fn edit_a_summary(
    app: &TestApp,
    docs: &Docs,
    version: ApiVersion,
) -> (String, String, String, &'static str) {
    let id = docs.services[0]["id"].as_str().unwrap().to_owned();
    let ptv = ptv_id(app, ItemKind::Service, &id).await;
    let body = app.sim.entity(ptv.parse().unwrap()).unwrap().last_body;
    let (pointer, path) = summary_pointer(version, &body);
    sim_post(
        app,
        &format!("/_sim/ui-edit/{ptv}"),
        json!({"set": {pointer.clone(): "Ihmisen PTV:ssä kirjoittama tiivistelmä."}, "by": EDITOR}),
    )
    .await;
    (id, ptv, pointer, path)
}

fn held_text(app: &TestApp, ptv: &str, pointer: &str) -> Option<String> {
    app.sim
        .entity(ptv.parse().unwrap())
        .unwrap()
        .last_body
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

async fn in_step_exits_0(version: ApiVersion) {
    let (docs, app) = synced(version, 40, "").await;
    let (code, out, err) = run(&["drift", "--json"], &app.config_path());
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let r = &v[0]["report"];
    assert_eq!(r["checked"].as_u64().unwrap() as usize, docs.len(), "{r}");
    assert_eq!(r["in_step"], r["checked"], "{r}");
    assert!(r["reads"].as_u64().unwrap() > 0);
    assert_eq!(r["complete"], true);
    let (code, out, _) = run(&["drift"], &app.config_path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("in step"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_drift_on_a_catalogue_in_step_exits_0() {
    in_step_exits_0(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_drift_on_a_catalogue_in_step_exits_0() {
    in_step_exits_0(ApiVersion::V12).await;
}

async fn edit_reported_left_then_forced(version: ApiVersion) {
    let (docs, app) = synced(version, 20, "").await;
    let (id, ptv, pointer, path) = edit_a_summary(&app, &docs, version).await;

    let (code, out, err) = run(&["drift", "--json"], &app.config_path());
    assert_eq!(code, 2, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let drifted = v[0]["report"]["drifted"].as_array().unwrap();
    assert_eq!(drifted.len(), 1, "{drifted:?}");
    assert_eq!(drifted[0]["id"], id.as_str());
    assert_eq!(drifted[0]["verdict"], "edited");
    assert_eq!(drifted[0]["paths"], json!([path]));
    assert_eq!(drifted[0]["modified_by"], EDITOR);
    assert_eq!(v[0]["marked"]["left"], 1);
    let rec = app
        .store
        .item("test", ItemKind::Service, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, ItemStatus::Drifted);
    assert!(rec.last_error.unwrap().message.contains(EDITOR));
    let (_, out, _) = run(&["status"], &app.config_path());
    assert!(
        out.contains("drifted 1") && out.contains("DRIFTED:"),
        "{out}"
    );
    let (code, out, _) = run(&["drift"], &app.config_path());
    assert_eq!(code, 2, "{out}");
    println!("{out}");
    assert!(
        out.contains("edited in PTV by")
            && out.contains(EDITOR)
            && out.contains(path)
            && out.contains("--force"),
        "{out}"
    );
    assert!(
        out.lines().all(|l| l.chars().count() <= 80),
        "the table fits 80 columns:\n{out}"
    );

    // A normal run leaves PTV's version.
    let report = app.sync().await;
    assert_eq!(report.failures().count(), 0);
    assert_eq!(
        held_text(&app, &ptv, &pointer).as_deref(),
        Some("Ihmisen PTV:ssä kirjoittama tiivistelmä.")
    );
    let (code, _, _) = run(&["plan"], &app.config_path());
    assert_eq!(code, 0, "a drifted item left under report plans nothing");

    // A person asks for ours.
    let (code, out, err) = run(&["resync", "--item", &id, "--force"], &app.config_path());
    assert_eq!(code, 0, "{out}{err}");
    let ours = docs.services[0]["languageVersions"]["fi"]["summary"]
        .as_str()
        .unwrap();
    assert_eq!(held_text(&app, &ptv, &pointer).as_deref(), Some(ours));
    let rec = app
        .store
        .item("test", ItemKind::Service, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.status, ItemStatus::Active);
    assert_eq!(rec.last_error, None);
    let (code, out, _) = run(&["drift"], &app.config_path());
    assert_eq!(code, 0, "in step again: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_a_persons_edit_is_reported_left_and_overwritten_on_force() {
    edit_reported_left_then_forced(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_a_persons_edit_is_reported_left_and_overwritten_on_force() {
    edit_reported_left_then_forced(ApiVersion::V12).await;
}

async fn edit_overwritten(version: ApiVersion) {
    let (docs, app) = synced(version, 20, "policy = \"overwrite\"").await;
    let (id, ptv, pointer, _) = edit_a_summary(&app, &docs, version).await;
    let (report, marked) = drift(&app).await;
    assert_eq!(report.drifted.len(), 1, "{report:?}");
    assert_eq!((marked.left, marked.to_resend), (0, 1));

    let run_report = app.sync().await;
    assert_eq!(run_report.failures().count(), 0);
    let ours = docs.services[0]["languageVersions"]["fi"]["summary"]
        .as_str()
        .unwrap();
    assert_eq!(held_text(&app, &ptv, &pointer).as_deref(), Some(ours));
    let audit = app
        .store
        .audit_since(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        .await
        .unwrap();
    let last = audit
        .iter()
        .rev()
        .find(|e| e.source_id == id && e.action == Action::Update)
        .expect("the overwrite is audited");
    let reason = last.reason.as_deref().unwrap_or_default();
    assert!(
        reason.starts_with("drift: edited in PTV by ") && reason.contains(EDITOR),
        "{reason}"
    );
    assert!(app.store.verify_audit(None).await.unwrap().is_ok());
    let (report, _) = drift(&app).await;
    assert!(!report.has_drift(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_under_overwrite_an_edit_is_overwritten_at_the_next_run_with_the_audit_reason() {
    edit_overwritten(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_under_overwrite_an_edit_is_overwritten_at_the_next_run_with_the_audit_reason() {
    edit_overwritten(ApiVersion::V12).await;
}

/// v11's archived list says how an item was archived; v12's lists only content ids.
async fn archived_restored(version: ApiVersion) {
    let (docs, app) = synced(version, 20, "").await;
    let service = docs.services[1]["id"].as_str().unwrap().to_owned();
    let channel = docs.channels[0]["id"].as_str().unwrap().to_owned();
    let s = ptv_id(&app, ItemKind::Service, &service).await;
    let c = ptv_id(&app, ItemKind::Channel, &channel).await;
    for id in [&s, &c] {
        sim_post(
            &app,
            &format!("/_sim/ui-archive/{id}"),
            json!({"by": EDITOR}),
        )
        .await;
    }
    let (report, marked) = drift(&app).await;
    let archived: Vec<_> = report
        .drifted
        .iter()
        .filter(|d| matches!(d.verdict, Verdict::Archived { .. }))
        .collect();
    assert_eq!(archived.len(), 2, "{report:?}");
    for d in &archived {
        let Verdict::Archived { archiving_type, .. } = &d.verdict else {
            unreachable!()
        };
        let told = (version == ApiVersion::V11).then_some("Manual");
        assert_eq!(archiving_type.as_deref(), told, "{d:?}");
    }
    assert!(marked.to_resend >= 2);
    let rec = app
        .store
        .item("test", ItemKind::Service, &service)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (rec.remote, rec.status),
        (RemoteState::Archived, ItemStatus::Drifted)
    );

    let run_report = app.sync().await;
    assert_eq!(run_report.failures().count(), 0, "{run_report:?}");
    for id in [&s, &c] {
        let e = app.sim.entity(id.parse().unwrap()).unwrap();
        assert_eq!(e.status, PublishingStatus::Published, "{e:?}");
    }
    app.assert_converged(&docs).await;
    let audit = app
        .store
        .audit_since(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.source_id == service
            && e.action == Action::Restore
            && e.reason
                .as_deref()
                .is_some_and(|r| r.starts_with("drift: archived in PTV"))),
        "{audit:?}"
    );
    let (report, _) = drift(&app).await;
    assert!(
        report
            .drifted
            .iter()
            .all(|d| !matches!(d.verdict, Verdict::Archived { .. })),
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_an_item_archived_in_ptv_is_restored_at_the_next_run() {
    archived_restored(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_an_item_archived_in_ptv_is_restored_at_the_next_run() {
    archived_restored(ApiVersion::V12).await;
}

async fn disconnect_resent(version: ApiVersion) {
    let (docs, app) = synced(version, 30, "").await;
    let rows = app.store.items("test").await.unwrap();
    let set = rows
        .iter()
        .find(|r| {
            r.kind == ItemKind::Connections
                && ptv_sync::plan::stored_channel_ids(r.payload.as_ref()).len() >= 2
        })
        .expect("a service with two connections");
    let (_, channel) = ptv_sync::plan::stored_channel_ids(set.payload.as_ref())[0].clone();
    let service = ptv_id(&app, ItemKind::Service, set.source_id.as_str()).await;
    sim_post(
        &app,
        &format!("/_sim/ui-disconnect/{service}/{channel}"),
        json!({}),
    )
    .await;
    let e = app.sim.entity(service.parse().unwrap()).unwrap();
    assert!(!e.connections.iter().any(|c| c.to_string() == channel));

    let (code, out, err) = run(&["drift", "--json"], &app.config_path());
    assert_eq!(code, 2, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let drifted = v[0]["report"]["drifted"].as_array().unwrap();
    assert_eq!(drifted.len(), 1, "{drifted:?}");
    assert_eq!(drifted[0]["kind"], "connections");
    assert_eq!(drifted[0]["verdict"], "connections_differ");
    assert_eq!(drifted[0]["missing"], json!([channel]));

    let run_report = app.sync().await;
    assert_eq!(run_report.failures().count(), 0);
    let e = app.sim.entity(service.parse().unwrap()).unwrap();
    assert!(
        e.connections.iter().any(|c| c.to_string() == channel),
        "the set was sent again"
    );
    app.assert_converged(&docs).await;
    let (report, _) = drift(&app).await;
    assert!(!report.has_drift(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_a_connection_removed_in_ptv_is_sent_again() {
    disconnect_resent(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_a_connection_removed_in_ptv_is_sent_again() {
    disconnect_resent(ApiVersion::V12).await;
}

/// v11 shows an unpublished edit (PTV's `Modified`); v12 has no such state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_a_modified_version_is_reported_and_nothing_is_marked() {
    let (docs, app) = synced(ApiVersion::V11, 20, "").await;
    let id = docs.services[2]["id"].as_str().unwrap();
    let ptv = ptv_id(&app, ItemKind::Service, id).await;
    assert!(app.sim.set_modified(ptv.parse().unwrap()));
    let (report, marked) = drift(&app).await;
    assert_eq!(report.drifted.len(), 1, "{report:?}");
    assert!(matches!(
        report.drifted[0].verdict,
        Verdict::ModifiedVersion { .. }
    ));
    assert_eq!(marked, Marked::default());
}

async fn slices(version: ApiVersion) {
    let (docs, app) = synced(version, 25, "max_reads_per_run = 10").await;
    let mut seen = 0;
    let mut rounds = Vec::new();
    loop {
        let (report, _) = drift(&app).await;
        assert!(report.checked <= 10);
        assert!(!report.has_drift(), "{report:?}");
        seen += report.checked;
        rounds.push(report.checked);
        if report.complete {
            break;
        }
        assert!(rounds.len() < 10, "{rounds:?}");
    }
    assert_eq!(seen, docs.len(), "every item once per round: {rounds:?}");
    assert_eq!(app.store.drift_cursor("test").await.unwrap(), None);
    // The next check starts a new round.
    let (report, _) = drift(&app).await;
    assert_eq!(report.checked, 10.min(docs.len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_max_reads_per_run_reads_a_large_catalogue_in_slices() {
    slices(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_max_reads_per_run_reads_a_large_catalogue_in_slices() {
    slices(ApiVersion::V12).await;
}

/// PTV archives what was not saved for 18 months; the drift check finds it (v11 says
/// `Automatic`) and the next run restores it.
async fn automatic_archive_restored(version: ApiVersion) {
    let (docs, app) = synced(version, 20, "").await;
    app.sim
        .advance_clock(std::time::Duration::from_secs(19 * 31 * 86_400));
    let (report, _) = drift(&app).await;
    let archived: Vec<_> = report
        .drifted
        .iter()
        .filter_map(|d| match &d.verdict {
            Verdict::Archived { archiving_type, .. } => Some((d.kind, archiving_type.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        archived.len(),
        docs.services.len() + docs.channels.len(),
        "organisations are exempt: {report:?}"
    );
    if version == ApiVersion::V11 {
        assert!(
            archived
                .iter()
                .all(|(_, t)| t.as_deref() == Some("Automatic")),
            "{archived:?}"
        );
    }
    let run_report = app.sync().await;
    assert_eq!(run_report.failures().count(), 0, "{run_report:?}");
    app.assert_converged(&docs).await;
    let (report, _) = drift(&app).await;
    assert!(!report.has_drift(), "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_an_item_archived_automatically_after_18_months_is_restored() {
    automatic_archive_restored(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_an_item_archived_automatically_after_18_months_is_restored() {
    automatic_archive_restored(ApiVersion::V12).await;
}

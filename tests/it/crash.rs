//! SIGKILL at many points of runs: the next run converges, with no duplicates and no
//! lost archives; a create PTV applied but the state never recorded is adopted, not
//! posted again (issue 16 item 3).

use crate::cli::bin;
use crate::support::{Options, TestApp, spawn_app, spawn_with};
use ptv_sync::model::{ApiVersion, ItemKind};
use ptv_sync::sim::Faults;
use ptv_sync::store::{ItemStatus, RemoteState, RunOutcome};
use ptv_sync::synth::{Shape, churn, generate};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn options(version: ApiVersion) -> Options {
    Options::on(version)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_24_points_then_converge() {
    let docs = generate(Shape::new(150, 41));
    let app = spawn_app(&docs).await;
    // A little latency spreads each run over time so kills land mid-run, at every stage.
    let faults = Faults {
        latency: Duration::from_millis(3),
        ..Faults::default()
    };
    kill_rounds_then_converge(&app, docs, faults, 24, 20).await;
}

/// Issue 16 item 3: v12, 30 % server errors (some applied before the 500), kills at
/// random points, then faults off: the next run converges, connection sets included.
/// v12 channels carry no externalId, so a channel PTV created but the state never
/// recorded is found only by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_sigkill_with_server_errors_then_converge() {
    let docs = generate(Shape::new(60, 43));
    let app = spawn_with(&docs, options(ApiVersion::V12)).await;
    let faults = Faults {
        latency: Duration::from_millis(2),
        error_rate: 0.3,
        lost_response_share: 0.5,
        seed: Some(16),
        ..Faults::default()
    };
    kill_rounds_then_converge(&app, docs, faults, 10, 6).await;
}

/// Runs `rounds` resyncs under `faults`, each killed (SIGKILL) after a few writes (at least
/// `min_killed` of them mid-way), then one without faults that must converge.
async fn kill_rounds_then_converge(
    app: &TestApp,
    mut docs: ptv_sync::synth::Docs,
    faults: Faults,
    rounds: u32,
    min_killed: usize,
) {
    app.sim.set_faults(faults);
    let mut kill_points = Vec::new();
    for round in 0..rounds {
        if round % 6 == 5 {
            churn(&mut docs, 0.3, 41, round);
            app.write_source(&docs);
        }
        let start = app.sim.stats().writes_applied;
        // Kill after 1..=12 writes of this run: a different point each round.
        let target = start + u64::from(round % 12) + 1;
        let mut child = bin()
            .arg("--config")
            .arg(app.config_path())
            .arg("resync")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if app.sim.stats().writes_applied >= target {
                child.kill().unwrap(); // SIGKILL
                let _ = child.wait();
                kill_points.push(app.sim.stats().writes_applied - start);
                break;
            }
            if child.try_wait().unwrap().is_some() {
                kill_points.push(u64::MAX); // the run finished before the kill point
                break;
            }
            assert!(Instant::now() < deadline, "resync hung");
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
    }
    let killed = kill_points.iter().filter(|p| **p != u64::MAX).count();
    assert!(
        killed >= min_killed,
        "at least {min_killed} runs killed mid-way: {kill_points:?}"
    );
    app.sim.set_faults(Faults::default());
    let out = bin()
        .arg("--config")
        .arg(app.config_path())
        .arg("resync")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    app.assert_converged(&docs).await;
    assert!(app.store.verify_audit(None).await.unwrap().is_ok());
    let out = bin()
        .arg("--config")
        .arg(app.config_path())
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing left to do: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A create PTV applied but the process died before recording: the row holds the intent
/// (the payload, an attempt) and no PTV id. The next run must find the item (v12
/// channels by organisation, type and name) and adopt it, not post it again and fail on
/// the duplicate name.
async fn unrecorded_create_is_adopted(version: ApiVersion) {
    let docs = generate(Shape::new(12, 7));
    let app = spawn_with(&docs, options(version)).await;
    assert_eq!(app.sync().await.outcome, RunOutcome::Ok);
    let items_before = app.sim.catalogue().len();
    let mut rewound = 0;
    for head in app.store.items("test").await.unwrap() {
        if head.kind != ItemKind::Channel {
            continue;
        }
        let mut rec = app
            .store
            .item("test", head.kind, head.source_id.as_str())
            .await
            .unwrap()
            .unwrap();
        // What `record_intent` leaves before the POST: payload and attempt, no PTV id.
        rec.ptv_id = None;
        rec.remote = RemoteState::Absent;
        rec.status = ItemStatus::Active;
        rec.fingerprint = None;
        rec.first_pushed_at = None;
        rec.last_pushed_at = None;
        rec.attempts = 1;
        app.store.put_item(&rec).await.unwrap();
        rewound += 1;
    }
    assert!(rewound > 0);
    let report = app.sync().await;
    assert_eq!(
        report.outcome,
        RunOutcome::Ok,
        "{version}: {:?}",
        report
            .results
            .iter()
            .filter(|r| r.error.is_some())
            .map(|r| (&r.kind, &r.id, &r.error))
            .collect::<Vec<_>>()
    );
    app.assert_converged(&docs).await;
    // Adopted, not created again: PTV holds as many items as before.
    assert_eq!(app.sim.catalogue().len(), items_before, "{version}");
}

#[tokio::test]
async fn unrecorded_create_is_adopted_v11() {
    unrecorded_create_is_adopted(ApiVersion::V11).await;
}

#[tokio::test]
async fn unrecorded_create_is_adopted_v12() {
    unrecorded_create_is_adopted(ApiVersion::V12).await;
}

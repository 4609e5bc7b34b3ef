//! SIGKILL at many points of runs: the next run converges, with no duplicates and no
//! lost archives.

use crate::cli::bin;
use crate::support::spawn_app;
use ptv_sync::sim::Faults;
use ptv_sync::synth::{Shape, churn, generate};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_24_points_then_converge() {
    let mut docs = generate(Shape::new(150, 41));
    let app = spawn_app(&docs).await;
    // A little latency spreads each run over time so kills land mid-run, at every stage.
    app.sim.set_faults(Faults {
        latency: Duration::from_millis(3),
        ..Faults::default()
    });
    let mut kill_points = Vec::new();
    for round in 0..24u32 {
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
        killed >= 20,
        "at least 20 runs killed mid-way: {kill_points:?}"
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

//! The soak: the real binary against a hostile PTV (30 % 5xx of which half are lost
//! responses, 10 % 429, 5-second tokens revoked at half life) with random SIGKILLs and
//! restarts over rounds of churn. It ends with PTV equal to the source, no duplicates, no
//! archived item that is in the source, no live item missing, and a verified audit chain.
//!
//! `soak_short` runs in CI; `soak_full` (2,000 items, 10 runs) is run by hand:
//! `cargo test --release --test it soak_full -- --ignored --nocapture`.

use crate::cli::bin;
use crate::support::{Options, spawn_with};
use ptv_sync::sim::{Faults, SimConfig};
use ptv_sync::synth::{Shape, churn, generate};
use std::process::Stdio;
use std::time::{Duration, Instant};

async fn soak(items: usize, rounds: u32, seed: u64) {
    let mut sim = SimConfig::single_org().0;
    sim.token_lifetime = Duration::from_secs(5);
    let mut docs = generate(Shape::new(items, seed));
    let app = spawn_with(
        &docs,
        Options {
            sim,
            extra_ptv_toml: "token_refresh_margin = \"500ms\"".into(),
            ..Options::default()
        },
    )
    .await;
    app.sim.set_faults(Faults {
        error_rate: 0.3,
        lost_response_share: 0.5,
        rate_limit_rate: 0.1,
        seed: Some(seed),
        ..Faults::default()
    });
    let revoker = {
        let sim = app.sim.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(2500)).await;
                sim.revoke_all_tokens();
            }
        })
    };
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut kills, mut runs) = (0, 0);
    for round in 0..rounds {
        if round > 0 {
            churn(&mut docs, 0.03, seed, round);
            app.write_source(&docs);
        }
        // Each round: a run killed at a random moment, then restarted and left to finish.
        let mut first = true;
        loop {
            runs += 1;
            let mut child = bin()
                .arg("--config")
                .arg(app.config_path())
                .arg("resync")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let kill_at = first.then(|| Instant::now() + Duration::from_millis(rng.u64(50..1500)));
            first = false;
            let deadline = Instant::now() + Duration::from_secs(300);
            let killed = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    assert!(
                        matches!(status.code(), Some(0 | 2)),
                        "resync failed fatally: {status:?}"
                    );
                    break false;
                }
                if kill_at.is_some_and(|k| Instant::now() >= k) {
                    child.kill().unwrap();
                    let _ = child.wait();
                    kills += 1;
                    break true;
                }
                assert!(Instant::now() < deadline, "resync hung");
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            if !killed {
                break;
            }
        }
    }
    revoker.abort();
    app.sim.set_faults(Faults::default());
    // Whatever the faults left failed is retried now: two clean runs converge.
    for _ in 0..2 {
        let out = bin()
            .arg("--config")
            .arg(app.config_path())
            .args(["resync", "--full"])
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    app.assert_converged(&docs).await;
    assert!(
        app.store.verify_audit(None).await.unwrap().is_ok(),
        "audit chain verifies"
    );
    let stats = app.sim.stats();
    eprintln!(
        "soak: {items} items, {rounds} rounds, {runs} runs, {kills} SIGKILLs, {} logins, faults {:?}, {} writes applied",
        stats.logins, stats.faults_injected, stats.writes_applied
    );
    assert!(stats.faults("lost_response") > 0 && stats.faults("rate_limit") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_short() {
    soak(300, 4, 51).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the full soak takes minutes; run by hand (see the module docs)"]
async fn soak_full() {
    soak(2000, 10, 52).await;
}

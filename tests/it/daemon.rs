//! The daemon as systemd runs it: schedules, `sd_notify`, metrics, resync, SIGTERM.

use crate::cli::bin;
use crate::support::{Options, TestApp, spawn_with};
use ptv_sync::sim::Faults;
use ptv_sync::synth::{Shape, generate};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn app_with_schedule(items: usize, schedule: &str, port: u16) -> TestApp {
    let docs = generate(Shape::new(items, 31));
    let app = spawn_with(
        &docs,
        Options {
            extra_org_toml: format!("schedule = \"{schedule}\""),
            ..Options::default()
        },
    )
    .await;
    let text = std::fs::read_to_string(app.config_path()).unwrap().replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    std::fs::write(app.config_path(), text).unwrap();
    app
}

struct Daemon {
    child: Child,
    notify: Option<UnixDatagram>,
}

impl Daemon {
    fn start(app: &TestApp, with_notify: bool) -> Daemon {
        let mut cmd = bin();
        cmd.arg("--config")
            .arg(app.config_path())
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let notify = with_notify.then(|| {
            let path = app.dir.path().join("notify.sock");
            let sock = UnixDatagram::bind(&path).unwrap();
            sock.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            cmd.env("NOTIFY_SOCKET", &path)
                .env("WATCHDOG_USEC", "1000000");
            sock
        });
        Daemon {
            child: cmd.spawn().unwrap(),
            notify,
        }
    }

    fn messages(&self, until: impl Fn(&[String]) -> bool, timeout: Duration) -> Vec<String> {
        let sock = self.notify.as_ref().unwrap();
        let mut seen = Vec::new();
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline && !until(&seen) {
            if let Ok(n) = sock.recv(&mut buf) {
                seen.extend(
                    String::from_utf8_lossy(&buf[..n])
                        .lines()
                        .map(str::to_owned),
                );
            }
        }
        seen
    }

    fn sigterm(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not stop within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn runs(app: &TestApp) -> Vec<ptv_sync::store::RunRecord> {
    app.store
        .last_runs("test", 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.finished_at.is_some())
        .collect()
}

async fn wait_for(what: &str, timeout: Duration, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A daemon on a yearly schedule after its start-up freshness run: from then on only
/// what the test does makes it run.
async fn idle_daemon(items: usize) -> (TestApp, Daemon) {
    idle_daemon_on(items, free_port()).await
}

/// [`idle_daemon`] listening on `port`.
async fn idle_daemon_on(items: usize, port: u16) -> (TestApp, Daemon) {
    let app = app_with_schedule(items, "0 0 3 1 1 *", port).await;
    let d = Daemon::start(&app, false);
    wait_for(
        "the start-up freshness run",
        Duration::from_secs(30),
        async || !runs(&app).await.is_empty(),
    )
    .await;
    (app, d)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_runs_notify_systemd_and_serve_metrics() {
    let port = free_port();
    let app = app_with_schedule(40, "*/2 * * * * *", port).await;
    let mut d = Daemon::start(&app, true);
    let msgs = d.messages(
        |m| {
            m.iter().any(|l| l == "READY=1")
                && m.iter().any(|l| l.starts_with("STATUS="))
                && m.iter().any(|l| l == "WATCHDOG=1")
        },
        Duration::from_secs(30),
    );
    assert!(msgs.iter().any(|l| l == "READY=1"), "{msgs:?}");
    assert!(
        msgs.iter().any(|l| l.starts_with("STATUS=test: run")),
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|l| l == "WATCHDOG=1"), "{msgs:?}");
    wait_for("two completed runs", Duration::from_secs(30), async || {
        runs(&app).await.len() >= 2
    })
    .await;

    let body = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned())))
        .unwrap_or_else(|e| panic!("/metrics is not Prometheus text ({e}):\n{body}"));
    for m in ptv_sync::monitoring::METRICS {
        if m.name == ptv_sync::monitoring::CLIENT_CERT_EXPIRY {
            continue;
        }
        assert!(
            scrape.docs.contains_key(m.name),
            "no # HELP for {}:\n{body}",
            m.name
        );
        assert!(
            scrape
                .samples
                .iter()
                .any(|s| s.metric == m.name && s.labels.get("org").is_none_or(|o| o == "test")),
            "{} missing from /metrics:\n{body}",
            m.name
        );
    }
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == ptv_sync::monitoring::RUN_DURATION
                && matches!(&s.value, prometheus_parse::Value::Histogram(b) if !b.is_empty())),
        "run duration is not a histogram:\n{body}"
    );
    let ok_runs = scrape
        .samples
        .iter()
        .find(|s| s.metric == ptv_sync::monitoring::RUNS && s.labels.get("outcome") == Some("ok"))
        .map(|s| s.value.clone());
    assert!(
        matches!(ok_runs, Some(prometheus_parse::Value::Counter(n)) if n >= 2.0),
        "{ok_runs:?}"
    );
    assert_eq!(
        reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let status = d.sigterm();
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_asks_the_running_daemon_for_exactly_one_run() {
    let (app, mut d) = idle_daemon(30).await;
    let before = runs(&app).await.len();
    let out = bin()
        .arg("--config")
        .arg(app.config_path())
        .arg("resync")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("asked the running daemon"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("test: ok"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let after = runs(&app).await;
    assert_eq!(after.len(), before + 1);
    assert_eq!(after[0].trigger, ptv_sync::store::RunTrigger::Resync);
    assert!(d.sigterm().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_commits_the_items_in_flight_and_exits_0() {
    let port = free_port();
    let app = app_with_schedule(200, "0 0 3 1 1 *", port).await;
    app.sim.set_faults(Faults {
        latency: Duration::from_millis(40),
        ..Faults::default()
    });
    let mut d = Daemon::start(&app, false);
    wait_for("writes to begin", Duration::from_secs(30), async || {
        app.sim.stats().total_writes() >= 20
    })
    .await;
    let status = d.sigterm();
    assert!(status.success(), "{status:?}");
    // Nothing lost: every entity PTV holds from us is recorded in the store.
    let records = app.store.items("test").await.unwrap();
    for e in app
        .sim
        .catalogue()
        .iter()
        .filter(|e| e.source_id.as_deref().is_some_and(|s| s.starts_with("t-")))
    {
        assert!(
            records.iter().any(
                |r| r.ptv_id.map(|id| id.to_string()) == Some(e.id.to_string())
                    && r.remote == ptv_sync::store::RemoteState::Live
            ),
            "{:?} is in PTV but not committed in the store",
            e.source_id
        );
    }
    assert!(
        records.len() < 200,
        "the run was interrupted, not completed"
    );
    let last = app.store.last_runs("test", 1).await.unwrap();
    assert!(
        last[0].finished_at.is_some(),
        "the interrupted run was closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_configuration_and_a_broken_file_keeps_the_running_one() {
    let (app, mut d) = idle_daemon(20).await;
    let good = std::fs::read_to_string(app.config_path()).unwrap();
    let hup = |d: &Daemon| {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &d.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };

    // A broken file: the daemon keeps running on the configuration it has.
    std::fs::write(app.config_path(), "[[organization]]\nname = ").unwrap();
    hup(&d);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(d.child.try_wait().unwrap().is_none(), "the daemon exited");
    assert!(
        runs(&app)
            .await
            .iter()
            .all(|r| r.trigger != ptv_sync::store::RunTrigger::Schedule),
        "nothing is scheduled yet"
    );

    // A new schedule, every two seconds: scheduled runs start without a restart.
    std::fs::write(
        app.config_path(),
        good.replace("schedule = \"0 0 3 1 1 *\"", "schedule = \"*/2 * * * * *\""),
    )
    .unwrap();
    hup(&d);
    wait_for(
        "two scheduled runs after the reload",
        Duration::from_secs(30),
        async || {
            runs(&app)
                .await
                .iter()
                .filter(|r| r.trigger == ptv_sync::store::RunTrigger::Schedule)
                .count()
                >= 2
        },
    )
    .await;
    assert!(d.sigterm().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_endpoint_checks_the_token_before_the_body_and_records_its_own_actor() {
    let (app, mut d) = idle_daemon(10).await;
    let cfg = ptv_sync::config::Config::load(&app.config_path()).unwrap();
    let url = format!("http://{}/admin/resync", cfg.daemon.listen);
    let client = reqwest::Client::new();
    // No token and a body that is not even JSON: refused for the token, body unread.
    let resp = client
        .post(&url)
        .body("{this is not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "{}", resp.text().await.unwrap());
    let token = std::fs::read_to_string(ptv_sync::daemon::admin_token_path(&cfg)).unwrap();
    let resp = client
        .post(&url)
        .bearer_auth(token.trim())
        .json(&serde_json::json!({"org": "test", "actor": "mallory"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let last = app.store.last_runs("test", 1).await.unwrap().remove(0);
    assert_eq!(last.actor, ptv_sync::daemon::ADMIN_ACTOR, "{last:?}");
    assert!(d.sigterm().success());
}

/// The admin endpoint checks an organisation name as the configuration does: a malformed
/// one is a 400 naming the field, and an unknown one a 400 naming the organisation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_endpoint_refuses_a_malformed_or_unknown_org_naming_it() {
    let (app, mut d) = idle_daemon(10).await;
    let cfg = ptv_sync::config::Config::load(&app.config_path()).unwrap();
    let url = format!("http://{}/admin/resync", cfg.daemon.listen);
    let token = std::fs::read_to_string(ptv_sync::daemon::admin_token_path(&cfg)).unwrap();
    let client = reqwest::Client::new();
    for (org, wanted) in [
        (
            "no such",
            "org: 'no such' must be letters, digits, '-' or '_'",
        ),
        ("nosuch", "no organisation 'nosuch'"),
    ] {
        let resp = client
            .post(&url)
            .bearer_auth(token.trim())
            .json(&serde_json::json!({ "org": org }))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(wanted), "{text}");
    }
    let before = app.store.last_runs("test", 10).await.unwrap().len();
    assert!(d.sigterm().success());
    assert_eq!(app.store.last_runs("test", 10).await.unwrap().len(), before);
}

/// Issue 16 item 20: a `/metrics` scrape counts items in the database instead of loading
/// every item with its payload. A row no reader could decode (its `last_error` is not an
/// error) shows it: the counts are still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_items_without_loading_them() {
    use sqlx::Connection as _;
    let port = free_port();
    let (app, d) = idle_daemon_on(10, port).await;
    let live = app
        .store
        .items("test")
        .await
        .unwrap()
        .iter()
        .filter(|r| ptv_sync::apply::state_label(r) == "live")
        .count();
    assert!(live > 1, "{live}");
    let mut conn = state_db(&app).await;
    sqlx::query(
        "UPDATE items SET last_error = '{}' WHERE rowid = \
         (SELECT rowid FROM items WHERE kind = 'organization' LIMIT 1)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let body = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("ptv_sync_tracked_items{{org=\"test\",state=\"live\"}} {live}");
    assert!(
        body.contains(&series),
        "{series} missing from /metrics:\n{body}"
    );
    drop(d);
}

/// Issue 16 item 6: the daemon applies `audit.retention_days` (at start, then daily) to the
/// audit log and to finished runs with their items; the chain stays verifiable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_prunes_audit_and_runs_and_the_chain_verifies() {
    use ptv_sync::model::{Action, ItemKind, Outcome};
    use ptv_sync::store::{NewAuditEntry, NewRun, RunItem, RunOutcome, RunTrigger};
    use sqlx::Connection as _;
    let app = app_with_schedule(5, "0 0 3 1 1 *", free_port()).await;
    let text = std::fs::read_to_string(app.config_path())
        .unwrap()
        .replace("[daemon]", "[audit]\nretention_days = 2\n\n[daemon]");
    std::fs::write(app.config_path(), text).unwrap();
    let now = chrono::Utc::now();
    let old = now - chrono::Duration::days(10);
    for (i, at) in [old, old, now - chrono::Duration::hours(1)]
        .into_iter()
        .enumerate()
    {
        app.store
            .append_audit(&NewAuditEntry {
                at,
                org: "test".into(),
                actor: "test".into(),
                action: Action::Update,
                kind: ItemKind::Service,
                source_id: format!("s-{i}"),
                ptv_id: None,
                http_status: Some(200),
                body_sha256: None,
                reason: None,
            })
            .await
            .unwrap();
    }
    let old_run = app
        .store
        .begin_run(&NewRun {
            org: "test".into(),
            trigger: RunTrigger::Manual,
            actor: "test".into(),
            started_at: old,
            dry_run: false,
        })
        .await
        .unwrap();
    app.store
        .record_run_item(
            old_run,
            &RunItem {
                kind: ItemKind::Service,
                source_id: ptv_sync::model::SourceId::parse("s-0").unwrap(),
                action: Action::Update,
                outcome: Outcome::Ok,
                error: None,
            },
        )
        .await
        .unwrap();
    app.store
        .finish_run(
            old_run,
            RunOutcome::Ok,
            &serde_json::json!({}),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let mut conn = state_db(&app).await;
    sqlx::query("UPDATE runs SET finished_at = started_at WHERE id = $1")
        .bind(old_run)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let d = Daemon::start(&app, false);
    wait_for(
        "the retention to run",
        Duration::from_secs(30),
        async || {
            let runs = app.store.last_runs("test", 1000).await.unwrap();
            let audit = app
                .store
                .audit_since(old - chrono::Duration::days(1))
                .await
                .unwrap();
            !runs.iter().any(|r| r.id == old_run) && audit.iter().all(|e| e.at > old)
        },
    )
    .await;
    assert!(app.store.run_items(old_run).await.unwrap().is_empty());
    let kept = app.store.audit_since(old).await.unwrap();
    assert!(kept.iter().any(|e| e.source_id == "s-2"), "{kept:?}");
    let verified = app.store.verify_audit(Some("test")).await.unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    drop(d);
}

/// A connection of its own to the test app's `SQLite` state database, to do what no
/// ptv-sync code would.
async fn state_db(app: &TestApp) -> sqlx::SqliteConnection {
    use sqlx::Connection as _;
    let ptv_sync::config::StateConfig::Sqlite { dir } = &app.cfg.state else {
        unreachable!("a SQLite test app")
    };
    let db = dir.join(ptv_sync::startup::SQLITE_FILE);
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap()
}

// issue 16 item 13: a run that fails as a whole is retried with backoff, not a day later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_is_retried_with_backoff_until_ptv_takes_it() {
    for v12 in [false, true] {
        let docs = generate(Shape::new(10, 1613));
        let mut opts = Options {
            // Yearly: only the start-up freshness run and its retries can run.
            extra_org_toml: "schedule = \"0 0 3 1 1 *\"".into(),
            ..Options::default()
        };
        if v12 {
            opts.extra_org_toml.push_str("\napi_version = \"v12\"");
            opts.extra_ptv_toml =
                format!("api_key = \"{}\"", ptv_sync::sim::SimConfig::DEMO_API_KEY);
        }
        let app = spawn_with(&docs, opts).await;
        let text = std::fs::read_to_string(app.config_path()).unwrap().replace(
            "listen = \"127.0.0.1:0\"",
            &format!(
                "listen = \"127.0.0.1:{}\"\nretry_after_failure = \"200ms\"\nretry_after_failure_max = \"800ms\"",
                free_port()
            ),
        );
        std::fs::write(app.config_path(), text).unwrap();
        let password = app.dir.path().join("password");
        let right = std::fs::read_to_string(&password).unwrap();
        std::fs::write(&password, "not-the-password\n").unwrap();
        let _d = Daemon::start(&app, false);

        wait_for(
            "three refused logins (the first run and two retries)",
            Duration::from_secs(20),
            async || app.sim.stats().failed_logins >= 3,
        )
        .await;
        assert!(
            runs(&app)
                .await
                .iter()
                .all(|r| r.outcome != ptv_sync::store::RunOutcome::Ok)
        );

        std::fs::write(&password, right).unwrap();
        wait_for(
            "a retry that gets through once the password is right",
            Duration::from_secs(20),
            async || {
                runs(&app)
                    .await
                    .iter()
                    .any(|r| r.outcome == ptv_sync::store::RunOutcome::Ok)
            },
        )
        .await;
        let ok: Vec<_> = runs(&app)
            .await
            .into_iter()
            .filter(|r| r.outcome == ptv_sync::store::RunOutcome::Ok)
            .collect();
        assert_eq!(
            ok[0].trigger,
            ptv_sync::store::RunTrigger::Retry,
            "v12={v12}: the successful run is the daemon's retry"
        );
    }
}

/// The daemon checks drift on `[organization.drift] schedule`: a person's edit is found
/// and marked without any command, and `/metrics` counts the drifted item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drift_check_runs_on_its_schedule_and_marks_a_persons_edit() {
    let port = free_port();
    let docs = generate(Shape::new(20, 31));
    let app = spawn_with(
        &docs,
        Options {
            extra_org_toml:
                "schedule = \"0 0 3 1 1 *\"\n[organization.drift]\nschedule = \"*/2 * * * * *\""
                    .into(),
            ..Options::default()
        },
    )
    .await;
    let text = std::fs::read_to_string(app.config_path()).unwrap().replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    std::fs::write(app.config_path(), text).unwrap();
    let _d = Daemon::start(&app, false);
    wait_for(
        "the start-up freshness run",
        Duration::from_secs(30),
        async || !runs(&app).await.is_empty(),
    )
    .await;
    let id = docs.services[0]["id"].as_str().unwrap();
    let ptv = app
        .store
        .item("test", ptv_sync::model::ItemKind::Service, id)
        .await
        .unwrap()
        .unwrap()
        .ptv_id
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/ui-edit/{ptv}", app.sim.base_url()))
        .json(&serde_json::json!({"set": {"/fundingType": "MarketFunded"}, "by": "editor@kunta.example"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    wait_for(
        "the drift check to mark the edit",
        Duration::from_secs(30),
        async || {
            app.store
                .item("test", ptv_sync::model::ItemKind::Service, id)
                .await
                .unwrap()
                .is_some_and(|r| r.status == ptv_sync::store::ItemStatus::Drifted)
        },
    )
    .await;
    let body = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.lines()
            .any(|l| l == "ptv_sync_drifted_items{org=\"test\"} 1"),
        "{body}"
    );
}

//! What an operator meets: output fit for terminals and scripts, `status --check`,
//! `protect` under the lock and in the audit log, a run that survives a closed stderr.

use crate::cli::{bin, run};
use crate::support::spawn_app;
use ptv_sync::store::{NewRun, RunOutcome, RunTrigger};
use ptv_sync::synth::{Shape, generate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_to_a_pipe_carry_no_colour_codes() {
    let app = spawn_app(&generate(Shape::new(5, 61))).await;
    let out = bin()
        .env_remove("NO_COLOR")
        .env("PTV_SYNC_LOG", "info")
        .arg("--config")
        .arg(app.config_path())
        .arg("resync")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("INFO"), "a log line was written: {err}");
    assert!(!err.contains('\u{1b}'), "colour codes in a pipe: {err:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stderr_does_not_kill_a_run_and_a_dead_runs_record_is_marked_interrupted() {
    let app = spawn_app(&generate(Shape::new(12, 62))).await;
    // A run left `running` by a process that was killed.
    let dead = app
        .store
        .begin_run(&NewRun {
            org: "test".into(),
            trigger: RunTrigger::Schedule,
            actor: "daemon:1".into(),
            started_at: chrono::Utc::now() - chrono::Duration::hours(1),
            dry_run: false,
        })
        .await
        .unwrap();
    // `2>/dev/full`: every write to stderr fails (ENOSPC), as with `2>&1 | head`.
    let out = bin()
        .arg("--config")
        .arg(app.config_path())
        .arg("resync")
        .stderr(
            std::fs::File::options()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let runs = app.store.last_runs("test", 10).await.unwrap();
    let old = runs.iter().find(|r| r.id == dead).unwrap();
    assert_eq!(old.outcome, RunOutcome::Interrupted, "{runs:?}");
    assert!(old.finished_at.is_some());
    assert_eq!(runs[0].outcome, RunOutcome::Ok, "{runs:?}");
    let (code, out, _) = run(&["status"], &app.config_path());
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_check_exits_2_when_an_item_needs_attention_and_shows_local_times() {
    let docs = generate(Shape::new(8, 63));
    let app = spawn_app(&docs).await;
    let (code, _, err) = run(&["resync"], &app.config_path());
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["status", "--check"], &app.config_path());
    assert_eq!(code, 0, "all well: {out}{err}");
    assert!(!out.contains("Some("), "{out}");
    // Times to the second, with the UTC offset, no fractions.
    let last = out
        .lines()
        .find(|l| l.contains("last success:"))
        .unwrap()
        .to_owned();
    let stamp = last.split("last success:").nth(1).unwrap().trim();
    assert!(
        chrono::DateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S %:z").is_ok(),
        "{last}"
    );

    let id = docs.services[0]["id"].as_str().unwrap();
    let mut rec = app
        .store
        .item("test", ptv_sync::model::ItemKind::Service, id)
        .await
        .unwrap()
        .unwrap();
    rec.status = ptv_sync::store::ItemStatus::Blocked;
    app.store.put_item(&rec).await.unwrap();
    let (code, out, _) = run(&["status", "--check"], &app.config_path());
    assert_eq!(code, 2, "{out}");
    let (code, out, _) = run(&["status", "--check", "--json"], &app.config_path());
    assert_eq!(code, 2, "{out}");
    let (code, _, _) = run(&["status"], &app.config_path());
    assert_eq!(code, 0, "without --check the exit says nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protect_takes_the_lock_writes_an_audit_entry_and_answers_in_json() {
    let docs = generate(Shape::new(20, 64));
    let app = spawn_app(&docs).await;
    let (code, _, err) = run(&["resync"], &app.config_path());
    assert_eq!(code, 0, "{err}");
    let id = docs.services[0]["id"].as_str().unwrap();

    let (code, out, err) = run(
        &["protect", "test", "service", id, "--json"],
        &app.config_path(),
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["protected"], true);
    assert_eq!(v["id"], id);
    let (code, _, err) = run(&["unprotect", "test", "service", id], &app.config_path());
    assert_eq!(code, 0, "{err}");
    let entries = app
        .store
        .audit_since(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        .await
        .unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .filter(|e| e.source_id == id)
        .map(|e| e.action.as_str())
        .collect();
    assert!(actions.ends_with(&["protect", "unprotect"]), "{actions:?}");

    let (code, out, _) = run(&["audit", "verify", "--json"], &app.config_path());
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v["entries"].as_u64().unwrap() > docs.len() as u64);

    // While a sync holds the organisation's lock (here: this process's), protect waits
    // its turn and changes nothing.
    let lock = app.store.lock_org("test").await.unwrap().unwrap();
    let (code, out, err) = run(&["protect", "test", "service", id], &app.config_path());
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("another ptv-sync process"), "{err}");
    let rec = app
        .store
        .item("test", ptv_sync::model::ItemKind::Service, id)
        .await
        .unwrap()
        .unwrap();
    assert!(!rec.protected, "unchanged while locked");
    lock.release().await.unwrap();
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn line_of<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(check))
        .unwrap_or_else(|| panic!("no '{check}' line in:\n{out}"))
}

/// A self-signed client certificate with its key that expires `days` from now.
fn client_cert(dir: &std::path::Path, days: i64) -> std::path::PathBuf {
    use chrono::Datelike as _;
    let end = chrono::Utc::now() + chrono::Duration::days(days);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["ptv-sync.example.fi".into()]).unwrap();
    params.not_after = rcgen::date_time_ymd(end.year(), end.month() as u8, end.day() as u8);
    let cert = params.self_signed(&key).unwrap();
    let path = dir.join("client.pem");
    std::fs::write(&path, format!("{}{}", cert.pem(), key.serialize_pem())).unwrap();
    set_mode(&path, 0o600);
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_sound_set_up_and_names_each_fault_with_its_fix() {
    let app = spawn_app(&generate(Shape::new(6, 65))).await;
    let cfg = app.config_path();
    let password = app.dir.path().join("password");
    set_mode(&password, 0o600);
    let (code, out, err) = run(&["doctor"], &cfg);
    assert_eq!(code, 0, "{out}{err}");
    for check in [
        "configuration",
        "state store",
        "test PTV password",
        "test source",
        "test PTV login",
        "test clock",
        "test schedule",
        "listen address",
    ] {
        let l = line_of(&out, check);
        assert!(l.starts_with("ok ") || l.starts_with("WARN"), "{l}");
    }
    assert!(
        line_of(&out, "test PTV login").contains("token valid for"),
        "{out}"
    );
    assert_eq!(
        line_of(&out, "test schedule").matches(", ").count(),
        2,
        "three next runs: {out}"
    );
    let (code, out, _) = run(&["doctor", "--json"], &cfg);
    assert_eq!(code, 0);
    let checks: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        checks
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["level"] != "fail")
    );

    // A password file others can read.
    set_mode(&password, 0o644);
    let (code, out, _) = run(&["doctor"], &cfg);
    assert_eq!(code, 1, "{out}");
    let l = line_of(&out, "test PTV password");
    assert!(
        l.starts_with("FAIL") && l.contains("0644") && l.contains("fix: chmod 600"),
        "{l}"
    );
    set_mode(&password, 0o600);

    // A wrong password.
    std::fs::write(&password, "not-the-password").unwrap();
    let (code, out, _) = run(&["doctor"], &cfg);
    assert_eq!(code, 1, "{out}");
    let l = line_of(&out, "test PTV login");
    assert!(
        l.starts_with("FAIL") && l.contains("fix: check the username and password"),
        "{l}"
    );
    std::fs::write(&password, ptv_sync::sim::SimConfig::single_org().1.password).unwrap();

    // A client certificate that expires in 30 days: a warning, not a failure.
    let pem = client_cert(app.dir.path(), 30);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let with_cert = text.replace(
        "[organization.source]",
        &format!("client_cert = \"{}\"\n[organization.source]", pem.display()),
    );
    std::fs::write(&cfg, &with_cert).unwrap();
    let (code, out, _) = run(&["doctor"], &cfg);
    assert_eq!(code, 0, "{out}");
    let l = line_of(&out, "test client certificate");
    assert!(
        l.starts_with("WARN") && (l.contains("(29 days)") || l.contains("(30 days)")),
        "{l}"
    );
    assert!(l.contains("fix: order a new certificate"), "{l}");

    // An unreachable source.
    let unreachable = text.replace(
        "[organization.source]\n",
        "[organization.source]\ntype = \"http\"\nurl = \"http://127.0.0.1:9/export\"\n",
    );
    let unreachable = unreachable
        .lines()
        .filter(|l| !l.starts_with("path = "))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&cfg, unreachable).unwrap();
    let (code, out, err) = run(&["doctor"], &cfg);
    assert_eq!(code, 1, "{out}{err}");
    assert!(line_of(&out, "test source").starts_with("FAIL"), "{out}");
}

#[test]
fn a_listen_address_off_loopback_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let text = crate::support::config_text(
        dir.path(),
        "http://127.0.0.1:1",
        "user",
        uuid::Uuid::nil(),
        &crate::support::Options::default(),
    );
    let path = dir.path().join("config.toml");
    let open = text.replace("listen = \"127.0.0.1:0\"", "listen = \"0.0.0.0:10187\"");
    let err = ptv_sync::config::Config::from_str_with_env(&open, &path, &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("daemon.listen") && err.contains("allow_remote"),
        "{err}"
    );
    let allowed = open.replace("[daemon]\n", "[daemon]\nallow_remote = true\n");
    let cfg = ptv_sync::config::Config::from_str_with_env(&allowed, &path, &[]).unwrap();
    assert!(cfg.daemon.allow_remote);
    let loopback = ptv_sync::config::Config::from_str_with_env(&text, &path, &[]).unwrap();
    assert!(!loopback.daemon.allow_remote);
}

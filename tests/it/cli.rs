//! The real binary: exit codes, table and JSON output, messages a person can act on.

use crate::support::spawn_app;
use ptv_sync::synth::{Shape, generate};
use serde_json::json;
use std::process::Command;

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ptv-sync"));
    c.env_remove("PTV_SYNC_CONFIG")
        .env("NO_COLOR", "1")
        .env("PTV_SYNC_LOG", "warn");
    c
}

pub fn run(args: &[&str], config: &std::path::Path) -> (i32, String, String) {
    let out = bin()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_shows_everything_then_exactly_the_one_edited_field() {
    let mut docs = generate(ptv_sync::synth::Shape {
        items: 100,
        organizations: 3,
        seed: 21,
    });
    let app = spawn_app(&docs).await;
    let cfg = app.config_path();

    let (code, out, err) = run(&["plan"], &cfg);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("create") && out.contains("organization") && out.contains("connections"),
        "{out}"
    );
    assert!(
        app.store.items("test").await.unwrap().is_empty(),
        "plan writes no state"
    );

    let (code, out, err) = run(&["plan", "--json"], &cfg);
    assert_eq!(code, 2, "{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan[0]["organization"], "test");
    assert!(plan[0]["steps"].as_array().unwrap().len() >= docs.len());

    let (code, out, err) = run(&["resync"], &cfg);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(&["plan"], &cfg);
    assert_eq!(code, 0, "nothing to do after a sync: {out}");

    docs.channels[4]["languageVersions"]["fi"]["description"] = json!("Kanavan kuvaus muuttui.");
    app.write_source(&docs);
    let (code, out, _) = run(&["plan", "--json"], &cfg);
    assert_eq!(code, 2);
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    let steps = plan[0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0]["action"], "update");
    assert_eq!(steps[0]["id"], docs.channels[4]["id"]);
    assert_eq!(
        steps[0]["changed"],
        json!(["languageVersions.fi.description"])
    );
    let (_, text, _) = run(&["plan"], &cfg);
    assert!(text.contains("languageVersions.fi.description"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_reports_findings_and_exits_1() {
    let mut docs = generate(Shape::new(20, 22));
    docs.services[0]["languageVersions"]["fi"]["summary"] =
        docs.services[0]["languageVersions"]["fi"]["name"].clone();
    let app = spawn_app(&docs).await;
    let (code, out, err) = run(&["validate"], &app.config_path());
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("summary-equals-name")
            && out.contains("languageVersions.fi.summary")
            && out.contains(docs.services[0]["id"].as_str().unwrap()),
        "{out}{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_source_file_is_reported_and_holds_back_archives_only() {
    let docs = generate(Shape::new(20, 23));
    let app = spawn_app(&docs).await;
    std::fs::write(
        app.dir.path().join("source/zz-broken.yaml"),
        "- kind: service\n  id: [oops\n",
    )
    .unwrap();
    // Issue 16 item 14: the file is reported, archives wait, everything readable syncs.
    let (code, out, err) = run(&["validate"], &app.config_path());
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("zz-broken.yaml") && out.contains("does not parse"),
        "{out}{err}"
    );
    for cmd in ["plan", "resync"] {
        let (code, out, err) = run(&[cmd], &app.config_path());
        assert_eq!(code, 2, "{cmd}: {out}{err}");
        assert!(
            out.contains("ARCHIVE GUARD") && out.contains("zz-broken.yaml"),
            "{cmd}: {out}{err}"
        );
    }
    assert!(
        app.sim.stats().total_writes() > 0,
        "what could be read was pushed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_http_source_aborts() {
    let docs = generate(Shape::new(10, 24));
    let app = spawn_app(&docs).await;
    let text = std::fs::read_to_string(app.config_path()).unwrap().replace(
        &format!("path = \"{}\"", app.dir.path().join("source").display()),
        "type = \"http\"\nurl = \"http://127.0.0.1:9/export\"\ntimeout = \"2s\"",
    );
    std::fs::write(app.config_path(), text).unwrap();
    let (code, _, err) = run(&["plan"], &app.config_path());
    assert_eq!(code, 1);
    assert!(
        err.contains("http://127.0.0.1:9/export") && err.contains("nothing was synced"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_config_says_what_to_do() {
    let (code, _, err) = run(
        &["plan"],
        std::path::Path::new("/nonexistent/ptv-sync.toml"),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("/nonexistent/ptv-sync.toml") && err.contains("--config"),
        "{err}"
    );
}

/// An organisation name is checked where it is typed, with the configuration's rule and
/// wording, before any configuration is read.
#[test]
fn a_malformed_org_name_is_refused_naming_the_argument() {
    let nowhere = std::path::Path::new("/nonexistent/ptv-sync.toml");
    for args in [
        &["plan", "--org", "espoo kunta"][..],
        &["protect", "espoo kunta", "service", "x"][..],
    ] {
        let (code, _, err) = run(args, nowhere);
        assert_ne!(code, 0, "{args:?}");
        assert!(
            err.contains("'espoo kunta' must be letters, digits, '-' or '_'")
                && !err.contains("/nonexistent"),
            "{args:?}: {err}"
        );
    }
    let (_, _, err) = run(&["plan", "--org", "espoo kunta"], nowhere);
    assert!(err.contains("--org"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_audit_after_a_sync() {
    let docs = generate(Shape::new(20, 25));
    let app = spawn_app(&docs).await;
    let (code, _, err) = run(&["resync", "--json"], &app.config_path());
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(&["status", "--json"], &app.config_path());
    assert_eq!(code, 0);
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        s[0]["items"]["live"].as_u64().unwrap() as usize,
        docs.len()
            + docs
                .services
                .iter()
                .filter(|x| !x["connections"].as_array().unwrap().is_empty())
                .count()
    );
    assert_eq!(s[0]["last_run"]["outcome"], "ok");
    let (code, out, _) = run(&["audit", "verify"], &app.config_path());
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&["audit", "export"], &app.config_path());
    assert_eq!(code, 0);
    assert!(
        out.lines().count() > docs.len()
            && out
                .lines()
                .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
    let id = docs.services[0]["id"].as_str().unwrap();
    let (code, out, err) = run(&["protect", "test", "service", id], &app.config_path());
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(
        &["protect", "test", "service", "no-such-item"],
        &app.config_path(),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("no-such-item") && err.contains("never synced"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_never_create_the_daemons_state() {
    let docs = generate(Shape::new(10, 26));
    let app = spawn_app(&docs).await;
    // spawn_app opened the store (as the daemon would); use a fresh state dir instead.
    let text = std::fs::read_to_string(app.config_path())
        .unwrap()
        .replace("/state\"", "/fresh-state\"");
    std::fs::write(app.config_path(), text).unwrap();
    for args in [vec!["plan"], vec!["status"], vec!["resync", "--dry-run"]] {
        let (code, out, err) = run(&args, &app.config_path());
        assert!(code == 0 || code == 2, "{args:?}: {out}{err}");
    }
    assert!(
        !app.dir.path().join("fresh-state").exists(),
        "no state files created by read-only commands"
    );
}

/// Issue 17: the content checks run in `validate`, are warnings (exit 0), and the
/// bundled example municipality passes them without a finding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_content_checks_warn_and_the_bundled_example_is_clean() {
    let mut docs = generate(Shape::new(20, 23));
    let app = spawn_app(&docs).await;
    let content = |out: &str| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_str(out).unwrap();
        report[0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                matches!(
                    f["kind"].as_str(),
                    Some(
                        "channel-data-in-description"
                            | "summary-repeats-description"
                            | "copies-general-description"
                    )
                )
            })
            .map(|f| format!("{} {}", f["kind"], f["path"]))
            .collect()
    };

    let (code, out, err) = run(&["validate", "--json"], &app.config_path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(content(&out).is_empty(), "{out}");

    docs.services[0]["languageVersions"]["fi"]["description"] =
        json!("Kysy lisää: neuvonta@example.fi tai 040 123 4567.");
    app.write_source(&docs);
    let (code, out, err) = run(&["validate", "--json"], &app.config_path());
    assert_eq!(code, 0, "warnings never fail validate: {out}{err}");
    let found = content(&out);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .all(|f| f.contains("channel-data-in-description")),
        "{found:?}"
    );
    let (_, out, _) = run(&["validate", "--json", "--no-content"], &app.config_path());
    assert!(content(&out).is_empty(), "{out}");

    // The bundled example, as `demo` syncs it.
    let source = app.config_path().parent().unwrap().join("source");
    std::fs::remove_dir_all(&source).unwrap();
    std::fs::create_dir_all(&source).unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example-source");
    for f in std::fs::read_dir(&example).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), source.join(f.file_name())).unwrap();
    }
    let (_, out, err) = run(&["validate", "--json"], &app.config_path());
    assert!(content(&out).is_empty(), "{out}{err}");
}

/// Issue 15: `status` shows the oldest write and what is due, names every item past
/// PTV's 15-month warning (and `--check` flags it), and `plan` shows the touch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_names_old_writes_and_plan_shows_the_touch() {
    let docs = generate(Shape::new(20, 27));
    let app = spawn_app(&docs).await;
    app.sync().await;
    let id = docs.services[0]["id"].as_str().unwrap();
    let mut rec = app
        .store
        .item("test", ptv_sync::model::ItemKind::Service, id)
        .await
        .unwrap()
        .unwrap();
    let old = chrono::Utc::now()
        .checked_sub_months(chrono::Months::new(16))
        .unwrap();
    rec.last_pushed_at = Some(old);
    app.store.put_item(&rec).await.unwrap();

    let (code, out, err) = run(&["status", "--json"], &app.config_path());
    assert_eq!(code, 0, "{err}");
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    let writes = &s[0]["writes"];
    assert_eq!(writes["oldest"]["id"], id, "{writes}");
    assert_eq!(writes["due"], 1);
    assert_eq!(writes["past_warning"][0]["id"], id);
    assert!(s[0]["oldest_write_age_days"].as_i64().unwrap() >= 480);
    let (_, text, _) = run(&["status"], &app.config_path());
    assert!(
        text.contains("oldest write:") && text.contains(&format!("PAST 15 MONTHS:  service {id}")),
        "{text}"
    );
    let (code, _, _) = run(&["status", "--check"], &app.config_path());
    assert_eq!(
        code, 2,
        "an item near PTV's automatic archiving needs attention"
    );

    let (code, plan, err) = run(&["plan"], &app.config_path());
    assert_eq!(code, 2, "{err}");
    assert!(
        plan.lines().any(|l| l.contains("touch") && l.contains(id)),
        "{plan}"
    );
}

/// `bench plan` measures a state that records every item as pushed: such a state plans
/// nothing, the 18-month touch included (it once planned every item as due, and the
/// benchmark refused to measure).
#[test]
fn bench_plan_measures_a_state_that_plans_nothing() {
    let out = bin()
        .args(["bench", "plan", "--items", "200", "--runs", "1"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("no changes"), "{stdout}");
}

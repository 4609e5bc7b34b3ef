//! The 18-month touch against the simulator, whose clock the engine follows: years of
//! daily runs in seconds, on both API versions. PTV archives a service or channel nobody
//! saved for 18 months; a stable source must never lose an item that way.

use crate::support::{Options, TestApp, spawn_with};
use ptv_sync::apply::{Engine, RunOptions};
use ptv_sync::model::{Action, ApiVersion, ItemKind, Outcome};
use ptv_sync::sim::{ArchivingType, SimConfig, SimKind};
use ptv_sync::startup::EngineBuilder;
use ptv_sync::store::RunTrigger;
use ptv_sync::synth::{Shape, generate};
use std::sync::Arc;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86_400);

fn options(version: ApiVersion, touch_toml: &str) -> Options {
    let touch = if touch_toml.is_empty() {
        String::new()
    } else {
        format!("[organization.touch]\n{touch_toml}\n")
    };
    match version {
        ApiVersion::V11 => Options {
            extra_org_toml: touch,
            ..Options::default()
        },
        ApiVersion::V12 => Options {
            extra_org_toml: format!("api_version = \"v12\"\n{touch}"),
            extra_ptv_toml: format!("api_key = \"{}\"", SimConfig::DEMO_API_KEY),
            ..Options::default()
        },
    }
}

/// The engine a scheduled run builds, on the simulator's clock.
fn engine(app: &TestApp) -> Engine {
    let org = app.cfg.organizations[0].clone();
    let global = Arc::new(tokio::sync::Semaphore::new(64));
    EngineBuilder::connect(org, app.store.clone(), global, "daemon:test")
        .unwrap()
        .clock(Arc::new(app.sim.clone()))
        .build()
}

fn scheduled() -> RunOptions {
    RunOptions {
        trigger: RunTrigger::Schedule,
        ..RunOptions::default()
    }
}

async fn three_years_of_daily_runs(version: ApiVersion) {
    let docs = generate(Shape::new(40, 7));
    let app = spawn_with(&docs, options(version, "")).await;
    let engine = engine(&app);
    let first = engine.run(&scheduled()).await.unwrap();
    assert_eq!(
        first.failures().count(),
        0,
        "{:?}",
        first.failures().collect::<Vec<_>>()
    );
    let touchable = docs.services.len() + docs.channels.len();
    let org_versions: Vec<(uuid::Uuid, u32)> = app
        .sim
        .catalogue()
        .iter()
        .filter(|e| e.kind == SimKind::Organization)
        .map(|e| (e.id, e.versions))
        .collect();
    let t0 = app.sim.now();

    let mut per_day = Vec::new();
    for day in 1..=3 * 365 {
        app.sim.advance_clock(DAY);
        let r = engine.run(&scheduled()).await.unwrap();
        assert_eq!(
            r.failures().count(),
            0,
            "day {day}: {:?}",
            r.failures().collect::<Vec<_>>()
        );
        let touched: Vec<_> = r
            .results
            .iter()
            .filter(|x| x.action == Action::Touch)
            .collect();
        assert!(touched.iter().all(|x| x.outcome == Outcome::Ok));
        assert!(
            touched
                .iter()
                .all(|x| matches!(x.kind, ItemKind::Service | ItemKind::Channel)),
            "only services and channels are touched"
        );
        assert_eq!(
            r.writes_ok(),
            touched.len(),
            "day {day}: a stable source writes only touches"
        );
        per_day.push(touched.len());
    }

    // Nothing was archived, automatically or otherwise, in three years.
    let catalogue = app.sim.catalogue();
    let automatic: Vec<_> = catalogue
        .iter()
        .filter(|e| e.archiving_type == Some(ArchivingType::Automatic))
        .map(|e| (&e.name_fi, e.modified))
        .collect();
    assert!(automatic.is_empty(), "archived by PTV: {automatic:?}");
    let base = app.sim.base_url();
    let client = reqwest::Client::new();
    for path in ["Service", "ServiceChannel"] {
        let list: serde_json::Value = client
            .get(format!(
                "{base}/api/v11/{path}/archived/list?archivingType=Automatic"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["totalCount"], 0, "{path}: {list}");
    }
    app.assert_converged(&docs).await;
    // Organisations are exempt: never written again.
    for (id, versions) in org_versions {
        assert_eq!(
            app.sim.entity(id).unwrap().versions,
            versions,
            "organisation {id}"
        );
    }

    // Spread: about items / window-days a day, never a burst.
    let policy = app.cfg.organizations[0].touch;
    let window_days = policy.window.as_secs_f64() / 86_400.0;
    let ideal = touchable as f64 / window_days;
    let max = *per_day.iter().max().unwrap();
    let total: usize = per_day.iter().sum();
    eprintln!(
        "touch {version:?}: {touchable} services+channels, 3 years daily: {total} touches, \
         most on one day {max}, ideal {ideal:.2}/day (window {window_days:.0} days)"
    );
    assert!(
        (max as f64) <= 2.0 * ideal + 1.0,
        "max {max} a day, ideal {ideal:.2}: {per_day:?}"
    );
    // Each item is touched about once a year after its first year.
    assert!(
        total >= 2 * touchable,
        "{total} touches for {touchable} items"
    );
    assert!(
        total <= 3 * touchable,
        "{total} touches for {touchable} items"
    );
    // The state's last write is what PTV counts from: no item's is older than 17 months.
    let oldest = app
        .store
        .items("test")
        .await
        .unwrap()
        .into_iter()
        .filter(|r| matches!(r.kind, ItemKind::Service | ItemKind::Channel))
        .filter_map(|r| r.last_pushed_at)
        .min()
        .unwrap();
    assert!(
        app.sim.now() - oldest < chrono::TimeDelta::days(17 * 30),
        "{oldest} vs {}",
        app.sim.now()
    );
    assert!(app.sim.now() - t0 >= chrono::TimeDelta::days(3 * 365 - 1));
}

#[tokio::test]
async fn v11_three_years_of_daily_runs_on_a_stable_source_archive_nothing() {
    three_years_of_daily_runs(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_three_years_of_daily_runs_on_a_stable_source_archive_nothing() {
    three_years_of_daily_runs(ApiVersion::V12).await;
}

/// A short `after`: the touch shows in a dry run, is written and audited as a touch, resets
/// PTV's clock, and the next day's plan is empty again.
async fn touch_once_then_nothing(version: ApiVersion) {
    let mut docs = generate(Shape::new(12, 3));
    docs.channels.truncate(1);
    docs.services.truncate(1);
    docs.services[0]["connections"] = serde_json::json!([]);
    let app = spawn_with(&docs, options(version, "after = \"30d\"\nwindow = \"10d\"")).await;
    let engine = engine(&app);
    let first = engine.run(&scheduled()).await.unwrap();
    assert_eq!(
        first.failures().count(),
        0,
        "{:?}",
        first.failures().collect::<Vec<_>>()
    );
    let service = app
        .entity_of(ItemKind::Service, docs.services[0]["id"].as_str().unwrap())
        .await
        .unwrap();

    app.sim.advance_clock(29 * DAY);
    let dry = RunOptions {
        dry_run: true,
        ..scheduled()
    };
    assert_eq!(
        engine.run(&dry).await.unwrap().plan.count(Action::Touch),
        0,
        "not due before 30 days"
    );

    // Both are due; with a 10-day window one a day is enough.
    app.sim.advance_clock(DAY);
    let plan = engine.run(&dry).await.unwrap().plan;
    assert_eq!(plan.count(Action::Touch), 1, "{:?}", plan.steps);
    assert!(plan.steps.iter().all(|s| s.kind != ItemKind::Organization));
    let first_touched = plan.steps[0].id.clone();

    let r = engine.run(&scheduled()).await.unwrap();
    assert_eq!(r.count(Action::Touch, Outcome::Ok), 1);
    assert_eq!(r.writes_ok(), 1);
    app.sim.advance_clock(DAY);
    let r = engine.run(&scheduled()).await.unwrap();
    assert_eq!(r.count(Action::Touch, Outcome::Ok), 1);
    assert!(
        r.results.iter().all(|x| x.id != first_touched),
        "the other one"
    );

    let after = app.sim.entity(service.id).unwrap();
    assert_eq!(
        after.versions,
        service.versions + 1,
        "a touch is a save in PTV"
    );
    assert!(app.sim.now() - after.modified < chrono::TimeDelta::days(2));
    assert!(after.modified_by == app.cfg.organizations[0].ptv.username);
    let audit = app
        .store
        .audit_since(app.sim.now() - chrono::TimeDelta::days(3))
        .await
        .unwrap();
    assert_eq!(
        audit.iter().filter(|e| e.action == Action::Touch).count(),
        2
    );

    app.sim.advance_clock(DAY);
    let next = engine.run(&dry).await.unwrap().plan;
    assert!(
        !next.has_changes(),
        "the day after the touches: {:?}",
        next.steps
    );
    let r = engine.run(&scheduled()).await.unwrap();
    assert_eq!(r.writes_ok(), 0);
}

#[tokio::test]
async fn v11_a_touch_is_planned_written_audited_and_not_repeated() {
    touch_once_then_nothing(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_a_touch_is_planned_written_audited_and_not_repeated() {
    touch_once_then_nothing(ApiVersion::V12).await;
}

//! `ptv-sync bench`: the figures in the README's Performance section, measured on this
//! machine against the built-in simulator. Memory is the measured process's peak resident
//! set (`VmHWM`), so the plan is measured in a fresh child process, not after preparing.

use super::exit;
use crate::apply::{Engine, RunOptions};
use crate::config::Config;
use crate::sim::{Faults, SimConfig, Simulator};
use crate::startup::EngineBuilder;
use crate::store::{ItemRecord, OpenMode, RemoteState};
use crate::synth::{Shape, churn, generate};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Everything below, as one table.
    All {
        /// Largest plan size.
        #[arg(long, default_value_t = 100_000)]
        max_items: usize,
    },
    /// Plan time and peak memory for N items whose state records everything as pushed.
    Plan {
        #[arg(long, default_value_t = 10_000)]
        items: usize,
        /// Plans of the same data, each in a fresh process; the median time is reported.
        #[arg(long, default_value_t = PLAN_RUNS)]
        runs: usize,
    },
    /// First sync against the simulator with added latency, per requests in flight.
    Sync {
        #[arg(long, default_value_t = 300)]
        items: usize,
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
    },
    /// A steady-state run at a churn share of N items.
    Churn {
        #[arg(long, default_value_t = 10_000)]
        items: usize,
        #[arg(long, default_value_t = 0.01)]
        share: f64,
    },
    /// Resident memory of an idle daemon after its first run.
    Idle,
    /// `adopt` over a catalogue of N items made in the UI, with added latency: time,
    /// reads against the ideal (pages plus id batches), peak memory.
    Adopt {
        #[arg(long, default_value_t = 3_000)]
        items: usize,
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
    },
    /// `drift` over N synced items with added latency, 1 % of the services edited in
    /// PTV's UI: reads, time and peak memory of the check (in a fresh process).
    Drift {
        #[arg(long, default_value_t = 3_000)]
        items: usize,
        #[arg(long, default_value_t = 50)]
        latency_ms: u64,
    },
    /// The writes the 18-month touch adds to a stable catalogue of N items, planned day by
    /// day over several years with the default `[organization.touch]`.
    Touch {
        #[arg(long, default_value_t = 3_000)]
        items: usize,
        #[arg(long, default_value_t = 3)]
        years: usize,
    },
    /// (internal) one measured plan in this process.
    #[command(hide = true)]
    PlanOnce { dir: PathBuf },
    /// (internal) one measured drift check in this process.
    #[command(hide = true)]
    DriftOnce { dir: PathBuf },
}

/// Peak and current resident set of this process, in KiB.
fn memory_kib(pid: &str) -> (u64, u64) {
    (status_kib(pid, "VmHWM:"), status_kib(pid, "VmRSS:"))
}

/// One `KiB` figure of `/proc/PID/status`; 0 if it cannot be read.
fn status_kib(pid: &str, name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn bench_config(
    dir: &Path,
    sim_url: &str,
    main_org: uuid::Uuid,
    in_flight: usize,
) -> anyhow::Result<Config> {
    let pw = dir.join("password");
    std::fs::write(&pw, SimConfig::DEMO_PASSWORD)?;
    let text = format!(
        "[state]\ndir = \"{state}\"\n[daemon]\nlisten = \"127.0.0.1:0\"\nglobal_max_in_flight = 64\n[[organization]]\nname = \"bench\"\nmain_organization_id = \"{main_org}\"\nsource_id_prefix = \"b\"\n[organization.ptv]\napi_base = \"{sim_url}\"\ntoken_url = \"{sim_url}/api/auth/api-login\"\nusername = \"{user}\"\npassword_file = \"{pw}\"\nmax_in_flight = {in_flight}\n[organization.source]\npath = \"{source}\"\n",
        state = dir.join("state").display(),
        source = dir.join("source").display(),
        pw = pw.display(),
        user = SimConfig::DEMO_USERNAME,
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, &text)?;
    Ok(Config::from_str_with_env(&text, &path, &[])?)
}

/// Writes N items and a state that records all of them as pushed.
async fn prepare_plan(dir: &Path, items: usize) -> anyhow::Result<()> {
    let (_, _, main_org) = SimConfig::single_org();
    let cfg = bench_config(dir, "http://127.0.0.1:9", main_org, 4)?;
    let docs = generate(Shape::new(items, 1));
    docs.write_dir(&dir.join("source"))?;
    let org = &cfg.organizations[0];
    let validated = crate::pipeline::read_source(org).await?;
    let plan =
        crate::pipeline::plan_for(org, &validated, &[], None, false, chrono::Utc::now()).await?;
    let store = crate::startup::open_store(&cfg, OpenMode::CreateIfMissing)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no store"))?;
    let now = chrono::Utc::now();
    let mut records = Vec::with_capacity(plan.steps.len());
    for item in crate::plan::in_order(&validated) {
        let (kind, id) = match item {
            crate::plan::DesiredRef::Organization(o) => (item.kind(), &o.id),
            crate::plan::DesiredRef::Channel(c) => (item.kind(), &c.id),
            crate::plan::DesiredRef::Service(s) => (item.kind(), &s.id),
            crate::plan::DesiredRef::Connections(id, _) => (item.kind(), id),
        };
        let mut r = ItemRecord::new(org.state_key(), kind, id, now);
        r.ptv_source_id = crate::model::ptv_source_id(&org.source_id_prefix, kind, id, 0);
        r.ptv_id = Some(crate::model::PtvId::from(uuid::Uuid::new_v4()));
        r.remote = RemoteState::Live;
        // Written just now: nothing is due for the 18-month touch either.
        r.first_pushed_at = Some(now);
        r.last_pushed_at = Some(now);
        let payload = crate::plan::payload(&validated, item, org.main_area.as_ref());
        r.fingerprint =
            Some(crate::fingerprint::fingerprint(org.api_version, &payload).to_string());
        r.payload = Some(payload.into());
        records.push(r);
    }
    store.put_items(&records).await?;
    Ok(())
}

/// The measured part, run in a fresh process: read, validate, load state, plan.
async fn plan_once(dir: &Path) -> anyhow::Result<u8> {
    let cfg = Config::load(&dir.join("config.toml"))?;
    let org = &cfg.organizations[0];
    let t = Instant::now();
    let phase = |name: &str| {
        if std::env::var_os("BENCH_PHASES").is_some() {
            eprintln!(
                "{name}: {} ms, peak {} KiB, now {} KiB",
                t.elapsed().as_millis(),
                memory_kib("self").0,
                memory_kib("self").1
            );
        }
    };
    phase("start");
    let store = crate::startup::open_store(&cfg, OpenMode::MustExist)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no state"))?;
    // As `plan` and a run do: the source is read and validated while the store lists rows.
    let (validated, records) =
        crate::pipeline::read_with(org, crate::pipeline::plan_rows(org, Some(store.as_ref())))
            .await;
    let (validated, records) = (validated?, records?);
    phase("read, validate and state");
    let plan = crate::pipeline::plan_for(
        org,
        &validated,
        &records,
        Some(store.as_ref()),
        false,
        chrono::Utc::now(),
    )
    .await?;
    phase("plan");
    let ms = t.elapsed().as_millis();
    let (peak, _) = memory_kib("self");
    println!(
        "{}",
        serde_json::json!({"ms": ms, "peak_kib": peak, "items": validated.present.len(), "changes": plan.has_changes()})
    );
    Ok(exit::OK)
}

/// Plans of one prepared snapshot: the machine's speed varies from run to run, so a single
/// plan says little.
const PLAN_RUNS: usize = 3;

/// What repeated plans of the same prepared data measured.
struct PlanFigures {
    items: usize,
    /// Milliseconds per run, sorted.
    ms: Vec<u128>,
    /// The highest peak resident set of any run, KiB.
    peak_kib: u64,
}

impl PlanFigures {
    fn median_ms(&self) -> u128 {
        self.ms[self.ms.len() / 2]
    }
}

async fn bench_plan(items: usize, runs: usize) -> anyhow::Result<PlanFigures> {
    let tmp = tempfile::tempdir()?;
    prepare_plan(tmp.path(), items).await?;
    let mut figures = PlanFigures {
        items: 0,
        ms: Vec::new(),
        peak_kib: 0,
    };
    for _ in 0..runs.max(1) {
        let out = tokio::process::Command::new(std::env::current_exe()?)
            .args(["bench", "plan-once"])
            .arg(tmp.path())
            .output()
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "plan-once failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if std::env::var_os("BENCH_PHASES").is_some() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        anyhow::ensure!(
            v["changes"] == false,
            "the prepared state should leave nothing to do"
        );
        figures.ms.push(u128::from(v["ms"].as_u64().unwrap_or(0)));
        figures.peak_kib = figures.peak_kib.max(v["peak_kib"].as_u64().unwrap_or(0));
        figures.items = v["items"].as_u64().unwrap_or(0) as usize;
    }
    figures.ms.sort_unstable();
    // BENCH_KEEP leaves the prepared source and state for `bench plan-once DIR` by hand.
    if std::env::var_os("BENCH_KEEP").is_some() {
        eprintln!("prepared data kept in {}", tmp.keep().display());
    }
    Ok(figures)
}

/// First sync with latency: (writes, seconds, share of the ideal `in_flight / latency`).
async fn bench_sync(
    items: usize,
    latency_ms: u64,
    in_flight: usize,
) -> anyhow::Result<(u64, f64, f64)> {
    let (cfg_sim, _, main_org) = SimConfig::single_org();
    let sim = Simulator::start(cfg_sim).await?;
    let dir = tempfile::tempdir()?;
    let cfg = bench_config(dir.path(), &sim.base_url(), main_org, in_flight)?;
    generate(Shape::new(items, 2)).write_dir(&dir.path().join("source"))?;
    let engine = engine_for(&cfg).await?;
    sim.set_faults(Faults {
        latency: Duration::from_millis(latency_ms),
        ..Faults::default()
    });
    let t = Instant::now();
    let report = engine.run(&RunOptions::default()).await?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.failures().next().is_none(),
        "the bench sync had failures"
    );
    let writes = sim.stats().total_writes();
    let ideal = writes as f64 * (latency_ms as f64 / 1000.0) / in_flight as f64;
    sim.shutdown().await;
    Ok((writes, secs, ideal / secs))
}

async fn engine_for(cfg: &Config) -> anyhow::Result<Engine> {
    let org = cfg.organizations[0].clone();
    let store = crate::startup::open_store(cfg, OpenMode::CreateIfMissing)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no store"))?;
    Ok(EngineBuilder::connect(org, store, crate::startup::global_limit(cfg), "bench")?.build())
}

/// Steady state: (changed items, writes, seconds).
async fn bench_churn(items: usize, share: f64) -> anyhow::Result<(usize, u64, f64)> {
    let (cfg_sim, _, main_org) = SimConfig::single_org();
    let sim = Simulator::start(cfg_sim).await?;
    let dir = tempfile::tempdir()?;
    let cfg = bench_config(dir.path(), &sim.base_url(), main_org, 4)?;
    let mut docs = generate(Shape::new(items, 3));
    docs.write_dir(&dir.path().join("source"))?;
    let engine = engine_for(&cfg).await?;
    engine.run(&RunOptions::default()).await?;
    let c = churn(&mut docs, share, 3, 1);
    docs.write_dir(&dir.path().join("source"))?;
    let before = sim.stats().total_writes();
    let t = Instant::now();
    let report = engine.run(&RunOptions::default()).await?;
    let secs = t.elapsed().as_secs_f64();
    let writes = sim.stats().total_writes() - before;
    anyhow::ensure!(
        report.failures().next().is_none(),
        "the churn run had failures"
    );
    sim.shutdown().await;
    Ok((c.edited + c.deleted + c.added, writes, secs))
}

/// Idle daemon after its first run and a few idle seconds: its resident set and the
/// anonymous part of it (`KiB`); the rest is the executable's code, shared with other
/// processes running it and reclaimable.
async fn bench_idle() -> anyhow::Result<(u64, u64)> {
    let (cfg_sim, _, main_org) = SimConfig::single_org();
    let sim = Simulator::start(cfg_sim).await?;
    let dir = tempfile::tempdir()?;
    let cfg = bench_config(dir.path(), &sim.base_url(), main_org, 4)?;
    for (name, text) in super::demo_cmd::EXAMPLE_SOURCE {
        std::fs::create_dir_all(dir.path().join("source"))?;
        std::fs::write(dir.path().join("source").join(name), text)?;
    }
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .arg("run")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let pid = child.id().map(|p| p.to_string()).unwrap_or_default();
    let store = crate::store::open(
        &crate::store::StoreTarget::Sqlite {
            path: dir.path().join("state").join(crate::startup::SQLITE_FILE),
        },
        OpenMode::CreateIfMissing,
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while store
        .last_runs(cfg.organizations[0].state_key(), 1)
        .await?
        .first()
        .is_none_or(|r| r.finished_at.is_none())
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the daemon did not finish its first run"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, rss) = memory_kib(&pid);
    let anon = status_kib(&pid, "RssAnon:");
    child.kill().await?;
    sim.shutdown().await;
    Ok((rss, anon))
}

type Table = comfy_table::Table;

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

async fn plan_row(t: &mut Table, items: usize, runs: usize) -> anyhow::Result<()> {
    let f = bench_plan(items, runs).await?;
    let target = if items >= 100_000 {
        "< 2 s, < 300 MB"
    } else {
        ""
    };
    let secs = |ms: u128| ms as f64 / 1000.0;
    let time = match (f.ms.first(), f.ms.last()) {
        (Some(lo), Some(hi)) if f.ms.len() > 1 => format!(
            "{:.2} s ({:.2}-{:.2})",
            secs(f.median_ms()),
            secs(*lo),
            secs(*hi)
        ),
        _ => format!("{:.2} s", secs(f.median_ms())),
    };
    t.add_row(vec![
        "plan (read + validate + state + diff)".into(),
        format!("{} items", f.items),
        time,
        mib(f.peak_kib),
        "no changes".into(),
        target.into(),
    ]);
    Ok(())
}

async fn sync_rows(t: &mut Table, items: usize, latency_ms: u64) -> anyhow::Result<()> {
    for k in [1, 4, 8, 16] {
        let (w, s, share) = bench_sync(items, latency_ms, k).await?;
        t.add_row(vec![
            format!("first sync, {latency_ms} ms latency, {k} in flight"),
            format!("{w} writes"),
            format!("{s:.2} s"),
            String::new(),
            format!("{:.0} % of ideal", share * 100.0),
            "≥ 90 %".into(),
        ]);
    }
    Ok(())
}

/// The generated source as an editor would have made it in PTV's UI: the same names,
/// no sourceIds.
fn ui_catalogue(docs: &crate::synth::Docs, main: uuid::Uuid) -> Vec<crate::sim::SeedItem> {
    use crate::sim::{PublishingStatus, SeedItem, SimKind};
    let names = |d: &serde_json::Value| -> std::collections::BTreeMap<String, String> {
        d["languageVersions"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(l, v)| Some((l.clone(), v["name"].as_str()?.to_owned())))
            .collect()
    };
    let mut orgs = std::collections::HashMap::new();
    let seed = |kind, organization, d: &serde_json::Value| SeedItem {
        kind,
        id: None,
        organization,
        names: names(d),
        status: PublishingStatus::Published,
        source_id: None,
        external_id: None,
        owner: None,
        body: None,
        modified: None,
        modified_by: None,
        connections: Vec::new(),
    };
    let mut out = Vec::with_capacity(docs.len());
    for o in &docs.organizations {
        let id = uuid::Uuid::new_v4();
        let parent = o["parent"]
            .as_str()
            .and_then(|p| orgs.get(p).copied())
            .unwrap_or(main);
        orgs.insert(o["id"].as_str().unwrap_or_default().to_owned(), id);
        out.push(SeedItem {
            id: Some(id),
            ..seed(SimKind::Organization, parent, o)
        });
    }
    let owner = |d: &serde_json::Value| {
        d["organization"]
            .as_str()
            .and_then(|o| orgs.get(o).copied())
            .unwrap_or(main)
    };
    for c in &docs.channels {
        let t = crate::model::ChannelType::ALL
            .into_iter()
            .find(|t| Some(t.as_str()) == c["channelType"].as_str())
            .unwrap_or(crate::model::ChannelType::WebPage);
        out.push(seed(SimKind::Channel(t), owner(c), c));
    }
    for s in &docs.services {
        out.push(seed(SimKind::Service, owner(s), s));
    }
    out
}

/// `adopt` (read and match, no link) over a seeded catalogue: (items in PTV, seconds,
/// reads, ideal reads, matched items, peak KiB of this process, simulator included).
async fn bench_adopt(
    items: usize,
    latency_ms: u64,
) -> anyhow::Result<(usize, f64, u32, u32, usize, u64)> {
    let (mut cfg_sim, _, main_org) = SimConfig::single_org();
    let docs = generate(Shape::new(items, 4));
    cfg_sim.catalogue = ui_catalogue(&docs, main_org);
    let sim = Simulator::start(cfg_sim).await?;
    let dir = tempfile::tempdir()?;
    let cfg = bench_config(dir.path(), &sim.base_url(), main_org, 4)?;
    docs.write_dir(&dir.path().join("source"))?;
    let engine = engine_for(&cfg).await?;
    let validated = crate::pipeline::read_source(&engine.org).await?;
    sim.set_faults(Faults {
        latency: Duration::from_millis(latency_ms),
        ..Faults::default()
    });
    let t = Instant::now();
    let survey = crate::adopt::survey(&engine.org, engine.api.as_ref(), &validated, &[]).await?;
    let secs = t.elapsed().as_secs_f64();
    let [matched, _, ambiguous, source_only, ptv_only, _] = survey.counts();
    if matched != docs.len() {
        eprintln!(
            "adopt bench: {matched} of {} matched, {ambiguous} ambiguous, {source_only} in the source only, {ptv_only} in PTV only",
            docs.len()
        );
    }
    let (peak, _) = memory_kib("self");
    sim.shutdown().await;
    Ok((
        docs.len(),
        secs,
        survey.requests,
        survey.ideal_requests,
        matched,
        peak,
    ))
}

async fn adopt_row(t: &mut Table, items: usize, latency_ms: u64) -> anyhow::Result<()> {
    let (n, secs, reads, ideal, matched, peak) = bench_adopt(items, latency_ms).await?;
    t.add_row(vec![
        format!("adopt, {latency_ms} ms latency, 4 in flight"),
        format!("{n} items in PTV"),
        format!("{secs:.2} s"),
        format!("{} MiB (simulator included)", peak / 1024),
        format!("{reads} reads (ideal {ideal}), {matched} matched"),
        String::new(),
    ]);
    Ok(())
}

/// The measured part of the drift bench, in a fresh process: one drift check, recorded.
async fn drift_once(dir: &Path) -> anyhow::Result<u8> {
    let cfg = Config::load(&dir.join("config.toml"))?;
    let org = &cfg.organizations[0];
    let store = crate::startup::open_store(&cfg, OpenMode::MustExist)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no state"))?;
    let api = crate::startup::ptv_client(org, crate::startup::global_limit(&cfg))?;
    let t = Instant::now();
    let (report, _) = crate::drift::check_and_mark(
        org,
        store.as_ref(),
        api.as_ref(),
        crate::clock::system().now(),
    )
    .await?;
    let ms = t.elapsed().as_millis();
    let (peak, _) = memory_kib("self");
    println!(
        "{}",
        serde_json::json!({"ms": ms, "peak_kib": peak, "reads": report.reads, "checked": report.checked, "drifted": report.drifted.len()})
    );
    Ok(exit::OK)
}

/// `drift` over `items` synced items, 1 % of the services edited in the UI first, with
/// `latency_ms` on every request: the child's JSON figures and the GETs the simulator
/// served.
async fn bench_drift(items: usize, latency_ms: u64) -> anyhow::Result<(serde_json::Value, u64)> {
    let (cfg_sim, _, main_org) = SimConfig::single_org();
    let sim = Simulator::start(cfg_sim).await?;
    let dir = tempfile::tempdir()?;
    let cfg = bench_config(dir.path(), &sim.base_url(), main_org, 4)?;
    let docs = generate(Shape::new(items, 5));
    docs.write_dir(&dir.path().join("source"))?;
    let engine = engine_for(&cfg).await?;
    let report = engine.run(&RunOptions::default()).await?;
    anyhow::ensure!(
        report.failures().next().is_none(),
        "the bench's first sync had failures"
    );
    let rows = engine.store.items(engine.org.state_key()).await?;
    let services: Vec<uuid::Uuid> = rows
        .iter()
        .filter(|r| r.kind == crate::model::ItemKind::Service)
        .filter_map(|r| r.ptv_id?.to_string().parse().ok())
        .collect();
    for id in services.iter().step_by(100) {
        sim.ui_edit(
            *id,
            &[("/fundingType", serde_json::json!("MarketFunded"))],
            "bench.editor@example.fi",
        )?;
    }
    sim.set_faults(Faults {
        latency: Duration::from_millis(latency_ms),
        ..Faults::default()
    });
    let gets = |s: &crate::sim::SimStats| -> u64 {
        s.requests
            .iter()
            .filter(|((m, _, _), _)| m == "GET")
            .map(|(_, n)| n)
            .sum()
    };
    let before = gets(&sim.stats());
    let out = tokio::process::Command::new(std::env::current_exe()?)
        .args(["bench", "drift-once"])
        .arg(dir.path())
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "drift-once failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = gets(&sim.stats()) - before;
    sim.shutdown().await;
    Ok((serde_json::from_slice(&out.stdout)?, served))
}

async fn drift_row(t: &mut Table, items: usize, latency_ms: u64) -> anyhow::Result<()> {
    let (v, served) = bench_drift(items, latency_ms).await?;
    t.add_row(vec![
        format!("drift, {latency_ms} ms latency, 4 in flight"),
        format!("{} items managed", v["checked"]),
        format!("{:.2} s", v["ms"].as_f64().unwrap_or(0.0) / 1000.0),
        mib(v["peak_kib"].as_u64().unwrap_or(0)),
        format!(
            "{} reads ({served} GETs served), {} drifted",
            v["reads"], v["drifted"]
        ),
        String::new(),
    ]);
    Ok(())
}

fn touch_row(t: &mut Table, items: usize, years: usize) {
    let started = Instant::now();
    let f = super::bench_touch::bench_touch(items, years);
    t.add_row(vec![
        format!("18-month touch, daily runs, {years} years"),
        format!("{} items ({} services and channels)", f.items, f.touchable),
        format!("{:.1} s to plan {} days", started.elapsed().as_secs_f64(), f.days),
        String::new(),
        format!(
            "{:.1} touches a day over the last year, at most {} on one day, {} in all; {} would have been archived by PTV",
            f.per_day_last_year, f.max_per_day, f.total, f.would_be_archived
        ),
        format!(
            "about {:.1} a day ({} / {:.0}-day window), never a burst",
            f.touchable as f64 / f.window_days,
            f.touchable,
            f.window_days
        ),
    ]);
}

async fn churn_row(t: &mut Table, items: usize, share: f64) -> anyhow::Result<()> {
    let (changed, writes, s) = bench_churn(items, share).await?;
    t.add_row(vec![
        format!("steady state, {:.0} % churn", share * 100.0),
        format!("{items} items"),
        format!("{s:.2} s"),
        String::new(),
        format!("{writes} writes for {changed} changed items"),
        "writes = changes".into(),
    ]);
    Ok(())
}

async fn idle_row(t: &mut Table) -> anyhow::Result<()> {
    let (rss, anon) = bench_idle().await?;
    t.add_row(vec![
        "idle daemon (after first run)".into(),
        "example source".into(),
        String::new(),
        mib(rss),
        format!("{} of it anonymous, the rest code", mib(anon)),
        "< 20 MB".into(),
    ]);
    Ok(())
}

pub async fn run(cmd: &BenchCommand) -> anyhow::Result<u8> {
    let mut t = Table::new();
    t.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    t.set_header(["benchmark", "size", "time", "memory", "result", "target"]);
    match cmd {
        BenchCommand::PlanOnce { dir } => return plan_once(dir).await,
        BenchCommand::DriftOnce { dir } => return drift_once(dir).await,
        BenchCommand::Drift { items, latency_ms } => drift_row(&mut t, *items, *latency_ms).await?,
        BenchCommand::Plan { items, runs } => plan_row(&mut t, *items, *runs).await?,
        BenchCommand::Sync { items, latency_ms } => sync_rows(&mut t, *items, *latency_ms).await?,
        BenchCommand::Churn { items, share } => churn_row(&mut t, *items, *share).await?,
        BenchCommand::Idle => idle_row(&mut t).await?,
        BenchCommand::Touch { items, years } => touch_row(&mut t, *items, *years),
        BenchCommand::Adopt { items, latency_ms } => adopt_row(&mut t, *items, *latency_ms).await?,
        BenchCommand::All { max_items } => {
            for items in [1_000, 10_000, 100_000]
                .into_iter()
                .filter(|n| n <= max_items)
            {
                plan_row(&mut t, items, PLAN_RUNS).await?;
            }
            sync_rows(&mut t, 300, 50).await?;
            churn_row(&mut t, 10_000, 0.01).await?;
            idle_row(&mut t).await?;
        }
    }
    println!("{t}");
    Ok(exit::OK)
}

//! `ptv-sync demo`: the whole product on embedded defaults. Starts the PTV simulator
//! in-process, syncs the bundled example municipality into it, then edits one item and
//! deletes another in a temporary copy and syncs again.

use super::{exit, output};
use crate::apply::{Engine, RunOptions};
use crate::config::Config;
use crate::sim::{SimConfig, Simulator};
use crate::startup::EngineBuilder;
use crate::store::{OpenMode, RunTrigger};
use std::collections::BTreeMap;
use std::path::Path;

/// The bundled example source (also in `config/example-source/`).
pub const EXAMPLE_SOURCE: [(&str, &str); 3] = [
    (
        "organizations.yaml",
        include_str!("../../config/example-source/organizations.yaml"),
    ),
    (
        "channels.yaml",
        include_str!("../../config/example-source/channels.yaml"),
    ),
    (
        "services.yaml",
        include_str!("../../config/example-source/services.yaml"),
    ),
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the temporary source, state and configuration here instead of a temp dir.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
}

pub async fn run(args: &Args) -> anyhow::Result<u8> {
    let tmp = tempfile::tempdir()?;
    let root = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&root)?;
    let (mut sim_cfg, user, main_org) = SimConfig::single_org();
    sim_cfg.organizations[0].name = "Esimerkkilän kunta".into();
    let sim = Simulator::start(sim_cfg).await?;
    println!(
        "PTV simulator listening on {} (v11 and v12 import APIs)",
        sim.base_url()
    );

    let source = root.join("source");
    write_example(&source)?;
    let cfg = demo_config(
        &root,
        &sim.base_url(),
        &user.username,
        &user.password,
        main_org,
    )?;
    let org = &cfg.organizations[0];
    let store = crate::startup::open_store(&cfg, OpenMode::CreateIfMissing)
        .await?
        .ok_or_else(|| anyhow::anyhow!("state store did not open"))?;
    let engine = EngineBuilder::connect(
        org.clone(),
        store.clone(),
        crate::startup::global_limit(&cfg),
        "demo",
    )?
    .build();

    println!(
        "\n== Run 1: first sync of the example municipality ({})",
        source.display()
    );
    sync_once(&engine).await?;

    println!("\n== Editing the source: one service's summary changes, one service is deleted");
    edit_example(&source)?;
    println!("   services.yaml: library-events summary edited; sauna-evenings removed");

    println!("\n== Run 2: only the difference is written");
    let report = sync_once(&engine).await?;

    let catalogue = sim.catalogue();
    let mut by_kind: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for e in &catalogue {
        *by_kind
            .entry(e.kind.to_string())
            .or_default()
            .entry(e.status.as_str().to_owned())
            .or_default() += 1;
    }
    println!("\n== What the simulated PTV now holds");
    for (kind, statuses) in &by_kind {
        let s: Vec<String> = statuses.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!("   {kind:<28} {}", s.join(", "));
    }
    let stats = sim.stats();
    println!(
        "   logins: {}, duplicates: {}",
        stats.logins,
        sim.duplicates().len()
    );
    let verify = store.verify_audit(None).await?;
    println!(
        "   audit log: {} entries, chain {}",
        verify.entries,
        if verify.is_ok() { "verified" } else { "BROKEN" }
    );
    if args.dir.is_some() {
        println!(
            "\nState, source and configuration kept in {}",
            root.display()
        );
    }
    sim.shutdown().await;
    let ok = report.writes_ok() == 2 && report.failures().next().is_none() && verify.is_ok();
    println!(
        "\nDemo {}.",
        if ok {
            "complete: run 2 made exactly 1 update and 1 archive"
        } else {
            "finished with unexpected results (see above)"
        }
    );
    Ok(if ok { exit::OK } else { exit::FAILURE })
}

/// One sync, printing the plan it carried out and its summary.
async fn sync_once(engine: &Engine) -> anyhow::Result<crate::apply::RunReport> {
    let report = engine
        .run(&RunOptions {
            trigger: RunTrigger::Demo,
            ..RunOptions::default()
        })
        .await?;
    println!("Plan:\n{}", output::plan_table(&report.plan));
    for line in output::step_lines(&report.plan) {
        println!("   {line}");
    }
    println!("Summary:");
    super::resync_cmd::print_report(&report);
    Ok(report)
}

fn write_example(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in EXAMPLE_SOURCE {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// Edits one service and deletes another, through the YAML as a person would.
fn edit_example(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("services.yaml");
    let mut docs: Vec<serde_json::Value> =
        serde_norway::from_str(&std::fs::read_to_string(&path)?)?;
    docs.retain(|d| d["id"] != "sauna-evenings");
    let events = docs
        .iter_mut()
        .find(|d| d["id"] == "library-events")
        .ok_or_else(|| anyhow::anyhow!("library-events missing from the example"))?;
    events["languageVersions"]["fi"]["summary"] = serde_json::Value::String(
        "Satutunteja, kirjailijavierailuja, lukupiirejä ja pelikerhoja kaikenikäisille.".into(),
    );
    std::fs::write(&path, serde_norway::to_string(&docs)?)?;
    Ok(())
}

fn demo_config(
    root: &Path,
    sim_url: &str,
    username: &str,
    password: &str,
    main_org: uuid::Uuid,
) -> anyhow::Result<Config> {
    let password_file = root.join("demo.password");
    std::fs::write(&password_file, password)?;
    let path = root.join("config.toml");
    let text = format!(
        r#"[state]
dir = "{state}"

[[organization]]
name = "esimerkkila"
environment = "test"
api_version = "v11"
main_organization_id = "{main_org}"
source_id_prefix = "esimerkkila"
main_area = {{ type = "LimitedArea", municipalities = ["049"] }}

[organization.ptv]
api_base = "{sim_url}"
token_url = "{sim_url}/api/auth/api-login"
username = "{username}"
password_file = "{password_file}"
retry_max_delay = "1s"

[organization.source]
type = "dir"
path = "{source}"
"#,
        state = root.join("state").display(),
        source = root.join("source").display(),
        password_file = password_file.display(),
    );
    std::fs::write(&path, &text)?;
    Ok(Config::from_str_with_env(&text, &path, &[])?)
}

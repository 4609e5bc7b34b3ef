//! `ptv-sync export` and `adopt` through the real binary: a catalogue made in PTV's UI
//! (every kind, all five channel types, connections, no sourceIds) exported as source
//! documents, used as the source, adopted, and planned empty; and `sim --seed-catalogue`
//! serving such a catalogue to `adopt`, with the exit codes the README states. v11 and v12.

use crate::cli::run;
use crate::support::{Options, TestApp, config_text, spawn_with};
use ptv_sync::model::{ApiVersion, ChannelType};
use ptv_sync::sim::{SeedItem, SimConfig, SimKind};
use ptv_sync::synth::{Docs, Shape, generate};
use serde_json::Value;
use std::collections::BTreeSet;

/// `docs` synced through `version` into a simulator, then taken as editors would have
/// made it in PTV's UI: the same content and connections, no API user's sourceIds.
async fn made_in_the_ui(docs: &Docs, version: ApiVersion) -> Vec<SeedItem> {
    let writer = spawn_with(docs, Options::on(version)).await;
    let r = writer.sync().await;
    assert!(
        r.failures().next().is_none(),
        "{:?}",
        r.failures().collect::<Vec<_>>()
    );
    let (_, _, main) = SimConfig::single_org();
    let all = writer.sim.catalogue();
    let rank = |k: SimKind| match k {
        SimKind::Organization => 0,
        SimKind::Channel(_) => 1,
        SimKind::Service => 2,
    };
    // Creation order keeps parents before children; channels before the services
    // connected to them.
    let mut items: Vec<SeedItem> = all
        .iter()
        .filter(|e| e.id != main)
        .filter_map(SeedItem::made_in_the_ui)
        .collect();
    items.sort_by_key(|i| rank(i.kind));
    assert_eq!(items.len(), docs.len());
    items
}

fn read_dir_docs(dir: &std::path::Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for sub in ["organizations", "services", "channels"] {
        for f in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = f.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let v: Value = serde_norway::from_str(&text).unwrap();
            out.push((path.display().to_string(), v));
        }
    }
    out
}

async fn export_round_trip(version: ApiVersion) {
    let docs = generate(Shape::new(40, 5));
    let seeded = made_in_the_ui(&docs, version).await;
    let app: TestApp = spawn_with(
        &Docs::default(),
        Options::on(version).with_catalogue(seeded),
    )
    .await;
    let before = app.sim.catalogue();
    let cfg = app.config_path();
    let source = app.dir.path().join("source");
    let out_dir = source.display().to_string();

    let (code, out, err) = run(&["export", "--out", &out_dir], &cfg);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "Exported {} for test: {} sub-organisations, {} services, {} channels",
            docs.len(),
            docs.organizations.len(),
            docs.services.len(),
            docs.channels.len()
        )),
        "{out}"
    );
    assert!(
        !out.contains("do not pass validation"),
        "every exported document is valid: {out}"
    );
    let exported = read_dir_docs(&source);
    assert_eq!(exported.len(), docs.len());
    let types: BTreeSet<&str> = exported
        .iter()
        .filter_map(|(_, d)| d["channelType"].as_str())
        .collect();
    assert_eq!(types.len(), 5, "all five channel types: {types:?}");
    let connections: usize = exported
        .iter()
        .map(|(_, d)| d["connections"].as_array().map_or(0, Vec::len))
        .sum();
    let want_connections: usize = docs
        .services
        .iter()
        .map(|s| s["connections"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(want_connections > 0);
    assert_eq!(connections, want_connections);
    for (file, d) in &exported {
        let id = d["ptvId"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: no ptvId"));
        assert_eq!(
            d["id"],
            format!("ptv-{id}"),
            "{file}: made in the UI, so no sourceId"
        );
    }

    // A second export into the same folder needs --force.
    let (code, _, err) = run(&["export", "--out", &out_dir], &cfg);
    assert_eq!(code, 1);
    assert!(
        err.contains("is not empty") && err.contains("--force"),
        "{err}"
    );

    // The folder as the source: everything matches by ptvId and holds the content.
    let (code, out, err) = run(&["adopt"], &cfg);
    assert_eq!(code, 2, "something to link: {out}{err}");
    let (code, out, err) = run(&["adopt", "--json"], &cfg);
    assert_eq!(code, 2, "{err}");
    let survey: Value = serde_json::from_str(&out).unwrap();
    let rows = survey[0]["survey"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), docs.len(), "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["outcome"] == "matched" && r["by"] == "ptv_id"),
        "{rows:?}"
    );
    let (code, out, err) = run(&["adopt", "--apply"], &cfg);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("Linked {} items", docs.len())),
        "{out}"
    );
    let (code, out, err) = run(&["adopt"], &cfg);
    assert_eq!(code, 0, "nothing left to link: {out}{err}");

    let (code, out, err) = run(&["plan"], &cfg);
    assert_eq!(code, 0, "the exported folder plans no changes: {out}{err}");
    assert_eq!(
        app.sim.catalogue(),
        before,
        "export and adopt write nothing to PTV"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_an_export_used_as_the_source_adopts_and_plans_no_changes() {
    export_round_trip(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_an_export_used_as_the_source_adopts_and_plans_no_changes() {
    export_round_trip(ApiVersion::V12).await;
}

/// `ptv-sync sim --seed-catalogue FILE` as its own process, read by `adopt` (another
/// process) with the exit codes the README states: 2 something to link, 0 nothing.
async fn seeded_sim_binary_and_adopt(version: ApiVersion) {
    use std::io::BufRead as _;
    let docs = generate(Shape::new(30, 4));
    let seeded = made_in_the_ui(&docs, version).await;
    let dir = tempfile::tempdir().unwrap();
    let seed_file = dir.path().join("catalogue.json");
    std::fs::write(&seed_file, serde_json::to_string(&seeded).unwrap()).unwrap();

    let mut sim = crate::cli::bin()
        .args(["sim", "--port", "0", "--seed-catalogue"])
        .arg(&seed_file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(sim.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();

    let catalogue: Value = reqwest::get(format!("{url}/_sim/catalogue"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let held = catalogue.as_array().unwrap();
    assert_eq!(
        held.len(),
        docs.len() + 1,
        "the seeded items and the main organisation"
    );
    assert!(
        held.iter()
            .all(|e| e["sourceId"].is_null() && e["externalId"].is_null())
    );
    let phones = held
        .iter()
        .filter(|e| e["kind"] == serde_json::json!({"Channel": ChannelType::Phone}))
        .count();
    assert!(phones > 0);

    let (_, user, main) = SimConfig::single_org();
    std::fs::write(dir.path().join("password"), &user.password).unwrap();
    docs.write_dir(&dir.path().join("source")).unwrap();
    let text = config_text(
        dir.path(),
        &url,
        &user.username,
        main,
        &Options::on(version),
    );
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();

    let (code, out, err) = run(&["adopt", "--org", "test"], &cfg);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains(&format!("{} to link", docs.len())), "{out}");
    let (code, out, err) = run(&["adopt", "--org", "test", "--json"], &cfg);
    assert_eq!(code, 2, "{err}");
    let survey: Value = serde_json::from_str(&out).unwrap();
    assert!(survey[0]["linked"].is_null());
    assert!(
        survey[0]["survey"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["by"] == "name"),
        "{out}"
    );
    let (code, out, err) = run(&["adopt", "--org", "test", "--apply"], &cfg);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&["adopt", "--org", "test", "--json"], &cfg);
    assert_eq!(code, 0, "{out}{err}");
    let survey: Value = serde_json::from_str(&out).unwrap();
    assert!(
        survey[0]["survey"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["by"] == "state"),
        "{out}"
    );
    // The same content in PTV as in the source: nothing to send.
    let (code, out, err) = run(&["plan"], &cfg);
    assert_eq!(code, 0, "{out}{err}");
    sim.kill().unwrap();
    sim.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_the_sim_binary_serves_a_seeded_catalogue_to_adopt() {
    seeded_sim_binary_and_adopt(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_the_sim_binary_serves_a_seeded_catalogue_to_adopt() {
    seeded_sim_binary_and_adopt(ApiVersion::V12).await;
}

/// Items we pushed carry our sourceId (v11) / externalId (v12 services and
/// organisations): their export keeps the source's ids, so the folder can stand in for a
/// lost source. v12 channels carry no externalId and get `ptv-<PTV id>`.
async fn our_own_items_export_with_their_source_ids(version: ApiVersion) {
    let docs = generate(Shape::new(20, 3));
    let app = spawn_with(&docs, Options::on(version)).await;
    assert!(app.sync().await.failures().next().is_none());
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("export");
    let (code, text, err) = run(
        &[
            "export",
            "--out",
            &dir.display().to_string(),
            "--format",
            "json",
        ],
        &app.config_path(),
    );
    assert_eq!(code, 0, "{text}{err}");
    let mut got = BTreeSet::new();
    for sub in ["organizations", "services", "channels"] {
        for f in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = f.unwrap().path();
            assert_eq!(path.extension().unwrap(), "json");
            let d: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            got.insert((
                d["kind"].as_str().unwrap().to_owned(),
                d["id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let want: BTreeSet<(String, String)> = docs
        .organizations
        .iter()
        .chain(&docs.services)
        .chain(&docs.channels)
        .filter(|d| version == ApiVersion::V11 || d["kind"] != "channel")
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), docs.len());
    assert!(
        want.is_subset(&got),
        "{:?}",
        want.difference(&got).collect::<Vec<_>>()
    );
    if version == ApiVersion::V12 {
        assert!(
            got.iter()
                .filter(|(k, _)| k == "channel")
                .all(|(_, id)| id.starts_with("ptv-"))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v11_our_own_items_export_with_their_source_ids() {
    our_own_items_export_with_their_source_ids(ApiVersion::V11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v12_our_own_items_export_with_their_source_ids() {
    our_own_items_export_with_their_source_ids(ApiVersion::V12).await;
}

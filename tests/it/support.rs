//! `spawn_app()` for ptv-sync: a simulated PTV on loopback, a source directory, a
//! configuration and a `SQLite` state store in a temp dir, and assertions on PTV's end state.

use ptv_sync::apply::{Engine, RunOptions, RunReport};
use ptv_sync::config::Config;
use ptv_sync::model::{ApiVersion, ItemKind};
use ptv_sync::sim::{PublishingStatus, SimConfig, SimHandle, Simulator};
use ptv_sync::startup::EngineBuilder;
use ptv_sync::store::{OpenMode, RemoteState, StateStore};
use ptv_sync::synth::Docs;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub const PREFIX: &str = "t";

pub struct TestApp {
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    pub cfg: Config,
    pub store: Arc<dyn StateStore>,
}

pub struct Options {
    pub sim: SimConfig,
    pub extra_org_toml: String,
    pub extra_ptv_toml: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sim: SimConfig::single_org().0,
            extra_org_toml: String::new(),
            extra_ptv_toml: String::new(),
        }
    }
}

impl Options {
    /// PTV holds `catalogue` before ptv-sync arrives.
    pub fn with_catalogue(mut self, catalogue: Vec<ptv_sync::sim::SeedItem>) -> Self {
        self.sim.catalogue = catalogue;
        self
    }

    /// The defaults on `version`: v12 needs its API key beside the version.
    pub fn on(version: ApiVersion) -> Self {
        match version {
            ApiVersion::V11 => Options::default(),
            ApiVersion::V12 => Options {
                extra_org_toml: "api_version = \"v12\"\n".into(),
                extra_ptv_toml: format!("api_key = \"{}\"", SimConfig::DEMO_API_KEY),
                ..Options::default()
            },
        }
    }
}

pub fn config_text(
    dir: &std::path::Path,
    sim_url: &str,
    username: &str,
    main_org: uuid::Uuid,
    opts: &Options,
) -> String {
    format!(
        r#"[state]
dir = "{state}"
[daemon]
listen = "127.0.0.1:0"
[[organization]]
name = "test"
main_organization_id = "{main_org}"
source_id_prefix = "{PREFIX}"
retry_failed_after = "1h"
{extra_org}
[organization.ptv]
api_base = "{sim_url}"
token_url = "{sim_url}/api/auth/api-login"
username = "{username}"
password_file = "{pw}"
retry_attempts = 8
retry_max_delay = "50ms"
{extra_ptv}
[organization.source]
path = "{source}"
"#,
        state = dir.join("state").display(),
        pw = dir.join("password").display(),
        source = dir.join("source").display(),
        extra_org = opts.extra_org_toml,
        extra_ptv = opts.extra_ptv_toml,
    )
}

pub async fn spawn_app(docs: &Docs) -> TestApp {
    spawn_with(docs, Options::default()).await
}

pub async fn spawn_with(docs: &Docs, opts: Options) -> TestApp {
    let (_, user, main_org) = SimConfig::single_org();
    let sim = Simulator::start(opts.sim.clone())
        .await
        .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("password"), &user.password).unwrap();
    docs.write_dir(&dir.path().join("source")).unwrap();
    let text = config_text(dir.path(), &sim.base_url(), &user.username, main_org, &opts);
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let cfg = Config::from_str_with_env(&text, &path, &[]).expect("test config is valid");
    let store = ptv_sync::startup::open_store(&cfg, OpenMode::CreateIfMissing)
        .await
        .unwrap()
        .unwrap();
    TestApp {
        sim,
        dir,
        cfg,
        store,
    }
}

impl TestApp {
    pub fn engine(&self) -> Engine {
        let org = self.cfg.organizations[0].clone();
        let global = Arc::new(tokio::sync::Semaphore::new(64));
        EngineBuilder::connect(org, self.store.clone(), global, "test")
            .unwrap()
            .build()
    }

    pub async fn sync(&self) -> RunReport {
        self.sync_with(&RunOptions::default()).await
    }

    pub async fn sync_with(&self, opts: &RunOptions) -> RunReport {
        self.engine().run(opts).await.expect("run completes")
    }

    pub fn write_source(&self, docs: &Docs) {
        docs.write_dir(&self.dir.path().join("source")).unwrap();
    }

    pub fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("config.toml")
    }

    /// The PTV entity holding an item's current sourceId.
    pub async fn entity_of(&self, kind: ItemKind, id: &str) -> Option<ptv_sync::sim::SimEntity> {
        let rec = self.store.item("test", kind, id).await.unwrap()?;
        let ptv_id: uuid::Uuid = rec.ptv_id?.to_string().parse().ok()?;
        self.sim.entity(ptv_id)
    }

    /// PTV equals the source: every source item exactly once, published, with its name and
    /// connections; every item we created that left the source archived; no duplicates.
    pub async fn assert_converged(&self, docs: &Docs) {
        let catalogue = self.sim.catalogue();
        let dupes = self.sim.duplicates();
        assert!(
            dupes.is_empty(),
            "duplicates in PTV: {:?}",
            dupes
                .iter()
                .map(|e| (&e.source_id, &e.name_fi))
                .collect::<Vec<_>>()
        );
        let records: BTreeMap<(ItemKind, ptv_sync::model::SourceId), ptv_sync::store::ItemRecord> =
            self.store
                .items("test")
                .await
                .unwrap()
                .into_iter()
                .map(|r| ((r.kind, r.source_id.clone()), r))
                .collect();
        let known: BTreeSet<String> = records
            .values()
            .filter_map(|r| r.ptv_id.map(|id| id.to_string()))
            .collect();
        // Ours: created under our sourceId/externalId, or recorded in our store (v12
        // channels have no externalId).
        let prefix = format!("{PREFIX}-");
        let ours: Vec<_> = catalogue
            .iter()
            .filter(|e| {
                [&e.source_id, &e.external_id]
                    .iter()
                    .any(|s| s.as_deref().is_some_and(|s| s.starts_with(&prefix)))
                    || known.contains(&e.id.to_string())
            })
            .collect();
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for (kind, list) in [
            (ItemKind::Organization, &docs.organizations),
            (ItemKind::Channel, &docs.channels),
            (ItemKind::Service, &docs.services),
        ] {
            for d in list {
                let id = d["id"].as_str().unwrap();
                let rec = records
                    .get(&(kind, ptv_sync::model::SourceId::parse(id).unwrap()))
                    .unwrap_or_else(|| panic!("{kind} {id} not in the store"));
                assert_eq!(
                    rec.remote,
                    RemoteState::Live,
                    "{kind} {id}: {:?}",
                    rec.last_error
                );
                let e = ours
                    .iter()
                    .find(|e| Some(e.id.to_string()) == rec.ptv_id.map(|id| id.to_string()))
                    .unwrap_or_else(|| {
                        panic!("{kind} {id} ({}) missing from PTV", rec.ptv_source_id)
                    });
                if let Some(sid) = e.source_id.as_ref().or(e.external_id.as_ref()) {
                    assert_eq!(
                        sid,
                        rec.ptv_source_id.as_str(),
                        "{kind} {id}: PTV holds it under our sourceId"
                    );
                }
                assert_eq!(e.status, PublishingStatus::Published, "{kind} {id}");
                assert_eq!(
                    e.name_fi.as_deref(),
                    d["languageVersions"]["fi"]["name"].as_str(),
                    "{kind} {id} name"
                );
                wanted.insert(e.id.to_string());
                if kind == ItemKind::Service {
                    let mut want: Vec<String> = d["connections"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| {
                            records[&(
                                ItemKind::Channel,
                                ptv_sync::model::SourceId::parse(c["channel"].as_str().unwrap())
                                    .unwrap(),
                            )]
                                .ptv_id
                                .unwrap()
                                .to_string()
                        })
                        .collect();
                    want.sort();
                    let mut have: Vec<String> =
                        e.connections.iter().map(ToString::to_string).collect();
                    have.sort();
                    assert_eq!(have, want, "connections of service {id}");
                }
            }
        }
        for e in &ours {
            if !wanted.contains(&e.id.to_string()) {
                assert_eq!(
                    e.status,
                    PublishingStatus::Deleted,
                    "{:?} ({}) left the source but is {:?} in PTV",
                    e.source_id,
                    e.id,
                    e.status
                );
            }
        }
    }
}

//! Two daemons on one `PostgreSQL` share four organisations: each organisation is synced by
//! exactly one instance, and when one dies the other takes its organisations over.

use crate::cli::bin;
use ptv_sync::sim::{SeedOrganization, SimConfig, SimUser, Simulator};
use ptv_sync::synth::{Shape, generate};
use sqlx::{Connection, Executor};
use std::fmt::Write as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

const ORGS: usize = 4;

/// Organisations, a simulator and a database of their own, and daemons started on them.
struct Ha {
    sim: ptv_sync::sim::SimHandle,
    dir: tempfile::TempDir,
    db: String,
    url: url::Url,
    admin: sqlx::PgConnection,
    orgs_toml: String,
}

impl Ha {
    /// `None` (with a note) when no `PostgreSQL` is configured for the tests.
    async fn new(orgs: usize) -> Option<Ha> {
        let Ok(base) = std::env::var("PTV_SYNC_TEST_POSTGRES_URL") else {
            eprintln!("note: PTV_SYNC_TEST_POSTGRES_URL is not set; PostgreSQL HA test skipped");
            return None;
        };
        let db = format!("ptvsync_ha_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        admin
            .execute(format!("CREATE DATABASE {db}").as_str())
            .await
            .unwrap();
        let mut url = url::Url::parse(&base).unwrap();
        url.set_path(&format!("/{db}"));

        let mut sim_cfg = SimConfig::default();
        for i in 0..orgs {
            let id = uuid::Uuid::from_u128(0xa000 + i as u128);
            sim_cfg.users.push(SimUser {
                username: format!("api{i}@test.fi"),
                password: format!("pw{i}"),
                organization_id: id,
            });
            sim_cfg.organizations.push(SeedOrganization {
                id,
                name: format!("Kunta {i}"),
                organization_type: "Municipality".into(),
                languages: vec!["fi".into(), "sv".into()],
                area_type: "Nationwide".into(),
                municipality: Some("049".into()),
            });
        }
        let sim = Simulator::start(sim_cfg).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut orgs_toml = String::new();
        for i in 0..orgs {
            let src = dir.path().join(format!("source{i}"));
            generate(Shape::new(20, i as u64)).write_dir(&src).unwrap();
            std::fs::write(dir.path().join(format!("pw{i}")), format!("pw{i}")).unwrap();
            let _ = write!(
                orgs_toml,
                "[[organization]]\nname = \"org{i}\"\nmain_organization_id = \"{}\"\nsource_id_prefix = \"o{i}\"\nschedule = \"*/2 * * * * *\"\n[organization.ptv]\napi_base = \"{u}\"\ntoken_url = \"{u}/api/auth/api-login\"\nusername = \"api{i}@test.fi\"\npassword_file = \"{}\"\n[organization.source]\npath = \"{}\"\n\n",
                uuid::Uuid::from_u128(0xa000 + i as u128),
                dir.path().join(format!("pw{i}")).display(),
                src.display(),
                u = sim.base_url()
            );
        }
        Some(Ha {
            sim,
            dir,
            db,
            url,
            admin,
            orgs_toml,
        })
    }

    fn start(&self, n: usize) -> std::process::Child {
        let cfg = self.dir.path().join(format!("daemon{n}.toml"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        std::fs::write(
            &cfg,
            format!(
                "[state]\ndatabase_url_env = \"HA_DB\"\n[daemon]\nlisten = \"127.0.0.1:{port}\"\n\n{}",
                self.orgs_toml
            ),
        )
        .unwrap();
        let state = self.dir.path().join(format!("state{n}"));
        bin()
            .arg("--config")
            .arg(&cfg)
            .arg("run")
            .env("HA_DB", self.url.as_str())
            .env("STATE_DIRECTORY", &state)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    async fn store(&self) -> std::sync::Arc<dyn ptv_sync::store::StateStore> {
        ptv_sync::store::open(
            &ptv_sync::store::StoreTarget::Postgres {
                url: self.url.to_string().into(),
            },
            ptv_sync::store::OpenMode::CreateIfMissing,
        )
        .await
        .unwrap()
    }

    async fn drop_db(mut self) {
        self.admin
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db).as_str())
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_share_four_organisations_and_take_over() {
    let Some(ha) = Ha::new(ORGS).await else {
        return;
    };
    let sim = &ha.sim;
    let mut a = ha.start(0);
    let mut b = ha.start(1);
    let store = ha.store().await;

    let runs_of = async |org: usize| store.last_runs(&format!("org{org}"), 1000).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let mut ready = true;
        for i in 0..ORGS {
            ready &= runs_of(i)
                .await
                .iter()
                .filter(|r| r.finished_at.is_some())
                .count()
                >= 3;
        }
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "every organisation ran 3 times");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut owner = Vec::new();
    for i in 0..ORGS {
        let runs = runs_of(i).await;
        let actors: std::collections::BTreeSet<_> = runs.iter().map(|r| r.actor.clone()).collect();
        assert_eq!(
            actors.len(),
            1,
            "org{i} was synced by one instance only: {actors:?}"
        );
        let mut spans: Vec<_> = runs
            .iter()
            .filter_map(|r| Some((r.started_at, r.finished_at?)))
            .collect();
        spans.sort();
        assert!(
            spans.windows(2).all(|w| w[0].1 <= w[1].0),
            "runs of org{i} never overlap"
        );
        owner.push(actors.into_iter().next().unwrap());
    }
    assert_eq!(
        sim.stats().logins as usize,
        ORGS,
        "each organisation logged in by exactly one instance"
    );

    // Kill the instance that owns org0; the other takes over within a schedule period or two.
    let victim = owner[0].clone();
    let (dead, survivor) = if victim == format!("daemon:{}", a.id()) {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    let survivor_name = format!("daemon:{}", survivor.id());
    dead.kill().unwrap();
    dead.wait().unwrap();
    let killed_at = chrono::Utc::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut all = true;
        for i in 0..ORGS {
            all &= runs_of(i).await.iter().any(|r| {
                r.actor == survivor_name && r.started_at > killed_at && r.finished_at.is_some()
            });
        }
        if all {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the survivor took over every organisation within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    survivor.kill().unwrap();
    survivor.wait().unwrap();
    drop(store);
    ha.drop_db().await;
}

/// Issue 16 item 1: the lock holder's `PostgreSQL` session ends (an operator's
/// `pg_terminate_backend`, a network failure): the other instance takes the organisation
/// over, and the first one notices that it lost the lock and stops; from then on exactly
/// one instance runs the organisation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lock_session_leaves_exactly_one_writer() {
    let Some(ha) = Ha::new(1).await else {
        return;
    };
    let mut a = ha.start(0);
    let mut b = ha.start(1);
    let store = ha.store().await;
    let finished = async || {
        store
            .last_runs("org0", 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.finished_at.is_some())
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    while finished().await.len() < 2 {
        assert!(Instant::now() < deadline, "org0 ran twice");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let kill = format!(
        "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a \
         WHERE a.application_name = '{}' AND a.datname = '{}' AND EXISTS (SELECT 1 \
         FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)",
        ptv_sync::store::LOCK_APPLICATION_NAME,
        ha.db
    );
    let mut admin = sqlx::PgConnection::connect(ha.url.as_str()).await.unwrap();
    let killed: Vec<(bool,)> = sqlx::query_as(&kill).fetch_all(&mut admin).await.unwrap();
    assert_eq!(killed.len(), 1, "one session holds the lock: {killed:?}");
    // Runs that began before the holder could notice are not counted.
    let settled = chrono::Utc::now() + chrono::Duration::seconds(3);
    let after = async || {
        let mut runs: Vec<_> = finished()
            .await
            .into_iter()
            .filter(|r| r.started_at > settled)
            .collect();
        runs.sort_by_key(|r| r.started_at);
        runs
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while after().await.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "org0 kept running after the loss"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let runs = after().await;
    let actors: std::collections::BTreeSet<_> = runs.iter().map(|r| r.actor.clone()).collect();
    assert_eq!(
        actors.len(),
        1,
        "after the lock session was lost, one instance runs org0: {actors:?}"
    );
    assert!(
        runs.windows(2)
            .all(|w| w[0].finished_at.unwrap() <= w[1].started_at),
        "runs of org0 never overlap"
    );
    for child in [&mut a, &mut b] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    drop(store);
    ha.drop_db().await;
}

/// Issue 16 item 1, for `ptv-sync resync` run in-process (no daemon): the lock is watched
/// during the run as in the daemon; when its session ends the run starts no further write
/// and exits 1 saying why. The next resync finishes the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cli_resync_that_loses_its_lock_stops_writing() {
    let Some(ha) = Ha::new(1).await else {
        return;
    };
    let cfg = ha.dir.path().join("cli.toml");
    std::fs::write(
        &cfg,
        format!("[state]\ndatabase_url_env = \"HA_DB\"\n\n{}", ha.orgs_toml),
    )
    .unwrap();
    let resync = || {
        let mut cmd = bin();
        cmd.arg("--config")
            .arg(&cfg)
            .args(["resync", "--org", "org0"])
            .env("HA_DB", ha.url.as_str())
            .env("STATE_DIRECTORY", ha.dir.path().join("cli-state"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    // Slow writes: the run is still writing when its lock session is ended.
    ha.sim.set_faults(ptv_sync::sim::Faults {
        latency: Duration::from_millis(400),
        ..ptv_sync::sim::Faults::default()
    });
    let child = resync().spawn().unwrap();
    let holder = format!(
        "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a \
         WHERE a.application_name = '{}' AND a.datname = '{}' AND EXISTS (SELECT 1 \
         FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory' AND l.granted)",
        ptv_sync::store::LOCK_APPLICATION_NAME,
        ha.db
    );
    let mut admin = sqlx::PgConnection::connect(ha.url.as_str()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ha.sim.stats().writes_applied < 3 {
        assert!(
            Instant::now() < deadline,
            "the resync never started writing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let killed: Vec<(bool,)> = sqlx::query_as(&holder).fetch_all(&mut admin).await.unwrap();
    assert_eq!(killed.len(), 1, "the resync holds the lock: {killed:?}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lock was lost"), "{stderr}");

    ha.sim.set_faults(ptv_sync::sim::Faults::default());
    let before = ha.sim.stats().writes_applied;
    let out = resync().output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        ha.sim.stats().writes_applied > before,
        "the first run stopped before its last writes"
    );
    drop(admin);
    ha.drop_db().await;
}

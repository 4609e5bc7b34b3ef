//! `ptv-sync run`: the long-running daemon. One schedule per organisation, runs of one
//! organisation never overlap, missed ticks are not queued, and an organisation whose last
//! success is older than `max_age` runs now (DVV: at least daily). A run that fails as a
//! whole (PTV unreachable, login refused) is retried with exponential backoff
//! (`daemon.retry_after_failure` up to `retry_after_failure_max`). Each organisation is
//! synced only while this process holds its single-writer lock (`SQLite`: an exclusive file
//! lock; `PostgreSQL`: an advisory lock per organisation, so several daemons share the
//! organisations and take over from one that dies).

mod http;
pub mod notify;

use crate::apply::{RunOptions, RunReport};
use crate::config::{Config, OrgConfig};
use crate::model::OrgName;
use crate::ptv::PtvApi;
use crate::startup::EngineBuilder;
use crate::store::{LOCK_CHECK, OpenMode, RunTrigger, SharedLock, StateStore, StoreError};
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The admin secret's file name in the state directory.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";
/// How often the scheduler loop wakes.
const TICK: Duration = Duration::from_secs(1);
/// A freshness run that failed is not retried more often than this.
const FRESHNESS_RETRY: chrono::Duration = chrono::Duration::minutes(10);
/// How often the scheduler asks the store whether an organisation is stale.
const FRESHNESS_CHECK: chrono::Duration = chrono::Duration::minutes(1);

/// How often the daemon applies the retention (`audit.retention_days`) to the audit log and
/// to runs with their items; the first time at start.
const PRUNE_EVERY: chrono::Duration = chrono::Duration::days(1);

/// What `ptv-sync resync` asks a running daemon to do.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ResyncRequest {
    /// Only this organisation; all when absent.
    pub org: Option<OrgName>,
    /// What to do; the trigger is always `resync`. Who asked is not the client's to say
    /// (see [`ADMIN_ACTOR`]).
    #[serde(flatten)]
    pub options: RunOptions,
}

/// Who a resync through the admin endpoint is recorded as: the client cannot choose it, and
/// only the daemon's user and root can read the admin secret.
pub const ADMIN_ACTOR: &str = "admin-endpoint";

/// An organisation ready to run: its configuration, client, run guard and lock.
type RunTarget = (
    OrgConfig,
    Arc<dyn PtvApi>,
    Arc<tokio::sync::Mutex<()>>,
    SharedLock,
);

struct OrgRuntime {
    cfg: OrgConfig,
    api: Arc<dyn PtvApi>,
    lock: SharedLock,
    /// Held for the whole of a run: runs of one organisation never overlap.
    running: Arc<tokio::sync::Mutex<()>>,
    next: DateTime<Utc>,
    last_freshness_try: Option<DateTime<Utc>>,
    /// When the store was last asked for this organisation's last success.
    freshness_checked: Option<DateTime<Utc>>,
    /// After a run that failed as a whole: when to try again, and the delays still to come.
    retry_at: Option<DateTime<Utc>>,
    backoff: Option<backon::ExponentialBackoff>,
    /// When the next drift check is due (`[organization.drift] schedule`).
    drift_next: DateTime<Utc>,
}

pub struct Daemon {
    config: RwLock<Config>,
    store: Arc<dyn StateStore>,
    global: Arc<Semaphore>,
    org_slots: Arc<Semaphore>,
    orgs: tokio::sync::Mutex<BTreeMap<OrgName, OrgRuntime>>,
    prometheus: PrometheusHandle,
    admin_token: String,
    cancel: CancellationToken,
    /// Schedules, freshness, retention and every run's "now". The heartbeat and the
    /// watchdog keep to the wall clock: they watch this process, not the calendar.
    clock: crate::clock::SharedClock,
    heartbeat: AtomicI64,
    runs_in_flight: Arc<Mutex<usize>>,
}

/// Where the daemon keeps its admin secret: the `SQLite` state directory, or
/// `$STATE_DIRECTORY`/`$RUNTIME_DIRECTORY` with `PostgreSQL`.
#[must_use]
pub fn admin_token_path(cfg: &Config) -> std::path::PathBuf {
    match &cfg.state {
        crate::config::StateConfig::Sqlite { dir } => dir.join(ADMIN_TOKEN_FILE),
        crate::config::StateConfig::Postgres { .. } => std::env::var_os("STATE_DIRECTORY")
            .or_else(|| std::env::var_os("RUNTIME_DIRECTORY"))
            .map_or_else(
                || std::path::PathBuf::from("/var/lib/ptv-sync"),
                std::path::PathBuf::from,
            )
            .join(ADMIN_TOKEN_FILE),
    }
}

fn write_admin_token(path: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let token = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let failed = |e: std::io::Error| {
        anyhow::anyhow!("cannot write the admin secret {}: {e}", path.display())
    };
    // A private temporary file renamed into place: two daemons starting at once each
    // write a whole file, and the rename is atomic (remove-then-create raced).
    let mut tmp = tempfile::Builder::new()
        .prefix(".admin.token.")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(failed)?;
    tmp.write_all(token.as_bytes()).map_err(failed)?;
    tmp.persist(path).map_err(|e| failed(e.error))?;
    Ok(token)
}

/// The Prometheus recorder is process-wide; install it once.
fn prometheus() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let h = crate::monitoring::builder()
        .install_recorder()
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))?;
    crate::monitoring::describe();
    Ok(HANDLE.get_or_init(|| h).clone())
}

fn org_runtime(
    cfg: &OrgConfig,
    global: &Arc<Semaphore>,
    now: DateTime<Utc>,
) -> anyhow::Result<OrgRuntime> {
    crate::monitoring::register_org(&cfg.name, cfg.max_age);
    check_client_certificate(cfg, now);
    Ok(OrgRuntime {
        cfg: cfg.clone(),
        api: crate::startup::ptv_client(cfg, global.clone())?,
        lock: SharedLock::default(),
        running: Arc::new(tokio::sync::Mutex::new(())),
        next: cfg
            .schedule
            .next_after(now)
            .unwrap_or(now + chrono::Duration::days(1)),
        last_freshness_try: None,
        freshness_checked: None,
        drift_next: cfg
            .drift
            .schedule
            .next_after(now)
            .unwrap_or(now + chrono::Duration::days(7)),
        retry_at: None,
        backoff: None,
    })
}

/// Exports the client certificate's expiry and warns in the log 60 days ahead.
fn check_client_certificate(cfg: &OrgConfig, now: DateTime<Utc>) {
    let Some(path) = &cfg.ptv.client_cert else {
        return;
    };
    match crate::certificate::not_after(path) {
        Ok(t) => {
            metrics::gauge!(crate::monitoring::CLIENT_CERT_EXPIRY, "org" => cfg.name.to_string())
                .set(t.timestamp() as f64);
            if t - now < crate::certificate::EXPIRY_WARNING {
                tracing::warn!(
                    organization = %cfg.name,
                    "the client certificate {} expires {} ({} days): order a new one and replace the file",
                    path.display(),
                    t.format("%Y-%m-%d"),
                    (t - now).num_days()
                );
            }
        }
        Err(e) => tracing::warn!(organization = %cfg.name, "{e:#}"),
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config_path: &std::path::Path) -> anyhow::Result<()> {
    let cfg = Config::load(config_path)?;
    let store = crate::startup::open_store(&cfg, OpenMode::CreateIfMissing)
        .await?
        .ok_or_else(|| anyhow::anyhow!("state store did not open"))?;
    let listener = tokio::net::TcpListener::bind(cfg.daemon.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e}; set daemon.listen to a free address",
                cfg.daemon.listen
            )
        })?;
    let daemon = Arc::new(Daemon::new(cfg, store, crate::clock::system())?);
    let addr = listener.local_addr()?;
    let server = {
        let d = daemon.clone();
        let cancel = daemon.cancel.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                http::router(d).into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(cancel.cancelled_owned())
            .await
        })
    };
    tracing::info!("listening on http://{addr} (/healthz, /readyz, /metrics)");
    daemon.log_schedules().await;
    notify::ready();
    daemon.clone().serve_signals(config_path.to_owned());
    daemon.clone().watchdog();
    daemon.scheduler().await;
    notify::stopping();
    let grace = daemon
        .config
        .read()
        .expect("config lock")
        .daemon
        .shutdown_grace;
    daemon.drain(grace).await;
    let _ = server.await;
    tracing::info!("stopped");
    Ok(())
}

impl Daemon {
    fn new(
        cfg: Config,
        store: Arc<dyn StateStore>,
        clock: crate::clock::SharedClock,
    ) -> anyhow::Result<Self> {
        // First: the organisations' series are registered with the recorder below.
        let prometheus = prometheus()?;
        let global = Arc::new(Semaphore::new(cfg.daemon.global_max_in_flight));
        let now = clock.now();
        let mut orgs = BTreeMap::new();
        for o in &cfg.organizations {
            orgs.insert(o.name.clone(), org_runtime(o, &global, now)?);
        }
        let admin_token = write_admin_token(&admin_token_path(&cfg))?;
        Ok(Daemon {
            org_slots: Arc::new(Semaphore::new(cfg.daemon.max_concurrent_orgs)),
            config: RwLock::new(cfg),
            store,
            global,
            orgs: tokio::sync::Mutex::new(orgs),
            prometheus,
            admin_token,
            cancel: CancellationToken::new(),
            clock,
            heartbeat: AtomicI64::new(Utc::now().timestamp()),
            runs_in_flight: Arc::new(Mutex::new(0)),
        })
    }

    async fn log_schedules(&self) {
        let now = self.clock.now();
        for (name, o) in self.orgs.lock().await.iter() {
            let next: Vec<String> = std::iter::successors(o.cfg.schedule.next_after(now), |t| {
                o.cfg.schedule.next_after(*t)
            })
            .take(3)
            .map(|t| t.with_timezone(&o.cfg.schedule.tz).to_rfc3339())
            .collect();
            tracing::info!(organization = %name, schedule = %o.cfg.schedule.expr, "next runs: {}", next.join(", "));
            tracing::info!(organization = %name, schedule = %o.cfg.drift.schedule.expr, "next drift check: {}", o.drift_next.to_rfc3339());
        }
    }

    fn serve_signals(self: Arc<Self>, config_path: std::path::PathBuf) {
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
                signal(SignalKind::hangup()),
            ) else {
                tracing::error!("cannot install signal handlers");
                return;
            };
            loop {
                tokio::select! {
                    _ = term.recv() => { tracing::info!("SIGTERM: finishing the items in flight"); self.cancel.cancel(); break; }
                    _ = int.recv() => { tracing::info!("SIGINT: finishing the items in flight"); self.cancel.cancel(); break; }
                    _ = hup.recv() => self.reload(&config_path).await,
                }
            }
        });
    }

    /// SIGHUP: re-read the configuration; a bad file keeps the running one.
    async fn reload(&self, path: &std::path::Path) {
        let new = match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("SIGHUP: configuration not reloaded: {e}");
                return;
            }
        };
        let now = self.clock.now();
        let mut orgs = self.orgs.lock().await;
        let mut next = BTreeMap::new();
        for o in &new.organizations {
            match org_runtime(o, &self.global, now) {
                Ok(mut rt) => {
                    if let Some(old) = orgs.remove(&o.name) {
                        rt.lock = old.lock;
                        rt.running = old.running;
                        rt.retry_at = old.retry_at;
                        rt.backoff = old.backoff;
                    }
                    next.insert(o.name.clone(), rt);
                }
                Err(e) => {
                    tracing::error!(organization = %o.name, "SIGHUP: configuration not reloaded: {e}");
                    return;
                }
            }
        }
        *orgs = next;
        drop(orgs);
        *self.config.write().expect("config lock") = new;
        tracing::info!("SIGHUP: configuration reloaded");
        self.log_schedules().await;
    }

    fn watchdog(self: Arc<Self>) {
        let Some(every) = notify::watchdog_interval() else {
            return;
        };
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                // Ping only while the scheduler loop makes progress: a hung loop lets
                // systemd restart us.
                let age = Utc::now().timestamp() - self.heartbeat.load(Ordering::Relaxed);
                if age <= (every.as_secs() as i64).max(2) * 2 {
                    notify::watchdog();
                }
                if self.cancel.is_cancelled() {
                    break;
                }
            }
        });
    }

    async fn scheduler(self: &Arc<Self>) {
        let mut next_prune = self.clock.now();
        loop {
            self.heartbeat
                .store(Utc::now().timestamp(), Ordering::Relaxed);
            if self.clock.now() >= next_prune {
                self.prune().await;
                next_prune = self.clock.now() + PRUNE_EVERY;
            }
            self.tick().await;
            tokio::select! {
                () = self.cancel.cancelled() => break,
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }

    async fn tick(self: &Arc<Self>) {
        let now = self.clock.now();
        let mut due = Vec::new();
        let mut drift_due = Vec::new();
        {
            let mut orgs = self.orgs.lock().await;
            for (name, o) in orgs.iter_mut() {
                let scheduled = now >= o.next;
                let retry = o.retry_at.is_some_and(|t| now >= t);
                // While a retry is pending its backoff, not the freshness rule, says when.
                let stale = if scheduled || o.retry_at.is_some() {
                    false
                } else {
                    self.is_stale(o, now).await
                };
                if !(scheduled || retry || stale) || o.running.try_lock().is_err() {
                    continue;
                }
                if scheduled {
                    // Missed ticks are not queued: the next fire time counts from now.
                    o.next = o
                        .cfg
                        .schedule
                        .next_after(now)
                        .unwrap_or(now + chrono::Duration::days(1));
                    o.retry_at = None;
                } else if retry {
                    o.retry_at = None;
                } else {
                    o.last_freshness_try = Some(now);
                }
                match self.hold_lock(&o.cfg, &o.lock).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::debug!(organization = %name, "another instance holds the lock; skipping");
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(organization = %name, "cannot take the lock: {e}");
                        continue;
                    }
                }
                let trigger = if scheduled {
                    RunTrigger::Schedule
                } else if retry {
                    RunTrigger::Retry
                } else {
                    RunTrigger::Freshness
                };
                due.push((
                    o.cfg.clone(),
                    o.api.clone(),
                    o.running.clone(),
                    o.lock.clone(),
                    trigger,
                ));
            }
            for (name, o) in orgs.iter_mut() {
                if now < o.drift_next {
                    continue;
                }
                o.drift_next = o
                    .cfg
                    .drift
                    .schedule
                    .next_after(now)
                    .unwrap_or(now + chrono::Duration::days(7));
                match self.hold_lock(&o.cfg, &o.lock).await {
                    Ok(true) => drift_due.push((
                        o.cfg.clone(),
                        o.api.clone(),
                        o.running.clone(),
                        o.lock.clone(),
                    )),
                    Ok(false) => {
                        tracing::debug!(organization = %name, "another instance holds the lock; its drift check is that one's");
                    }
                    Err(e) => tracing::error!(organization = %name, "cannot take the lock: {e}"),
                }
            }
        }
        for (cfg, api, running, lock) in drift_due {
            let d = self.clone();
            tokio::spawn(async move {
                // After a run of the same organisation that started this tick, not beside it.
                let _guard = running.lock_owned().await;
                d.drift_org(&cfg, api.as_ref(), &lock).await;
            });
        }
        for (cfg, api, running, lock, trigger) in due {
            let d = self.clone();
            tokio::spawn(async move {
                let Ok(_guard) = running.try_lock_owned() else {
                    return;
                };
                let opts = RunOptions {
                    trigger,
                    ..RunOptions::default()
                };
                d.run_org(&cfg, api, lock, &opts, &instance()).await;
            });
        }
    }

    /// Retention: deletes audit entries (each chain loses a prefix, so it stays verifiable)
    /// and finished runs with their items older than `audit.retention_days`.
    async fn prune(&self) {
        let retention = self.config.read().expect("config lock").audit_retention;
        let before = self.clock.now() - retention;
        match self.store.prune_audit(before).await {
            Ok(n) => {
                tracing::info!("retention: deleted {n} audit entries older than {before}");
            }
            Err(e) => {
                tracing::warn!("retention: audit entries not pruned: {e}");
            }
        }
        match self.store.prune_runs(before).await {
            Ok(n) => {
                tracing::info!("retention: deleted {n} runs older than {before}, with their items");
            }
            Err(e) => {
                tracing::warn!("retention: runs not pruned: {e}");
            }
        }
    }

    /// Whether the organisation's last success is older than `max_age`. Asks the store at
    /// most once a minute per organisation: the rule is daily, the tick is every second.
    async fn is_stale(&self, o: &mut OrgRuntime, now: DateTime<Utc>) -> bool {
        if o.last_freshness_try
            .is_some_and(|t| now - t < FRESHNESS_RETRY)
            || o.freshness_checked
                .is_some_and(|t| now - t < FRESHNESS_CHECK)
        {
            return false;
        }
        o.freshness_checked = Some(now);
        let max_age =
            chrono::Duration::from_std(o.cfg.max_age).unwrap_or(chrono::Duration::days(1));
        match self.store.org_state(o.cfg.state_key()).await {
            Ok(Some(s)) => s.last_success_at.is_none_or(|t| now - t > max_age),
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// Makes sure this instance holds the organisation's single-writer lock: confirms a held
    /// one (a `PostgreSQL` lock dies with its session, and another instance may hold it
    /// now), drops a lost one and tries to take it (again). `Ok(false)`: another instance
    /// holds it.
    async fn hold_lock(&self, org: &OrgConfig, lock: &SharedLock) -> Result<bool, StoreError> {
        let mut held = lock.lock().await;
        if let Some(l) = held.as_mut()
            && let Err(e) = l.check().await
        {
            tracing::warn!(organization = %org.name, "{e}");
            *held = None;
        }
        if held.is_none() {
            *held = self.store.lock_org(org.state_key()).await?;
            if held.is_some() {
                tracing::info!(organization = %org.name, "took the single-writer lock");
            }
        }
        Ok(held.is_some())
    }

    async fn run_org(
        &self,
        cfg: &OrgConfig,
        api: Arc<dyn PtvApi>,
        lock: SharedLock,
        opts: &RunOptions,
        actor: &str,
    ) -> Option<RunReport> {
        let _slot = self.org_slots.acquire().await.ok()?;
        // Fencing: the lock is confirmed right before the run and every `LOCK_CHECK` during
        // it; once it is lost, the run is cancelled and starts no further write.
        if !self.hold_lock(cfg, &lock).await.unwrap_or(false) {
            tracing::warn!(organization = %cfg.name, "run skipped: the single-writer lock is not held");
            return None;
        }
        let cancel = self.cancel.child_token();
        let watch = tokio::spawn(crate::store::watch_lock(
            cfg.name.to_string(),
            lock,
            cancel.clone(),
            LOCK_CHECK,
        ));
        // This process holds the organisation's lock and its run guard: a run still
        // recorded as running was left by a process that died.
        if let Err(e) = crate::store::interrupt_stale_runs(
            self.store.as_ref(),
            cfg.state_key(),
            self.clock.now(),
        )
        .await
        {
            tracing::warn!(organization = %cfg.name, "cannot mark interrupted runs: {e}");
        }
        *self.runs_in_flight.lock().expect("runs lock") += 1;
        let engine = EngineBuilder::new(cfg.clone(), self.store.clone(), api, actor)
            .cancel(cancel)
            .clock(self.clock.clone())
            .build();
        let result = engine.run(opts).await;
        watch.abort();
        *self.runs_in_flight.lock().expect("runs lock") -= 1;
        self.plan_retry(&cfg.name, result.as_ref().err()).await;
        match result {
            Ok(report) => {
                metrics::counter!(crate::monitoring::RUNS, "org" => cfg.name.to_string(), "outcome" => report.outcome.as_str()).increment(1);
                let line = summary_line(&report);
                tracing::info!(organization = %cfg.name, "{line}");
                notify::status(&line);
                if let Ok(Some(mut s)) = self.store.org_state(cfg.state_key()).await {
                    s.next_run_at = cfg.schedule.next_after(self.clock.now());
                    let _ = self.store.put_org_state(&s).await;
                }
                Some(report)
            }
            Err(e) => {
                tracing::error!(organization = %cfg.name, "run failed: {e}");
                notify::status(&format!("{}: run failed: {e}", cfg.name));
                metrics::counter!(crate::monitoring::RUNS_FAILED, "org" => cfg.name.to_string())
                    .increment(1);
                None
            }
        }
    }

    /// After a run: one that failed as a whole (nothing was synced, e.g. PTV unreachable or
    /// the login refused) is tried again after a growing delay rather than at the next
    /// schedule, so an outage of an hour costs an hour, not a day; a run that got through
    /// ends the backoff.
    async fn plan_retry(&self, org: &OrgName, failure: Option<&crate::apply::RunError>) {
        let (base, max) = {
            let cfg = self.config.read().expect("config lock");
            (
                cfg.daemon.retry_after_failure,
                cfg.daemon.retry_after_failure_max,
            )
        };
        let mut orgs = self.orgs.lock().await;
        let Some(o) = orgs.get_mut(org) else {
            return;
        };
        let Some(e) = failure else {
            o.retry_at = None;
            o.backoff = None;
            return;
        };
        let delay = o
            .backoff
            .get_or_insert_with(|| {
                backon::BackoffBuilder::build(
                    backon::ExponentialBuilder::default()
                        .with_min_delay(base)
                        .with_max_delay(max)
                        .with_jitter()
                        .without_max_times(),
                )
            })
            .next()
            .unwrap_or(max);
        let at = self.clock.now()
            + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
        let at = at.min(o.next);
        o.retry_at = Some(at);
        tracing::warn!(
            organization = %org,
            "the run failed ({e}); retrying at {at} ({:.0?} from now)",
            delay
        );
    }

    /// A scheduled drift check ([`crate::drift::check_and_mark`]) while this instance holds
    /// the organisation's lock (it records its verdicts in the state).
    async fn drift_org(&self, cfg: &OrgConfig, api: &dyn PtvApi, lock: &SharedLock) {
        let Ok(_slot) = self.org_slots.acquire().await else {
            return;
        };
        if !self.hold_lock(cfg, lock).await.unwrap_or(false) {
            tracing::warn!(organization = %cfg.name, "drift check skipped: the single-writer lock is not held");
            return;
        }
        match crate::drift::check_and_mark(cfg, self.store.as_ref(), api, self.clock.now()).await {
            Ok((report, _)) => {
                notify::status(&format!(
                    "{}: drift check: {} of {} items in step",
                    cfg.name, report.in_step, report.checked
                ));
            }
            Err(e) => tracing::error!(organization = %cfg.name, "drift check failed: {e}"),
        }
    }

    /// `ptv-sync resync` through the admin endpoint: runs now, waiting for a run in
    /// progress to end first.
    pub async fn resync_now(&self, req: ResyncRequest) -> anyhow::Result<Vec<RunReport>> {
        let targets: Vec<RunTarget> = {
            let mut orgs = self.orgs.lock().await;
            if let Some(name) = &req.org
                && !orgs.contains_key(name)
            {
                anyhow::bail!("no organisation '{name}' in the daemon's configuration");
            }
            let mut out = Vec::new();
            for (name, o) in orgs.iter_mut() {
                if req.org.as_ref().is_some_and(|n| n != name) {
                    continue;
                }
                if !self.hold_lock(&o.cfg, &o.lock).await? {
                    anyhow::bail!(
                        "organisation '{name}' is synced by another instance right now; ask that one or wait"
                    );
                }
                out.push((
                    o.cfg.clone(),
                    o.api.clone(),
                    o.running.clone(),
                    o.lock.clone(),
                ));
            }
            out
        };
        let mut reports = Vec::new();
        for (cfg, api, running, lock) in targets {
            let _guard = running.lock().await;
            let opts = RunOptions {
                trigger: RunTrigger::Resync,
                ..req.options.clone()
            };
            if let Some(r) = self.run_org(&cfg, api, lock, &opts, ADMIN_ACTOR).await {
                reports.push(r);
            }
        }
        Ok(reports)
    }

    /// Ready when the database answers and every organisation synced within `max_age`.
    pub async fn readiness(&self) -> Result<(), String> {
        self.store
            .ping()
            .await
            .map_err(|e| format!("database: {e}"))?;
        let now = self.clock.now();
        let orgs: Vec<OrgConfig> = self
            .orgs
            .lock()
            .await
            .values()
            .map(|o| o.cfg.clone())
            .collect();
        for cfg in orgs {
            let max_age =
                chrono::Duration::from_std(cfg.max_age).unwrap_or(chrono::Duration::days(1));
            let last = self
                .store
                .org_state(cfg.state_key())
                .await
                .map_err(|e| format!("database: {e}"))?
                .and_then(|s| s.last_success_at);
            match last {
                Some(t) if now - t <= max_age => {}
                Some(t) => {
                    return Err(format!(
                        "{}: last success {t} is older than max_age",
                        cfg.name
                    ));
                }
                None => return Err(format!("{}: no successful sync yet", cfg.name)),
            }
        }
        Ok(())
    }

    /// Series computed from the store and the clients when `/metrics` is scraped. Counters
    /// kept in the store (guard trips) or the client (logins) are raised to that count, never
    /// lowered, so a restart does not reset what the store remembers.
    pub async fn refresh_gauges(&self) {
        use crate::monitoring as m;
        let orgs: Vec<(String, String, Arc<dyn PtvApi>)> = self
            .orgs
            .lock()
            .await
            .iter()
            .map(|(n, o)| (n.to_string(), o.cfg.state_key().to_owned(), o.api.clone()))
            .collect();
        for (name, key, api) in orgs {
            let key = key.as_str();
            // Counted by the database: a scrape loads no item.
            if let Ok(counts) = self.store.item_state_counts(key).await {
                let mut by: BTreeMap<&'static str, u64> = BTreeMap::new();
                for (remote, status, n) in counts {
                    *by.entry(crate::apply::state_label_of(remote, status))
                        .or_default() += n;
                }
                for label in crate::apply::STATE_LABELS {
                    metrics::gauge!(m::ITEMS_BY_STATE, "org" => name.clone(), "state" => label)
                        .set(by.get(label).copied().unwrap_or(0) as f64);
                }
                metrics::gauge!(m::DRIFTED, "org" => name.clone())
                    .set(by.get("drifted").copied().unwrap_or(0) as f64);
            }
            if let Ok(Some(s)) = self.store.org_state(key).await {
                if let Some(t) = s.last_success_at {
                    metrics::gauge!(m::LAST_SUCCESS, "org" => name.clone())
                        .set(t.timestamp() as f64);
                }
                metrics::counter!(m::GUARD_TRIPS, "org" => name.clone())
                    .absolute(u64::try_from(s.guard_trips).unwrap_or(0));
            }
            if let Ok(oldest) = self.store.oldest_write(key).await {
                let age =
                    oldest.map_or(0.0, |t| (self.clock.now() - t).num_seconds().max(0) as f64);
                metrics::gauge!(m::OLDEST_WRITE_AGE, "org" => name.clone()).set(age);
            }
            metrics::counter!(m::LOGINS, "org" => name.clone()).absolute(api.logins());
            if let Some(t) = api.token_expiry() {
                metrics::gauge!(m::TOKEN_EXPIRY, "org" => name.clone()).set(t.timestamp() as f64);
            }
        }
    }

    /// Waits for runs in flight to commit their items, up to the grace period.
    async fn drain(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while *self.runs_in_flight.lock().expect("runs lock") > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut orgs = self.orgs.lock().await;
        for o in orgs.values_mut() {
            if let Some(l) = o.lock.lock().await.take()
                && let Err(e) = l.release().await
            {
                tracing::warn!(organization = %o.cfg.name, "releasing the single-writer lock: {e}");
            }
        }
    }
}

/// This daemon's name in run records and the audit log: several may share a database.
fn instance() -> String {
    format!("daemon:{}", std::process::id())
}

/// One line per run, for the journal and `STATUS=`.
#[must_use]
pub fn summary_line(r: &RunReport) -> String {
    use crate::model::{Action, Outcome};
    format!(
        "{}: run {} {}: {} created, {} updated, {} restored, {} archived, {} touched, {} unchanged, {} failed, {} need a person, {} invalid{} in {} ms",
        r.organization,
        r.run_id.map_or_else(|| "-".into(), |i| i.to_string()),
        r.outcome.as_str(),
        r.count(Action::Create, Outcome::Ok),
        r.count(Action::Update, Outcome::Ok),
        r.count(Action::Restore, Outcome::Ok),
        r.count(Action::Archive, Outcome::Ok),
        r.count(Action::Touch, Outcome::Ok),
        r.unchanged,
        r.results
            .iter()
            .filter(|x| x.outcome == Outcome::Failed)
            .count(),
        r.results
            .iter()
            .filter(|x| x.outcome == Outcome::NeedsPerson)
            .count(),
        r.invalid,
        if r.guard.is_some() {
            ", ARCHIVE GUARD TRIPPED"
        } else {
            ""
        },
        r.duration_ms
    )
}

#[cfg(test)]
mod tests {
    // issue 16 item 25
    #[test]
    fn two_daemons_starting_at_once_both_write_the_admin_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(super::ADMIN_TOKEN_FILE);
        for _ in 0..50 {
            let results: Vec<anyhow::Result<String>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..4)
                    .map(|_| s.spawn(|| super::write_admin_token(&path)))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for r in &results {
                assert!(r.is_ok(), "{:?}", r.as_ref().err());
            }
            let written = std::fs::read_to_string(&path).unwrap();
            assert!(results.iter().any(|r| r.as_ref().unwrap() == &written));
        }
    }
}

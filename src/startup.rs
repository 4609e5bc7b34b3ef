//! The composition root: the one place that turns configuration into the parts a run
//! needs (the state store, an organisation's PTV client, the engine). The daemon, the
//! commands and the tests build through here, so a new dependency of the engine is
//! wired once.

use crate::apply::{Engine, Progress};
use crate::config::{Config, Environment, OrgConfig, StateConfig};
use crate::ptv::{PtvApi, PtvClientConfig, PtvError};
use crate::store::{OpenMode, StateStore, StoreTarget};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// The `SQLite` file name inside the state directory.
pub const SQLITE_FILE: &str = "state.db";

/// Opens the configured state store. With `MustExist`, a `SQLite` database that does not
/// exist yet gives `None` (nothing pushed yet) instead of creating the daemon's files as
/// whoever runs the command.
pub async fn open_store(
    cfg: &Config,
    mode: OpenMode,
) -> anyhow::Result<Option<Arc<dyn StateStore>>> {
    let target = match &cfg.state {
        StateConfig::Sqlite { dir } => {
            let path = dir.join(SQLITE_FILE);
            // Only a database that surely is not there means "nothing synced yet": one
            // that cannot be looked at (permissions, a file in the way) must not plan
            // every item as new.
            if mode == OpenMode::MustExist {
                match std::fs::metadata(&path) {
                    Ok(_) => {}
                    Err(e)
                        if e.kind() == std::io::ErrorKind::NotFound
                            && dir_absent_or_readable(dir) =>
                    {
                        return Ok(None);
                    }
                    Err(e) => anyhow::bail!(
                        "cannot look at the state database {}: {e}; run as the daemon's user (or root), or pass the right state directory",
                        path.display()
                    ),
                }
            }
            StoreTarget::Sqlite { path }
        }
        StateConfig::Postgres { url } => {
            use secrecy::ExposeSecret as _;
            let url = url.read("state database URL")?;
            let production = cfg
                .organizations
                .iter()
                .any(|o| o.environment == Environment::Production);
            crate::db_url::check_tls(url.expose_secret(), production, "state database")
                .map_err(|m| anyhow::anyhow!("{m} (state.database_url)"))?;
            StoreTarget::Postgres { url }
        }
    };
    Ok(Some(crate::store::open(&target, mode).await?))
}

/// Whether the state directory is missing or can be listed: "the database is not there"
/// is only believable then.
fn dir_absent_or_readable(dir: &std::path::Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// The PTV client settings of one organisation.
#[must_use]
pub fn client_config(org: &OrgConfig) -> PtvClientConfig {
    let p = &org.ptv;
    let mut c = PtvClientConfig::new(
        org.api_version,
        p.api_base.clone(),
        p.token_url.clone(),
        p.username.clone(),
        p.password.clone(),
        org.main_organization_id.to_string(),
        org.name.to_string(),
    );
    c.production = org.environment == Environment::Production;
    c.api_user_organisation.clone_from(&p.api_user_organisation);
    c.api_key.clone_from(&p.api_key);
    c.connect_timeout = p.connect_timeout;
    c.request_timeout = p.request_timeout;
    c.token_refresh_margin = p.token_refresh_margin;
    c.max_in_flight = p.max_in_flight;
    c.retry.max_attempts = p.retry_attempts.max(1);
    c.retry.max_delay = p.retry_max_delay;
    c.client_cert_pem.clone_from(&p.client_cert);
    c.extra_ca_pem.clone_from(&p.extra_ca);
    c
}

/// One organisation's PTV client. `global` caps requests in flight across all
/// organisations of the process.
pub fn ptv_client(org: &OrgConfig, global: Arc<Semaphore>) -> Result<Arc<dyn PtvApi>, PtvError> {
    crate::ptv::connect(client_config(org), global)
}

/// The cap on requests in flight across organisations, from the daemon settings.
#[must_use]
pub fn global_limit(cfg: &Config) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(cfg.daemon.global_max_in_flight))
}

/// Who is acting: the OS user running a command (for the audit log).
#[must_use]
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown-user".into())
}

/// Builds an [`Engine`]: the organisation, its store and client, and who acts are
/// required; progress reporting and a shutdown token are optional.
pub struct EngineBuilder {
    engine: Engine,
}

impl EngineBuilder {
    #[must_use]
    pub fn new(
        org: OrgConfig,
        store: Arc<dyn StateStore>,
        api: Arc<dyn PtvApi>,
        actor: impl Into<String>,
    ) -> Self {
        EngineBuilder {
            engine: Engine {
                org,
                store,
                api,
                actor: actor.into(),
                progress: None,
                clock: crate::clock::system(),
                cancel: CancellationToken::new(),
            },
        }
    }

    /// With its own PTV client, built from the organisation's settings.
    pub fn connect(
        org: OrgConfig,
        store: Arc<dyn StateStore>,
        global: Arc<Semaphore>,
        actor: impl Into<String>,
    ) -> Result<Self, PtvError> {
        let api = ptv_client(&org, global)?;
        Ok(Self::new(org, store, api, actor))
    }

    #[must_use]
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.engine.progress = Some(progress);
        self
    }

    /// "Now" for the run (the wall clock unless given): tests pass one that follows the
    /// simulator's.
    #[must_use]
    pub fn clock(mut self, clock: crate::clock::SharedClock) -> Self {
        self.engine.clock = clock;
        self
    }

    /// Cancelled on shutdown: the items in flight finish, no new ones start.
    #[must_use]
    pub fn cancel(mut self, cancel: CancellationToken) -> Self {
        self.engine.cancel = cancel;
        self
    }

    #[must_use]
    pub fn build(self) -> Engine {
        self.engine
    }
}

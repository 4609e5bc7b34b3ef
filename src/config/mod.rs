//! Typed configuration: a TOML file (default `/etc/ptv-sync/config.toml`), overridden by
//! `PTV_SYNC_…` environment variables (`__` for nesting), validated whole at load.
//!
//! Per-organisation overrides name the organisation:
//! `PTV_SYNC_ORGANIZATION__<name>__PTV__USERNAME=…` (an array of tables has no stable
//! index, a name does).

pub mod bounds;
mod build;
pub mod duration;
mod env;
pub mod schedule;

use crate::model::{ApiVersion, Area, OrgName, StateKey};
use crate::plan::GuardLimits;
use crate::secret::SecretSource;
use schedule::Schedule;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_PATH: &str = "/etc/ptv-sync/config.toml";
pub const ENV_PREFIX: &str = "PTV_SYNC_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read configuration {path}: {message}; pass --config or create the file (see config/example.toml)"
    )]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: key `{key}`: {message}")]
    Key {
        path: String,
        key: String,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Test,
    Production,
}

// ----- the validated configuration -----

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub state: StateConfig,
    pub daemon: DaemonConfig,
    pub audit_retention: chrono::Duration,
    pub organizations: Vec<OrgConfig>,
}

#[derive(Debug, Clone)]
pub enum StateConfig {
    Sqlite { dir: PathBuf },
    Postgres { url: SecretSource },
}

#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub listen: std::net::SocketAddr,
    pub timezone: chrono_tz::Tz,
    pub max_concurrent_orgs: usize,
    pub global_max_in_flight: usize,
    pub shutdown_grace: Duration,
    /// `listen` may be a non-loopback address (`/metrics` for a remote Prometheus); the
    /// admin endpoint still answers loopback only.
    pub allow_remote: bool,
    /// A run that failed as a whole (PTV unreachable, login refused, source unreadable) is
    /// retried after this, doubling (with jitter) up to `retry_after_failure_max`, until a
    /// run succeeds or the schedule fires.
    pub retry_after_failure: Duration,
    pub retry_after_failure_max: Duration,
}

/// What a run does when PTV already holds an item it would create (same kind, owner and
/// Finnish name, not linked in the state): `stop` reports it as needing adoption
/// (`ptv-sync adopt`), `adopt` links it and updates it instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExisting {
    #[default]
    Stop,
    Adopt,
}

/// What a drift check does with an item a person edited in PTV (`[organization.drift]
/// policy`; see `src/drift`). An item archived in PTV is restored, and a changed
/// connection set re-sent, under both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DriftPolicy {
    /// Mark it `drifted` and leave PTV's version until the source changes the item or a
    /// person runs `resync --item ID --force`.
    #[default]
    Report,
    /// Send our version again at the next run.
    Overwrite,
}

/// The default drift check: Sundays at 03:17, a quiet hour (the cron crate names days).
pub const DEFAULT_DRIFT_SCHEDULE: &str = "0 17 3 * * SUN";

/// `[organization.drift]`.
#[derive(Debug, Clone)]
pub struct DriftConfig {
    pub policy: DriftPolicy,
    /// When the daemon checks.
    pub schedule: Schedule,
    /// Items one check reads at most; the next check continues where it stopped. `None`:
    /// every item, every check.
    pub max_reads_per_run: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct OrgConfig {
    pub name: OrgName,
    /// Not read from the file: see [`OrgConfig::state_key`].
    state_key: StateKey,
    pub environment: Environment,
    pub api_version: ApiVersion,
    pub main_organization_id: crate::model::PtvId,
    pub source_id_prefix: String,
    pub main_area: Option<Area>,
    pub schedule: Schedule,
    pub max_age: Duration,
    pub retry_failed_after: Duration,
    pub on_existing: OnExisting,
    pub ptv: PtvConfig,
    pub source: SourceConfig,
    pub guard: GuardLimits,
    pub drift: DriftConfig,
    /// When unchanged services and channels are re-sent (`[organization.touch]`).
    pub touch: crate::plan::touch::TouchPolicy,
}

#[derive(Debug, Clone)]
pub struct PtvConfig {
    pub api_base: url::Url,
    pub token_url: url::Url,
    pub username: String,
    pub password: SecretSource,
    pub api_user_organisation: Option<String>,
    pub api_key: Option<SecretSource>,
    pub max_in_flight: usize,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub token_refresh_margin: Duration,
    pub retry_attempts: u32,
    pub retry_max_delay: Duration,
    pub client_cert: Option<PathBuf>,
    pub extra_ca: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum SourceConfig {
    Dir {
        path: PathBuf,
        limits: crate::source::DirLimits,
    },
    Http {
        url: url::Url,
        auth: crate::source::HttpAuth,
        timeout: Duration,
        max_size: u64,
    },
    Sql {
        url: SecretSource,
        queries: crate::source::SqlQueries,
        timeout: Duration,
        production: bool,
    },
}

impl SourceConfig {
    #[must_use]
    pub fn build(&self) -> Box<dyn crate::source::Source> {
        match self {
            SourceConfig::Dir { path, limits } => {
                Box::new(crate::source::DirSource::new(path.clone()).with_limits(*limits))
            }
            SourceConfig::Http {
                url,
                auth,
                timeout,
                max_size,
            } => Box::new(crate::source::HttpSource {
                url: url.clone(),
                auth: auth.clone(),
                timeout: *timeout,
                max_size: *max_size,
            }),
            SourceConfig::Sql {
                url,
                queries,
                timeout,
                production,
            } => Box::new(crate::source::SqlSource {
                url: url.clone(),
                queries: queries.clone(),
                timeout: *timeout,
                production: *production,
            }),
        }
    }
}

impl OrgConfig {
    /// Where this organisation's rows live in the state store (the store's `org`): its
    /// name, unless [`scoped`](Self::scoped).
    #[must_use]
    pub fn state_key(&self) -> &str {
        self.state_key.as_str()
    }

    /// The same organisation with its rows kept apart under `<name>#<scope>`, for a run
    /// that must never touch its own (readiness's throw-away store).
    #[must_use]
    pub fn scoped(mut self, scope: &str) -> Self {
        self.state_key = StateKey::scoped(&self.name, scope);
        self
    }

    /// Every secret the organisation's sync reads, with what it is (for messages).
    #[must_use]
    pub fn secrets(&self) -> Vec<(String, &SecretSource)> {
        let name = &self.name;
        let mut out = vec![(
            format!("PTV password of organisation {name}"),
            &self.ptv.password,
        )];
        if let Some(k) = &self.ptv.api_key {
            out.push((format!("PTV API key of organisation {name}"), k));
        }
        match &self.source {
            SourceConfig::Http { auth, .. } => match auth {
                crate::source::HttpAuth::Bearer(t) => {
                    out.push((format!("source bearer token of organisation {name}"), t));
                }
                crate::source::HttpAuth::Basic { password, .. } => {
                    out.push((format!("source password of organisation {name}"), password));
                }
                crate::source::HttpAuth::None => {}
            },
            SourceConfig::Sql { url, .. } => {
                out.push((format!("source database URL of organisation {name}"), url));
            }
            SourceConfig::Dir { .. } => {}
        }
        out
    }
}

/// Default endpoints per environment and API version (reference.md §1, v12 contract).
#[must_use]
pub fn default_urls(env: Environment, api: ApiVersion) -> (&'static str, &'static str) {
    match (env, api) {
        (Environment::Production, ApiVersion::V11) => (
            "https://api.palvelutietovaranto.suomi.fi",
            "https://palveluhallinta.suomi.fi/api/auth/api-login",
        ),
        (Environment::Test, ApiVersion::V11) => (
            "https://api.palvelutietovaranto.trn.suomi.fi",
            "https://palvelutietovaranto.trn.suomi.fi/api/auth/api-login",
        ),
        (Environment::Production, ApiVersion::V12) => (
            "https://api-gw.palvelutietovaranto.suomi.fi",
            "https://palveluhallinta.suomi.fi/api/auth/api-login",
        ),
        (Environment::Test, ApiVersion::V12) => (
            "https://api-gw.palvelutietovaranto.trn.suomi.fi",
            "https://palvelutietovaranto.trn.suomi.fi/api/auth/api-login",
        ),
    }
}

impl Config {
    /// Loads the file and the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_str_with_env(&text, path, &env)
    }

    /// Parses configuration text with an explicit environment (testable).
    pub fn from_str_with_env(
        text: &str,
        path: &Path,
        env: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let mut value: toml::Value = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: shown.clone(),
            message: syntax_message(text, &e),
        })?;
        env::apply_env(&mut value, env).map_err(|(key, message)| ConfigError::Key {
            path: shown.clone(),
            key,
            message,
        })?;
        let raw: build::RawConfig = serde_path_to_error::deserialize(value).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Key {
                path: shown.clone(),
                key,
                message: e.into_inner().to_string(),
            }
        })?;
        build::build(raw, path)
    }

    #[must_use]
    pub fn org(&self, name: &OrgName) -> Option<&OrgConfig> {
        self.organizations.iter().find(|o| o.name == *name)
    }
}

/// Where a TOML syntax error is and what it is, without the offending line: that line may
/// hold an inline password, and this message reaches the journal.
fn syntax_message(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.split(|b| *b == b'\n').count();
            let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            format!("TOML syntax error at line {line}, column {column}: {message}")
        }
        None => format!("TOML syntax error: {message}"),
    }
}

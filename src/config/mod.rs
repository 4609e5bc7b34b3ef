//! Typed configuration: a TOML file (default `/etc/ptv-sync/config.toml`), overridden by
//! `PTV_SYNC_…` environment variables (`__` for nesting), validated whole at load.
//!
//! Per-organisation overrides name the organisation:
//! `PTV_SYNC_ORGANIZATION__<name>__PTV__USERNAME=…` (an array of tables has no stable
//! index, a name does).

pub mod bounds;
pub mod duration;
pub mod schedule;

use crate::model::{ApiVersion, Area, OrgName, StateKey};
use crate::plan::GuardLimits;
use crate::secret::SecretSource;
use bounds::{DAY, Size};
use duration::Human;
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

// ----- the file as written -----

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    state: RawState,
    #[serde(default)]
    daemon: RawDaemon,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    organization: Vec<RawOrg>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawState {
    dir: Option<PathBuf>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    database_url_env: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    listen: Option<String>,
    timezone: Option<String>,
    max_concurrent_orgs: Option<usize>,
    global_max_in_flight: Option<usize>,
    shutdown_grace: Option<Human>,
    allow_remote: Option<bool>,
    retry_after_failure: Option<Human>,
    retry_after_failure_max: Option<Human>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    retention_days: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    name: String,
    #[serde(default)]
    environment: Environment,
    #[serde(default)]
    api_version: ApiVersion,
    main_organization_id: String,
    source_id_prefix: String,
    main_area: Option<Area>,
    schedule: Option<String>,
    max_age: Option<Human>,
    retry_failed_after: Option<Human>,
    #[serde(default)]
    on_existing: OnExisting,
    ptv: RawPtv,
    #[serde(default)]
    source: RawSource,
    #[serde(default)]
    guard: RawGuard,
    #[serde(default)]
    drift: RawDrift,
    #[serde(default)]
    touch: RawTouch,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDrift {
    #[serde(default)]
    policy: DriftPolicy,
    schedule: Option<String>,
    max_reads_per_run: Option<usize>,
}

/// `[organization.touch]`: re-sending long-unchanged items before PTV archives them.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTouch {
    after: Option<Human>,
    window: Option<Human>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPtv {
    api_base: Option<String>,
    token_url: Option<String>,
    username: String,
    password: Option<String>,
    password_file: Option<PathBuf>,
    password_credential: Option<String>,
    password_env: Option<String>,
    api_user_organisation: Option<String>,
    api_key: Option<String>,
    api_key_file: Option<PathBuf>,
    api_key_credential: Option<String>,
    api_key_env: Option<String>,
    max_in_flight: Option<usize>,
    connect_timeout: Option<Human>,
    request_timeout: Option<Human>,
    token_refresh_margin: Option<Human>,
    retry_attempts: Option<u32>,
    retry_max_delay: Option<Human>,
    client_cert: Option<PathBuf>,
    extra_ca: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSource {
    #[serde(rename = "type")]
    kind: Option<String>,
    path: Option<PathBuf>,
    url: Option<String>,
    url_file: Option<PathBuf>,
    url_env: Option<String>,
    bearer_token_file: Option<PathBuf>,
    bearer_token_env: Option<String>,
    username: Option<String>,
    password_file: Option<PathBuf>,
    password_env: Option<String>,
    timeout: Option<Human>,
    max_file_size: Option<Size>,
    max_size: Option<Size>,
    organizations_query: Option<String>,
    services_query: Option<String>,
    channels_query: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGuard {
    max_items: Option<usize>,
    max_percent: Option<f64>,
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
        apply_env(&mut value, env).map_err(|(key, message)| ConfigError::Key {
            path: shown.clone(),
            key,
            message,
        })?;
        let raw: RawConfig = serde_path_to_error::deserialize(value).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Key {
                path: shown.clone(),
                key,
                message: e.into_inner().to_string(),
            }
        })?;
        build(raw, path)
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

/// The values of every `*_env` key: names of variables holding secrets, which are not
/// configuration overrides even when they start with `PTV_SYNC_`.
fn secret_variables(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                match v {
                    toml::Value::String(name) if k.ends_with("_env") => out.push(name.clone()),
                    other => secret_variables(other, out),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| secret_variables(v, out)),
        _ => {}
    }
}

/// Applies `PTV_SYNC_A__B=v` overrides. Values are read as TOML (numbers, booleans) and
/// fall back to strings.
fn apply_env(root: &mut toml::Value, env: &[(String, String)]) -> Result<(), (String, String)> {
    let mut named = Vec::new();
    secret_variables(root, &mut named);
    for (k, v) in env {
        let Some(rest) = k.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        // Variables of the command line and the test suite, not configuration keys.
        if matches!(rest, "CONFIG" | "LOG") || rest.starts_with("TEST_") || named.contains(k) {
            continue;
        }
        let parts: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        let value = toml::from_str::<toml::Table>(&format!("v = {v}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(v.clone()));
        let mut cur = &mut *root;
        let mut shown = String::new();
        let mut i = 0;
        while i < parts.len() {
            let part = &parts[i];
            shown = if shown.is_empty() {
                part.clone()
            } else {
                format!("{shown}.{part}")
            };
            let table = cur.as_table_mut().ok_or_else(|| {
                (
                    shown.clone(),
                    format!("{k} overrides a value that is not a table"),
                )
            })?;
            if part == "organization" && i == 0 {
                let name = parts.get(1).ok_or_else(|| {
                    (
                        shown.clone(),
                        format!("{k}: name the organisation: PTV_SYNC_ORGANIZATION__<name>__<key>"),
                    )
                })?;
                let orgs = table
                    .get_mut("organization")
                    .and_then(toml::Value::as_array_mut)
                    .ok_or_else(|| {
                        (
                            shown.clone(),
                            format!("{k}: no [[organization]] in the file"),
                        )
                    })?;
                cur = orgs
                    .iter_mut()
                    .find(|o| {
                        o.get("name")
                            .and_then(toml::Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                    .ok_or_else(|| {
                        (
                            shown.clone(),
                            format!("{k}: no organisation named '{name}' in the file"),
                        )
                    })?;
                shown = format!("organization[{name}]");
                i += 2;
                continue;
            }
            if i == parts.len() - 1 {
                table.insert(part.clone(), value.clone());
                break;
            }
            cur = table
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            i += 1;
        }
    }
    Ok(())
}

fn secret(
    org: &str,
    what: &str,
    inline: Option<String>,
    file: Option<PathBuf>,
    credential: Option<String>,
    env: Option<String>,
) -> Result<Option<SecretSource>, String> {
    let given = [
        inline.is_some(),
        file.is_some(),
        credential.is_some(),
        env.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given > 1 {
        return Err(format!(
            "give the {what} of organisation '{org}' one way only: {what}_file, {what}_credential, {what}_env or {what}"
        ));
    }
    Ok(if let Some(f) = file {
        Some(SecretSource::File(f))
    } else if let Some(c) = credential {
        Some(SecretSource::Credential(c))
    } else if let Some(e) = env {
        Some(SecretSource::Env(e))
    } else if let Some(v) = inline {
        tracing::warn!(
            organization = org,
            "the {what} is written inline in the configuration file; move it to {what}_file or a systemd credential"
        );
        Some(SecretSource::Inline(secrecy::SecretString::from(v)))
    } else {
        None
    })
}

#[allow(clippy::too_many_lines)] // one linear pass over the file's sections reads best whole
fn build(raw: RawConfig, path: &Path) -> Result<Config, ConfigError> {
    let shown = path.display().to_string();
    let key_err = |key: &str, message: String| ConfigError::Key {
        path: shown.clone(),
        key: key.to_owned(),
        message,
    };
    let state = match (
        raw.state.database_url,
        raw.state.database_url_file,
        raw.state.database_url_env,
    ) {
        (None, None, None) => StateConfig::Sqlite {
            dir: raw
                .state
                .dir
                .or_else(|| std::env::var_os("STATE_DIRECTORY").map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from("/var/lib/ptv-sync")),
        },
        (Some(u), None, None) => {
            if crate::db_url::has_password(&u) {
                tracing::warn!(
                    "state.database_url has an inline password; prefer database_url_file"
                );
            }
            StateConfig::Postgres {
                url: SecretSource::Inline(secrecy::SecretString::from(u)),
            }
        }
        (None, Some(f), None) => StateConfig::Postgres {
            url: SecretSource::File(f),
        },
        (None, None, Some(e)) => StateConfig::Postgres {
            url: SecretSource::Env(e),
        },
        _ => {
            return Err(key_err(
                "state",
                "give database_url, database_url_file or database_url_env, only one".into(),
            ));
        }
    };
    let timezone: chrono_tz::Tz = raw
        .daemon
        .timezone
        .as_deref()
        .unwrap_or("Europe/Helsinki")
        .parse()
        .map_err(|e| {
            key_err(
                "daemon.timezone",
                format!("{e}; use an IANA name such as Europe/Helsinki"),
            )
        })?;
    let listen = raw
        .daemon
        .listen
        .as_deref()
        .unwrap_or("127.0.0.1:10187")
        .parse()
        .map_err(|e| {
            key_err(
                "daemon.listen",
                format!("{e}; write host:port, e.g. 127.0.0.1:10187"),
            )
        })?;
    let allow_remote = raw.daemon.allow_remote.unwrap_or(false);
    if !allow_remote && !std::net::SocketAddr::ip(&listen).is_loopback() {
        return Err(key_err(
            "daemon.listen",
            format!(
                "{listen} is reachable from the network, and /metrics and the admin endpoint have no TLS; listen on loopback (127.0.0.1:10187) behind a reverse proxy, or set daemon.allow_remote = true to serve /metrics remotely"
            ),
        ));
    }
    let retry_after_failure = bounds::duration(
        raw.daemon.retry_after_failure,
        Duration::from_secs(60),
        Duration::from_millis(100),
        DAY,
    )
    .map_err(|e| key_err("daemon.retry_after_failure", e))?;
    let retry_after_failure_max = bounds::duration(
        raw.daemon.retry_after_failure_max,
        Duration::from_secs(3600).max(retry_after_failure),
        retry_after_failure,
        DAY,
    )
    .map_err(|e| key_err("daemon.retry_after_failure_max", e))?;
    let daemon = DaemonConfig {
        listen,
        allow_remote,
        timezone,
        max_concurrent_orgs: bounds::count(raw.daemon.max_concurrent_orgs, 4, 1000)
            .map_err(|e| key_err("daemon.max_concurrent_orgs", e))?,
        global_max_in_flight: bounds::count(raw.daemon.global_max_in_flight, 32, 10_000)
            .map_err(|e| key_err("daemon.global_max_in_flight", e))?,
        shutdown_grace: bounds::duration(
            raw.daemon.shutdown_grace,
            Duration::from_secs(60),
            Duration::ZERO,
            DAY,
        )
        .map_err(|e| key_err("daemon.shutdown_grace", e))?,
        retry_after_failure,
        retry_after_failure_max,
    };
    let retention_days = bounds::within(raw.audit.retention_days, 5 * 365, 1, 100 * 366)
        .map_err(|e| key_err("audit.retention_days", e))?;
    if raw.organization.is_empty() {
        return Err(key_err(
            "organization",
            "no [[organization]] configured; add one (see config/example.toml)".into(),
        ));
    }
    let mut orgs = Vec::new();
    for (i, o) in raw.organization.into_iter().enumerate() {
        let k = |field: &str| format!("organization[{i}].{field}");
        let name = OrgName::parse(&o.name).map_err(|e| key_err(&k("name"), e))?;
        if orgs.iter().any(|x: &OrgConfig| x.name == name) {
            return Err(key_err(
                &k("name"),
                format!("organisation name '{name}' is used twice"),
            ));
        }
        let main_organization_id = uuid::Uuid::parse_str(&o.main_organization_id)
            .map(crate::model::PtvId::from)
            .map_err(|_| {
                key_err(
                    &k("main_organization_id"),
                    format!(
                        "'{}' is not a PTV organisation id (UUID)",
                        o.main_organization_id
                    ),
                )
            })?;
        let prefix_ok = !o.source_id_prefix.is_empty()
            && o.source_id_prefix.len() <= 20
            && o.source_id_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !prefix_ok {
            return Err(key_err(
                &k("source_id_prefix"),
                format!(
                    "'{}' must be 1-20 characters of A-Z, a-z, 0-9, '-' and '.' (PTV sourceIds allow nothing else)",
                    o.source_id_prefix
                ),
            ));
        }
        let schedule = Schedule::parse(o.schedule.as_deref().unwrap_or("0 0 2 * * *"), timezone)
            .map_err(|e| key_err(&k("schedule"), e))?;
        let drift = DriftConfig {
            policy: o.drift.policy,
            schedule: Schedule::parse(
                o.drift
                    .schedule
                    .as_deref()
                    .unwrap_or(DEFAULT_DRIFT_SCHEDULE),
                timezone,
            )
            .map_err(|e| key_err(&k("drift.schedule"), e))?,
            max_reads_per_run: match o.drift.max_reads_per_run {
                Some(0) => {
                    return Err(key_err(
                        &k("drift.max_reads_per_run"),
                        "must be at least 1 (leave it out to read every item each check)".into(),
                    ));
                }
                n => n,
            },
        };
        let (api_default, token_default) = default_urls(o.environment, o.api_version);
        let parse_url = |key: &str, s: &str| -> Result<url::Url, ConfigError> {
            let u = url::Url::parse(s).map_err(|e| key_err(key, format!("'{s}': {e}")))?;
            if o.environment == Environment::Production && u.scheme() != "https" {
                return Err(key_err(key, format!("'{s}': production needs https://")));
            }
            Ok(u)
        };
        let api_base = parse_url(
            &k("ptv.api_base"),
            o.ptv.api_base.as_deref().unwrap_or(api_default),
        )?;
        let token_url = parse_url(
            &k("ptv.token_url"),
            o.ptv.token_url.as_deref().unwrap_or(token_default),
        )?;
        let password = secret(&o.name, "password", o.ptv.password, o.ptv.password_file, o.ptv.password_credential, o.ptv.password_env)
            .map_err(|e| key_err(&k("ptv.password"), e))?
            .ok_or_else(|| key_err(&k("ptv.password_file"), format!("organisation '{}' has no password: set password_file, password_credential (systemd LoadCredential=) or password_env", o.name)))?;
        let api_key = secret(
            &o.name,
            "api_key",
            o.ptv.api_key,
            o.ptv.api_key_file,
            o.ptv.api_key_credential,
            o.ptv.api_key_env,
        )
        .map_err(|e| key_err(&k("ptv.api_key"), e))?;
        if o.api_version == ApiVersion::V12 && api_key.is_none() {
            return Err(key_err(
                &k("ptv.api_key_file"),
                "PTV v12 needs an API key: set api_key_file, api_key_credential or api_key_env"
                    .into(),
            ));
        }
        let production = o.environment == Environment::Production;
        let source = build_source(
            o.source,
            production,
            &|f| k(&format!("source.{f}")),
            &key_err,
        )?;
        let secs = Duration::from_secs;
        let dur = |key: &str, v: Option<Human>, default: Duration, min: Duration, max: Duration| {
            bounds::duration(v, default, min, max).map_err(|e| key_err(&k(key), e))
        };
        let max_age = dur("max_age", o.max_age, DAY, secs(60), DAY * 366)?;
        let retry_failed_after = dur(
            "retry_failed_after",
            o.retry_failed_after,
            DAY,
            Duration::ZERO,
            DAY * 366,
        )?;
        let connect_timeout = dur(
            "ptv.connect_timeout",
            o.ptv.connect_timeout,
            secs(10),
            Duration::from_millis(1),
            secs(600),
        )?;
        let request_timeout = dur(
            "ptv.request_timeout",
            o.ptv.request_timeout,
            secs(90),
            Duration::from_millis(1),
            secs(3600),
        )?;
        // PTV's tokens live a day (v11) or an hour (v12): a margin beyond that would log in
        // before every request, and a huge one overflowed the expiry arithmetic.
        let token_refresh_margin = dur(
            "ptv.token_refresh_margin",
            o.ptv.token_refresh_margin,
            secs(300),
            Duration::ZERO,
            DAY,
        )?;
        let retry_max_delay = dur(
            "ptv.retry_max_delay",
            o.ptv.retry_max_delay,
            secs(30),
            Duration::from_millis(1),
            secs(3600),
        )?;
        let retry_attempts = bounds::within(o.ptv.retry_attempts, 5, 1, 100)
            .map_err(|e| key_err(&k("ptv.retry_attempts"), e))?;
        let max_in_flight = bounds::count(o.ptv.max_in_flight, 4, 1000)
            .map_err(|e| key_err(&k("ptv.max_in_flight"), e))?;
        let guard = GuardLimits {
            max_items: o.guard.max_items.unwrap_or(10),
            max_percent: o.guard.max_percent.unwrap_or(20.0),
        };
        if !(0.0..=100.0).contains(&guard.max_percent) {
            return Err(key_err(
                &k("guard.max_percent"),
                "must be between 0 and 100".into(),
            ));
        }
        let touch = crate::plan::touch::TouchPolicy::new(
            o.touch
                .after
                .map_or(crate::plan::touch::TouchPolicy::default().after, |h| h.0),
            o.touch.window.map(|h| h.0),
        )
        .map_err(|(key, e)| key_err(&k(&format!("touch.{key}")), e))?;
        if let Some(a) = &o.main_area
            && a.area_type == crate::model::AreaType::LimitedArea
            && a.code_count() == 0
        {
            return Err(key_err(
                &k("main_area"),
                "LimitedArea needs municipality, region or county codes".into(),
            ));
        }
        orgs.push(OrgConfig {
            state_key: StateKey::of(&name),
            name,
            environment: o.environment,
            api_version: o.api_version,
            main_organization_id,
            source_id_prefix: o.source_id_prefix,
            main_area: o.main_area,
            schedule,
            max_age,
            retry_failed_after,
            on_existing: o.on_existing,
            ptv: PtvConfig {
                api_base,
                token_url,
                username: o.ptv.username,
                password,
                api_user_organisation: o.ptv.api_user_organisation,
                api_key,
                max_in_flight,
                connect_timeout,
                request_timeout,
                token_refresh_margin,
                retry_attempts,
                retry_max_delay,
                client_cert: o.ptv.client_cert,
                extra_ca: o.ptv.extra_ca,
            },
            source,
            guard,
            drift,
            touch,
        });
    }
    Ok(Config {
        path: path.to_owned(),
        state,
        daemon,
        audit_retention: chrono::Duration::days(i64::from(retention_days)),
        organizations: orgs,
    })
}

fn build_source(
    s: RawSource,
    production: bool,
    k: &dyn Fn(&str) -> String,
    key_err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<SourceConfig, ConfigError> {
    let timeout = bounds::duration(
        s.timeout,
        Duration::from_secs(60),
        Duration::from_millis(1),
        Duration::from_secs(3600),
    )
    .map_err(|e| key_err(&k("timeout"), e))?;
    let max_size = s.max_size.map_or(crate::source::DEFAULT_MAX_SIZE, |m| m.0);
    match s.kind.as_deref().unwrap_or("dir") {
        "dir" => Ok(SourceConfig::Dir {
            path: s.path.ok_or_else(|| {
                key_err(
                    &k("path"),
                    "the dir source needs `path`, the folder of YAML/JSON documents".into(),
                )
            })?,
            limits: crate::source::DirLimits {
                max_file_size: s
                    .max_file_size
                    .map_or(crate::source::DEFAULT_MAX_FILE_SIZE, |m| m.0),
                max_size,
            },
        }),
        "http" => {
            let raw = s
                .url
                .ok_or_else(|| key_err(&k("url"), "the http source needs `url`".into()))?;
            let url =
                url::Url::parse(&raw).map_err(|e| key_err(&k("url"), format!("'{raw}': {e}")))?;
            if production && url.scheme() != "https" {
                return Err(key_err(
                    &k("url"),
                    format!(
                        "'{}': production needs https:// (the snapshot and its credentials would cross the network in clear)",
                        crate::db_url::redact(&raw)
                    ),
                ));
            }
            let auth = match (s.bearer_token_file, s.bearer_token_env, s.username) {
                (Some(f), None, None) => crate::source::HttpAuth::Bearer(SecretSource::File(f)),
                (None, Some(e), None) => crate::source::HttpAuth::Bearer(SecretSource::Env(e)),
                (None, None, Some(u)) => crate::source::HttpAuth::Basic {
                    username: u,
                    password: match (s.password_file, s.password_env) {
                        (Some(f), None) => SecretSource::File(f),
                        (None, Some(e)) => SecretSource::Env(e),
                        _ => {
                            return Err(key_err(
                                &k("password_file"),
                                "basic auth needs password_file or password_env (one)".into(),
                            ));
                        }
                    },
                },
                (None, None, None) => crate::source::HttpAuth::None,
                _ => return Err(key_err(
                    &k("bearer_token_file"),
                    "choose one: bearer_token_file, bearer_token_env or username + password_file"
                        .into(),
                )),
            };
            Ok(SourceConfig::Http {
                url,
                auth,
                timeout,
                max_size,
            })
        }
        "sql" => {
            let url = match (s.url, s.url_file, s.url_env) {
                (Some(u), None, None) => SecretSource::Inline(secrecy::SecretString::from(u)),
                (None, Some(f), None) => SecretSource::File(f),
                (None, None, Some(e)) => SecretSource::Env(e),
                _ => {
                    return Err(key_err(
                        &k("url"),
                        "the sql source needs one of url, url_file, url_env".into(),
                    ));
                }
            };
            let queries = crate::source::SqlQueries {
                organizations: s.organizations_query,
                services: s.services_query,
                channels: s.channels_query,
            };
            if queries.organizations.is_none()
                && queries.services.is_none()
                && queries.channels.is_none()
            {
                return Err(key_err(&k("services_query"), "the sql source needs at least one of organizations_query, services_query, channels_query".into()));
            }
            Ok(SourceConfig::Sql {
                url,
                queries,
                timeout,
                production,
            })
        }
        other => Err(key_err(
            &k("type"),
            format!("unknown source type '{other}'; use dir, http or sql"),
        )),
    }
}

//! From the file as written (`Raw*`, read strictly: unknown keys are errors) to the
//! validated [`Config`]: every check names the key at fault and says what to use.

use super::bounds::{self, DAY, Size};
use super::duration::Human;
use super::schedule::Schedule;
use super::{
    Config, ConfigError, DEFAULT_DRIFT_SCHEDULE, DaemonConfig, DriftConfig, DriftPolicy,
    Environment, OnExisting, OrgConfig, PtvConfig, SourceConfig, StateConfig, default_urls,
};
use crate::model::{ApiVersion, Area, OrgName, StateKey};
use crate::plan::GuardLimits;
use crate::secret::SecretSource;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
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
pub(super) fn build(raw: RawConfig, path: &Path) -> Result<Config, ConfigError> {
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

//! `ptv-sync doctor`: checks the set-up one line at a time, each with what to do when it is
//! not right. Nothing is written to PTV; the state store is only read and rewritten as it
//! was. Exit 0 when nothing failed (warnings allowed), 1 otherwise.

use super::exit;
use crate::config::{Config, OrgConfig, SourceConfig, StateConfig};
use crate::model::OrgName;
use crate::secret::SecretSource;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this organisation (by its configured name).
    #[arg(long, value_parser = OrgName::parse)]
    pub org: Option<OrgName>,
    /// The checks as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One check's result: what was checked, what was found and, unless ok, what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub level: Level,
    pub check: String,
    pub found: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn ok(check: impl Into<String>, found: impl Into<String>) -> Check {
    Check {
        level: Level::Ok,
        check: check.into(),
        found: found.into(),
        fix: None,
    }
}

fn bad(
    level: Level,
    check: impl Into<String>,
    found: impl Into<String>,
    fix: impl Into<String>,
) -> Check {
    Check {
        level,
        check: check.into(),
        found: found.into(),
        fix: Some(fix.into()),
    }
}

/// How far PTV's clock may be from ours before tokens and audit times mislead.
const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(30);
/// A doctor check never waits longer than this on one network call.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(20);

pub async fn run(config_path: &Path, args: &Args) -> anyhow::Result<u8> {
    let checks = checks(config_path, args.org.as_ref()).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for c in &checks {
            println!("{}", line(c));
        }
    }
    Ok(if checks.iter().any(|c| c.level == Level::Fail) {
        exit::FAILURE
    } else {
        exit::OK
    })
}

/// `ok   check: found`, or `FAIL check: found; fix: ...`.
#[must_use]
pub fn line(c: &Check) -> String {
    let level = match c.level {
        Level::Ok => "ok  ",
        Level::Warn => "WARN",
        Level::Fail => "FAIL",
    };
    match &c.fix {
        None => format!("{level} {}: {}", c.check, c.found),
        Some(fix) => format!("{level} {}: {}; fix: {fix}", c.check, c.found),
    }
}

/// Every check, in the order an operator fixes things.
pub async fn checks(config_path: &Path, org: Option<&OrgName>) -> Vec<Check> {
    let cfg = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            return vec![bad(
                Level::Fail,
                "configuration",
                format!("{e}"),
                format!(
                    "correct {} and run `ptv-sync doctor` again",
                    config_path.display()
                ),
            )];
        }
    };
    let mut out = vec![ok(
        "configuration",
        format!(
            "{} loads ({} organisation(s))",
            config_path.display(),
            cfg.organizations.len()
        ),
    )];
    let orgs = match super::selected(&cfg, org) {
        Ok(o) => o,
        Err(e) => {
            out.push(bad(
                Level::Fail,
                "organisation",
                format!("{e}"),
                "pass a configured --org",
            ));
            return out;
        }
    };
    if let StateConfig::Postgres { url } = &cfg.state {
        out.push(secret_check("state database URL", url));
    }
    out.extend(state_checks(&cfg, &orgs).await);
    for o in orgs {
        out.extend(org_checks(o).await);
    }
    out.push(listen_check(&cfg));
    out
}

/// A secret is readable, and a file holding one is not readable by group or others.
fn secret_check(what: &str, s: &SecretSource) -> Check {
    if let SecretSource::File(path) = s {
        use std::os::unix::fs::PermissionsExt as _;
        match std::fs::metadata(path) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                return bad(
                    Level::Fail,
                    what,
                    format!(
                        "{} is open to group or others (mode {:04o})",
                        path.display(),
                        m.permissions().mode() & 0o7777
                    ),
                    format!(
                        "chmod 600 {} (owner: the user ptv-sync runs as)",
                        path.display()
                    ),
                );
            }
            Ok(_) => {}
            Err(e) => {
                return bad(
                    Level::Fail,
                    what,
                    format!("{}: {e}", path.display()),
                    "create the file or correct the path in the configuration",
                );
            }
        }
    }
    match s.read(what) {
        Ok(_) if matches!(s, SecretSource::Inline(_)) => bad(
            Level::Warn,
            what,
            "written inline in the configuration",
            "move it to a file (mode 0600) or a systemd credential",
        ),
        Ok(_) => ok(what, format!("readable ({s:?})")),
        Err(e) => bad(
            Level::Fail,
            what,
            format!("{e}"),
            "make the secret readable by the user ptv-sync runs as",
        ),
    }
}

async fn state_checks(cfg: &Config, orgs: &[&OrgConfig]) -> Vec<Check> {
    const WHAT: &str = "state store";
    if let StateConfig::Sqlite { dir } = &cfg.state
        && dir.exists()
        && let Err(e) = tempfile::tempfile_in(dir)
    {
        return vec![bad(
            Level::Fail,
            WHAT,
            format!("{} is not writable: {e}", dir.display()),
            "give the directory to the user ptv-sync runs as (systemd: StateDirectory=)",
        )];
    }
    let store = match crate::startup::open_store(cfg, crate::store::OpenMode::MustExist).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return vec![bad(
                Level::Warn,
                WHAT,
                "no state database yet",
                "the first `ptv-sync resync` or daemon start creates it",
            )];
        }
        Err(e) => {
            return vec![bad(
                Level::Fail,
                WHAT,
                format!("{e:#}"),
                "check the state database's address, rights and that the daemon ran its migrations",
            )];
        }
    };
    if let Err(e) = store.ping().await {
        return vec![bad(
            Level::Fail,
            WHAT,
            format!("{e}"),
            "check that the database runs and answers",
        )];
    }
    // A write that changes nothing proves the store takes writes.
    for o in orgs {
        match store.org_state(o.state_key()).await {
            Ok(Some(s)) => {
                if let Err(e) = store.put_org_state(&s).await {
                    return vec![bad(
                        Level::Fail,
                        WHAT,
                        format!("not writable: {e}"),
                        "give ptv-sync's user write access to the state database",
                    )];
                }
            }
            Ok(None) => {}
            Err(e) => {
                return vec![bad(
                    Level::Fail,
                    WHAT,
                    format!("{e}"),
                    "check the state database",
                )];
            }
        }
    }
    vec![ok(WHAT, "reachable, migrated and writable")]
}

async fn org_checks(o: &OrgConfig) -> Vec<Check> {
    let name = |what: &str| format!("{} {what}", o.name);
    let mut out = vec![secret_check(&name("PTV password"), &o.ptv.password)];
    if let Some(k) = &o.ptv.api_key {
        out.push(secret_check(&name("PTV API key"), k));
    }
    match &o.source {
        SourceConfig::Sql { url, .. } => out.push(secret_check(&name("source URL"), url)),
        SourceConfig::Http { auth, .. } => match auth {
            crate::source::HttpAuth::Bearer(s)
            | crate::source::HttpAuth::Basic { password: s, .. } => {
                out.push(secret_check(&name("source secret"), s));
            }
            crate::source::HttpAuth::None => {}
        },
        SourceConfig::Dir { .. } => {}
    }
    out.push(
        match tokio::time::timeout(NETWORK_TIMEOUT, crate::pipeline::read_source(o)).await {
            Ok(Ok(v)) => {
                let errors = v
                    .findings
                    .iter()
                    .filter(|f| f.severity == crate::validate::Severity::Error)
                    .count();
                let found = format!(
                    "read whole: {} items, {} findings ({errors} errors)",
                    v.present.len(),
                    v.findings.len()
                );
                if errors > 0 {
                    bad(
                        Level::Warn,
                        name("source"),
                        found,
                        "`ptv-sync validate` lists them",
                    )
                } else {
                    ok(name("source"), found)
                }
            }
            Ok(Err(e)) => bad(
                Level::Fail,
                name("source"),
                format!("{e}"),
                "make the source reachable and readable; `ptv-sync validate` shows the same",
            ),
            Err(_) => bad(
                Level::Fail,
                name("source"),
                format!("no answer within {}s", NETWORK_TIMEOUT.as_secs()),
                "check the source's address and network path",
            ),
        },
    );
    out.push(login_check(o).await);
    out.push(clock_check(o).await);
    out.push(tls_check(o));
    if let Some(c) = certificate_check(o, Utc::now()) {
        out.push(c);
    }
    let next: Vec<String> = o
        .schedule
        .upcoming(3)
        .iter()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S %Z").to_string())
        .collect();
    out.push(ok(
        name("schedule"),
        format!("'{}'; next runs {}", o.schedule.expr, next.join(", ")),
    ));
    out
}

/// Logs in and reads the main organisation: the account, its rights and the id at once.
async fn login_check(o: &OrgConfig) -> Check {
    let what = format!("{} PTV login", o.name);
    let global = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    let mut client = crate::startup::client_config(o);
    // One attempt: a doctor reports, it does not wait out a backoff.
    client.retry.max_attempts = 1;
    let api = match crate::ptv::connect(client, global) {
        Ok(a) => a,
        Err(e) => {
            return bad(
                Level::Fail,
                what,
                format!("{e}"),
                "correct the [organization.ptv] settings",
            );
        }
    };
    let main = o.main_organization_id;
    // The organisation read is public; the restricted read of a service id that cannot
    // exist needs a token, so it logs in and answers "not found".
    let read = tokio::time::timeout(NETWORK_TIMEOUT, async {
        let org = api
            .read(crate::model::ItemKind::Organization, None, &main)
            .await?;
        api.read(
            crate::model::ItemKind::Service,
            None,
            // The nil GUID: no item can have it (the same request as always).
            &crate::model::PtvId::from(uuid::Uuid::nil()),
        )
        .await?;
        Ok::<_, crate::ptv::PtvError>(org)
    })
    .await;
    match read {
        Ok(Ok(Some(_))) => {
            let Some(expiry) = api.token_expiry() else {
                return bad(
                    Level::Warn,
                    what,
                    format!("main organisation {main} found, but no login was needed to read it"),
                    "run `ptv-sync resync --dry-run` to try the login",
                );
            };
            let m = (expiry - Utc::now()).num_minutes();
            ok(
                what,
                format!(
                    "logged in as {} at {}; token valid for {}h {:02}m; main organisation {main} found",
                    o.ptv.username,
                    o.ptv.token_url,
                    m / 60,
                    m % 60
                ),
            )
        }
        Ok(Ok(None)) => bad(
            Level::Fail,
            what,
            format!("logged in, but PTV has no organisation {main}"),
            "correct main_organization_id (PTV's id of your organisation)",
        ),
        Ok(Err(e)) => bad(
            Level::Fail,
            what,
            format!("{e}"),
            "check the username and password (DVV's Palveluhallinta) and the token_url",
        ),
        Err(_) => bad(
            Level::Fail,
            what,
            format!("no answer within {}s", NETWORK_TIMEOUT.as_secs()),
            "check the network path to PTV (proxy, firewall)",
        ),
    }
}

/// Compares our clock with the `Date` header of PTV's answer.
async fn clock_check(o: &OrgConfig) -> Check {
    let what = format!("{} clock", o.name);
    let client = match reqwest::Client::builder()
        .timeout(NETWORK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => return bad(Level::Warn, what, format!("{e}"), "-"),
    };
    let sent = Utc::now();
    let resp = match client.head(o.ptv.token_url.clone()).send().await {
        Ok(r) => r,
        Err(e) => {
            return bad(
                Level::Warn,
                what,
                format!("PTV did not answer: {e}"),
                "check the network path to PTV",
            );
        }
    };
    let received = Utc::now();
    let date = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
    let Some(date) = date else {
        return bad(Level::Warn, what, "PTV's answer has no Date header", "-");
    };
    let ours = sent + (received - sent) / 2;
    let skew = ours - date.with_timezone(&Utc);
    // The header has whole seconds.
    let found = format!("{:+} s against PTV's Date header", skew.num_seconds());
    if skew.abs() > MAX_CLOCK_SKEW {
        bad(
            Level::Warn,
            what,
            found,
            "synchronise the clock (systemd-timesyncd or chrony)",
        )
    } else {
        ok(what, found)
    }
}

/// The HTTP client does not expose the negotiated version; it refuses anything below TLS 1.2.
fn tls_check(o: &OrgConfig) -> Check {
    let what = format!("{} TLS", o.name);
    if o.ptv.api_base.scheme() == "https" && o.ptv.token_url.scheme() == "https" {
        ok(
            what,
            "TLS 1.2 or 1.3 required by the client (the negotiated version is not reported)",
        )
    } else {
        bad(
            Level::Warn,
            what,
            format!("{} is not https", o.ptv.api_base),
            "use https except against the simulator",
        )
    }
}

/// The client certificate's expiry: warn 60 days ahead, fail once expired.
fn certificate_check(o: &OrgConfig, now: DateTime<Utc>) -> Option<Check> {
    let path = o.ptv.client_cert.as_ref()?;
    let what = format!("{} client certificate", o.name);
    Some(match crate::certificate::not_after(path) {
        Ok(t) => {
            let found = format!(
                "{} expires {} ({} days)",
                path.display(),
                t.format("%Y-%m-%d"),
                (t - now).num_days()
            );
            if t <= now {
                bad(
                    Level::Fail,
                    what,
                    found,
                    "order a new certificate and replace the file",
                )
            } else if t - now < crate::certificate::EXPIRY_WARNING {
                bad(
                    Level::Warn,
                    what,
                    found,
                    "order a new certificate now and replace the file before it expires",
                )
            } else {
                ok(what, found)
            }
        }
        Err(e) => bad(
            Level::Fail,
            what,
            format!("{e:#}"),
            "point client_cert at the PEM file",
        ),
    })
}

fn listen_check(cfg: &Config) -> Check {
    const WHAT: &str = "listen address";
    let addr = cfg.daemon.listen;
    if !addr.ip().is_loopback() {
        return bad(
            Level::Warn,
            WHAT,
            format!("{addr} is reachable from the network"),
            "keep /metrics on loopback behind a reverse proxy, or firewall the port",
        );
    }
    match std::net::TcpListener::bind(addr) {
        Ok(_) => ok(WHAT, format!("{addr} (loopback) is free")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => bad(
            Level::Warn,
            WHAT,
            format!("{addr} is in use"),
            "fine if the daemon is running; otherwise set daemon.listen to a free port",
        ),
        Err(e) => bad(
            Level::Fail,
            WHAT,
            format!("{addr}: {e}"),
            "set daemon.listen to a free loopback port",
        ),
    }
}

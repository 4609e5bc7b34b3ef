//! The command line: one binary, clap subcommands, exit codes that scripts can branch on.
//! `demo`, `sim` and `bench` exist only with the `sim` feature; a build without it says so
//! when asked for one.

mod admin_cmd;
mod adopt_cmd;
#[cfg(feature = "sim")]
mod bench_cmd;
#[cfg(feature = "sim")]
mod bench_touch;
#[cfg(feature = "sim")]
mod demo_cmd;
mod doctor_cmd;
mod drift_cmd;
mod export_cmd;
mod output;
mod plan_cmd;
mod readiness_cmd;
mod resync_cmd;
mod status_cmd;
mod validate_cmd;

use crate::config::{self, Config, OrgConfig};
use crate::model::OrgName;
use crate::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "ptv-sync",
    version,
    about = "Keeps an organisation's services in the Finnish Service Catalogue (PTV) in step with its source system"
)]
#[cfg_attr(not(feature = "sim"), command(after_help = LEAN_BUILD))]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "PTV_SYNC_CONFIG", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// Log output: auto (journald under systemd, else human), human or json.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the source against PTV's rules; exit 1 on any error.
    Validate(validate_cmd::Args),
    /// Show what a sync would create, update, restore and archive, without touching PTV.
    /// Exit 0: no changes, 2: changes, 1: error.
    Plan(plan_cmd::Args),
    /// Sync now: create, update, restore and archive so that PTV equals the source.
    /// Exit 0: done, 2: done with item failures or an archive-guard trip, 1: fatal.
    Resync(resync_cmd::Args),
    /// Match what PTV already holds (made in the UI, or before a lost state) to the
    /// source; `--apply` links it. Exit 0: nothing to link, 2: something to link, 1: error.
    Adopt(adopt_cmd::Args),
    /// Read back what PTV holds for every managed item and compare it with what was last
    /// sent: edits made in PTV, archives, removed connections. Recorded by the drift
    /// policy. Exit 0: all in step, 2: drift, 1: error.
    Drift(drift_cmd::Args),
    /// Write what PTV holds for the organisation as source documents (one file per
    /// item, with `ptvId`), listing what the source format cannot carry. Exit 0, 1: error.
    Export(export_cmd::Args),
    /// Per organisation: last run, last success, items by state, items needing a person.
    Status(status_cmd::Args),
    /// DVV's technical readiness test against PTV's customer test environment: a fresh test
    /// set through DVV's checklist, read back, written as report.md, report.html and
    /// content.xlsx. Exit 0: every item passed, 2: an item failed, 1: error (production
    /// configuration included).
    Readiness(readiness_cmd::Args),
    /// Keep an item from ever being archived.
    Protect(admin_cmd::ProtectArgs),
    /// Undo `protect`.
    Unprotect(admin_cmd::ProtectArgs),
    /// The hash-chained audit log of every PTV write.
    #[command(subcommand)]
    Audit(admin_cmd::AuditCommand),
    /// Check the set-up: configuration, secrets, state store, source, PTV login, clock,
    /// certificate, schedule, listen address. Exit 0: no failure, 1: something to fix.
    Doctor(doctor_cmd::Args),
    /// Run the daemon: scheduled syncs, health and metrics, admin endpoint for `resync`.
    Run,
    /// Run everything on embedded defaults: the PTV simulator, the example municipality,
    /// two syncs. No configuration needed.
    #[cfg(feature = "sim")]
    Demo(demo_cmd::Args),
    /// Run the PTV simulator on loopback for people and scripts.
    #[cfg(feature = "sim")]
    Sim(SimArgs),
    /// Measure plan, sync, churn and idle-memory figures on this machine (release build).
    #[cfg(feature = "sim")]
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) to stdout.
    #[command(hide = true)]
    Man,
}

/// The completion script for `shell`, as `ptv-sync completions SHELL` prints it.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    use clap::CommandFactory as _;
    clap_complete::generate(shell, &mut Cli::command(), "ptv-sync", out);
}

/// The man page, as `ptv-sync man` prints it.
pub fn man_page(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory as _;
    clap_mangen::Man::new(Cli::command()).render(out)
}

/// The commands that need the simulator, named when a build without it is asked for one.
const SIM_COMMANDS: [&str; 3] = ["demo", "sim", "bench"];

#[cfg(not(feature = "sim"))]
const LEAN_BUILD: &str = "This build has no PTV simulator (built without the cargo feature `sim`), so it \
     lacks the demo, sim and bench commands; a default build (`cargo build --release`) has them.";

#[cfg(feature = "sim")]
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Token lifetime, e.g. 24h or 30s.
    #[arg(long, default_value = "24h")]
    pub token_lifetime: String,
    /// A JSON file of items PTV holds before ptv-sync arrives (made in the UI, by
    /// another API user, drafts, Modified, archived); see `ptv_sync::sim::SeedItem`.
    #[arg(long, value_name = "PATH")]
    pub seed_catalogue: Option<std::path::PathBuf>,
}

/// Exit codes shared by commands.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILURE: u8 = 1;
    /// `plan`: there are changes. `resync`: done, with item failures or a guard trip.
    pub const CHANGES: u8 = 2;
}

#[must_use]
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(name) = missing_sim_command(&e) {
                eprintln!(
                    "error: this ptv-sync was built without the PTV simulator (cargo feature `sim`), so it has no `{name}` command; use a default build (`cargo build --release`) for {}",
                    SIM_COMMANDS.join(", ")
                );
                return ExitCode::from(exit::FAILURE);
            }
            e.exit()
        }
    };
    let level = if prints_tables(&cli.command) {
        "warn"
    } else {
        "warn,ptv_sync=info"
    };
    telemetry::init(cli.log_format, level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", output::escape(&format!("{e:#}")));
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// The demo, the benchmarks and the readiness test print tables; keep routine log lines
/// out of them.
fn prints_tables(command: &Command) -> bool {
    #[cfg(feature = "sim")]
    if matches!(command, Command::Demo(_) | Command::Bench(_)) {
        return true;
    }
    matches!(command, Command::Readiness(_))
}

/// A command this build lacks because it was built without the simulator: clap knows
/// nothing of it, so its "unrecognized subcommand" would not say why.
fn missing_sim_command(e: &clap::Error) -> Option<&str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if cfg!(feature = "sim") || e.kind() != ErrorKind::InvalidSubcommand {
        return None;
    }
    match e.get(ContextKind::InvalidSubcommand) {
        Some(ContextValue::String(name)) if SIM_COMMANDS.contains(&name.as_str()) => {
            Some(name.as_str())
        }
        _ => None,
    }
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Validate(args) => validate_cmd::run(&load(&cli.config)?, &args).await,
        Command::Plan(args) => plan_cmd::run(&load(&cli.config)?, &args).await,
        Command::Resync(args) => resync_cmd::run(&load(&cli.config)?, &args).await,
        Command::Adopt(args) => adopt_cmd::run(&load(&cli.config)?, &args).await,
        Command::Export(args) => export_cmd::run(&load(&cli.config)?, &args).await,
        Command::Status(args) => status_cmd::run(&load(&cli.config)?, &args).await,
        Command::Drift(args) => drift_cmd::run(&load(&cli.config)?, &args).await,
        Command::Readiness(args) => readiness_cmd::run(&load(&cli.config)?, &args).await,
        Command::Protect(args) => admin_cmd::protect(&load(&cli.config)?, &args, true).await,
        Command::Unprotect(args) => admin_cmd::protect(&load(&cli.config)?, &args, false).await,
        Command::Audit(cmd) => admin_cmd::audit(&load(&cli.config)?, &cmd).await,
        #[cfg(feature = "sim")]
        Command::Demo(args) => demo_cmd::run(&args).await,
        Command::Doctor(args) => doctor_cmd::run(&cli.config, &args).await,
        Command::Completions { shell } => {
            completions(shell, &mut std::io::stdout().lock());
            Ok(exit::OK)
        }
        Command::Man => {
            man_page(&mut std::io::stdout().lock())?;
            Ok(exit::OK)
        }
        #[cfg(feature = "sim")]
        Command::Bench(cmd) => bench_cmd::run(&cmd).await,
        Command::Run => {
            crate::daemon::run(&cli.config).await?;
            Ok(exit::OK)
        }
        #[cfg(feature = "sim")]
        Command::Sim(args) => {
            let (mut config, _, _) = crate::sim::SimConfig::single_org();
            config.token_lifetime = crate::config::duration::parse(&args.token_lifetime)
                .map_err(|e| anyhow::anyhow!("--token-lifetime: {e}"))?;
            if let Some(path) = &args.seed_catalogue {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("--seed-catalogue: cannot read {}: {e}", path.display())
                })?;
                config.catalogue = crate::sim::parse_seed(&text).map_err(|e| {
                    anyhow::anyhow!(
                        "--seed-catalogue: {} is not a seed file (a JSON array of items or {{\"items\": [...]}}): {e}",
                        path.display()
                    )
                })?;
            }
            crate::sim::serve_cli(args.port, config).await?;
            Ok(exit::OK)
        }
    }
}

/// Reads every secret the selected organisations (and the state store) need, as a run
/// would. Warnings go to stderr here; the failures come back, one line each.
fn check_secrets(cfg: &Config, orgs: &[&OrgConfig]) -> Vec<String> {
    let mut all: Vec<(String, &crate::secret::SecretSource)> = Vec::new();
    if let config::StateConfig::Postgres { url } = &cfg.state {
        all.push(("state database URL".to_owned(), url));
    }
    for org in orgs {
        all.extend(org.secrets());
    }
    let mut failures = Vec::new();
    for (what, source) in all {
        match source.check(&what) {
            Ok(crate::secret::CheckNote::Fine) => {}
            Ok(crate::secret::CheckNote::Warning(w)) => {
                eprintln!("warning: {}", output::escape(&w));
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    failures
}

fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

/// The organisation's single-writer lock, as the daemon takes it; another process holding
/// it is an error that says to wait.
async fn lock_org(
    store: &dyn crate::store::StateStore,
    org: &OrgConfig,
) -> anyhow::Result<crate::store::OrgLock> {
    store.lock_org(org.state_key()).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "organisation {} is being synced by another ptv-sync process; try again when it is done",
            org.name
        )
    })
}

/// The organisations a command applies to: one by `--org`, or all.
fn selected<'a>(cfg: &'a Config, org: Option<&OrgName>) -> anyhow::Result<Vec<&'a OrgConfig>> {
    match org {
        Some(name) => cfg.org(name).map(|o| vec![o]).ok_or_else(|| {
            let known: Vec<&str> = cfg.organizations.iter().map(|o| o.name.as_str()).collect();
            anyhow::anyhow!(
                "no organisation '{name}' in {}; configured: {}",
                cfg.path.display(),
                known.join(", ")
            )
        }),
        None => Ok(cfg.organizations.iter().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_and_the_man_page_name_every_command() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let mut out = Vec::new();
            completions(shell, &mut out);
            let text = String::from_utf8(out).unwrap();
            for cmd in ["doctor", "resync", "completions", "validate"] {
                assert!(text.contains(cmd), "{shell}: {cmd} missing");
            }
        }
        let mut out = Vec::new();
        man_page(&mut out).unwrap();
        let man = String::from_utf8(out).unwrap();
        assert!(
            man.starts_with(".ie") || man.contains(".TH ptv-sync 1"),
            "{man}"
        );
        assert!(man.contains("doctor") && man.contains("Finnish Service Catalogue"));
        assert!(
            !man.contains("ptv\\-sync\\-man"),
            "the man command is hidden"
        );
    }
}

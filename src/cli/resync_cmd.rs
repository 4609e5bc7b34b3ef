use super::{exit, output, selected};
use crate::apply::{ItemResult, Progress, RunOptions, RunReport};
use crate::config::Config;
use crate::model::{ItemKind, OrgName};
use crate::startup::EngineBuilder;
use crate::store::{OpenMode, RunOutcome, RunTrigger};
use std::io::{IsTerminal, Write as _};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    Organizations,
    Services,
    Channels,
}

#[derive(Debug, clap::Args)]
#[allow(clippy::struct_excessive_bools)] // command-line flags
pub struct Args {
    /// Only this organisation (by its configured name).
    #[arg(long, value_parser = OrgName::parse)]
    pub org: Option<OrgName>,
    /// Re-send every item, failed ones included.
    #[arg(long)]
    pub full: bool,
    /// Only this kind of item (services include their connection sets).
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// Only the item with this source id.
    #[arg(long)]
    pub item: Option<String>,
    /// With --item: send the item even if the source did not change it, overwriting what
    /// PTV holds (an item the drift check marked drifted, edited in PTV).
    #[arg(long, requires = "item")]
    pub force: bool,
    /// Walk the same path and write nothing, to PTV or to the state store.
    #[arg(long)]
    pub dry_run: bool,
    /// Lift the archive guard for this run.
    #[arg(long)]
    pub allow_mass_archive: bool,
    /// The summary as JSON.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    #[must_use]
    /// The one conversion from the command line to a run's options.
    pub fn run_options(&self, trigger: RunTrigger) -> RunOptions {
        RunOptions {
            trigger,
            full: self.full || self.force,
            only: self.only.map(|o| {
                vec![match o {
                    Only::Organizations => ItemKind::Organization,
                    Only::Services => ItemKind::Service,
                    Only::Channels => ItemKind::Channel,
                }]
            }),
            item: self.item.clone(),
            dry_run: self.dry_run,
            allow_mass_archive: self.allow_mass_archive,
        }
    }
}

/// Progress bars on a terminal, one plain line per item otherwise.
pub struct TermProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl TermProgress {
    #[must_use]
    pub fn new(org: &str) -> Arc<Self> {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix:>12} [{bar:30}] {pos}/{len} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b.set_prefix(org.to_owned());
            b
        });
        Arc::new(TermProgress { bar })
    }
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for TermProgress {
    fn planned(&self, total: usize) {
        if let Some(b) = &self.bar {
            b.set_length(total as u64);
        }
    }
    fn done(&self, r: &ItemResult) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(format!("{} {} {}", r.action.as_str(), r.kind, r.id));
        } else {
            let err = r
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            // Progress is a courtesy: a closed or full stderr (`2>&1 | head`) must not
            // stop the run, so write errors are ignored.
            let _ = writeln!(
                std::io::stderr().lock(),
                "{} {} {} {}{err}",
                r.outcome.as_str(),
                r.action.as_str(),
                r.kind,
                r.id
            );
        }
    }
}

/// Asks a running daemon to sync. `Ok(None)` when no daemon is running.
async fn via_daemon(cfg: &Config, args: &Args) -> anyhow::Result<Option<Vec<RunReport>>> {
    let path = crate::daemon::admin_token_path(cfg);
    let token = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!(
            "cannot read the daemon's admin secret {}: {e}; run as the daemon's user (e.g. `systemctl start ptv-sync-resync`) or root",
            path.display()
        ),
    };
    let req = crate::daemon::ResyncRequest {
        org: args.org.clone(),
        options: args.run_options(RunTrigger::Resync),
    };
    let url = format!("http://{}/admin/resync", cfg.daemon.listen);
    let client = reqwest::Client::builder().no_proxy().build()?;
    let resp = match client
        .post(&url)
        .bearer_auth(token.trim())
        .json(&req)
        .send()
        .await
    {
        Ok(r) => r,
        // A secret left by a stopped daemon: nobody listens, so sync in-process.
        Err(e) if e.is_connect() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let status = resp.status();
    if !status.is_success() {
        anyhow::bail!(
            "the daemon refused the resync ({status}): {}",
            resp.text().await.unwrap_or_default().trim()
        );
    }
    let reports: Vec<serde_json::Value> = resp.json().await?;
    Ok(Some(
        reports
            .into_iter()
            .filter_map(|r| serde_json::from_value::<RunReport>(r).ok())
            .collect(),
    ))
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    if let Some(reports) = via_daemon(cfg, args).await? {
        eprintln!(
            "asked the running daemon (http://{}) to sync now",
            cfg.daemon.listen
        );
        let mut code = exit::OK;
        for r in &reports {
            code = code.max(report_code(r));
            if !args.json {
                print_report(r);
            }
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&reports)?);
        }
        return Ok(code);
    }
    if args.dry_run {
        // A dry run that passes must mean the real one can log in: its secrets are there.
        let failures = super::check_secrets(cfg, &selected(cfg, args.org.as_ref())?);
        if !failures.is_empty() {
            anyhow::bail!("{}", failures.join("; "));
        }
    }
    let mode = if args.dry_run {
        OpenMode::MustExist
    } else {
        OpenMode::CreateIfMissing
    };
    // A dry run before the first real run has no state to read and must not create the
    // daemon's: it plans against an empty, throw-away store.
    let scratch = tempfile::tempdir()?;
    let store = if let Some(s) = crate::startup::open_store(cfg, mode).await? {
        s
    } else {
        let path = scratch.path().join(crate::startup::SQLITE_FILE);
        crate::store::open(
            &crate::store::StoreTarget::Sqlite { path },
            OpenMode::CreateIfMissing,
        )
        .await?
    };
    let global = crate::startup::global_limit(cfg);
    let mut code = exit::OK;
    let mut lost_lock = false;
    let mut reports = Vec::new();
    for org in selected(cfg, args.org.as_ref())? {
        // The same single-writer lock as the daemon: never two writers for one organisation.
        let lock = super::lock_org(store.as_ref(), org).await?;
        crate::store::interrupt_stale_runs(store.as_ref(), org.state_key(), chrono::Utc::now())
            .await?;
        // Fencing as in the daemon: a lock lost mid-run (its PostgreSQL session ended)
        // cancels the run, so no write starts while another instance may hold it.
        let lock: crate::store::SharedLock = Arc::new(tokio::sync::Mutex::new(Some(lock)));
        let cancel = tokio_util::sync::CancellationToken::new();
        let watch = tokio::spawn(crate::store::watch_lock(
            org.name.to_string(),
            lock.clone(),
            cancel.clone(),
            crate::store::LOCK_CHECK,
        ));
        let progress = TermProgress::new(org.name.as_str());
        let engine = EngineBuilder::connect(
            org.clone(),
            store.clone(),
            global.clone(),
            crate::startup::os_user(),
        )?
        .progress(progress.clone())
        .cancel(cancel.clone())
        .build();
        let result = engine.run(&args.run_options(RunTrigger::Resync)).await;
        progress.finish();
        watch.abort();
        let held = lock.lock().await.take();
        if let Some(l) = held
            && let Err(e) = l.release().await
        {
            tracing::warn!(organization = %org.name, "releasing the single-writer lock: {e}");
        }
        if cancel.is_cancelled() {
            eprintln!(
                "error: organisation {}: the single-writer lock was lost during the run (its database session ended), so the run stopped starting writes; what was written is recorded; run it again",
                org.name
            );
            lost_lock = true;
        }
        match result {
            Ok(report) => {
                code = code.max(report_code(&report));
                if !args.json {
                    print_report(&report);
                }
                reports.push(report);
            }
            Err(e) => {
                eprintln!("error: {}", output::escape(&e.to_string()));
                code = exit::FAILURE;
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(if lost_lock { exit::FAILURE } else { code })
}

#[must_use]
pub fn report_code(r: &RunReport) -> u8 {
    match r.outcome {
        RunOutcome::Ok | RunOutcome::Running => exit::OK,
        RunOutcome::Partial | RunOutcome::GuardTripped => exit::CHANGES,
        RunOutcome::Failed | RunOutcome::Interrupted => exit::FAILURE,
    }
}

pub fn print_report(r: &RunReport) {
    let t = output::summary_table(r);
    let dry = if r.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    println!(
        "{}: {}{dry}; {} unchanged, {} invalid, {} ms",
        r.organization,
        r.outcome.as_str(),
        r.unchanged,
        r.invalid,
        r.duration_ms
    );
    println!("{t}");
    for f in r.failures() {
        let line = format!(
            "  {} {} {} {}: {}",
            f.outcome.as_str(),
            f.action.as_str(),
            f.kind,
            f.id,
            f.error.as_deref().unwrap_or("")
        );
        println!("{}", output::escape(&line));
    }
    if let Some(g) = &r.guard {
        println!(
            "{}",
            output::escape(&format!("  ARCHIVE GUARD: archives skipped: {g}"))
        );
    }
    if r.dry_run {
        for line in output::step_lines(&r.plan) {
            println!("  {line}");
        }
    }
}

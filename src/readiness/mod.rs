//! `ptv-sync readiness`: DVV's technical readiness test (reference §11.5), run against
//! PTV's customer test environment with the same engine as every sync, and written up as
//! the report DVV reads.
//!
//! # Contract
//!
//! - Refuses an organisation configured with `environment = "production"`.
//! - Works on a fresh test set ([`testset`]): a sample of the organisation's valid source,
//!   completed from templates, every id and name suffixed with the run id, so that none
//!   was entered in the test environment before. Its state lives in a throw-away `SQLite`
//!   store under the organisation key `<org>#readiness-<run id>`: the organisation's own
//!   state is never opened, let alone written.
//! - Walks DVV's list ([`checklist`]) through `pipeline::prepare` and the engine's
//!   `apply`, stage by stage ([`runner`]); every item written is read back from PTV and
//!   compared field by field with what was sent ([`readback`]).
//! - Records every HTTP request (method, path, status, time) through the client's
//!   request log: never a header, body or query, so no token, password or key.
//! - Writes `report.md`, a self-contained `report.html` ([`report`]) and `content.xlsx`
//!   ([`xlsx`]) into the output directory; archives its whole test set at the end
//!   unless told to keep it.
//! - The caller maps [`Readiness::passed`] to the exit code: 0 passed, 2 an item failed.

mod checklist;
mod readback;
pub mod report;
mod runner;
mod templates;
mod testset;
mod xlsx;

use crate::config::{Environment, OrgConfig};
use crate::ptv::RequestRecord;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The customer test environment's UI, where the report's links point unless told
/// otherwise (reference §1).
pub const DEFAULT_UI_BASE: &str = "https://palvelutietovaranto.trn.suomi.fi";

/// What the command was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    /// Leave the test set in PTV (not archived at the end).
    pub keep: bool,
    /// The PTV UI the report links items to.
    pub ui_base: url::Url,
}

/// The whole test: what `--json` prints and the reports render.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub organization: crate::model::OrgName,
    pub run_id: String,
    pub api_version: String,
    pub started: DateTime<Utc>,
    pub finished: DateTime<Utc>,
    pub software: String,
    pub connection: ConnectionInfo,
    /// How the test set was made: sizes and what came from templates.
    pub test_set: Vec<String>,
    pub checklist: Vec<CheckItem>,
    /// Archiving the test set at the end; `None` with `--keep`.
    pub cleanup: Option<CheckItem>,
    pub kept: bool,
    pub passed: bool,
    /// The sheets of `content.xlsx`.
    pub sheets: Vec<SheetSummary>,
    #[serde(skip)]
    pub content: Vec<xlsx::Sheet>,
}

/// A sheet of `content.xlsx`: its name, columns and row count.
#[derive(Debug, Clone, Serialize)]
pub struct SheetSummary {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: usize,
}

/// The connection to PTV as the test saw it.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionInfo {
    pub api_base: String,
    pub token_url: String,
    pub tls: String,
    pub logins: u64,
    pub token_refreshes: u64,
    pub token_lifetime: String,
    pub requests: usize,
    /// Requests answered 429 or 5xx, or not answered, then retried or reported.
    pub failed_requests: usize,
}

/// One item of DVV's list.
#[derive(Debug, Clone, Serialize)]
pub struct CheckItem {
    pub number: u8,
    pub title: String,
    pub passed: bool,
    /// What was done and, when it failed, why.
    pub note: String,
    pub items: Vec<ItemCheck>,
    pub requests: Vec<RequestRecord>,
}

/// One PTV item within a checklist item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemCheck {
    /// "organisation", "service", "Phone channel", "connections", …
    pub kind: String,
    /// Our id in the test set.
    pub source_id: String,
    pub ptv_id: Option<crate::model::PtvId>,
    pub link: Option<String>,
    pub ok: bool,
    /// What the write did: "create ok", or the error.
    pub outcome: String,
    /// The read-back's verdict.
    pub readback: String,
}

/// The software's version, with the git commit when the build was given one
/// (`PTV_SYNC_GIT_SHA` at build time).
#[must_use]
pub fn software_version() -> String {
    match option_env!("PTV_SYNC_GIT_SHA") {
        Some(sha) if !sha.is_empty() => format!("ptv-sync {} ({sha})", env!("CARGO_PKG_VERSION")),
        _ => format!(
            "ptv-sync {} (no git commit recorded in this build)",
            env!("CARGO_PKG_VERSION")
        ),
    }
}

/// Runs the test for `org` and writes the reports into `opts.out`.
pub async fn run(
    org: &OrgConfig,
    global: Arc<Semaphore>,
    opts: &Options,
) -> anyhow::Result<Readiness> {
    if org.environment == Environment::Production {
        anyhow::bail!(
            "organisation {} is configured with environment = \"production\"; the readiness test writes a test set and must run against PTV's customer test environment: use a configuration for the test environment (environment = \"test\", its api_base and token_url)",
            org.name
        );
    }
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create the output directory {}", opts.out.display()))?;
    let readiness = checklist::run(org, global, opts).await?;
    report::write(&readiness, &opts.out)?;
    xlsx::write(&readiness.content, &opts.out.join("content.xlsx"))?;
    Ok(readiness)
}

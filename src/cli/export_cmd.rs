//! `ptv-sync export [--org N] --out DIR [--format yaml|json] [--force]`: what PTV holds,
//! written as source documents (see [`crate::export`]).

use super::{exit, selected};
use crate::config::Config;
use crate::export::{Export, Format};
use crate::model::OrgName;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The organisation (by its configured name); required when several are configured.
    #[arg(long, value_parser = OrgName::parse)]
    pub org: Option<OrgName>,
    /// The folder to write the documents into (created if missing; must be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The documents' file format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Write into a folder that is not empty (files of the same name are replaced).
    #[arg(long)]
    pub force: bool,
}

fn print(e: &Export) {
    let [orgs, services, channels] = e.counts();
    println!(
        "Exported {} for {}: {orgs} sub-organisations, {services} services, {channels} channels into {} ({} catalogue reads)",
        e.written.len(),
        e.organization,
        e.dir.display(),
        e.requests
    );
    let lossy: Vec<_> = e
        .written
        .iter()
        .filter(|w| !w.not_expressible.is_empty())
        .collect();
    if !lossy.is_empty() {
        println!(
            "Not expressible in the source format ({} items; PTV keeps it, the documents do not carry it):",
            lossy.len()
        );
        for w in lossy {
            for n in &w.not_expressible {
                println!("  {} ({} {}): {n}", w.file, w.kind, w.ptv_id);
            }
        }
    }
    if !e.invalid.is_empty() {
        println!(
            "Documents that do not pass validation as they are ({}); fix them before using the folder as a source:",
            e.invalid.len()
        );
        for f in &e.invalid {
            println!("  {f}");
        }
    }
    println!(
        "Next: point the organisation's [organization.source] path at {}, run `ptv-sync adopt --org {} --apply`, then `ptv-sync plan`.",
        e.dir.display(),
        e.organization
    );
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    let orgs = selected(cfg, args.org.as_ref())?;
    let [org] = orgs.as_slice() else {
        anyhow::bail!(
            "export writes one organisation: name it with --org ({})",
            orgs.iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let global = crate::startup::global_limit(cfg);
    let api = crate::startup::ptv_client(org, global)?;
    let export = crate::export::export(org, api.as_ref(), &args.out, args.format, args.force)
        .await
        .map_err(|e| anyhow::anyhow!("{}: export: {e}", org.name))?;
    print(&export);
    Ok(exit::OK)
}

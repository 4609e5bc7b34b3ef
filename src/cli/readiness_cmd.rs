//! `ptv-sync readiness`: DVV's technical readiness test against the customer test
//! environment, written as `report.md`, `report.html` and `content.xlsx`.

use super::{exit, output, selected};
use crate::config::Config;
use crate::model::OrgName;
use crate::readiness::{self, Options};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The organisation (by its configured name).
    #[arg(long, value_parser = OrgName::parse)]
    pub org: OrgName,
    /// Where report.md, report.html and content.xlsx are written.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Leave the test set in PTV instead of archiving it at the end.
    #[arg(long)]
    pub keep: bool,
    /// The PTV UI the report links items to.
    #[arg(long, value_name = "URL", default_value = readiness::DEFAULT_UI_BASE)]
    pub ui_base: url::Url,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    let org = selected(cfg, Some(&args.org))?[0];
    let opts = Options {
        out: args.out.clone(),
        keep: args.keep,
        ui_base: args.ui_base.clone(),
    };
    let r = readiness::run(org, crate::startup::global_limit(cfg), &opts).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        for c in r.checklist.iter().chain(&r.cleanup) {
            let line = format!(
                "{:>2}. {:<64} {}",
                c.number,
                c.title,
                if c.passed { "passed" } else { "FAILED" }
            );
            println!("{}", output::escape(&line));
        }
        println!(
            "{}",
            output::escape(&format!(
                "readiness of {}: {}; report in {}",
                r.organization,
                if r.passed { "PASSED" } else { "FAILED" },
                args.out.display()
            ))
        );
    }
    Ok(if r.passed { exit::OK } else { exit::CHANGES })
}

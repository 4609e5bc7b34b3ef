//! `ptv-sync drift [--org N] [--json]`: reads back what PTV holds for every item ptv-sync
//! manages and compares it with what was last sent (see [`crate::drift`]); the verdicts
//! are recorded in the state by the organisation's drift policy.

use super::{exit, output, selected};
use crate::config::Config;
use crate::model::OrgName;
use crate::store::OpenMode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this organisation (by its configured name).
    #[arg(long, value_parser = OrgName::parse)]
    pub org: Option<OrgName>,
    /// The verdicts as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    let store = crate::startup::open_store(cfg, OpenMode::CreateIfMissing)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!("drift needs the state store; check [state] in the configuration")
        })?;
    let global = crate::startup::global_limit(cfg);
    let mut drift = false;
    let mut json = Vec::new();
    for org in selected(cfg, args.org.as_ref())? {
        let lock = super::lock_org(store.as_ref(), org).await?;
        let api = crate::startup::ptv_client(org, global.clone())?;
        let started = std::time::Instant::now();
        let result = crate::drift::check_and_mark(
            org,
            store.as_ref(),
            api.as_ref(),
            crate::clock::system().now(),
        )
        .await;
        lock.release().await?;
        let (report, marked) = result?;
        drift |= report.has_drift();
        if args.json {
            json.push(serde_json::json!({
                "report": report,
                "marked": marked,
                "policy": org.drift.policy,
                "seconds": started.elapsed().as_secs_f64(),
            }));
            continue;
        }
        println!(
            "Drift for {} (policy {}): {} of {} items in step",
            org.name,
            serde_json::to_value(org.drift.policy)?
                .as_str()
                .unwrap_or_default(),
            report.in_step,
            report.checked,
        );
        println!(
            "  {} not in step; {} reads in {:.1} s{}",
            report.drifted.len(),
            report.reads,
            started.elapsed().as_secs_f64(),
            if report.complete {
                ""
            } else {
                "; a slice: the next check continues"
            }
        );
        if report.has_drift() {
            println!("{}", output::drift_table(&report));
            if marked.left > 0 {
                println!(
                    "{} edited item(s) marked drifted, left as PTV has them; to send ours:\n  ptv-sync resync --org {} --item ID --force",
                    marked.left, org.name
                );
            }
            if marked.to_resend > 0 {
                println!(
                    "{} item(s) are sent again at the next run\n  (restored, overwritten or connections re-sent).",
                    marked.to_resend
                );
            }
        }
        println!();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(if drift { exit::CHANGES } else { exit::OK })
}

use super::{exit, output, selected};
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this organisation (by its configured name).
    #[arg(long)]
    pub org: Option<String>,
    /// Findings as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    let mut errors = 0;
    let mut report = Vec::new();
    for org in selected(cfg, args.org.as_deref())? {
        let validated = crate::pipeline::read_source(org).await?;
        errors += validated.errors();
        if args.json {
            report.push(serde_json::json!({
                "organization": org.name,
                "items": validated.present.len(),
                "errors": validated.errors(),
                "warnings": validated.warnings(),
                "findings": validated.findings,
            }));
        } else {
            println!(
                "{}: {} items, {} valid, {} errors, {} warnings",
                org.name,
                validated.present.len(),
                validated.valid_count(),
                validated.errors(),
                validated.warnings()
            );
            for f in &validated.findings {
                println!("  {}", output::finding_line(f));
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(if errors > 0 { exit::FAILURE } else { exit::OK })
}

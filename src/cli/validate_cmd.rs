use super::{exit, output, selected};
use crate::config::Config;
use crate::model::OrgName;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this organisation (by its configured name).
    #[arg(long, value_parser = OrgName::parse)]
    pub org: Option<OrgName>,
    /// Findings as JSON.
    #[arg(long)]
    pub json: bool,
    /// Leave out DVV's content checks (channel data in service texts, a summary repeating
    /// the description, a copied general description): warnings that never block a sync.
    #[arg(long)]
    pub no_content: bool,
    /// Texts of the general descriptions the services link, for the check that they are
    /// not copied: `{"<PTV id>": {"fi": "…"}}` or a list of PTV general descriptions.
    #[arg(long, value_name = "FILE")]
    pub general_descriptions: Option<std::path::PathBuf>,
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    let mut errors = 0;
    let mut report = Vec::new();
    let orgs = selected(cfg, args.org.as_ref())?;
    // A run would stop at the first login without these; say so now.
    let secret_failures = super::check_secrets(cfg, &orgs);
    for f in &secret_failures {
        println!("error   {}", output::escape(f));
    }
    errors += secret_failures.len();
    let general = match &args.general_descriptions {
        Some(path) => Some(std::sync::Arc::new(
            crate::validate::GeneralDescriptions::read(path)?,
        )),
        None => None,
    };
    for org in orgs {
        let opts = crate::validate::ValidateOptions {
            content: !args.no_content,
            general_descriptions: general.clone(),
            ..crate::pipeline::validate_options(org)
        };
        let validated = crate::pipeline::read_source_with(org, opts).await?;
        errors += validated.errors();
        if args.json {
            report.push(serde_json::json!({
                "organization": org.name,
                "items": validated.present.len(),
                "errors": validated.errors(),
                "warnings": validated.warnings(),
                "findings": validated.findings,
                "unreadable": validated.unreadable,
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
            for u in &validated.unreadable {
                let line = format!("error   unreadable   {}: {}", u.file, u.message);
                println!("  {}", output::escape(&line));
            }
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

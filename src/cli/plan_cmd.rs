use super::{exit, output, selected};
use crate::config::Config;
use crate::model::OrgName;
use crate::plan::guard_trips;
use crate::store::OpenMode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this organisation (by its configured name).
    #[arg(long, value_parser = OrgName::parse)]
    pub org: Option<OrgName>,
    /// The plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Plan as `resync --full` would: every item re-sent.
    #[arg(long)]
    pub full: bool,
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    // A plan never creates the daemon's state: no database yet means nothing pushed yet.
    let store = crate::startup::open_store(cfg, OpenMode::MustExist).await?;
    let now = chrono::Utc::now();
    let mut changes = false;
    let mut json = Vec::new();
    for org in selected(cfg, args.org.as_ref())? {
        let (validated, records) =
            crate::pipeline::read_with(org, crate::pipeline::plan_rows(org, store.as_deref()))
                .await;
        let (validated, records) = (validated?, records?);
        let plan =
            crate::pipeline::plan_for(org, &validated, &records, store.as_deref(), args.full, now)
                .await?;
        changes |= plan.has_changes();
        let guard = crate::plan::unreadable_guard(&plan, &validated.unreadable).or_else(|| {
            guard_trips(
                &plan,
                validated.present.len(),
                crate::pipeline::live_items(&records),
                org.guard,
            )
        });
        if args.json {
            json.push(serde_json::json!({
                "organization": org.name,
                "changes": plan.has_changes(),
                "archive_guard": guard,
                "steps": plan.steps.iter().filter(|s| s.action != crate::model::Action::Unchanged).collect::<Vec<_>>(),
                "unchanged": plan.count(crate::model::Action::Unchanged),
                "findings": validated.findings,
            }));
            continue;
        }
        println!(
            "Plan for {} ({} items in the source, {} findings)",
            org.name,
            validated.present.len(),
            validated.findings.len()
        );
        println!("{}", output::plan_table(&plan));
        for line in output::step_lines(&plan) {
            println!("{line}");
        }
        if let Some(reason) = guard {
            let line = format!("ARCHIVE GUARD: the archive phase would be skipped: {reason}");
            println!("{}", output::escape(&line));
        }
        println!();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(if changes { exit::CHANGES } else { exit::OK })
}

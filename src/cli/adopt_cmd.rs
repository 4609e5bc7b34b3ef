//! `ptv-sync adopt [--org N] [--json] [--apply]`: what PTV already holds, matched to the
//! source; `--apply` links the matches in the state (see [`crate::adopt`]).

use super::{exit, selected};
use crate::adopt::{MatchedBy, Row, Survey};
use crate::config::Config;
use crate::model::OrgName;
use crate::store::OpenMode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this organisation (by its configured name).
    #[arg(long, value_parser = OrgName::parse)]
    pub org: Option<OrgName>,
    /// The table as JSON.
    #[arg(long)]
    pub json: bool,
    /// Link the matches: a state row and an audit entry each; nothing is written to PTV.
    #[arg(long)]
    pub apply: bool,
}

fn line(r: &Row) -> String {
    let what = |kind: crate::model::ItemKind, t: Option<crate::model::ChannelType>| match t {
        Some(t) => format!("{kind} ({t})"),
        None => kind.to_string(),
    };
    match r {
        Row::Matched { wanted, ptv_id, by } => format!(
            "{:<10} {:<24} {:<40} {ptv_id} by {}",
            if *by == MatchedBy::State {
                "linked"
            } else {
                "match"
            },
            what(wanted.kind, wanted.channel_type),
            wanted.source_id,
            by.as_str()
        ),
        Row::Ambiguous { wanted, candidates } => format!(
            "{:<10} {:<24} {:<40} name '{}' is held by {} PTV items: {}",
            "AMBIGUOUS",
            what(wanted.kind, wanted.channel_type),
            wanted.source_id,
            wanted.name_fi.as_deref().unwrap_or(""),
            candidates.len(),
            candidates
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Row::SourceOnly { wanted } => format!(
            "{:<10} {:<24} {:<40} not in PTV: the next run creates it",
            "source",
            what(wanted.kind, wanted.channel_type),
            wanted.source_id
        ),
        Row::Refused {
            wanted,
            ptv_id,
            reason,
        } => format!(
            "{:<10} {:<24} {:<40} ptvId {ptv_id} not linked: {reason}",
            "REFUSED",
            what(wanted.kind, wanted.channel_type),
            wanted.source_id
        ),
        Row::PtvOnly { item } => format!(
            "{:<10} {:<24} {:<40} {} '{}' ({}): left alone",
            "ptv-only",
            what(item.kind, item.channel_type),
            "-",
            item.ptv_id,
            item.name_fi.as_deref().unwrap_or(""),
            item.publishing_status.as_str()
        ),
    }
}

fn print(s: &Survey, applied: Option<usize>) {
    let [new, linked, ambiguous, source, ptv, refused] = s.counts();
    println!(
        "Adoption for {}: {new} to link, {linked} already linked, {ambiguous} ambiguous, {refused} with a ptvId PTV does not hold, {source} in the source only, {ptv} in PTV only ({} catalogue reads; ideal {})",
        s.organization, s.requests, s.ideal_requests
    );
    for r in &s.rows {
        println!("  {}", line(r));
    }
    match applied {
        Some(n) => {
            println!("Linked {n} items; run `ptv-sync plan` to see what the next run sends.");
        }
        None if new > 0 => println!(
            "Run `ptv-sync adopt --org {} --apply` to link them.",
            s.organization
        ),
        None => {}
    }
    if refused > 0 {
        println!(
            "Items with a refused ptvId are not linked nor created: correct or remove their `ptvId`, then run adopt again."
        );
    }
    if ambiguous > 0 {
        println!(
            "Ambiguous items are not linked: rename one of the candidates in PTV or in the source, then run adopt again."
        );
    }
    println!();
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    let store = crate::startup::open_store(cfg, OpenMode::CreateIfMissing)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!("adopt needs the state store; check [state] in the configuration")
        })?;
    let global = crate::startup::global_limit(cfg);
    let mut to_link = false;
    let mut json = Vec::new();
    for org in selected(cfg, args.org.as_ref())? {
        let lock = super::lock_org(store.as_ref(), org).await?;
        let validated = crate::pipeline::read_source(org).await?;
        let records = store.items(org.state_key()).await?;
        let api = crate::startup::ptv_client(org, global.clone())?;
        let survey = crate::adopt::survey(org, api.as_ref(), &validated, &records)
            .await
            .map_err(|e| anyhow::anyhow!("{}: reading PTV's catalogue: {e}", org.name))?;
        let applied = if args.apply {
            Some(
                crate::adopt::link(
                    org,
                    store.as_ref(),
                    &validated,
                    &survey,
                    &crate::startup::os_user(),
                    chrono::Utc::now(),
                )
                .await?,
            )
        } else {
            to_link |= survey.to_link().next().is_some();
            None
        };
        lock.release().await?;
        if args.json {
            json.push(serde_json::json!({"survey": survey, "linked": applied}));
        } else {
            print(&survey, applied);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    }
    Ok(if to_link { exit::CHANGES } else { exit::OK })
}

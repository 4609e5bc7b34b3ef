use super::{exit, selected};
use crate::config::Config;
use crate::model::OrgName;
use crate::store::{ItemStatus, OpenMode};
use std::collections::BTreeMap;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this organisation (by its configured name).
    #[arg(long, value_parser = OrgName::parse)]
    pub org: Option<OrgName>,
    #[arg(long)]
    pub json: bool,
    /// Exit 2 when something needs attention: items failed, needing a person or drifted,
    /// no success within `max_age`, or the last run did not end ok.
    #[arg(long)]
    pub check: bool,
}

/// A time as people read it: local time to the second with its UTC offset.
fn local(v: &serde_json::Value) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok()?;
    Some(
        t.with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M:%S %:z")
            .to_string(),
    )
}

/// Whether an organisation's status needs a person to look.
fn needs_attention(o: &serde_json::Value) -> bool {
    let items = &o["items"];
    let count = |state: &str| items[state].as_u64().unwrap_or(0);
    count("failed") > 0
        || count("needs_person") > 0
        || count("drifted") > 0
        || o["older_than_max_age"].as_bool() == Some(true)
        || o["writes"]["past_warning"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        || o["last_run"]["outcome"]
            .as_str()
            .is_some_and(|r| !matches!(r, "ok" | "running"))
}

pub async fn run(cfg: &Config, args: &Args) -> anyhow::Result<u8> {
    let store = crate::startup::open_store(cfg, OpenMode::MustExist).await?;
    let mut out = Vec::new();
    for org in selected(cfg, args.org.as_ref())? {
        let (records, state, runs) = match &store {
            Some(s) => (
                s.items(org.state_key()).await?,
                s.org_state(org.state_key()).await?,
                s.last_runs(org.state_key(), 1).await?,
            ),
            None => (Vec::new(), None, Vec::new()),
        };
        let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
        for r in &records {
            *by_state
                .entry(crate::apply::state_label(r).to_owned())
                .or_default() += 1;
        }
        let needs_person: Vec<serde_json::Value> = records
            .iter()
            .filter(|r| r.status == ItemStatus::Blocked)
            .map(|r| serde_json::json!({"kind": r.kind, "id": r.source_id, "error": r.last_error.as_ref().map(|e| e.message.clone())}))
            .collect();
        // What the drift check found and the state still holds (see `ptv-sync drift`).
        let drifted: Vec<serde_json::Value> = records
            .iter()
            .filter(|r| r.status == ItemStatus::Drifted)
            .map(|r| serde_json::json!({"kind": r.kind, "id": r.source_id, "drift": r.last_error.as_ref().map(|e| e.message.clone())}))
            .collect();
        let now = chrono::Utc::now();
        let rows: Vec<crate::store::PlanRow> =
            records.iter().map(crate::store::PlanRow::from).collect();
        let writes = crate::plan::touch::WriteAges::of(&rows, &org.touch, now);
        let last = runs.first();
        let older_than_max_age = state
            .as_ref()
            .and_then(|s| s.last_success_at)
            .is_none_or(|t| {
                chrono::Utc::now() - t
                    > chrono::Duration::from_std(org.max_age).unwrap_or(chrono::Duration::days(1))
            });
        out.push(serde_json::json!({
            "organization": org.name,
            "api_version": org.api_version,
            "environment": match org.environment { crate::config::Environment::Test => "test", crate::config::Environment::Production => "production" },
            "last_run": last.map(|r| serde_json::json!({"id": r.id, "trigger": r.trigger.as_str(), "actor": r.actor, "started_at": r.started_at, "finished_at": r.finished_at, "outcome": r.outcome.as_str()})),
            "last_success_at": state.as_ref().and_then(|s| s.last_success_at),
            "older_than_max_age": older_than_max_age,
            "items": by_state,
            "needs_person": needs_person,
            "drifted": drifted,
            "guard_trips": state.as_ref().map_or(0, |s| s.guard_trips),
            "writes": writes,
            "oldest_write_age_days": writes.oldest.as_ref().map(|o| (now - o.last_written).num_days()),
            "token_expires_at": state.as_ref().and_then(|s| s.token_expires_at),
            "next_run_at": state.as_ref().and_then(|s| s.next_run_at).or_else(|| org.schedule.next_after(chrono::Utc::now())),
        }));
    }
    let code = if args.check && out.iter().any(needs_attention) {
        exit::CHANGES
    } else {
        exit::OK
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(code);
    }
    for o in &out {
        println!(
            "{} ({} {})",
            o["organization"].as_str().unwrap_or(""),
            o["environment"].as_str().unwrap_or(""),
            o["api_version"].as_str().unwrap_or("")
        );
        match o["last_run"].as_object() {
            Some(r) => println!(
                "  last run:        #{} {} by {} at {}: {}",
                r["id"],
                r["trigger"].as_str().unwrap_or(""),
                r["actor"].as_str().unwrap_or(""),
                local(&r["started_at"]).unwrap_or_default(),
                r["outcome"].as_str().unwrap_or("")
            ),
            None => println!("  last run:        never"),
        }
        println!(
            "  last success:    {}{}",
            local(&o["last_success_at"]).unwrap_or_else(|| "never".into()),
            if o["older_than_max_age"].as_bool() == Some(true) {
                "  (older than max_age: DVV wants a sync at least daily)"
            } else {
                ""
            }
        );
        println!(
            "  items:           {}",
            o["items"]
                .as_object()
                .map(|m| m
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", "))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "none".into())
        );
        println!("  guard trips:     {}", o["guard_trips"]);
        match o["writes"]["oldest"].as_object() {
            Some(w) => println!(
                "  oldest write:    {} {} at {} ({} days ago); {} due for a touch",
                w["kind"].as_str().unwrap_or(""),
                w["id"].as_str().unwrap_or(""),
                local(&w["last_written"]).unwrap_or_default(),
                o["oldest_write_age_days"],
                o["writes"]["due"]
            ),
            None => println!("  oldest write:    none"),
        }
        for w in o["writes"]["past_warning"].as_array().into_iter().flatten() {
            let line = format!(
                "  PAST 15 MONTHS:  {} {}: last written {}; PTV archives it at {} unless written before",
                w["kind"].as_str().unwrap_or(""),
                w["id"].as_str().unwrap_or(""),
                local(&w["last_written"]).unwrap_or_default(),
                local(&w["ptv_archives_at"]).unwrap_or_default()
            );
            println!("{}", super::output::escape(&line));
        }
        println!(
            "  token expires:   {}",
            local(&o["token_expires_at"]).unwrap_or_else(|| "unknown".into())
        );
        println!(
            "  next run:        {}",
            local(&o["next_run_at"]).unwrap_or_else(|| "unknown".into())
        );
        for n in o["needs_person"].as_array().into_iter().flatten() {
            let line = format!(
                "  NEEDS A PERSON:  {} {}: {}",
                n["kind"].as_str().unwrap_or(""),
                n["id"].as_str().unwrap_or(""),
                n["error"].as_str().unwrap_or("")
            );
            // PTV's answer may carry anything, control characters included.
            println!("{}", super::output::escape(&line));
        }
        for n in o["drifted"].as_array().into_iter().flatten() {
            let line = format!(
                "  DRIFTED:         {} {}: {}",
                n["kind"].as_str().unwrap_or(""),
                n["id"].as_str().unwrap_or(""),
                n["drift"].as_str().unwrap_or("")
            );
            println!("{}", super::output::escape(&line));
        }
    }
    Ok(code)
}

//! `protect`/`unprotect` and `audit verify|export`.

use super::exit;
use crate::config::Config;
use crate::model::{ItemKind, OrgName};
use crate::store::OpenMode;
use std::io::Write as _;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    Organization,
    Service,
    Channel,
}

impl From<Kind> for ItemKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Organization => ItemKind::Organization,
            Kind::Service => ItemKind::Service,
            Kind::Channel => ItemKind::Channel,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ProtectArgs {
    /// The organisation (configured name).
    #[arg(value_parser = OrgName::parse)]
    pub org: OrgName,
    pub kind: Kind,
    /// The item's source id.
    pub id: String,
    /// The result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn protect(cfg: &Config, args: &ProtectArgs, on: bool) -> anyhow::Result<u8> {
    let org = super::selected(cfg, Some(&args.org))?[0];
    let Some(store) = crate::startup::open_store(cfg, OpenMode::MustExist).await? else {
        anyhow::bail!(
            "no state database yet: nothing has been synced, so there is nothing to protect; run a sync first"
        );
    };
    let kind = ItemKind::from(args.kind);
    // The daemon's single-writer lock: a run in progress must not see the flag change
    // under it (it decides archives from it).
    let lock = super::lock_org(store.as_ref(), org).await?;
    let result = protect_locked(store.as_ref(), org.state_key(), args, kind, on).await;
    if let Err(e) = lock.release().await {
        tracing::warn!(organization = %args.org, "releasing the single-writer lock: {e}");
    }
    let ptv_id = result?;
    let what = if on {
        "protected: it will never be archived"
    } else {
        "no longer protected"
    };
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "organization": args.org, "kind": kind, "id": args.id,
                "ptv_id": ptv_id, "protected": on,
            })
        );
    } else {
        println!("{} {kind} {}: {what}", args.org, args.id);
    }
    Ok(exit::OK)
}

/// Sets the flag and records who did it in the audit log; returns the item's PTV id.
async fn protect_locked(
    store: &dyn crate::store::StateStore,
    state_key: &str,
    args: &ProtectArgs,
    kind: ItemKind,
    on: bool,
) -> anyhow::Result<Option<String>> {
    let not_synced = || {
        anyhow::anyhow!(
            "{} {kind} '{}' is not in the state store (it was never synced); check the id with `ptv-sync status`",
            args.org,
            args.id
        )
    };
    let item = store
        .item(state_key, kind, &args.id)
        .await?
        .ok_or_else(not_synced)?;
    if !store.set_protected(state_key, kind, &args.id, on).await? {
        return Err(not_synced());
    }
    store
        .append_audit(&crate::store::NewAuditEntry {
            at: chrono::Utc::now(),
            org: state_key.to_owned(),
            actor: crate::startup::os_user(),
            action: if on {
                crate::model::Action::Protect
            } else {
                crate::model::Action::Unprotect
            },
            kind,
            source_id: args.id.clone(),
            ptv_id: item.ptv_id.map(|id| id.to_string()),
            http_status: None,
            body_sha256: None,
            reason: None,
        })
        .await?;
    Ok(item.ptv_id.map(|id| id.to_string()))
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute every hash chain; exit 1 if any entry was changed, removed or reordered.
    Verify {
        #[arg(long)]
        org: Option<String>,
        /// The result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write entries as JSON lines to stdout.
    Export {
        /// RFC 3339 time or a date (YYYY-MM-DD); default: everything.
        #[arg(long)]
        since: Option<String>,
    },
}

pub async fn audit(cfg: &Config, cmd: &AuditCommand) -> anyhow::Result<u8> {
    let Some(store) = crate::startup::open_store(cfg, OpenMode::MustExist).await? else {
        anyhow::bail!("no state database yet: there is no audit log to read");
    };
    match cmd {
        AuditCommand::Verify { org, json } => {
            let v = store.verify_audit(org.as_deref()).await?;
            if *json {
                println!(
                    "{}",
                    serde_json::json!({
                        "ok": v.broken.is_none(), "entries": v.entries, "chains": v.orgs,
                        "broken": v.broken.as_ref().map(|b| serde_json::json!({
                            "seq": b.seq, "organization": b.org, "problem": b.to_string(),
                        })),
                    })
                );
            } else if let Some(b) = &v.broken {
                println!("audit log BROKEN: {b}");
            } else {
                println!(
                    "audit log OK: {} entries in {} chains verified",
                    v.entries, v.orgs
                );
            }
            Ok(if v.broken.is_some() {
                exit::FAILURE
            } else {
                exit::OK
            })
        }
        AuditCommand::Export { since } => {
            let since = match since.as_deref() {
                None => chrono::DateTime::<chrono::Utc>::MIN_UTC,
                Some(s) => parse_since(s)?,
            };
            let mut out = std::io::stdout().lock();
            for e in store.audit_since(since).await? {
                let line = serde_json::json!({
                    "seq": e.seq, "at": e.at, "organization": e.org, "actor": e.actor,
                    "action": e.action.as_str(), "kind": e.kind, "source_id": e.source_id,
                    "ptv_id": e.ptv_id, "http_status": e.http_status, "body_sha256": e.body_sha256,
                    "reason": e.reason, "prev_hash": e.prev_hash, "hash": e.hash,
                });
                writeln!(out, "{line}")?;
            }
            Ok(exit::OK)
        }
    }
}

fn parse_since(s: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        anyhow::anyhow!("--since '{s}': write a date (2026-01-31) or an RFC 3339 time")
    })?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

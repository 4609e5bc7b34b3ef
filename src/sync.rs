//! One organisation's way from source to plan: read the snapshot whole, validate it, load
//! what the store knows, and plan. Shared by `validate`, `plan`, `resync`, `demo` and the
//! daemon so that a dry run and a real run walk the same path.

use crate::config::OrgConfig;
use crate::model::ItemKind;
use crate::plan::{self, Plan, PlanOptions};
use crate::source::SourceError;
use crate::store::{ItemRecord, PlanRow, RemoteState, StateStore, StoreError};
use crate::validate::{self, ValidateOptions, Validated};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

#[must_use]
pub fn validate_options(org: &OrgConfig) -> ValidateOptions {
    ValidateOptions {
        api: org.api_version,
        main_area: org.main_area.clone(),
        ..ValidateOptions::default()
    }
}

/// Reads and validates the organisation's source; fails whole or not at all. Validation
/// runs off the async threads, so that the store can list rows meanwhile
/// ([`read_with_heads`]).
pub async fn read_source(org: &OrgConfig) -> Result<Validated, SourceError> {
    read_source_with(org, validate_options(org)).await
}

/// [`read_source`] with other validation options (`validate` adds the content checks).
pub async fn read_source_with(
    org: &OrgConfig,
    opts: ValidateOptions,
) -> Result<Validated, SourceError> {
    let snapshot = org.source.build().snapshot().await?;
    Ok(
        tokio::task::spawn_blocking(move || validate::validate_owned(snapshot, &opts))
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
    )
}

/// The validated source and `rows` (what the store knows), read at the same time: at
/// 100,000 items each takes a good part of a second, and neither needs the other.
pub async fn read_with<T>(
    org: &OrgConfig,
    rows: impl Future<Output = T>,
) -> (Result<Validated, SourceError>, T) {
    tokio::join!(read_source(org), rows)
}

/// What a plan needs of the organisation's stored rows ([`StateStore::plan_rows`]); none
/// without a store.
pub async fn plan_rows(
    org: &OrgConfig,
    store: Option<&dyn StateStore>,
) -> Result<Vec<PlanRow>, StoreError> {
    match store {
        Some(s) => s.plan_rows(&org.name).await,
        None => Ok(Vec::new()),
    }
}

/// The planner's view of whole or head rows ([`StateStore::item_heads`]).
#[must_use]
pub fn priors(records: &[ItemRecord]) -> Vec<PlanRow> {
    records.iter().map(PlanRow::from).collect()
}

#[must_use]
pub fn plan_options(org: &OrgConfig, full: bool, now: DateTime<Utc>) -> PlanOptions {
    PlanOptions {
        api: org.api_version,
        main_area: org.main_area.clone(),
        full,
        retry_after: chrono::Duration::from_std(org.retry_failed_after)
            .unwrap_or_else(|_| chrono::Duration::days(1)),
        now: Some(now),
    }
}

/// Plans one organisation against its stored rows. Rows without the payload of a service
/// or channel ([`StateStore::plan_rows`]) name the changed fields of an update from the
/// stored payload, read from `store` one item at a time and dropped.
pub async fn plan_for(
    org: &OrgConfig,
    validated: &Validated,
    rows: &[PlanRow],
    store: Option<&dyn StateStore>,
    full: bool,
    now: DateTime<Utc>,
) -> Result<Plan, StoreError> {
    let opts = plan_options(org, full, now);
    let mut plan = plan::draft(validated, rows, &opts);
    if let Some(store) = store {
        // Keyed by the few updates, not by the many rows.
        let updates: HashSet<(ItemKind, &str)> = plan
            .steps
            .iter()
            .filter(|s| s.action == plan::Action::Update)
            .map(|s| (s.kind, s.id.as_str()))
            .collect();
        let headless: HashSet<(ItemKind, String)> = rows
            .iter()
            .filter(|r| r.payload.is_none() && r.remote == RemoteState::Live)
            .filter(|r| updates.contains(&(r.kind, r.source_id.as_str())))
            .map(|r| (r.kind, r.source_id.to_string()))
            .collect();
        for step in &mut plan.steps {
            if step.action == plan::Action::Update
                && headless.contains(&(step.kind, step.id.clone()))
                && let Some(rec) = store.item(&org.name, step.kind, &step.id).await?
                && let Some(stored) = &rec.payload
            {
                plan::describe(validated, &opts, step, stored);
            }
        }
    }
    plan::finish(validated, rows, &mut plan);
    Ok(plan)
}

/// Items PTV holds live for this organisation, as far as the store knows.
#[must_use]
pub fn live_items(records: &[PlanRow]) -> usize {
    records
        .iter()
        .filter(|r| r.remote == RemoteState::Live && r.kind != ItemKind::Connections)
        .count()
}

/// The `SQLite` file name inside the state directory.
pub const SQLITE_FILE: &str = "state.db";

/// Opens the configured state store. With `MustExist`, a `SQLite` database that does not
/// exist yet gives `None` (nothing pushed yet) instead of creating the daemon's files as
/// whoever runs the command.
pub async fn open_store(
    cfg: &crate::config::Config,
    mode: crate::store::OpenMode,
) -> anyhow::Result<Option<std::sync::Arc<dyn crate::store::StateStore>>> {
    use crate::config::StateConfig;
    use crate::store::{OpenMode, StoreTarget};
    let target = match &cfg.state {
        StateConfig::Sqlite { dir } => {
            let path = dir.join(SQLITE_FILE);
            if mode == OpenMode::MustExist && !path.exists() {
                return Ok(None);
            }
            StoreTarget::Sqlite { path }
        }
        StateConfig::Postgres { url } => StoreTarget::Postgres {
            url: url.read("state database URL")?,
        },
    };
    Ok(Some(crate::store::open(&target, mode).await?))
}

/// The PTV client settings of one organisation.
#[must_use]
pub fn client_config(org: &OrgConfig) -> crate::ptv::PtvClientConfig {
    let p = &org.ptv;
    let mut c = crate::ptv::PtvClientConfig::new(
        org.api_version,
        p.api_base.clone(),
        p.token_url.clone(),
        p.username.clone(),
        p.password.clone(),
        org.main_organization_id.to_string(),
        org.name.clone(),
    );
    c.production = org.environment == crate::config::Environment::Production;
    c.api_user_organisation.clone_from(&p.api_user_organisation);
    c.api_key.clone_from(&p.api_key);
    c.connect_timeout = p.connect_timeout;
    c.request_timeout = p.request_timeout;
    c.token_refresh_margin = p.token_refresh_margin;
    c.max_in_flight = p.max_in_flight;
    c.retry.max_attempts = p.retry_attempts.max(1);
    c.retry.max_delay = p.retry_max_delay;
    c.client_cert_pem.clone_from(&p.client_cert);
    c.extra_ca_pem.clone_from(&p.extra_ca);
    c
}

/// Who is acting: the OS user running a command (for the audit log).
#[must_use]
pub fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown-user".into())
}

/// The states an item is reported in (`status`, `/metrics`).
pub const STATE_LABELS: [&str; 5] = ["live", "archived", "failed", "needs_person", "not_in_ptv"];

/// An item's reported state: a failure or a needed person first, else what PTV holds.
#[must_use]
pub fn state_label(r: &ItemRecord) -> &'static str {
    use crate::store::ItemStatus;
    match (r.remote, r.status) {
        (_, ItemStatus::Failed) => "failed",
        (_, ItemStatus::Blocked) => "needs_person",
        (RemoteState::Live, _) => "live",
        (RemoteState::Archived, _) => "archived",
        (RemoteState::Absent, _) => "not_in_ptv",
    }
}

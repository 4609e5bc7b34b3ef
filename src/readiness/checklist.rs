//! DVV's list (reference §11.5), item by item: each item is one stage of the test set
//! written as a `dir` source and run through `pipeline::prepare` and the engine's
//! `apply` ([`super::runner`]), then read back from PTV.

use super::runner::{Runner, StageRun, blank, result_of};
use super::testset::{self, Removed, Stage, TestSet};
use super::{
    CheckItem, ConnectionInfo, ItemCheck, Options, Readiness, SheetSummary, templates, xlsx,
};
use crate::config::{OrgConfig, SourceConfig};
use crate::model::{Action, ChannelType, ItemKind, Outcome};
use crate::ptv::RequestLog;
use crate::source::DirLimits;
use crate::startup::EngineBuilder;
use crate::store::{OpenMode, StoreTarget};
use crate::validate::Severity;
use chrono::Utc;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Item checks of every write of `kinds` in a stage.
async fn checks_of(
    runner: &Runner,
    run: &StageRun,
    kinds: &[ItemKind],
    set: &TestSet,
) -> Vec<ItemCheck> {
    let mut out = Vec::new();
    for s in run.steps.iter().filter(|s| kinds.contains(&s.kind)) {
        let result = result_of(run, s.kind, s.id.as_str());
        out.push(if s.kind == ItemKind::Connections {
            runner.check_connections(s, result, set).await
        } else {
            runner.check_item(s, result).await
        });
    }
    out
}

/// A checklist item whose stage wrote `items`; it passes when there is at least one and
/// each passed, and every write of the stage succeeded.
fn item(
    number: u8,
    title: impl Into<String>,
    note: impl Into<String>,
    items: Vec<ItemCheck>,
    run: &StageRun,
    requests: Vec<crate::ptv::RequestRecord>,
) -> CheckItem {
    let mut note = note.into();
    let failed: Vec<String> = run
        .results
        .iter()
        .filter(|r| r.outcome != Outcome::Ok)
        .map(|r| {
            format!(
                "{} {} {}: {}",
                r.action.as_str(),
                r.kind,
                r.id,
                r.error.as_deref().unwrap_or(r.outcome.as_str())
            )
        })
        .collect();
    let passed = !items.is_empty() && items.iter().all(|i| i.ok) && failed.is_empty();
    if items.is_empty() {
        note.push_str(" Nothing was written: the stage planned no write of this kind.");
    }
    if !failed.is_empty() {
        let _ = write!(note, " Failed writes: {}.", failed.join("; "));
    }
    CheckItem {
        number,
        title: title.into(),
        passed,
        note,
        items,
        requests,
    }
}

/// The stage's checklist item for writes of `kinds` (organisations, services, channels or
/// connection sets).
async fn staged(
    runner: &Runner,
    set: &TestSet,
    stage: &Stage,
    number: u8,
    title: &str,
    kinds: &[ItemKind],
    note: &str,
) -> anyhow::Result<CheckItem> {
    let start = runner.log.len();
    let run = runner.stage(&set.docs(stage)).await?;
    let items = checks_of(runner, &run, kinds, set).await;
    let mut c = item(number, title, note, items, &run, runner.log.since(start));
    invalid_test_set(&mut c, &run);
    Ok(c)
}

/// The test set itself must be valid: an error finding fails the item, listed.
fn invalid_test_set(c: &mut CheckItem, run: &StageRun) {
    let errors: Vec<String> = run
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    if !errors.is_empty() {
        c.passed = false;
        let _ = write!(
            c.note,
            " The test set did not pass validation: {}.",
            errors.join("; ")
        );
    }
}

fn all_types() -> Vec<ChannelType> {
    ChannelType::ALL.to_vec()
}

/// Item 17: documents that break PTV's field rules are refused locally with their
/// findings, and one that passes locally is refused by PTV with its answer.
async fn field_correctness(
    runner: &Runner,
    set: &TestSet,
    full: &Stage,
) -> anyhow::Result<CheckItem> {
    let start = runner.log.len();
    let broken = templates::broken(|b| set.id(&format!("readiness-broken-{b}")));
    let mut stage = full.clone();
    stage.extra = broken.iter().map(|b| b.doc.clone()).collect();
    let language = runner.missing_language().await;
    let refused_id = set.id("readiness-ptv-refuses");
    if let Some(lang) = &language {
        let mut doc = templates::service(&refused_id, None);
        doc["languageVersions"]["fi"]["name"] = json!(format!("Testipalvelu {}", set.suffix));
        doc["languageVersions"][lang.as_str()] = json!({
            "name": format!("Testipalvelu {lang} {}", set.suffix),
            "summary": "Teknisen valmiuden testin palvelu.",
            "description": "Palvelu kielellä, jota sen organisaatiolla ei ole PTV:ssä."
        });
        stage.extra.push(doc);
    }
    let run = runner.stage(&set.docs(&stage)).await?;
    let mut items = Vec::new();
    for b in &broken {
        let id = b.doc["id"].as_str().unwrap_or_default();
        let kind = if b.doc["kind"] == json!("channel") {
            ItemKind::Channel
        } else {
            ItemKind::Service
        };
        let mut c = blank(kind, testset::channel_type(&b.doc), id);
        let errors: Vec<String> = run
            .findings
            .iter()
            .filter(|f| f.id == id && f.severity == Severity::Error)
            .map(|f| {
                let at = if f.path.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", f.path)
                };
                format!("{}{at}: {}", f.kind, f.message)
            })
            .collect();
        let was_sent = result_of(&run, kind, id).is_some();
        c.ok = !errors.is_empty() && !was_sent;
        c.outcome = format!("{}: refused locally, not sent", b.what);
        if was_sent {
            c.outcome = format!("{}: SENT to PTV although broken", b.what);
        }
        c.readback = if errors.is_empty() {
            "no error finding".into()
        } else {
            format!("findings: {}", errors.join("; "))
        };
        items.push(c);
    }
    let mut note = String::from(
        "Each broken document breaks one rule; validation refuses it with its finding and it is never sent.",
    );
    if let Some(lang) = &language {
        let mut c = blank(ItemKind::Service, None, &refused_id);
        let result = result_of(&run, ItemKind::Service, &refused_id);
        match result {
            Some(r) if r.outcome != Outcome::Ok => {
                c.ok = true;
                c.outcome = format!(
                    "a service in language '{lang}', which the main organisation lacks in PTV: passes local validation, refused by PTV"
                );
                c.readback = format!(
                    "PTV's answer: {}",
                    r.error.as_deref().unwrap_or(r.outcome.as_str())
                );
            }
            Some(_) => {
                c.outcome = format!("a service in language '{lang}' was ACCEPTED by PTV");
                c.readback = "PTV did not enforce the organisation-language rule".into();
            }
            None => {
                c.outcome = "the service was not sent".into();
                c.readback = run
                    .findings
                    .iter()
                    .filter(|f| f.id == refused_id.as_str())
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
            }
        }
        items.push(c);
        note.push_str(" One service passes local validation and is refused by PTV (an item in a language its organisation lacks, reference §12 rule 12); the failed write is the expected result.");
    } else {
        note.push_str(" PTV's copy of the main organisation holds every data language, so no document could show a refusal by PTV itself.");
    }
    // The expected refusal is not a failure of this item; any other failed write is.
    let unexpected: Vec<String> = run
        .results
        .iter()
        .filter(|r| r.outcome != Outcome::Ok && r.id != refused_id.as_str())
        .map(|r| format!("{} {}: {}", r.kind, r.id, r.error.as_deref().unwrap_or("")))
        .collect();
    if !unexpected.is_empty() {
        let _ = write!(note, " Failed writes: {}.", unexpected.join("; "));
    }
    Ok(CheckItem {
        number: 17,
        title: "Correctness of data fields (formats, lengths, required fields)".into(),
        passed: items.iter().all(|i| i.ok) && unexpected.is_empty(),
        note,
        items,
        requests: runner.log.since(start),
    })
}

/// Item 18, and the clean-up: each item removed from the source is archived in PTV.
async fn archive_check(
    runner: &Runner,
    number: u8,
    title: &str,
    note: &str,
    docs: &[Value],
    removed: &[Removed],
) -> anyhow::Result<CheckItem> {
    let start = runner.log.len();
    let run = runner.stage(docs).await?;
    let mut items = Vec::new();
    for r in removed {
        let result = run
            .results
            .iter()
            .find(|x| x.kind == r.kind && x.id == r.id.as_str() && x.action == Action::Archive);
        items.push(runner.check_archived(r, result).await);
    }
    let removed_keys: BTreeSet<(ItemKind, &str)> =
        removed.iter().map(|r| (r.kind, r.id.as_str())).collect();
    // Writes of items outside the test set's list (item 17's refused service) are not
    // this item's to judge.
    let relevant = StageRun {
        steps: Vec::new(),
        results: run
            .results
            .iter()
            .filter(|r| {
                removed_keys.contains(&(r.kind, r.id.as_str())) || r.kind == ItemKind::Connections
            })
            .cloned()
            .collect(),
        findings: Vec::new(),
    };
    let mut c = item(
        number,
        title,
        note,
        items,
        &relevant,
        runner.log.since(start),
    );
    invalid_test_set(&mut c, &run);
    Ok(c)
}

fn every(set: &TestSet) -> Vec<Removed> {
    let services = set.services.iter().map(|v| (ItemKind::Service, v));
    let channels = set.channels.iter().map(|v| (ItemKind::Channel, v));
    let orgs = set
        .organizations
        .iter()
        .map(|v| (ItemKind::Organization, v));
    services
        .chain(channels)
        .chain(orgs)
        .map(|(k, v)| testset::removed(k, v))
        .collect()
}

/// Runs the whole list against PTV for `org`.
pub(super) async fn run(
    org: &OrgConfig,
    global: Arc<Semaphore>,
    opts: &Options,
) -> anyhow::Result<Readiness> {
    let started = Utc::now();
    let run_id = format!(
        "{}-{}",
        started.format("%Y%m%d%H%M"),
        &uuid::Uuid::new_v4().simple().to_string()[..4]
    );
    let suffix = format!("rdy-{run_id}");
    let validated = crate::pipeline::read_source(org)
        .await
        .map_err(|e| anyhow::anyhow!("organisation {}: cannot read the source: {e}", org.name))?;
    let mut set = TestSet::from_source(&validated, &suffix);
    drop(validated);

    let work = tempfile::tempdir()?;
    let source_dir = work.path().join("source");
    std::fs::create_dir_all(&source_dir)?;
    let mut rd = org.clone().scoped(&format!("readiness-{run_id}"));
    rd.source = SourceConfig::Dir {
        path: source_dir.clone(),
        limits: DirLimits::default(),
    };
    let store = crate::store::open(
        &StoreTarget::Sqlite {
            path: work.path().join(crate::startup::SQLITE_FILE),
        },
        OpenMode::CreateIfMissing,
    )
    .await?;
    let log = RequestLog::default();
    let mut client = crate::startup::client_config(&rd);
    let wire = crate::ptv::wire::connect(client.clone(), global.clone())?;
    client.request_log = Some(log.clone());
    let api = crate::ptv::connect(client, global)?;
    let engine = EngineBuilder::new(
        rd.clone(),
        store.clone(),
        api.clone(),
        crate::startup::os_user(),
    )
    .build();
    let runner = Runner {
        main_id: org.main_organization_id,
        org: rd,
        source_dir,
        store,
        api,
        wire,
        engine,
        log,
        ui_base: opts.ui_base.clone(),
    };

    let mut test_set = vec![format!(
        "{} sub-organisation(s), {} service(s), {} channel(s) (one per type), {} connection(s); every id and name suffixed with '{suffix}'",
        set.organizations.len(),
        set.services.len(),
        set.channels.len(),
        set.connection_pairs().len()
    )];
    test_set.extend(
        set.synthesised
            .iter()
            .map(|s| format!("from a template: {s}")),
    );

    let mut checklist = Vec::new();
    let orgs_only = Stage::default();
    checklist.push(
        staged(
            &runner,
            &set,
            &orgs_only,
            1,
            "Add sub-organisations",
            &[ItemKind::Organization],
            "Every sub-organisation of the test set is created.",
        )
        .await?,
    );
    let login_at = Utc::now();
    let expiry = runner.api.token_expiry();
    set.edit_summaries(ItemKind::Organization, None);
    checklist.push(
        staged(
            &runner,
            &set,
            &orgs_only,
            2,
            "Edit sub-organisations",
            &[ItemKind::Organization],
            "The Finnish summary of every sub-organisation is edited.",
        )
        .await?,
    );
    let mut stage = Stage {
        services: true,
        ..Stage::default()
    };
    checklist.push(
        staged(
            &runner,
            &set,
            &stage,
            3,
            "Add services",
            &[ItemKind::Service],
            "Every service of the test set is created (connections come in item 15).",
        )
        .await?,
    );
    set.edit_summaries(ItemKind::Service, None);
    checklist.push(
        staged(
            &runner,
            &set,
            &stage,
            4,
            "Edit services",
            &[ItemKind::Service],
            "The Finnish summary of every service is edited.",
        )
        .await?,
    );
    let mut number = 5;
    for t in ChannelType::ALL {
        stage.channel_types.push(t);
        checklist.push(
            staged(
                &runner,
                &set,
                &stage,
                number,
                &format!("Add {t} channels"),
                &[ItemKind::Channel],
                &format!("The {t} channel of the test set is created."),
            )
            .await?,
        );
        set.edit_summaries(ItemKind::Channel, Some(t));
        checklist.push(
            staged(
                &runner,
                &set,
                &stage,
                number + 1,
                &format!("Edit {t} channels"),
                &[ItemKind::Channel],
                &format!("The Finnish summary of the {t} channel is edited."),
            )
            .await?,
        );
        number += 2;
    }
    stage.connections = true;
    set.enrich_connections();
    checklist.push(
        staged(&runner, &set, &stage, 15, "Add connections with additional information", &[ItemKind::Connections], "Every service is connected to its channels, each connection with a charge type, a description and, at a service location, its own service hours.").await?,
    );
    set.edit_connections();
    let edit_note = if org.api_version == crate::model::ApiVersion::V12 {
        "Every connection's charge type and description are edited, and one service's set of channels changes. PTV v12's connection request carries only the service and channel ids (DVV's beta schema), so on v12 the additional information is reported as not sent and only the changed set of channels reaches PTV; the read-back checks the set of channels."
    } else {
        "Every connection's charge type and description are edited, and one service's set of channels changes."
    };
    checklist.push(
        staged(
            &runner,
            &set,
            &stage,
            16,
            "Edit connections and their additional information",
            &[ItemKind::Connections],
            edit_note,
        )
        .await?,
    );
    let full = Stage {
        services: true,
        connections: true,
        channel_types: all_types(),
        extra: Vec::new(),
    };
    checklist.push(field_correctness(&runner, &set, &full).await?);
    // The workbook holds the whole test set, as it stands before item 18 removes some.
    let sheets = xlsx::sheets(
        &set,
        |kind, id| {
            let store = runner.store.clone();
            let key = runner.org.state_key().to_owned();
            let id = id.to_owned();
            async move {
                store
                    .item(&key, kind, &id)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|r| r.ptv_id)
            }
        },
        |kind, id| runner.link(kind, id),
    )
    .await;
    let removed = set.remove_some();
    checklist.push(
        archive_check(&runner, 18, "Archiving data removed from the source", "A service, a channel and a sub-organisation are removed from the source; the next run archives them.", &set.docs(&full), &removed).await?,
    );

    let cleanup = if opts.keep {
        None
    } else {
        let all = every(&set);
        Some(
            archive_check(&runner, 19, "Clean-up: the test set archived", "Every item of the test set still live is removed from the source and archived, so the test leaves nothing published.", &[], &all).await?,
        )
    };

    let records = runner.log.since(0);
    let logins = runner.api.logins();
    let lifetime = expiry.map_or_else(
        || "not reported (the token carries no exp claim)".to_owned(),
        |exp| {
            let secs = (exp - login_at).num_seconds().max(0);
            format!(
                "about {} min ({} s, from the token's exp claim)",
                secs / 60,
                secs
            )
        },
    );
    let p = &runner.org.ptv;
    let tls = if p.api_base.scheme() == "https" {
        "TLS 1.2 or newer required (rustls); the negotiated version is not reported by the client"
    } else {
        "none: plain http (allowed outside production only)"
    };
    let connection = ConnectionInfo {
        api_base: shown(&p.api_base),
        token_url: shown(&p.token_url),
        tls: tls.into(),
        logins,
        token_refreshes: logins.saturating_sub(1),
        token_lifetime: lifetime,
        requests: records.len(),
        failed_requests: records
            .iter()
            .filter(|r| r.status.is_none_or(|s| s == 429 || s >= 500))
            .count(),
    };
    let passed = checklist.iter().all(|c| c.passed) && cleanup.as_ref().is_none_or(|c| c.passed);
    Ok(Readiness {
        organization: org.name.clone(),
        run_id,
        api_version: org.api_version.to_string(),
        started,
        finished: Utc::now(),
        software: super::software_version(),
        connection,
        test_set,
        checklist,
        cleanup,
        kept: opts.keep,
        passed,
        sheets: sheets
            .iter()
            .map(|s| SheetSummary {
                name: s.name.clone(),
                columns: s.columns.clone(),
                rows: s.rows.len(),
            })
            .collect(),
        content: sheets,
    })
}

/// An endpoint without credentials or query: scheme, host, port and path.
fn shown(u: &url::Url) -> String {
    let mut u = u.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

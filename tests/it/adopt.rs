//! Joining a catalogue that already exists (`adopt`), on v11 and v12: items made in the
//! UI with the source's names, items of another API user, items in PTV only, ambiguous
//! names, and a lost state rebuilt.

use crate::support::{Options, TestApp, spawn_with};
use ptv_sync::adopt::{MatchedBy, Row, Survey};
use ptv_sync::model::{Action, ApiVersion, ChannelType, ItemKind, Outcome};
use ptv_sync::sim::{PublishingStatus, SeedItem, SimConfig, SimKind};
use ptv_sync::store::{OpenMode, RunOutcome, StateStore, StoreTarget};
use ptv_sync::synth::{Docs, Shape, generate};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

const OTHER_USER: &str = "other.integration@vendor.example";

fn names(doc: &Value) -> BTreeMap<String, String> {
    doc["languageVersions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(lang, v)| (lang.clone(), v["name"].as_str().unwrap().to_owned()))
        .collect()
}

fn seed(kind: SimKind, org: Uuid, names: BTreeMap<String, String>) -> SeedItem {
    SeedItem {
        kind,
        id: None,
        organization: org,
        names,
        status: PublishingStatus::Published,
        source_id: None,
        external_id: None,
        owner: None,
        body: None,
        modified: None,
        modified_by: None,
        connections: Vec::new(),
    }
}

/// The source's items as an editor made them in PTV's UI (no sourceId), plus one item
/// of another API user and one item nobody's source has.
fn ui_copy(docs: &Docs, main: Uuid) -> Vec<SeedItem> {
    let mut org_ids: HashMap<String, Uuid> = HashMap::new();
    let mut items = Vec::new();
    for o in &docs.organizations {
        let id = Uuid::new_v4();
        org_ids.insert(o["id"].as_str().unwrap().to_owned(), id);
        let parent = o["parent"].as_str().map_or(main, |p| org_ids[p]);
        items.push(SeedItem {
            id: Some(id),
            ..seed(SimKind::Organization, parent, names(o))
        });
    }
    let owner = |d: &Value| d["organization"].as_str().map_or(main, |o| org_ids[o]);
    for c in &docs.channels {
        let t = match c["channelType"].as_str().unwrap() {
            "EService" => ChannelType::EService,
            "WebPage" => ChannelType::WebPage,
            "Phone" => ChannelType::Phone,
            "PrintableForm" => ChannelType::PrintableForm,
            _ => ChannelType::ServiceLocation,
        };
        items.push(seed(SimKind::Channel(t), owner(c), names(c)));
    }
    for s in &docs.services {
        items.push(seed(SimKind::Service, owner(s), names(s)));
    }
    items.push(SeedItem {
        source_id: Some("vendor-service-1".into()),
        owner: Some(OTHER_USER.into()),
        ..seed(
            SimKind::Service,
            main,
            BTreeMap::from([("fi".into(), "Toisen järjestelmän palvelu".into())]),
        )
    });
    items.push(seed(
        SimKind::Service,
        main,
        BTreeMap::from([("fi".into(), "Vain PTV:ssä".into())]),
    ));
    items
}

async fn survey_with(app: &TestApp, store: &dyn StateStore) -> Survey {
    let org = &app.cfg.organizations[0];
    let validated = ptv_sync::pipeline::read_source(org).await.unwrap();
    let records = store.items(org.state_key()).await.unwrap();
    let api =
        ptv_sync::startup::ptv_client(org, Arc::new(tokio::sync::Semaphore::new(64))).unwrap();
    ptv_sync::adopt::survey(org, api.as_ref(), &validated, &records)
        .await
        .unwrap()
}

async fn link_with(app: &TestApp, store: &dyn StateStore, survey: &Survey) -> usize {
    let org = &app.cfg.organizations[0];
    let validated = ptv_sync::pipeline::read_source(org).await.unwrap();
    ptv_sync::adopt::link(org, store, &validated, survey, "test", chrono::Utc::now())
        .await
        .unwrap()
}

async fn plan_with(app: &TestApp, store: &dyn StateStore) -> ptv_sync::plan::Plan {
    let org = &app.cfg.organizations[0];
    let validated = ptv_sync::pipeline::read_source(org).await.unwrap();
    let rows = store.plan_rows(org.state_key()).await.unwrap();
    ptv_sync::pipeline::plan_for(
        org,
        &validated,
        &rows,
        Some(store),
        false,
        chrono::Utc::now(),
    )
    .await
    .unwrap()
}

/// Creates of items (connection sets without a row are planned as creates of the set,
/// which adds connections, never items).
fn item_creates(plan: &ptv_sync::plan::Plan) -> usize {
    plan.steps
        .iter()
        .filter(|s| s.action == Action::Create && s.kind != ItemKind::Connections)
        .count()
}

fn matched_by(s: &Survey, by: MatchedBy) -> usize {
    s.rows
        .iter()
        .filter(|r| matches!(r, Row::Matched { by: b, .. } if *b == by))
        .count()
}

async fn ui_catalogue_is_adopted_not_duplicated(version: ApiVersion) {
    let docs = generate(Shape::new(40, 7));
    let (_, _, main) = SimConfig::single_org();
    let app = spawn_with(
        &docs,
        Options::on(version).with_catalogue(ui_copy(&docs, main)),
    )
    .await;
    let seeded = app.sim.catalogue();
    let untouched: Vec<_> = seeded
        .iter()
        .filter(|e| {
            matches!(
                e.name_fi.as_deref(),
                Some("Toisen järjestelmän palvelu" | "Vain PTV:ssä")
            )
        })
        .cloned()
        .collect();
    assert_eq!(untouched.len(), 2);

    let survey = survey_with(&app, app.store.as_ref()).await;
    let [new, linked, ambiguous, source_only, ptv_only, refused] = survey.counts();
    assert_eq!(
        (new, linked, ambiguous, source_only, refused),
        (docs.len(), 0, 0, 0, 0)
    );
    assert_eq!(ptv_only, 2, "{:?}", survey.rows);
    assert_eq!(matched_by(&survey, MatchedBy::Name), docs.len());

    assert_eq!(
        link_with(&app, app.store.as_ref(), &survey).await,
        docs.len()
    );
    let audit = app
        .store
        .audit_since(chrono::DateTime::UNIX_EPOCH)
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == ptv_sync::model::Action::Adopt)
            .count(),
        docs.len()
    );
    // Linked now: a second survey has nothing left to link.
    let again = survey_with(&app, app.store.as_ref()).await;
    assert_eq!(again.counts()[0], 0);
    assert_eq!(again.counts()[1], docs.len());

    // The next run sends the source's content to the adopted items: no creates.
    let plan = plan_with(&app, app.store.as_ref()).await;
    assert_eq!(item_creates(&plan), 0);
    let r = app.sync().await;
    assert!(
        r.failures().next().is_none(),
        "{:?}",
        r.failures().collect::<Vec<_>>()
    );
    app.assert_converged(&docs).await;
    assert_eq!(
        app.sim.catalogue().len(),
        seeded.len(),
        "nothing was created"
    );
    for before in &untouched {
        assert_eq!(app.sim.entity(before.id).as_ref(), Some(before));
    }
    if version == ApiVersion::V11 {
        // PUT by id with our sourceId: PTV now knows the items as ours.
        let some_service = app
            .entity_of(ItemKind::Service, docs.services[0]["id"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(
            some_service.source_id.as_deref(),
            Some(format!("t-service-{}", docs.services[0]["id"].as_str().unwrap()).as_str())
        );
    }
}

#[tokio::test]
async fn v11_a_catalogue_made_in_the_ui_is_adopted_not_duplicated() {
    ui_catalogue_is_adopted_not_duplicated(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_a_catalogue_made_in_the_ui_is_adopted_not_duplicated() {
    ui_catalogue_is_adopted_not_duplicated(ApiVersion::V12).await;
}

async fn ambiguous_names_are_reported_not_linked(version: ApiVersion) {
    let docs = generate(Shape::new(12, 3));
    let (_, _, main) = SimConfig::single_org();
    let mut catalogue = ui_copy(&docs, main);
    // A second PTV item whose name differs only in case and spacing from a service's.
    let service = &docs.services[0];
    let name = service["languageVersions"]["fi"]["name"].as_str().unwrap();
    let owner = catalogue
        .iter()
        .find(|s| s.kind == SimKind::Service && s.names.get("fi").map(String::as_str) == Some(name))
        .unwrap()
        .organization;
    catalogue.push(seed(
        SimKind::Service,
        owner,
        BTreeMap::from([("fi".into(), format!(" {}", name.to_uppercase()))]),
    ));
    let app = spawn_with(&docs, Options::on(version).with_catalogue(catalogue)).await;
    let survey = survey_with(&app, app.store.as_ref()).await;
    let id = service["id"].as_str().unwrap();
    let row = survey
        .rows
        .iter()
        .find(|r| matches!(r, Row::Ambiguous { wanted, .. } if wanted.source_id == id))
        .unwrap_or_else(|| panic!("{id} should be ambiguous: {:?}", survey.rows));
    let Row::Ambiguous { candidates, .. } = row else {
        unreachable!()
    };
    assert_eq!(candidates.len(), 2);
    link_with(&app, app.store.as_ref(), &survey).await;
    assert!(
        app.store
            .item("test", ItemKind::Service, id)
            .await
            .unwrap()
            .is_none(),
        "an ambiguous item is never linked"
    );
}

#[tokio::test]
async fn v11_ambiguous_names_are_reported_not_linked() {
    ambiguous_names_are_reported_not_linked(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_ambiguous_names_are_reported_not_linked() {
    ambiguous_names_are_reported_not_linked(ApiVersion::V12).await;
}

async fn fresh_store(dir: &std::path::Path) -> Arc<dyn StateStore> {
    ptv_sync::store::open(
        &StoreTarget::Sqlite {
            path: dir.join("rebuilt.db"),
        },
        OpenMode::CreateIfMissing,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn v11_a_lost_state_is_rebuilt_and_plans_no_changes() {
    let docs = generate(Shape::new(60, 11));
    let app = spawn_with(&docs, Options::on(ApiVersion::V11)).await;
    let r = app.sync().await;
    assert!(r.failures().next().is_none());
    let scratch = tempfile::tempdir().unwrap();
    let store = fresh_store(scratch.path()).await;

    let survey = survey_with(&app, store.as_ref()).await;
    assert_eq!(matched_by(&survey, MatchedBy::SourceId), docs.len());
    link_with(&app, store.as_ref(), &survey).await;
    let plan = plan_with(&app, store.as_ref()).await;
    assert!(
        !plan.has_changes(),
        "{:?}",
        plan.steps
            .iter()
            .filter(|s| s.action != Action::Unchanged)
            .collect::<Vec<_>>()
    );
}

/// v12 channels carry no externalId: they match by name, and their content read back
/// from PTV equals the source's, so they are recorded as pushed. Connections come from
/// v12's connection search.
#[tokio::test]
async fn v12_a_lost_state_is_rebuilt_and_plans_no_changes() {
    let docs = generate(Shape::new(60, 11));
    let app = spawn_with(&docs, Options::on(ApiVersion::V12)).await;
    let r = app.sync().await;
    assert!(r.failures().next().is_none());
    let scratch = tempfile::tempdir().unwrap();
    let store = fresh_store(scratch.path()).await;

    let survey = survey_with(&app, store.as_ref()).await;
    // Services and organisations carry our externalId; v12 channels have none and
    // match by name.
    assert_eq!(
        matched_by(&survey, MatchedBy::SourceId),
        docs.services.len() + docs.organizations.len()
    );
    assert_eq!(matched_by(&survey, MatchedBy::Name), docs.channels.len());
    link_with(&app, store.as_ref(), &survey).await;
    let plan = plan_with(&app, store.as_ref()).await;
    assert!(
        !plan.has_changes(),
        "{:#?}",
        plan.steps
            .iter()
            .filter(|s| s.action != Action::Unchanged)
            .map(|s| (s.kind, s.id.clone(), s.action, s.changed.clone()))
            .collect::<Vec<_>>()
    );
}

async fn first_run_over_a_ui_catalogue_stops(version: ApiVersion) {
    let docs = generate(Shape::new(40, 5));
    let (_, _, main) = SimConfig::single_org();
    let app = spawn_with(
        &docs,
        Options::on(version).with_catalogue(ui_copy(&docs, main)),
    )
    .await;
    let before = app.sim.catalogue().len();
    let r = app.sync().await;
    let needs_adoption = r
        .results
        .iter()
        .filter(|i| {
            i.outcome == Outcome::NeedsPerson
                && i.error.as_deref().is_some_and(|e| {
                    e.starts_with("needs adoption")
                        && e.contains("ptv-sync adopt --org test --apply")
                })
        })
        .count();
    assert_eq!(needs_adoption, docs.len(), "{:?}", r.results);
    assert_ne!(
        r.outcome,
        RunOutcome::Ok,
        "a run with items needing adoption exits 2"
    );
    assert_eq!(app.sim.catalogue().len(), before, "no duplicate created");
    assert!(app.sim.duplicates().is_empty());

    // Adopting then syncing gives each item once, with the source's content.
    let survey = survey_with(&app, app.store.as_ref()).await;
    link_with(&app, app.store.as_ref(), &survey).await;
    let r = app.sync().await;
    assert!(
        r.failures().next().is_none(),
        "{:?}",
        r.failures().collect::<Vec<_>>()
    );
    app.assert_converged(&docs).await;
    assert_eq!(app.sim.catalogue().len(), before);
}

#[tokio::test]
async fn v11_a_first_run_over_a_ui_catalogue_creates_nothing_and_asks_for_adoption() {
    first_run_over_a_ui_catalogue_stops(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_a_first_run_over_a_ui_catalogue_creates_nothing_and_asks_for_adoption() {
    first_run_over_a_ui_catalogue_stops(ApiVersion::V12).await;
}

async fn on_existing_adopt_links_on_the_first_run(version: ApiVersion) {
    let docs = generate(Shape::new(40, 9));
    let (_, _, main) = SimConfig::single_org();
    let mut opts = Options::on(version).with_catalogue(ui_copy(&docs, main));
    opts.extra_org_toml.push_str("\non_existing = \"adopt\"");
    let app = spawn_with(&docs, opts).await;
    let before = app.sim.catalogue().len();
    let r = app.sync().await;
    assert!(
        r.failures().next().is_none(),
        "{:?}",
        r.failures().collect::<Vec<_>>()
    );
    app.assert_converged(&docs).await;
    assert_eq!(app.sim.catalogue().len(), before, "no duplicate created");
    let adopted = app
        .store
        .audit_since(chrono::DateTime::UNIX_EPOCH)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == ptv_sync::model::Action::Adopt)
        .count();
    assert_eq!(adopted, docs.len());
}

#[tokio::test]
async fn v11_on_existing_adopt_links_and_updates_on_the_first_run() {
    on_existing_adopt_links_on_the_first_run(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_on_existing_adopt_links_and_updates_on_the_first_run() {
    on_existing_adopt_links_on_the_first_run(ApiVersion::V12).await;
}

/// A `ptvId` PTV does not hold, or holds as another kind, is refused with why: never
/// linked, and a run does not create the item either (the source says it exists).
async fn a_ptv_id_ptv_does_not_hold_is_refused(version: ApiVersion) {
    let mut docs = generate(Shape::new(12, 3));
    let (_, _, main) = SimConfig::single_org();
    let stranger = Uuid::new_v4();
    let unknown = Uuid::new_v4();
    docs.services[0]["ptvId"] = serde_json::json!(unknown);
    docs.channels[0]["ptvId"] = serde_json::json!(stranger);
    let catalogue = vec![SeedItem {
        id: Some(stranger),
        ..seed(
            SimKind::Service,
            main,
            BTreeMap::from([("fi".into(), "Vain PTV:ssä".into())]),
        )
    }];
    let app = spawn_with(&docs, Options::on(version).with_catalogue(catalogue)).await;
    let survey = survey_with(&app, app.store.as_ref()).await;
    let refused = |id: &str| {
        survey
            .rows
            .iter()
            .find_map(|r| match r {
                Row::Refused { wanted, reason, .. } if wanted.source_id == id => {
                    Some(reason.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{id} should be refused: {:?}", survey.rows))
    };
    let service = docs.services[0]["id"].as_str().unwrap();
    let channel = docs.channels[0]["id"].as_str().unwrap();
    assert!(refused(service).contains(&format!("holds no published item {unknown}")));
    assert!(refused(channel).contains("is a service, the source describes a channel"));
    assert_eq!(survey.counts()[5], 2);
    assert_eq!(link_with(&app, app.store.as_ref(), &survey).await, 0);

    let before = app.sim.catalogue().len();
    let r = app.sync().await;
    for id in [service, channel] {
        let item = r.results.iter().find(|i| i.id == id).unwrap();
        assert_eq!(item.outcome, Outcome::NeedsPerson, "{item:?}");
        assert!(
            item.error.as_deref().is_some_and(|e| e.contains("`ptvId`")),
            "{item:?}"
        );
    }
    let created = app.sim.catalogue().len() - before;
    assert_eq!(created, docs.len() - 2, "everything else is created");
    assert_eq!(
        app.sim.entity(stranger).unwrap().versions,
        1,
        "the PTV item named by mistake is untouched"
    );
}

#[tokio::test]
async fn v11_a_ptv_id_ptv_does_not_hold_is_refused_and_not_created() {
    a_ptv_id_ptv_does_not_hold_is_refused(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_a_ptv_id_ptv_does_not_hold_is_refused_and_not_created() {
    a_ptv_id_ptv_does_not_hold_is_refused(ApiVersion::V12).await;
}

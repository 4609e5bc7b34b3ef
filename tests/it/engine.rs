//! The sync engine end to end against the simulator; every assertion is on PTV's state.

use crate::support::{Options, spawn_app, spawn_with};
use ptv_sync::apply::RunOptions;
use ptv_sync::model::{Action, ApiVersion, ItemKind, Outcome};
use ptv_sync::sim::{Faults, PublishingStatus};
use ptv_sync::store::RunOutcome;
use ptv_sync::synth::{Shape, churn, generate};
use serde_json::json;

#[tokio::test]
async fn first_sync_makes_ptv_equal_to_the_source_and_the_second_writes_nothing() {
    let docs = generate(Shape::new(120, 1));
    let app = spawn_app(&docs).await;
    let r = app.sync().await;
    assert_eq!(
        r.outcome,
        RunOutcome::Ok,
        "{:?}",
        r.failures().collect::<Vec<_>>()
    );
    app.assert_converged(&docs).await;
    let writes = app.sim.stats().total_writes();
    let r2 = app.sync().await;
    assert_eq!(r2.writes_ok(), 0);
    assert_eq!(
        app.sim.stats().total_writes(),
        writes,
        "an unchanged source costs no writes"
    );
    assert!(app.store.verify_audit(None).await.unwrap().is_ok());
}

#[tokio::test]
async fn edit_delete_and_come_back() {
    let mut docs = generate(Shape::new(60, 2));
    let app = spawn_app(&docs).await;
    app.sync().await;
    let gone = docs.services.remove(3);
    docs.services[0]["languageVersions"]["fi"]["summary"] = json!("Uusi tiivistelmä palvelulle.");
    app.write_source(&docs);
    let r = app.sync().await;
    assert_eq!(
        (
            r.count(Action::Update, Outcome::Ok),
            r.count(Action::Archive, Outcome::Ok)
        ),
        (1, 1)
    );
    app.assert_converged(&docs).await;
    let gone_id = gone["id"].as_str().unwrap().to_owned();
    let before = app.entity_of(ItemKind::Service, &gone_id).await.unwrap();
    assert_eq!(before.status, PublishingStatus::Deleted);
    // It comes back: restored (same PTV entity), never created again.
    docs.services.push(gone);
    app.write_source(&docs);
    let r = app.sync().await;
    let restored: Vec<_> = r
        .results
        .iter()
        .filter(|x| x.action == Action::Restore && x.outcome == Outcome::Ok)
        .map(|x| x.kind)
        .collect();
    assert_eq!(
        restored,
        vec![ItemKind::Service, ItemKind::Connections],
        "the service and its connection set: {:?}",
        r.results
    );
    let after = app.entity_of(ItemKind::Service, &gone_id).await.unwrap();
    assert_eq!(
        (after.id, after.status),
        (before.id, PublishingStatus::Published)
    );
    app.assert_converged(&docs).await;
}

#[tokio::test]
async fn archive_guard_skips_mass_archives_but_not_creates() {
    let mut docs = generate(Shape::new(100, 3));
    let app = spawn_app(&docs).await;
    app.sync().await;
    let total_services = docs.services.len();
    docs.services.truncate(total_services / 3);
    docs.services
        .push(generate(Shape::new(100, 3)).services[0].clone());
    docs.services.last_mut().unwrap()["id"] = json!("brand-new");
    docs.services.last_mut().unwrap()["languageVersions"]["fi"]["name"] =
        json!("Aivan uusi palvelu");
    docs.services.last_mut().unwrap()["languageVersions"]["sv"]["name"] = json!("Helt ny tjänst");
    app.write_source(&docs);
    let r = app.sync().await;
    assert_eq!(r.outcome, RunOutcome::GuardTripped);
    assert!(r.guard.is_some());
    assert_eq!(r.count(Action::Archive, Outcome::Ok), 0);
    assert_eq!(
        r.count(Action::Create, Outcome::Ok),
        2,
        "the new service and its connection set still go"
    );
    assert!(app.sim.with_status(PublishingStatus::Deleted).is_empty());
    let state = app.store.org_state("test").await.unwrap().unwrap();
    assert_eq!(state.guard_trips, 1);
    let r = app
        .sync_with(&RunOptions {
            allow_mass_archive: true,
            ..RunOptions::default()
        })
        .await;
    assert_eq!(
        r.count(Action::Archive, Outcome::Ok),
        total_services - total_services / 3
    );
    app.assert_converged(&docs).await;
}

#[tokio::test]
async fn empty_snapshot_archives_nothing() {
    let docs = generate(Shape::new(30, 4));
    let app = spawn_app(&docs).await;
    app.sync().await;
    app.write_source(&ptv_sync::synth::Docs::default());
    let r = app.sync().await;
    assert_eq!(r.outcome, RunOutcome::GuardTripped);
    assert!(r.guard.as_deref().unwrap().contains("empty"));
    assert!(app.sim.with_status(PublishingStatus::Deleted).is_empty());
}

#[tokio::test]
async fn protected_items_stay() {
    let mut docs = generate(Shape::new(30, 5));
    let app = spawn_app(&docs).await;
    app.sync().await;
    let id = docs.services[0]["id"].as_str().unwrap().to_owned();
    assert!(
        app.store
            .set_protected("test", ItemKind::Service, &id, true)
            .await
            .unwrap()
    );
    docs.services.remove(0);
    app.write_source(&docs);
    let r = app.sync().await;
    assert_eq!(r.plan.count(Action::Protected), 1);
    assert_eq!(
        app.entity_of(ItemKind::Service, &id).await.unwrap().status,
        PublishingStatus::Published
    );
}

#[tokio::test]
async fn modified_in_ptv_needs_a_person_and_blocks_nothing_else() {
    let mut docs = generate(Shape::new(40, 6));
    let app = spawn_app(&docs).await;
    app.sync().await;
    let id = docs.services[1]["id"].as_str().unwrap().to_owned();
    let e = app.entity_of(ItemKind::Service, &id).await.unwrap();
    app.sim.set_modified(e.id);
    for i in [1, 2] {
        docs.services[i]["languageVersions"]["fi"]["summary"] =
            json!(format!("Muutettu tiivistelmä {i}."));
    }
    app.write_source(&docs);
    let r = app.sync().await;
    assert_eq!(r.outcome, RunOutcome::Partial);
    let blocked: Vec<_> = r
        .results
        .iter()
        .filter(|x| x.outcome == Outcome::NeedsPerson)
        .collect();
    assert_eq!(blocked.len(), 1);
    assert!(
        blocked[0]
            .error
            .as_deref()
            .unwrap()
            .contains("publish or discard"),
        "{:?}",
        blocked[0].error
    );
    assert_eq!(
        r.count(Action::Update, Outcome::Ok),
        1,
        "the other item still goes"
    );
    // The run's record says the same as its report: one vocabulary, no lossy mapping.
    let recorded = app.store.run_items(r.run_id.unwrap()).await.unwrap();
    let needs_person: Vec<_> = recorded
        .iter()
        .filter(|i| i.outcome == Outcome::NeedsPerson)
        .map(|i| i.source_id.as_str())
        .collect();
    assert_eq!(needs_person, [id.as_str()], "{recorded:?}");
    // Held until its content changes (or --full): the next run does not hammer PTV.
    let writes = app.sim.stats().total_writes();
    let r = app.sync().await;
    assert_eq!(r.plan.count(Action::Held), 1);
    assert_eq!(app.sim.stats().total_writes(), writes);
}

#[tokio::test]
async fn terminal_failure_is_recorded_with_field_paths_and_retried_on_full() {
    let docs = generate(Shape::new(30, 7));
    let app = spawn_app(&docs).await;
    app.sync().await;
    let id = docs.services[0]["id"].as_str().unwrap().to_owned();
    let e = app.entity_of(ItemKind::Service, &id).await.unwrap();
    app.sim
        .set_locked(e.id, Some("editor@esimerkkila.fi".into()));
    let mut docs2 = docs.clone();
    docs2.services[0]["languageVersions"]["fi"]["summary"] = json!("Lukittu muutos.");
    app.write_source(&docs2);
    let r = app.sync().await;
    let failed: Vec<_> = r.failures().collect();
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]
            .error
            .as_deref()
            .unwrap()
            .contains("editor@esimerkkila.fi")
    );
    let rec = app
        .store
        .item("test", ItemKind::Service, &id)
        .await
        .unwrap()
        .unwrap();
    assert!(rec.last_error.is_some() && rec.attempts == 1);
    app.sim.set_locked(e.id, None);
    let r = app
        .sync_with(&RunOptions {
            full: true,
            item: Some(id.clone()),
            ..RunOptions::default()
        })
        .await;
    assert!(
        r.results.iter().any(|x| x.kind == ItemKind::Service
            && x.action == Action::Update
            && x.outcome == Outcome::Ok),
        "{:?}",
        r.results
    );
    assert!(r.failures().next().is_none());
    app.assert_converged(&docs2).await;
}

#[tokio::test]
async fn channel_type_change_takes_a_new_source_id_generation() {
    let mut docs = generate(Shape::new(30, 8));
    let app = spawn_app(&docs).await;
    app.sync().await;
    let i = docs
        .channels
        .iter()
        .position(|c| c["channelType"] == "WebPage")
        .unwrap();
    let id = docs.channels[i]["id"].as_str().unwrap().to_owned();
    let old = app.entity_of(ItemKind::Channel, &id).await.unwrap();
    docs.channels[i]["channelType"] = json!("EService");
    docs.channels[i]["requiresAuthentication"] = json!(false);
    app.write_source(&docs);
    let r = app.sync().await;
    assert!(
        r.failures().next().is_none(),
        "{:?}",
        r.failures().collect::<Vec<_>>()
    );
    let rec = app
        .store
        .item("test", ItemKind::Channel, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.generation, 1);
    assert!(rec.ptv_source_id.as_str().rsplit('.').next() == Some("g1"));
    assert_eq!(
        app.sim.entity(old.id).unwrap().status,
        PublishingStatus::Deleted
    );
    app.assert_converged(&docs).await;
}

#[tokio::test]
async fn lost_responses_and_throttling_converge_without_duplicates() {
    let docs = generate(Shape::new(200, 9));
    let app = spawn_app(&docs).await;
    app.sim.set_faults(Faults {
        error_rate: 0.2,
        lost_response_share: 0.5,
        rate_limit_rate: 0.1,
        drop_rate: 0.05,
        drop_after_apply_share: 0.5,
        seed: Some(9),
        ..Faults::default()
    });
    for _ in 0..5 {
        let r = app.sync().await;
        if r.outcome == RunOutcome::Ok {
            break;
        }
    }
    app.sim.set_faults(Faults::default());
    app.sync().await;
    app.assert_converged(&docs).await;
    assert!(
        app.sim.stats().faults("lost_response") > 0,
        "the test injected lost responses"
    );
}

#[tokio::test]
async fn dry_run_writes_nothing_anywhere() {
    let docs = generate(Shape::new(30, 10));
    let app = spawn_app(&docs).await;
    let r = app
        .sync_with(&RunOptions {
            dry_run: true,
            ..RunOptions::default()
        })
        .await;
    assert!(r.dry_run && r.results.iter().all(|x| x.outcome == Outcome::Skipped));
    assert!(!r.results.is_empty());
    assert_eq!(app.sim.stats().total_writes(), 0);
    assert!(app.store.items("test").await.unwrap().is_empty());
    assert!(app.store.last_runs("test", 5).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_percent_churn_on_2000_items_costs_exactly_the_changed_items() {
    let mut docs = generate(Shape::new(2000, 11));
    let app = spawn_app(&docs).await;
    // One engine (one client) for both runs, as the daemon keeps one per organisation.
    let engine = app.engine();
    engine.run(&RunOptions::default()).await.unwrap();
    let before = app.sim.stats().total_writes();
    let c = churn(&mut docs, 0.01, 11, 1);
    app.write_source(&docs);
    let r = engine.run(&RunOptions::default()).await.unwrap();
    assert_eq!(r.outcome, RunOutcome::Ok);
    let added_with_connections = docs
        .services
        .iter()
        .rev()
        .take(c.added)
        .filter(|s| s["connections"].as_array().is_some_and(|a| !a.is_empty()))
        .count();
    let expected = c.edited + c.deleted + c.added + added_with_connections;
    assert_eq!(
        app.sim.stats().total_writes() - before,
        expected as u64,
        "{c:?}"
    );
    assert_eq!(r.writes_ok(), expected);
    assert_eq!(app.sim.stats().logins, 1, "one login per token lifetime");
    app.assert_converged(&docs).await;
}

#[tokio::test]
async fn audit_log_records_every_write_and_verifies() {
    let docs = generate(Shape::new(30, 12));
    let app = spawn_app(&docs).await;
    let r = app.sync().await;
    let entries = app
        .store
        .audit_since(chrono::DateTime::<chrono::Utc>::MIN_UTC)
        .await
        .unwrap();
    assert_eq!(entries.len(), r.writes_ok());
    assert!(entries.iter().all(|e| e.actor == "test"
        && e.http_status == Some(200)
        && e.body_sha256.as_ref().is_some_and(|h| h.len() == 64)));
    assert!(app.store.verify_audit(Some("test")).await.unwrap().is_ok());
}

#[tokio::test]
async fn v12_first_sync_and_archive() {
    let mut docs = generate(Shape::new(40, 13));
    let app = spawn_with(&docs, Options::on(ApiVersion::V12)).await;
    let r = app.sync().await;
    assert_eq!(
        r.outcome,
        RunOutcome::Ok,
        "{:?}",
        r.failures().collect::<Vec<_>>()
    );
    docs.services.remove(0);
    app.write_source(&docs);
    let r = app.sync().await;
    assert_eq!(r.count(Action::Archive, Outcome::Ok), 1);
    app.assert_converged(&docs).await;
}

/// A channel with no area of its own, no organisation to inherit one from and no
/// `main_area` configured passes validation (v11 takes it), but v12 requires an area on
/// every channel: the v12 adapter refuses to build the body (`PtvError::Unsendable`),
/// nothing is sent, and the item's row records a Terminal error that names the item and
/// the field and says what to do. The rest of the run goes on.
#[tokio::test]
async fn a_channel_v12_cannot_carry_fails_terminal_in_the_adapter_and_v11_sends_it() {
    let mut docs = generate(Shape::new(30, 15));
    let ch = docs.channels[0]["id"].as_str().unwrap().to_owned();
    docs.channels[0]
        .as_object_mut()
        .unwrap()
        .remove("organization");
    assert!(docs.channels[0].get("area").is_none());
    for api in [ApiVersion::V11, ApiVersion::V12] {
        let (version, v12) = (api.as_str(), api == ApiVersion::V12);
        let app = spawn_with(&docs, Options::on(api)).await;
        let r = app.sync().await;
        let result = r
            .results
            .iter()
            .find(|x| x.kind == ItemKind::Channel && x.id == ch.as_str())
            .unwrap_or_else(|| panic!("{version}: no result for {ch}: {:?}", r.results));
        let rec = app
            .store
            .item("test", ItemKind::Channel, &ch)
            .await
            .unwrap()
            .unwrap();
        if !v12 {
            assert_eq!(result.outcome, Outcome::Ok, "{version}: {result:?}");
            assert!(rec.ptv_id.is_some() && rec.last_error.is_none(), "{rec:?}");
            continue;
        }
        assert_eq!(result.outcome, Outcome::Failed, "{version}: {result:?}");
        assert!(rec.ptv_id.is_none(), "nothing was sent: {rec:?}");
        let e = rec.last_error.as_ref().expect("the failure is on the row");
        assert_eq!(e.class, ptv_sync::model::ErrorClass::Terminal, "{e:?}");
        for wanted in [
            format!("channel {ch} cannot be sent to PTV v12"),
            "area:".to_owned(),
            "main_area".to_owned(),
            "run again".to_owned(),
        ] {
            assert!(
                e.message.contains(&wanted),
                "{wanted} missing: {}",
                e.message
            );
        }
        assert_eq!(
            result.error.as_deref(),
            Some(e.message.as_str()),
            "the report says what the row says"
        );
        // Every other item went through: one item the version cannot carry stops nothing else.
        assert!(
            r.failures()
                .all(|x| x.id == ch.as_str() || x.outcome == Outcome::Blocked),
            "{:?}",
            r.failures().collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn an_unconfirmed_create_that_leaves_the_source_is_found_and_archived() {
    let mut docs = generate(Shape::new(30, 14));
    let app = spawn_app(&docs).await;
    app.sync().await;
    // As if the process died after PTV applied the create but before the store committed.
    let id = docs.services[2]["id"].as_str().unwrap().to_owned();
    let entity = app.entity_of(ItemKind::Service, &id).await.unwrap();
    let mut rec = app
        .store
        .item("test", ItemKind::Service, &id)
        .await
        .unwrap()
        .unwrap();
    rec.ptv_id = None;
    rec.remote = ptv_sync::store::RemoteState::Absent;
    rec.fingerprint = None;
    rec.attempts = 1;
    app.store.put_item(&rec).await.unwrap();
    docs.services.remove(2);
    app.write_source(&docs);
    let r = app.sync().await;
    assert_eq!(r.count(Action::Archive, Outcome::Ok), 1, "{:?}", r.results);
    assert_eq!(
        app.sim.entity(entity.id).unwrap().status,
        PublishingStatus::Deleted
    );
    app.assert_converged(&docs).await;
}

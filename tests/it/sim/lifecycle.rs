//! Rules 5, 6, 14 (archive order) and 18: publishing status, locks and rights
//! (reference §5).

use super::support::{Sim, assert_400_key, assert_error_message, service, sub_org, two_users};
use ptv_sync::sim::PublishingStatus;
use reqwest::Method;
use serde_json::json;

fn status(s: &str) -> serde_json::Value {
    json!({ "publishingStatus": s })
}

#[tokio::test]
async fn rule_05_post_accepts_only_draft_or_published() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["publishingStatus"] = json!("Deleted");
    assert_400_key(
        &sim.post("/api/v11/Service", &body).await,
        "PublishingStatus",
    );
    body["publishingStatus"] = json!("Draft");
    assert_eq!(sim.post("/api/v11/Service", &body).await.status, 200);
}

#[tokio::test]
async fn rule_05_draft_cannot_be_archived() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["publishingStatus"] = json!("Draft");
    sim.post("/api/v11/Service", &body).await;
    let a = sim
        .put("/api/v11/Service/sourceId/a", &status("Deleted"))
        .await;
    assert_eq!(
        a.body,
        json!({"PublishingStatus": ["You cannot set Publishing status as Deleted when current one is Draft."]})
    );
}

#[tokio::test]
async fn rule_05_published_cannot_go_back_to_draft() {
    let sim = Sim::start().await;
    sim.service("A", "a").await;
    let a = sim
        .put("/api/v11/Service/sourceId/a", &status("Draft"))
        .await;
    assert_400_key(&a, "PublishingStatus");
}

#[tokio::test]
async fn rule_05_modified_latest_version_blocks_every_write() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    assert!(sim.handle.set_modified(id));
    for s in ["Published", "Deleted", "Modified"] {
        let a = sim.put(&format!("/api/v11/Service/{id}"), &status(s)).await;
        assert_eq!(
            a.body,
            json!({"PublishingStatus": ["You cannot update entity with status Modified."]}),
            "{s}"
        );
    }
}

#[tokio::test]
async fn rule_05_archived_item_is_restored_by_published() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    sim.put(&format!("/api/v11/Service/{id}"), &status("Deleted"))
        .await;
    assert_eq!(
        sim.handle.entity(id).unwrap().status,
        PublishingStatus::Deleted
    );
    assert_eq!(sim.get(&format!("/api/v11/Service/{id}")).await.status, 404);
    let a = sim
        .put(&format!("/api/v11/Service/{id}"), &status("Published"))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(sim.get(&format!("/api/v11/Service/{id}")).await.status, 200);
}

#[tokio::test]
async fn rule_05_deleted_on_archived_is_a_no_op() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    sim.put(&format!("/api/v11/Service/{id}"), &status("Deleted"))
        .await;
    let versions = sim.handle.entity(id).unwrap().versions;
    let a = sim
        .put(&format!("/api/v11/Service/{id}"), &status("Deleted"))
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(sim.handle.entity(id).unwrap().versions, versions);
}

#[tokio::test]
async fn rule_06_publishing_status_is_required_and_case_sensitive() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    let a = sim
        .put(
            &format!("/api/v11/Service/{id}"),
            &json!({"fundingType": "MarketFunded"}),
        )
        .await;
    assert_eq!(
        a.body["PublishingStatus"],
        json!(["The PublishingStatus field is required."])
    );
    let a = sim
        .put(&format!("/api/v11/Service/{id}"), &status("published"))
        .await;
    assert_400_key(&a, "PublishingStatus");
}

#[tokio::test]
async fn every_accepted_write_adds_a_version() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    sim.put(&format!("/api/v11/Service/{id}"), &status("Published"))
        .await;
    sim.put(&format!("/api/v11/Service/{id}"), &status("Published"))
        .await;
    sim.put(&format!("/api/v11/Service/{id}"), &status("Draft"))
        .await; // refused
    assert_eq!(sim.handle.entity(id).unwrap().versions, 3);
}

#[tokio::test]
async fn rule_18_locked_item_is_404_until_unlocked() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    sim.handle
        .set_locked(id, Some("editor@kunta.fi".to_owned()));
    let a = sim
        .put(&format!("/api/v11/Service/{id}"), &status("Published"))
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(
        a.body,
        json!({"errorMessage": "Service is locked by 'editor@kunta.fi'."})
    );
    sim.handle.set_locked(id, None);
    assert_eq!(
        sim.put(&format!("/api/v11/Service/{id}"), &status("Published"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn rule_18_write_to_another_organisations_entity_is_404() {
    let (config, user, org, other, _) = two_users();
    let sim = Sim::with(config, user, org).await;
    let id = sim.service("A", "a").await;
    let other_token = sim.login_as(&other.username, &other.password).await;
    let a = sim
        .call(
            Method::PUT,
            &format!("/api/v11/Service/{id}"),
            Some(&other_token),
            Some(&status("Published")),
        )
        .await;
    assert_eq!(
        a.body,
        json!({"errorMessage": "User has no rights to update this entity!"})
    );
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn rule_14_organisation_archive_is_refused_while_it_has_live_services() {
    let sim = Sim::start().await;
    let sub = sim
        .post("/api/v11/Organization", &sub_org(sim.org, "Ala", "sub-1"))
        .await;
    assert_eq!(sub.status, 200, "{}", sub.text);
    let sub_id = super::support::id(&sub.body);
    let svc = sim
        .post("/api/v11/Service", &service(sub_id, "Alan palvelu", "s-1"))
        .await;
    assert_eq!(svc.status, 200, "{}", svc.text);
    let a = sim
        .put(
            &format!("/api/v11/Organization/{sub_id}"),
            &status("Deleted"),
        )
        .await;
    assert_error_message(&a, 500, "Services or service channels attached!");
    sim.put("/api/v11/Service/sourceId/s-1", &status("Deleted"))
        .await;
    let a = sim
        .put(
            &format!("/api/v11/Organization/{sub_id}"),
            &status("Deleted"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

//! Rules 2, 3 and 4: sourceIds (reference §4).

use super::support::{
    Sim, assert_400_key, assert_error_message, id, phone_channel, service, two_users,
};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn rule_02_source_id_with_forbidden_characters_is_400() {
    let sim = Sim::start().await;
    let a = sim
        .post("/api/v11/Service", &service(sim.org, "A", "has_underscore"))
        .await;
    assert_400_key(&a, "SourceId");
    let a = sim
        .put(
            "/api/v11/Service/sourceId/has:colon",
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_400_key(&a, "sourceId");
}

#[tokio::test]
async fn rule_03_post_with_existing_source_id_is_500() {
    let sim = Sim::start().await;
    sim.service("A", "src-1").await;
    let a = sim
        .post("/api/v11/Service", &service(sim.org, "B", "src-1"))
        .await;
    assert_eq!(
        a.body,
        json!({"errorMessage": "The external source 'src-1' already exists. Please use update endpoint!"})
    );
    assert_eq!(a.status, 500);
}

#[tokio::test]
async fn rule_03_put_by_unknown_source_id_is_404() {
    let sim = Sim::start().await;
    let a = sim
        .put(
            "/api/v11/Service/sourceId/nope",
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(
        a.body,
        json!({"errorMessage": "Service with source id 'nope' not found."})
    );
    let a = sim
        .put(
            "/api/v11/Organization/sourceId/nope",
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_error_message(&a, 404, "Organization with source id 'nope' not found.");
}

#[tokio::test]
async fn rule_03_source_ids_are_scoped_per_api_user() {
    let (config, user, org, other, other_org) = two_users();
    let sim = Sim::with(config, user, org).await;
    sim.service("A", "shared-id").await;
    let other_token = sim.login_as(&other.username, &other.password).await;
    let a = sim
        .call(
            Method::POST,
            "/api/v11/Service",
            Some(&other_token),
            Some(&service(other_org, "A", "shared-id")),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    // The other user's mapping is invisible to the first.
    let a = sim
        .call(
            Method::PUT,
            "/api/v11/Service/sourceId/only-other",
            Some(&other_token),
            Some(&json!({"publishingStatus": "Published"})),
        )
        .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn rule_03_all_channel_types_share_one_source_id_scope() {
    let sim = Sim::start().await;
    sim.echannel("E", "chan-1").await;
    let a = sim
        .post(
            "/api/v11/ServiceChannel/Phone",
            &phone_channel(sim.org, "P", "chan-1"),
        )
        .await;
    assert_error_message(&a, 500, "already exists");
    // Services are another namespace.
    sim.service("S", "chan-1").await;
}

#[tokio::test]
async fn rule_04_archived_item_keeps_its_source_id() {
    let sim = Sim::start().await;
    sim.service("A", "keep").await;
    let archive = sim
        .put(
            "/api/v11/Service/sourceId/keep",
            &json!({"publishingStatus": "Deleted"}),
        )
        .await;
    assert_eq!(archive.status, 200, "{}", archive.text);
    assert_eq!(archive.body["sourceId"], "keep");
    let again = sim
        .post("/api/v11/Service", &service(sim.org, "A2", "keep"))
        .await;
    assert_error_message(&again, 500, "already exists");
    let restore = sim
        .put(
            "/api/v11/Service/sourceId/keep",
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_eq!(restore.status, 200, "{}", restore.text);
    assert_eq!(restore.body["publishingStatus"], "Published");
}

#[tokio::test]
async fn rule_04_deleted_put_ignores_a_source_id_change() {
    let sim = Sim::start().await;
    let id = sim.service("A", "old").await;
    let a = sim
        .put(
            &format!("/api/v11/Service/{id}"),
            &json!({"publishingStatus": "Deleted", "sourceId": "new"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let e = sim.handle.entity(id).unwrap();
    assert_eq!(e.source_id.as_deref(), Some("old"));
}

#[tokio::test]
async fn put_by_guid_adopts_a_source_id_and_refuses_one_taken() {
    let sim = Sim::start().await;
    let a = sim.service("A", "a-id").await;
    let b = sim.service("B", "b-id").await;
    let adopt = sim
        .put(
            &format!("/api/v11/Service/{a}"),
            &json!({"publishingStatus": "Published", "sourceId": "a-new"}),
        )
        .await;
    assert_eq!(adopt.status, 200, "{}", adopt.text);
    assert_eq!(adopt.body["sourceId"], "a-new");
    let taken = sim
        .put(
            &format!("/api/v11/Service/{a}"),
            &json!({"publishingStatus": "Published", "sourceId": "b-id"}),
        )
        .await;
    assert_error_message(&taken, 500, &format!("already exists for entity '{b}'"));
}

#[tokio::test]
async fn source_id_is_shown_only_to_the_user_who_set_it() {
    let sim = Sim::start().await;
    let a = sim
        .post("/api/v11/Service", &service(sim.org, "A", "mine"))
        .await;
    let id = id(&a.body);
    assert_eq!(a.body["sourceId"], "mine");
    assert!(sim.get(&format!("/api/v11/Service/{id}")).await.body["sourceId"].is_null());
    assert_eq!(
        sim.get_authed(&format!("/api/v11/Service/{id}")).await.body["sourceId"],
        "mine"
    );
}

#[tokio::test]
async fn channel_put_by_source_id_uses_channel_wording() {
    let sim = Sim::start().await;
    let a = sim
        .put(
            "/api/v11/ServiceChannel/EChannel/sourceId/missing",
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_error_message(
        &a,
        404,
        "Service channel with source id 'missing' not found.",
    );
}

#[tokio::test]
async fn rule_02_source_id_in_a_put_body_is_checked_too() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    let a = sim
        .put(
            &format!("/api/v11/Service/{id}"),
            &json!({"publishingStatus": "Published", "sourceId": "a/b"}),
        )
        .await;
    assert_400_key(&a, "SourceId");
}

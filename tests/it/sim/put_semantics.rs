//! Reference §6: omitted fields stay, sent localized lists replace whole, other
//! collections are cleared only by their delete flags.

use super::support::{Sim, id, sub_org};
use serde_json::json;

#[tokio::test]
async fn omitted_fields_are_left_unchanged() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    let a = sim
        .put(
            &format!("/api/v11/Service/{id}"),
            &json!({"publishingStatus": "Published", "fundingType": "MarketFunded"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let e = sim.handle.entity(id).unwrap();
    assert_eq!(e.last_body["fundingType"], "MarketFunded");
    assert_eq!(e.last_body["serviceNames"][0]["value"], "A");
    assert_eq!(e.last_body["areaType"], "Nationwide");
}

#[tokio::test]
async fn a_sent_localized_list_replaces_the_stored_one_whole() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    let a = sim
        .put(
            &format!("/api/v11/Service/{id}"),
            &json!({"publishingStatus": "Published",
                    "serviceDescriptions": [{"type": "Summary", "language": "fi", "value": "Uusi"}]}),
        )
        .await;
    // The Description was not resent, so the list lacks it: the state is invalid.
    assert_eq!(a.status, 400, "{}", a.text);
    let a = sim
        .put(
            &format!("/api/v11/Service/{id}"),
            &json!({"publishingStatus": "Published", "serviceDescriptions": [
                {"type": "Summary", "language": "fi", "value": "Uusi"},
                {"type": "Description", "language": "fi", "value": "Uusi kuvaus"}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let stored = &sim.handle.entity(id).unwrap().last_body["serviceDescriptions"];
    assert_eq!(stored.as_array().unwrap().len(), 2);
    assert_eq!(stored[0]["value"], "Uusi");
}

#[tokio::test]
async fn empty_collection_does_not_clear_but_its_delete_flag_does() {
    let sim = Sim::start().await;
    let mut body = sub_org(sim.org, "Ala", "o");
    body["emails"] = json!([{"language": "fi", "value": "info@kunta.fi"}]);
    let org = id(&sim.post("/api/v11/Organization", &body).await.body);
    let path = format!("/api/v11/Organization/{org}");
    sim.put(&path, &json!({"publishingStatus": "Published"}))
        .await;
    sim.put(
        &path,
        &json!({"publishingStatus": "Published", "emails": []}),
    )
    .await;
    assert_eq!(
        sim.handle.entity(org).unwrap().last_body["emails"][0]["value"],
        "info@kunta.fi"
    );
    let a = sim
        .put(
            &path,
            &json!({"publishingStatus": "Published", "deleteAllEmails": true}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let stored = sim.handle.entity(org).unwrap().last_body;
    assert!(stored.get("emails").is_none(), "{stored}");
    assert!(stored.get("deleteAllEmails").is_none());
}

#[tokio::test]
async fn service_keywords_are_cleared_by_delete_all_keywords() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    let path = format!("/api/v11/Service/{id}");
    sim.put(&path, &json!({"publishingStatus": "Published", "keywords": [{"language": "fi", "value": "avain"}]}))
        .await;
    assert_eq!(
        sim.handle.entity(id).unwrap().last_body["keywords"][0]["value"],
        "avain"
    );
    sim.put(
        &path,
        &json!({"publishingStatus": "Published", "deleteAllKeywords": true}),
    )
    .await;
    assert!(
        sim.handle
            .entity(id)
            .unwrap()
            .last_body
            .get("keywords")
            .is_none()
    );
}

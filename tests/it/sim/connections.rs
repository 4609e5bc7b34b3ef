//! Rule 17: connections (reference §3.4).

use super::support::{Sim, assert_400_key, assert_error_message, echannel, id, two_users};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn rule_17_put_replaces_the_set_and_an_empty_list_keeps_it() {
    let sim = Sim::start().await;
    let s = sim.service("S", "s").await;
    let c1 = sim.echannel("C1", "c1").await;
    let c2 = sim.echannel("C2", "c2").await;
    let path = format!("/api/v11/Connection/serviceId/{s}");
    let a = sim
        .put(
            &path,
            &json!({"channelRelations": [{"serviceChannelId": c1}, {"serviceChannelId": c2}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["serviceChannels"].as_array().unwrap().len(), 2);
    sim.put(
        &path,
        &json!({"channelRelations": [{"serviceChannelId": c2}]}),
    )
    .await;
    assert_eq!(sim.handle.entity(s).unwrap().connections, vec![c2]);
    sim.put(&path, &json!({"channelRelations": []})).await;
    assert_eq!(sim.handle.entity(s).unwrap().connections, vec![c2]);
}

#[tokio::test]
async fn rule_17_delete_all_channel_relations_empties_the_set() {
    let sim = Sim::start().await;
    let s = sim.service("S", "s").await;
    let c = sim.echannel("C", "c").await;
    let path = format!("/api/v11/Connection/serviceId/{s}");
    sim.put(
        &path,
        &json!({"channelRelations": [{"serviceChannelId": c}]}),
    )
    .await;
    let a = sim
        .put(
            &path,
            &json!({"deleteAllChannelRelations": true, "channelRelations": []}),
        )
        .await;
    assert_eq!(a.status, 200);
    assert!(a.body["serviceChannels"].is_null());
}

#[tokio::test]
async fn rule_17_duplicate_channels_are_400() {
    let sim = Sim::start().await;
    let s = sim.service("S", "s").await;
    let c = sim.echannel("C", "c").await;
    let a = sim
        .put(
            &format!("/api/v11/Connection/serviceId/{s}"),
            &json!({"channelRelations": [{"serviceChannelId": c}, {"serviceChannelId": c}]}),
        )
        .await;
    assert_400_key(&a, "ChannelRelations");
}

#[tokio::test]
async fn rule_17_unresolvable_channel_source_id_fails_the_whole_call_with_500() {
    let sim = Sim::start().await;
    sim.service("S", "s").await;
    sim.echannel("C", "c").await;
    let a = sim
        .put(
            "/api/v11/Connection/serviceSourceId/s",
            &json!({"channelRelations": [{"serviceChannelSourceId": "c"}, {"serviceChannelSourceId": "ghost"}]}),
        )
        .await;
    assert_error_message(&a, 500, "ghost");
    let sid = sim
        .handle
        .catalogue()
        .into_iter()
        .find(|e| e.source_id.as_deref() == Some("s"))
        .unwrap();
    assert!(sid.connections.is_empty());
    let unknown_service = sim
        .put(
            "/api/v11/Connection/serviceSourceId/nope",
            &json!({"channelRelations": []}),
        )
        .await;
    assert_eq!(unknown_service.status, 404);
}

#[tokio::test]
async fn rule_17_post_connection_answers_200_with_a_message_per_item() {
    let sim = Sim::start().await;
    let s = sim.service("S", "s").await;
    let c = sim.echannel("C", "c").await;
    let missing = uuid::Uuid::new_v4();
    let a = sim
        .post(
            "/api/v11/Connection",
            &json!([{"serviceId": s, "serviceChannelId": c}, {"serviceId": s, "serviceChannelId": missing}]),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let messages = a.body.as_array().unwrap();
    assert!(messages[0].as_str().unwrap().contains("added or updated"));
    assert!(messages[1].as_str().unwrap().contains("not found"));
    assert_eq!(sim.handle.entity(s).unwrap().connections, vec![c]);
    let by_source = sim
        .post(
            "/api/v11/Connection/Source",
            &json!([{"serviceSourceId": "s", "serviceChannelSourceId": "c"}]),
        )
        .await;
    assert_eq!(by_source.status, 200);
}

#[tokio::test]
async fn rule_17_channel_of_another_organisation_must_be_visible_for_all() {
    let (config, user, org, other, other_org) = two_users();
    let sim = Sim::with(config, user, org).await;
    let s = sim.service("S", "s").await;
    let other_token = sim.login_as(&other.username, &other.password).await;
    let mut hidden = echannel(other_org, "Piilo", "h");
    hidden["isVisibleForAll"] = json!(false);
    let h = sim
        .call(
            Method::POST,
            "/api/v11/ServiceChannel/EChannel",
            Some(&other_token),
            Some(&hidden),
        )
        .await;
    let public = sim
        .call(
            Method::POST,
            "/api/v11/ServiceChannel/EChannel",
            Some(&other_token),
            Some(&echannel(other_org, "Julkinen", "p")),
        )
        .await;
    let path = format!("/api/v11/Connection/serviceId/{s}");
    let a = sim
        .put(
            &path,
            &json!({"channelRelations": [{"serviceChannelId": id(&h.body)}]}),
        )
        .await;
    assert!(
        a.text.contains("restricted only for defined organization"),
        "{}",
        a.text
    );
    let a = sim
        .put(
            &path,
            &json!({"channelRelations": [{"serviceChannelId": id(&public.body)}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

#[tokio::test]
async fn rule_17_connections_are_refused_while_the_service_is_modified() {
    let sim = Sim::start().await;
    let s = sim.service("S", "s").await;
    let c = sim.echannel("C", "c").await;
    sim.handle.set_modified(s);
    let a = sim
        .put(
            &format!("/api/v11/Connection/serviceId/{s}"),
            &json!({"channelRelations": [{"serviceChannelId": c}]}),
        )
        .await;
    assert_error_message(&a, 404, "not found");
}

#[tokio::test]
async fn service_post_with_service_channels_connects_them() {
    let sim = Sim::start().await;
    let c = sim.echannel("C", "c").await;
    let mut body = super::support::service(sim.org, "S", "s");
    body["serviceChannels"] = json!([c]);
    let a = sim.post("/api/v11/Service", &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.body["serviceChannels"][0]["serviceChannel"]["id"],
        c.to_string()
    );
}

//! What a person does in PTV's UI behind the API's back (`/_sim/ui-*` and the
//! handle's `ui_*`): a published edit, a manual archive, a removed connection. Each
//! shows in the reads of both versions.

use super::support::Sim;
use super::v12::create as v12_create;
use ptv_sync::sim::{ArchivingType, PublishingStatus, UiError};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

const EDITOR: &str = "matti.meikalainen@example.fi";

async fn control(sim: &Sim, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = sim.client.post(sim.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn ui_edit_publishes_a_new_version_shown_in_v11_reads() {
    let sim = Sim::start().await;
    let s = sim.service("Kirjasto", "lib").await;
    sim.handle.advance_clock(Duration::from_secs(3_600));
    let (status, view) = control(
        &sim,
        &format!("/_sim/ui-edit/{s}"),
        Some(json!({
            "set": {"/serviceDescriptions/0/value": "Ihmisen kirjoittama tiivistelmä"},
            "by": EDITOR
        })),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["versions"], 2);
    assert_eq!(view["modifiedBy"], EDITOR);
    let read = sim.get(&format!("/api/v11/Service/{s}")).await;
    assert_eq!(
        read.body["serviceDescriptions"][0]["value"],
        "Ihmisen kirjoittama tiivistelmä"
    );
    assert_eq!(read.body["modifiedBy"], EDITOR);
    assert_eq!(read.body["publishingStatus"], "Published");
    let e = sim.handle.entity(s).unwrap();
    assert!((e.modified - sim.handle.now()).num_seconds().abs() < 5);

    // A renamed item keeps the catalogue's name rules.
    let other = sim.service("Uimahalli", "pool").await;
    let taken = sim.handle.ui_edit(
        other,
        &[("/serviceNames/0/value", json!("Kirjasto"))],
        EDITOR,
    );
    assert!(matches!(taken, Err(UiError::Conflict { .. })), "{taken:?}");
    let renamed = sim
        .handle
        .ui_edit(
            other,
            &[("/serviceNames/0/value", json!("Maauimala"))],
            EDITOR,
        )
        .unwrap();
    assert_eq!(renamed.name_fi.as_deref(), Some("Maauimala"));

    let unknown = Uuid::new_v4();
    let (status, _) = control(
        &sim,
        &format!("/_sim/ui-edit/{unknown}"),
        Some(json!({"set": {"/a": 1}})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = control(
        &sim,
        &format!("/_sim/ui-edit/{s}"),
        Some(json!({"set": {}})),
    )
    .await;
    assert_eq!(status, 400);
    sim.handle.ui_archive(s, None).unwrap();
    let (status, _) = control(
        &sim,
        &format!("/_sim/ui-edit/{s}"),
        Some(json!({"set": {"/serviceDescriptions/0/value": "x"}})),
    )
    .await;
    assert_eq!(status, 409, "an archived item cannot be edited");
}

#[tokio::test]
async fn ui_edit_of_a_v12_item_shows_in_the_v12_read() {
    let sim = Sim::start().await;
    let s = v12_create(&sim, "Kirjasto", "lib").await;
    let view = sim
        .handle
        .ui_edit(
            s,
            &[("/languageVersions/fi/summary", json!("Uusi tiivistelmä"))],
            EDITOR,
        )
        .unwrap();
    assert_eq!(view.versions, 2);
    let read = sim.get(&format!("/api/v12/service/{s}")).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(
        read.body["languageVersions"]["fi"]["summary"],
        "Uusi tiivistelmä"
    );
    assert_eq!(read.body["modifiedBy"], EDITOR);
}

#[tokio::test]
async fn ui_archive_is_manual_and_listed_on_both_versions() {
    let sim = Sim::start().await;
    let s = sim.service("Kirjasto", "lib").await;
    let (status, view) = control(
        &sim,
        &format!("/_sim/ui-archive/{s}"),
        Some(json!({"by": EDITOR})),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "Deleted");
    assert_eq!(view["archivingType"], "Manual");
    assert_eq!(view["modifiedBy"], EDITOR);
    let e = sim.handle.entity(s).unwrap();
    assert_eq!(e.archiving_type, Some(ArchivingType::Manual));
    assert_eq!(e.archived_at, Some(e.modified));
    assert_eq!(sim.get(&format!("/api/v11/Service/{s}")).await.status, 404);
    assert_eq!(sim.get(&format!("/api/v12/service/{s}")).await.status, 404);
    let v11 = sim
        .get("/api/v11/Service/archived/list?archivingType=Manual")
        .await;
    assert_eq!(v11.body["itemList"][0]["id"], s.to_string(), "{}", v11.text);
    let v12 = sim
        .get("/api/v12/service/archived?archivedAtOrAfter=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(v12.body["items"], json!([{"contentId": s}]));

    // Twice: 409; an organisation with live items: 409; no body: the default editor.
    let (status, _) = control(&sim, &format!("/_sim/ui-archive/{s}"), None).await;
    assert_eq!(status, 409);
    let (status, _) = control(&sim, &format!("/_sim/ui-archive/{}", sim.org), None).await;
    assert_eq!(status, 200, "the organisation has no live items left");
    let c = sim.echannel("Kanava", "c").await;
    let unknown = Uuid::new_v4();
    let (status, _) = control(&sim, &format!("/_sim/ui-archive/{unknown}"), None).await;
    assert_eq!(status, 404);
    let e = sim.handle.ui_archive(c, None);
    assert_eq!(e.unwrap().modified_by, ptv_sync::sim::UI_USER);
}

#[tokio::test]
async fn ui_disconnect_removes_the_connection_from_both_reads() {
    let sim = Sim::start().await;
    let s = sim.service("Kirjasto", "lib").await;
    let c1 = sim.echannel("Verkkoasiointi", "c1").await;
    let c2 = sim.echannel("Toinen", "c2").await;
    let a = sim
        .put(
            &format!("/api/v11/Connection/serviceId/{s}"),
            &json!({"channelRelations": [{"serviceChannelId": c1}, {"serviceChannelId": c2}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let before = sim.handle.entity(s).unwrap();
    sim.handle.advance_clock(Duration::from_secs(86_400));

    let (status, view) = control(
        &sim,
        &format!("/_sim/ui-disconnect/{s}/{c1}"),
        Some(json!({"by": EDITOR})),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["connections"], json!([c2]));
    let after = sim.handle.entity(s).unwrap();
    assert!(after.modified > before.modified, "the service was saved");
    assert_eq!(after.modified_by, EDITOR);
    assert_eq!(after.status, PublishingStatus::Published);
    let read = sim.get(&format!("/api/v11/Service/{s}")).await;
    let listed: Vec<&Value> = read.body["serviceChannels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["serviceChannel"]["id"])
        .collect();
    assert_eq!(listed, vec![&json!(c2)]);
    assert_eq!(
        sim.get(&format!("/api/v12/connection/{s}/{c1}"))
            .await
            .status,
        404
    );
    assert_eq!(
        sim.get(&format!("/api/v12/connection/{s}/{c2}"))
            .await
            .status,
        200
    );

    let (status, _) = control(&sim, &format!("/_sim/ui-disconnect/{s}/{c1}"), None).await;
    assert_eq!(status, 404, "no such connection any more");
    assert!(matches!(
        sim.handle.ui_disconnect(c1, c2, None),
        Err(UiError::NotFound(_))
    ));
}

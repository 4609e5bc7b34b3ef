//! The simulator's clock, what every save records (`modified`, `modifiedBy`), PTV's
//! automatic archiving after 18 months unsaved (reference §5) and the archived lists
//! of both versions (§3.2, §3.3, the v12 `…/archived` paths).

use super::support::{Sim, service};
use super::v12::{create as v12_create, put_body, v12_eservice, v12_service};
use chrono::{DateTime, Months, TimeDelta, Utc};
use ptv_sync::sim::{ArchivingType, PublishingStatus, SeedItem, SimKind};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86_400);

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("no time in {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

fn close(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).abs() < TimeDelta::seconds(5)
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn clock_is_read_moved_and_set_over_http_and_on_the_handle() {
    let sim = Sim::start().await;
    let real = Utc::now();
    let url = sim.url("/_sim/clock");
    let now: Value = sim
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(close(time(&now["now"]), real), "{now}");

    let moved: Value = sim
        .client
        .post(&url)
        .json(&json!({"advance_secs": 86_400}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        close(time(&moved["now"]), real + TimeDelta::days(1)),
        "{moved}"
    );
    assert!(close(sim.handle.now(), real + TimeDelta::days(1)));

    let target = DateTime::parse_from_rfc3339("2031-05-04T03:02:01Z")
        .unwrap()
        .with_timezone(&Utc);
    let set: Value = sim
        .client
        .post(&url)
        .json(&json!({"set": "2031-05-04T03:02:01Z"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(close(time(&set["now"]), target), "{set}");

    let after = sim.handle.advance_clock(2 * DAY);
    assert!(close(after, target + TimeDelta::days(2)));
    sim.handle.set_clock(real);
    assert!(close(sim.handle.now(), real));

    for bad in [
        json!({}),
        json!({"advance_secs": 1, "set": "2030-01-01T00:00:00Z"}),
        json!({"set": "tomorrow"}),
    ] {
        let a = sim.client.post(&url).json(&bad).send().await.unwrap();
        assert_eq!(a.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn every_read_shows_modified_and_modified_by_from_the_sim_clock() {
    let sim = Sim::start().await;
    let s = sim.service("A", "a").await;
    let created = sim.handle.now();
    let user = sim.user.username.clone();
    for path in [
        format!("/api/v11/Service/{s}"),
        format!("/api/v11/Service/active/{s}"),
    ] {
        let a = sim.get_authed(&path).await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        assert!(
            close(time(&a.body["modified"]), created),
            "{path}: {}",
            a.text
        );
        assert_eq!(a.body["modifiedBy"], user.as_str(), "{path}");
    }
    let list = sim.get(&format!("/api/v11/Service/list?guids={s}")).await;
    assert_eq!(list.body[0]["modifiedBy"], user.as_str());

    // A save 40 days later is stamped with the sim clock, not the wall clock.
    sim.handle.advance_clock(40 * DAY);
    let a = sim
        .put(
            &format!("/api/v11/Service/{s}"),
            &service(sim.org, "A", "a"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v12 = sim.get(&format!("/api/v12/service/{s}")).await;
    assert_eq!(v12.status, 200, "{}", v12.text);
    assert!(
        close(time(&v12.body["modified"]), sim.handle.now()),
        "{}",
        v12.text
    );
    assert!(close(time(&v12.body["modifiedAt"]), sim.handle.now()));
    assert_eq!(v12.body["modifiedBy"], user.as_str());
    let view = sim.handle.entity(s).unwrap();
    assert!(close(view.modified, sim.handle.now()));
    assert_eq!(view.modified_by, user);
    let catalogue: Value = sim
        .client
        .get(sim.url("/_sim/catalogue"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entry = catalogue
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == s.to_string())
        .unwrap();
    assert_eq!(entry["modifiedBy"], user.as_str());
    assert!(entry["archivedAt"].is_null() && entry["archivingType"].is_null());
}

#[tokio::test]
async fn connection_writes_leave_modified_alone_as_ptv_does() {
    let sim = Sim::start().await;
    let s = sim.service("A", "a").await;
    let c = sim.echannel("C", "c").await;
    let before = sim.handle.entity(s).unwrap().modified;
    sim.handle.advance_clock(3 * DAY);
    let a = sim
        .put(
            &format!("/api/v11/Connection/serviceId/{s}"),
            &json!({"channelRelations": [{"serviceChannelId": c}]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let after = sim.handle.entity(s).unwrap();
    assert_eq!(after.connections, vec![c]);
    assert_eq!(
        after.modified, before,
        "reference §3.4: a connection write is not a save"
    );
}

/// v11: a service and a channel untouched for 18 months and a day are archived
/// Automatic; a service written 17 months ago and the organisation stay.
#[tokio::test]
async fn v11_items_unsaved_for_18_months_are_archived_automatically() {
    let sim = Sim::start().await;
    let t0 = sim.handle.now();
    let old = sim.service("Vanha", "old").await;
    let old_channel = sim.echannel("Vanha kanava", "old-c").await;
    sim.handle
        .set_clock(t0.checked_add_months(Months::new(1)).unwrap());
    let recent = sim.service("Tuore", "recent").await;
    let recent_saved = sim.handle.entity(recent).unwrap().modified;

    sim.handle
        .set_clock(t0.checked_add_months(Months::new(17)).unwrap() + TimeDelta::days(20));
    assert_eq!(
        sim.handle.entity(old).unwrap().status,
        PublishingStatus::Published
    );

    let now = sim
        .handle
        .set_clock(t0.checked_add_months(Months::new(18)).unwrap() + TimeDelta::days(1));
    assert!(recent_saved.checked_add_months(Months::new(18)).unwrap() > now);
    let gone = sim.handle.entity(old).unwrap();
    assert_eq!(gone.status, PublishingStatus::Deleted);
    assert_eq!(gone.archiving_type, Some(ArchivingType::Automatic));
    assert_eq!(
        gone.archived_at,
        gone.modified.checked_add_months(Months::new(18))
    );
    assert_eq!(
        sim.handle.entity(old_channel).unwrap().archiving_type,
        Some(ArchivingType::Automatic)
    );
    assert_eq!(
        sim.handle.entity(recent).unwrap().status,
        PublishingStatus::Published
    );
    assert_eq!(
        sim.handle.entity(sim.org).unwrap().status,
        PublishingStatus::Published
    );
    assert_eq!(
        sim.get(&format!("/api/v11/Service/{old}")).await.status,
        404
    );

    let auto = sim
        .get_authed(&format!(
            "/api/v11/Service/archived/list?organizationId={}&archivingType=Automatic",
            sim.org
        ))
        .await;
    assert_eq!(auto.status, 200, "{}", auto.text);
    assert_eq!(auto.body["totalCount"], 1, "{}", auto.text);
    let item = &auto.body["itemList"][0];
    assert_eq!(item["id"], old.to_string());
    assert_eq!(item["sourceId"], "old");
    assert_eq!(item["archivingType"], "Automatic");
    assert!(close(time(&item["archivedAt"]), gone.archived_at.unwrap()));
    let manual = sim
        .get("/api/v11/Service/archived/list?archivingType=Manual")
        .await;
    assert_eq!(manual.body["totalCount"], 0, "{}", manual.text);
    let channels = sim
        .get("/api/v11/ServiceChannel/archived/list?archivingType=Automatic")
        .await;
    assert_eq!(
        ids(&channels.body["itemList"], "id"),
        vec![old_channel.to_string()]
    );
    // Anonymous callers do not see our sourceId.
    assert!(channels.body["itemList"][0]["sourceId"].is_null());

    // A restore brings it back and resets the clock.
    let a = sim
        .put(
            &format!("/api/v11/Service/{old}"),
            &service(sim.org, "Vanha", "old"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let back = sim.handle.entity(old).unwrap();
    assert_eq!(back.status, PublishingStatus::Published);
    assert_eq!((back.archived_at, back.archiving_type), (None, None));
}

#[tokio::test]
async fn v12_items_unsaved_for_18_months_are_archived_automatically() {
    let sim = Sim::start().await;
    let t0 = sim.handle.now();
    let old = v12_create(&sim, "Vanha", "old").await;
    let a = sim
        .post(
            "/api/v12/service-channel/e-service",
            &v12_eservice(sim.org, "Vanha kanava"),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let old_channel = a.body["contentId"].as_str().unwrap().to_owned();
    sim.handle
        .set_clock(t0.checked_add_months(Months::new(1)).unwrap());
    let recent = v12_create(&sim, "Tuore", "recent").await;
    sim.handle
        .set_clock(t0.checked_add_months(Months::new(18)).unwrap() + TimeDelta::days(1));

    assert_eq!(
        sim.get(&format!("/api/v12/service/{old}")).await.status,
        404
    );
    assert_eq!(
        sim.get(&format!("/api/v12/service/{recent}")).await.status,
        200
    );
    assert_eq!(
        sim.get(&format!("/api/v12/organization/{}", sim.org))
            .await
            .status,
        200
    );
    let since = t0.to_rfc3339();
    let services = sim
        .get(&format!(
            "/api/v12/service/archived?page=1&pageSize=100&archivedAtOrAfter={}",
            urlencode(&since)
        ))
        .await;
    assert_eq!(services.status, 200, "{}", services.text);
    assert_eq!(services.body["totalItems"], 1);
    assert_eq!(services.body["totalPages"], 1);
    assert_eq!(services.body["items"], json!([{"contentId": old}]));
    let channels = sim
        .get(&format!(
            "/api/v12/service-channel/archived?archivedAtOrAfter={}",
            urlencode(&since)
        ))
        .await;
    assert_eq!(ids(&channels.body["items"], "contentId"), vec![old_channel]);
    // Archived before the given moment: not listed.
    let later = (sim.handle.now() + TimeDelta::days(1)).to_rfc3339();
    let none = sim
        .get(&format!(
            "/api/v12/service/archived?archivedAtOrAfter={}",
            urlencode(&later)
        ))
        .await;
    assert_eq!(none.body["totalItems"], 0);
    assert_eq!(
        sim.handle.entity(old).unwrap().archiving_type,
        Some(ArchivingType::Automatic)
    );

    // A PUT restores it (v12 restores an archived item on update).
    let restore = sim
        .put(
            &format!("/api/v12/service/{old}"),
            &put_body(&v12_service(sim.org, "Vanha", "old")),
        )
        .await;
    assert_eq!(restore.status, 200, "{}", restore.text);
    assert_eq!(sim.handle.entity(old).unwrap().archiving_type, None);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn api_archives_are_manual_on_both_versions() {
    let sim = Sim::start().await;
    let v11 = sim.service("A", "a").await;
    let mut body = service(sim.org, "A", "a");
    body["publishingStatus"] = json!("Deleted");
    let a = sim.put(&format!("/api/v11/Service/{v11}"), &body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v12 = v12_create(&sim, "B", "b").await;
    let d = sim
        .call(
            Method::DELETE,
            &format!("/api/v12/service/{v12}"),
            Some(&sim.token),
            None,
        )
        .await;
    assert_eq!(d.status, 204);
    for id in [v11, v12] {
        let e = sim.handle.entity(id).unwrap();
        assert_eq!(e.archiving_type, Some(ArchivingType::Manual));
        assert!(close(e.archived_at.unwrap(), sim.handle.now()));
        assert_eq!(e.modified_by, sim.user.username);
    }
    let manual = sim
        .get_authed("/api/v11/Service/archived/list?archivingType=Manual&take=1")
        .await;
    assert_eq!(manual.body["totalCount"], 2, "{}", manual.text);
    assert_eq!(manual.body["take"], 1);
    assert_eq!(ids(&manual.body["itemList"], "id"), vec![v11.to_string()]);
    let second = sim
        .get("/api/v11/Service/archived/list?archivingType=Manual&skip=1&take=1")
        .await;
    assert_eq!(ids(&second.body["itemList"], "id"), vec![v12.to_string()]);
    let future = (sim.handle.now() + TimeDelta::days(1)).to_rfc3339();
    let none = sim
        .get(&format!(
            "/api/v11/Service/archived/list?minArchivingDate={}",
            urlencode(&future)
        ))
        .await;
    assert_eq!(none.body["totalCount"], 0, "{}", none.text);
    assert!(none.body["itemList"].is_null());
}

#[tokio::test]
async fn archived_lists_refuse_bad_parameters() {
    let sim = Sim::start().await;
    for path in [
        "/api/v11/Service/archived/list?take=101",
        "/api/v11/Service/archived/list?take=0",
        "/api/v11/Service/archived/list?archivingType=Sometimes",
        "/api/v11/ServiceChannel/archived/list?organizationId=nope",
        "/api/v11/ServiceChannel/archived/list?minArchivingDate=yesterday",
        "/api/v12/service/archived",
        "/api/v12/service/archived?archivedAtOrAfter=soon",
        "/api/v12/service-channel/archived?archivedAtOrAfter=2020-01-01T00:00:00Z&pageSize=101",
    ] {
        assert_eq!(sim.get(path).await.status, 400, "{path}");
    }
    assert_eq!(
        sim.get("/api/v11/service/ARCHIVED/list?take=100")
            .await
            .status,
        200,
        "v11 routes ignore case"
    );
}

/// Seeded items keep their own `modified`: an old one is archived at once, an old
/// organisation never is.
#[tokio::test]
async fn seeded_items_age_from_their_modified_and_organisations_never_archive() {
    let sim = Sim::start().await;
    let long_ago = (sim.handle.now() - TimeDelta::days(600)).to_rfc3339();
    let seed = |kind, name: &str| SeedItem {
        kind,
        id: None,
        organization: sim.org,
        names: [("fi".to_owned(), name.to_owned())].into(),
        status: PublishingStatus::Published,
        source_id: None,
        external_id: None,
        owner: None,
        body: None,
        modified: Some(long_ago.clone()),
        modified_by: Some("editor@example.fi".to_owned()),
        connections: Vec::new(),
    };
    let ids = sim
        .handle
        .seed_catalogue(&[
            seed(SimKind::Service, "Unohdettu"),
            seed(SimKind::Organization, "Vanha virasto"),
        ])
        .unwrap();
    let service = sim.handle.entity(ids[0]).unwrap();
    assert_eq!(service.archiving_type, Some(ArchivingType::Automatic));
    assert_eq!(service.modified_by, "editor@example.fi");
    let org = sim.handle.entity(ids[1]).unwrap();
    assert_eq!(org.status, PublishingStatus::Published);
    sim.handle.advance_clock(3 * 365 * DAY);
    assert_eq!(
        sim.handle.entity(ids[1]).unwrap().status,
        PublishingStatus::Published
    );
    assert_eq!(
        sim.handle.entity(sim.org).unwrap().status,
        PublishingStatus::Published
    );
}

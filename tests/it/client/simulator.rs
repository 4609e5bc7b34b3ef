//! The client against the PTV simulator: whole lifecycles with PTV's rules, token
//! revocation, lost responses, and items blocked in the UI.

use super::mapping::{channel_json, service_json};
use super::{fast_retry, pid};
use ptv_sync::model::{ApiVersion, ChannelType, ItemKind, PtvSourceId};
use ptv_sync::ptv::wire::{ConnectionsWrite, Wire, Write};
use ptv_sync::ptv::{ErrorClass, PtvClientConfig, PtvError, v11, v12};
use ptv_sync::secret::SecretSource;
use ptv_sync::sim::{Faults, PublishingStatus, SimConfig, SimHandle, Simulator};
use secrecy::SecretString;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::Semaphore;
use uuid::Uuid;

async fn start() -> (SimHandle, Uuid) {
    let (config, _user, org) = SimConfig::single_org();
    (Simulator::start(config).await.unwrap(), org)
}

fn client(sim: &SimHandle, version: ApiVersion, org: Uuid) -> Arc<dyn Wire> {
    let base = url::Url::parse(&sim.base_url()).unwrap();
    let mut cfg = PtvClientConfig::new(
        version,
        base.clone(),
        base.join("/api/auth/api-login").unwrap(),
        SimConfig::DEMO_USERNAME.into(),
        SecretSource::Inline(SecretString::from(SimConfig::DEMO_PASSWORD.to_owned())),
        org.to_string(),
        "demokunta".into(),
    );
    cfg.production = false;
    cfg.retry = fast_retry(8);
    if version == ApiVersion::V12 {
        cfg.api_key = Some(SecretSource::Inline(SecretString::from(
            SimConfig::DEMO_API_KEY.to_owned(),
        )));
    }
    ptv_sync::ptv::wire::connect(cfg, Arc::new(Semaphore::new(16))).unwrap()
}

fn service_model(id: &str, name: &str) -> ptv_sync::model::Service {
    let mut v = service_json();
    v["id"] = json!(id);
    v["area"] = json!({"type": "LimitedArea", "municipalities": ["091"]});
    v["serviceLanguages"] = json!(["fi"]);
    // Industrial classes need a KR2 target group (PTV's rule, which the simulator keeps).
    v.as_object_mut().unwrap().remove("industrialClasses");
    v["languageVersions"].as_object_mut().unwrap().remove("sv");
    v["languageVersions"]["fi"]["name"] = json!(name);
    serde_json::from_value(v).unwrap()
}

fn v11_service(org: Uuid, id: &str, name: &str) -> Write {
    Write {
        kind: ItemKind::Service,
        channel_type: None,
        source_id: PtvSourceId::parse(&format!("demo-service-{id}")).unwrap(),
        organization_ptv_id: pid(&org.to_string()),
        name_fi: Some(name.into()),
        body: v11::map::service(&service_model(id, name), &org.to_string()).body,
    }
}

fn channel_write(version: ApiVersion, org: Uuid, t: ChannelType) -> Write {
    let mut v = channel_json(t);
    v["area"] = json!({"type": "LimitedArea", "municipalities": ["091"]});
    let c: ptv_sync::model::Channel = serde_json::from_value(v).unwrap();
    let body = match version {
        ApiVersion::V11 => v11::map::channel(&c, &org.to_string(), None).body,
        ApiVersion::V12 => v12::map::channel(&c, &org.to_string(), None).unwrap().body,
    };
    Write {
        kind: ItemKind::Channel,
        channel_type: Some(t),
        source_id: PtvSourceId::parse(&format!("demo-channel-{t}")).unwrap(),
        organization_ptv_id: pid(&org.to_string()),
        name_fi: Some(
            c.language_versions
                .values()
                .next()
                .unwrap()
                .name
                .to_string(),
        ),
        body,
    }
}

fn status_of(sim: &SimHandle, id: &str) -> PublishingStatus {
    sim.entity(id.to_string().parse().unwrap())
        .expect("entity in the simulator")
        .status
}

#[tokio::test]
async fn v11_lifecycle_create_connect_update_archive_restore() {
    let (sim, org) = start().await;
    let api = client(&sim, ApiVersion::V11, org);
    let ch = channel_write(ApiVersion::V11, org, ChannelType::EService);
    let channel = api.create(&ch).await.unwrap();
    let svc = v11_service(org, "permit", "Rakennuslupa");
    let service = api.create(&svc).await.unwrap();
    assert!(!service.adopted && !channel.adopted);
    assert_eq!(
        status_of(&sim, &service.ptv_id.to_string()),
        PublishingStatus::Published
    );

    let relation = v11::map::connection(
        &serde_json::from_value(
            json!({"channel": "x", "description": {"fi": "Hae lupaa verkossa."}}),
        )
        .unwrap(),
        &channel.ptv_id.to_string(),
    );
    let conns = ConnectionsWrite {
        service_ptv_id: service.ptv_id,
        service_source_id: svc.source_id.clone(),
        desired: vec![relation],
        desired_channel_ids: vec![channel.ptv_id],
        previous_channel_ids: Vec::new(),
    };
    api.set_connections(&conns).await.unwrap();
    let read = api
        .read(ItemKind::Service, None, &service.ptv_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        read["serviceChannels"].as_array().map(Vec::len),
        Some(1),
        "{read:#}"
    );

    let renamed = v11_service(org, "permit", "Rakennuslupa ja toimenpidelupa");
    let updated = api.update(&service.ptv_id, &renamed).await.unwrap();
    assert_eq!(updated.http_status, 200);
    assert_ne!(updated.body_sha256, service.body_sha256);

    let none = ConnectionsWrite {
        desired: Vec::new(),
        desired_channel_ids: Vec::new(),
        ..conns
    };
    api.set_connections(&none).await.unwrap();
    api.archive(&service.ptv_id, &renamed).await.unwrap();
    assert_eq!(
        status_of(&sim, &service.ptv_id.to_string()),
        PublishingStatus::Deleted
    );
    let found = api
        .find(&ptv_sync::ptv::Lookup::of(&renamed))
        .await
        .unwrap();
    assert!(
        found.as_ref().is_none_or(|f| f.archived),
        "an archived item is never found live: {found:?}"
    );

    api.restore(&service.ptv_id, &renamed).await.unwrap();
    assert_eq!(
        status_of(&sim, &service.ptv_id.to_string()),
        PublishingStatus::Published
    );
    assert!(sim.duplicates().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn v11_revoked_tokens_cost_one_login_and_no_failed_write() {
    let (sim, org) = start().await;
    let api = client(&sim, ApiVersion::V11, org);
    let svc = v11_service(org, "a", "Palvelu A");
    let created = api.create(&svc).await.unwrap();
    assert_eq!(api.logins(), 1);
    sim.revoke_all_tokens();
    let writes = futures::future::join_all((0..8).map(|_| api.update(&created.ptv_id, &svc))).await;
    assert!(writes.iter().all(Result::is_ok), "{writes:?}");
    assert_eq!(api.logins(), 2);
    assert!(api.token_expiry().is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn v11_lost_responses_never_duplicate_an_item() {
    let (sim, org) = start().await;
    let api = client(&sim, ApiVersion::V11, org);
    sim.set_faults(Faults {
        error_rate: 0.4,
        lost_response_share: 1.0,
        seed: Some(7),
        ..Faults::default()
    });
    let mut adopted = 0;
    for i in 0..12 {
        let w = api
            .create(&v11_service(org, &format!("s{i}"), &format!("Palvelu {i}")))
            .await
            .unwrap();
        adopted += u32::from(w.adopted);
    }
    sim.set_faults(Faults::default());
    assert!(
        adopted > 0,
        "the faults produced no lost response; pick another seed"
    );
    assert!(sim.duplicates().is_empty(), "{:?}", sim.duplicates());
    let ours = sim
        .catalogue()
        .into_iter()
        .filter(|e| e.status == PublishingStatus::Published)
        .count();
    assert_eq!(
        ours, 13,
        "the seeded organisation and twelve services, each once"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn items_blocked_in_the_ui_arrive_as_needing_a_person() {
    let (sim, org) = start().await;
    let api = client(&sim, ApiVersion::V11, org);
    let svc = v11_service(org, "a", "Palvelu A");
    let id = api.create(&svc).await.unwrap().ptv_id;
    assert!(sim.set_locked(
        id.to_string().parse().unwrap(),
        Some("maija@demo.example".into())
    ));
    let err = api.update(&id, &svc).await.unwrap_err();
    assert!(matches!(err, PtvError::Locked { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::NeedsPerson);
    assert!(sim.set_locked(id.to_string().parse().unwrap(), None));
    assert!(sim.set_modified(id.to_string().parse().unwrap()));
    let err = api.update(&id, &svc).await.unwrap_err();
    assert!(matches!(err, PtvError::Modified { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::NeedsPerson);
    sim.shutdown().await;
}

#[tokio::test]
async fn v12_create_adopt_connect_and_archive() {
    let (sim, org) = start().await;
    let api = client(&sim, ApiVersion::V12, org);
    let model = service_model("permit", "Rakennuslupa");
    let svc = Write {
        kind: ItemKind::Service,
        channel_type: None,
        source_id: PtvSourceId::parse("demo-service-permit").unwrap(),
        organization_ptv_id: pid(&org.to_string()),
        name_fi: Some("Rakennuslupa".into()),
        body: v12::map::service(&model, &org.to_string()).body,
    };
    let created = api.create(&svc).await.unwrap();
    assert_eq!((created.http_status, created.adopted), (201, false));

    // A second daemon (lost state) creating the same item adopts it: 409, then search.
    let again = client(&sim, ApiVersion::V12, org)
        .create(&svc)
        .await
        .unwrap();
    assert!(again.adopted);
    assert_eq!(again.ptv_id, created.ptv_id);

    let ch = channel_write(ApiVersion::V12, org, ChannelType::Phone);
    let channel = api.create(&ch).await.unwrap();
    let conns = ConnectionsWrite {
        service_ptv_id: created.ptv_id,
        service_source_id: svc.source_id.clone(),
        desired: vec![
            json!({"serviceContentId": created.ptv_id, "channelContentId": channel.ptv_id}),
        ],
        desired_channel_ids: vec![channel.ptv_id],
        previous_channel_ids: Vec::new(),
    };
    assert_eq!(api.set_connections(&conns).await.unwrap().requests, 1);
    let back = ConnectionsWrite {
        desired: Vec::new(),
        desired_channel_ids: Vec::new(),
        previous_channel_ids: vec![channel.ptv_id],
        ..conns
    };
    assert_eq!(api.set_connections(&back).await.unwrap().http_status, 204);

    api.update(&created.ptv_id, &svc).await.unwrap();
    let archived = api.archive(&created.ptv_id, &svc).await.unwrap();
    assert_eq!(archived.http_status, 204);
    assert_eq!(
        status_of(&sim, &created.ptv_id.to_string()),
        PublishingStatus::Deleted
    );
    assert!(
        api.read(ItemKind::Service, None, &created.ptv_id)
            .await
            .unwrap()
            .is_none()
    );
    api.restore(&created.ptv_id, &svc).await.unwrap();
    assert_eq!(
        status_of(&sim, &created.ptv_id.to_string()),
        PublishingStatus::Published
    );
    assert!(sim.duplicates().is_empty());
    sim.shutdown().await;
}

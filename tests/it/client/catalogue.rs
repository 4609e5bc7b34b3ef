//! Reading a catalogue that existed before ptv-sync: the simulator seeded with items
//! made in the UI, by another API user, drafts, Modified and archived items, read
//! through the version-neutral reads on v11 and v12.

use super::fast_retry;
use ptv_sync::model::{ApiVersion, ChannelType, ItemKind, PtvId};
use ptv_sync::ptv::{PtvApi, PtvClientConfig, RemoteItem, RemoteStatus, read_catalogue};
use ptv_sync::secret::SecretSource;
use ptv_sync::sim::{PublishingStatus, SeedItem, SimConfig, SimHandle, SimKind, Simulator};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Semaphore;
use uuid::Uuid;

const OTHER_USER: &str = "other.integration@vendor.example";
/// Services made in the UI on top of the named ones: three pages of the main organisation.
const FILLER: usize = 230;

fn seed(kind: SimKind, org: Uuid, name: &str) -> SeedItem {
    SeedItem {
        kind,
        id: None,
        organization: org,
        names: BTreeMap::from([("fi".to_owned(), name.to_owned())]),
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

struct Seeded {
    sim: SimHandle,
    main: Uuid,
    sub: Uuid,
    draft: Uuid,
}

async fn seeded() -> Seeded {
    let (mut config, _user, main) = SimConfig::single_org();
    let sub = Uuid::new_v4();
    let draft = Uuid::new_v4();
    let mut items = vec![SeedItem {
        id: Some(sub),
        ..seed(SimKind::Organization, main, "Kirjastotoimi")
    }];
    items.push(SeedItem {
        // PTV's zone-less form, recent enough that automatic archiving (18 months
        // unmodified) leaves it alone.
        modified: Some(
            (chrono::Utc::now() - chrono::TimeDelta::days(30))
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string(),
        ),
        modified_by: Some("editor@demokunta.example".into()),
        ..seed(SimKind::Service, main, "Rakennuslupa")
    });
    items.push(SeedItem {
        source_id: Some("demo-service-ours".into()),
        external_id: Some("demo-service-ours".into()),
        owner: Some(SimConfig::DEMO_USERNAME.into()),
        ..seed(SimKind::Service, main, "Pysäköintilupa")
    });
    items.push(SeedItem {
        source_id: Some("vendor-service-1".into()),
        owner: Some(OTHER_USER.into()),
        ..seed(SimKind::Service, main, "Toisen järjestelmän palvelu")
    });
    items.push(SeedItem {
        id: Some(draft),
        status: PublishingStatus::Draft,
        ..seed(SimKind::Service, main, "Luonnos")
    });
    items.push(SeedItem {
        status: PublishingStatus::Modified,
        ..seed(SimKind::Service, main, "Muokattu palvelu")
    });
    items.push(SeedItem {
        status: PublishingStatus::Deleted,
        ..seed(SimKind::Service, main, "Arkistoitu palvelu")
    });
    items.push(seed(
        SimKind::Channel(ChannelType::Phone),
        sub,
        "Kirjaston neuvonta",
    ));
    items.push(seed(SimKind::Service, sub, "Kirjastokortti"));
    for i in 0..FILLER {
        items.push(seed(SimKind::Service, main, &format!("Palvelu {i:03}")));
    }
    config.catalogue = items;
    let sim = Simulator::start(config).await.unwrap();
    Seeded {
        sim,
        main,
        sub,
        draft,
    }
}

fn client(sim: &SimHandle, version: ApiVersion, org: Uuid) -> Arc<dyn PtvApi> {
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
    ptv_sync::ptv::connect(cfg, Arc::new(Semaphore::new(16))).unwrap()
}

fn named<'a>(items: &'a [RemoteItem], name: &str) -> Option<&'a RemoteItem> {
    items.iter().find(|i| i.name_fi.as_deref() == Some(name))
}

async fn reads_the_seeded_catalogue(version: ApiVersion) {
    let s = seeded().await;
    let api = client(&s.sim, version, s.main);
    let cat = read_catalogue(api.as_ref(), &PtvId::from(s.main))
        .await
        .unwrap();

    assert_eq!(cat.organizations.len(), 1);
    assert_eq!(cat.organizations[0].ptv_id, PtvId::from(s.sub));
    assert_eq!(
        cat.organizations[0].name_fi.as_deref(),
        Some("Kirjastotoimi")
    );
    assert_eq!(
        cat.organizations[0].organization_id,
        Some(PtvId::from(s.main))
    );

    // Published lists: drafts and archived items are not there; Modified ones are
    // (their published version).
    assert!(named(&cat.services, "Luonnos").is_none());
    assert!(named(&cat.services, "Arkistoitu palvelu").is_none());
    assert_eq!(cat.services.len(), FILLER + 5);
    let modified = named(&cat.services, "Muokattu palvelu").unwrap();
    let expected = match version {
        ApiVersion::V11 => RemoteStatus::Modified,
        ApiVersion::V12 => RemoteStatus::Published,
    };
    assert_eq!(modified.publishing_status, expected);

    // Our identity shows; the UI's and the other API user's do not.
    let ours = named(&cat.services, "Pysäköintilupa").unwrap();
    assert_eq!(ours.source_id.as_deref(), Some("demo-service-ours"));
    assert_eq!(
        named(&cat.services, "Rakennuslupa").unwrap().source_id,
        None
    );
    assert_eq!(
        named(&cat.services, "Toisen järjestelmän palvelu")
            .unwrap()
            .source_id,
        None
    );
    let ui = named(&cat.services, "Rakennuslupa").unwrap();
    assert_eq!(ui.organization_id, Some(PtvId::from(s.main)));
    if version == ApiVersion::V11 {
        assert_eq!(ui.modified_by.as_deref(), Some("editor@demokunta.example"));
    }

    let card = named(&cat.services, "Kirjastokortti").unwrap();
    assert_eq!(card.organization_id, Some(PtvId::from(s.sub)));
    assert_eq!(cat.channels.len(), 1);
    assert_eq!(cat.channels[0].channel_type, Some(ChannelType::Phone));
    assert_eq!(cat.channels[0].kind, ItemKind::Channel);

    // Main organisation: 235 services = 3 pages; 1 page for the rest of each
    // (organisation, kind), 1 hierarchy read and 1 batch of sub-organisations. v12 has
    // no batch read, which costs one read per sub-organisation: also 1 here. The
    // services' connections: v11 shows them on each service; v12 searches them, 20
    // services a request.
    let connection_reads = match version {
        ApiVersion::V11 => 0,
        ApiVersion::V12 => u32::try_from(cat.services.len().div_ceil(20)).unwrap(),
    };
    assert_eq!(cat.ideal_requests, 1 + 1 + 3 + 1 + 1 + 1 + connection_reads);
    assert_eq!(cat.requests, cat.ideal_requests);
    assert!(cat.connections.is_empty(), "{:?}", cat.connections);
}

#[tokio::test]
async fn v11_reads_the_seeded_catalogue_published_only_in_pages() {
    reads_the_seeded_catalogue(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_reads_the_seeded_catalogue_published_only_in_pages() {
    reads_the_seeded_catalogue(ApiVersion::V12).await;
}

async fn reads_by_id_and_the_latest_version(version: ApiVersion) {
    let s = seeded().await;
    let api = client(&s.sim, version, s.main);
    let ids: Vec<PtvId> = s
        .sim
        .catalogue()
        .iter()
        .filter(|e| e.kind == SimKind::Service)
        .map(|e| PtvId::from(e.id))
        .collect();
    assert!(ids.len() > 200);
    let read = api.read_many(ItemKind::Service, &ids).await.unwrap();
    // Drafts and archived items are left out of the published reads.
    assert_eq!(read.value.len(), ids.len() - 2);
    let expected_requests = match version {
        ApiVersion::V11 => ids.len().div_ceil(100),
        ApiVersion::V12 => ids.len(),
    };
    assert_eq!(read.requests as usize, expected_requests);

    let latest = api
        .read_latest(ItemKind::Service, &PtvId::from(s.draft))
        .await
        .unwrap();
    match version {
        ApiVersion::V11 => {
            let draft = latest.expect("the active read shows drafts");
            assert_eq!(draft.publishing_status, RemoteStatus::Draft);
            assert_eq!(draft.name_fi.as_deref(), Some("Luonnos"));
        }
        ApiVersion::V12 => assert!(latest.is_none(), "v12 reads only published versions"),
    }
}

#[tokio::test]
async fn v11_reads_by_id_in_batches_of_100_and_the_active_version() {
    reads_by_id_and_the_latest_version(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_reads_by_id_and_only_published_versions() {
    reads_by_id_and_the_latest_version(ApiVersion::V12).await;
}

#[tokio::test]
async fn the_control_surface_seeds_a_catalogue_all_or_nothing() {
    let (config, _user, main) = SimConfig::single_org();
    let sim = Simulator::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/_sim/catalogue", sim.base_url());
    let good = serde_json::json!({"items": [
        {"kind": "Service", "organization": main, "names": {"fi": "Uimahalli"}},
        {"kind": {"Channel": "ServiceLocation"}, "organization": main,
         "names": {"fi": "Uimahalli"}, "status": "Draft"},
    ]});
    let r = http.post(&url).body(good.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ids: Vec<Uuid> = r.json().await.unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(sim.entity(ids[1]).unwrap().status, PublishingStatus::Draft);

    // The second item's name is taken: nothing of this request is added.
    let before = sim.catalogue().len();
    let clash = serde_json::json!([
        {"kind": "Service", "organization": main, "names": {"fi": "Kirjasto"}},
        {"kind": "Service", "organization": main, "names": {"fi": "Uimahalli"}},
    ]);
    let r = http
        .post(&url)
        .body(clash.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Uimahalli"));
    assert_eq!(sim.catalogue().len(), before);

    let unknown_org = serde_json::json!([
        {"kind": "Service", "organization": Uuid::new_v4(), "names": {"fi": "X"}},
    ]);
    let r = http
        .post(&url)
        .body(unknown_org.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

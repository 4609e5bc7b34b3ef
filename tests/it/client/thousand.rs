//! 1,000 creates through a PTV that loses 20 % of the answers and throttles 10 %: exactly
//! 1,000 entities, no duplicates (safe creates: look up and adopt, never POST blindly).

use futures::StreamExt;
use ptv_sync::model::{ApiVersion, Item, ItemKind, PtvSourceId};
use ptv_sync::ptv::PtvClientConfig;
use ptv_sync::ptv::wire::{Write, connect};
use ptv_sync::secret::SecretSource;
use ptv_sync::sim::{Faults, SimConfig, SimKind, Simulator};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_creates_with_lost_answers_and_429s_make_no_duplicates() {
    let (cfg, user, main_org) = SimConfig::single_org();
    let sim = Simulator::start(cfg).await.unwrap();
    sim.set_faults(Faults {
        error_rate: 0.2,
        lost_response_share: 1.0,
        rate_limit_rate: 0.1,
        seed: Some(1000),
        ..Faults::default()
    });
    let base: url::Url = sim.base_url().parse().unwrap();
    let mut c = PtvClientConfig::new(
        ApiVersion::V11,
        base.clone(),
        base.join("/api/auth/api-login").unwrap(),
        user.username.clone(),
        SecretSource::Inline(user.password.clone().into()),
        main_org.to_string(),
        "thousand".into(),
    );
    c.production = false;
    c.max_in_flight = 16;
    c.retry.max_attempts = 12;
    c.retry.min_delay = Duration::from_millis(1);
    c.retry.max_delay = Duration::from_millis(20);
    let api = connect(c, Arc::new(tokio::sync::Semaphore::new(16))).unwrap();
    let docs = ptv_sync::synth::generate(ptv_sync::synth::Shape {
        items: 3000,
        organizations: 1000,
        seed: 5,
    });
    let snapshot = docs.snapshot();
    let orgs: Vec<_> = snapshot
        .documents
        .iter()
        .filter_map(|d| match d.item.as_deref() {
            Ok(Item::Organization(o)) => Some(o.clone()),
            _ => None,
        })
        .take(1000)
        .collect();
    assert_eq!(orgs.len(), 1000);
    let results: Vec<_> = futures::stream::iter(orgs.iter().map(|o| {
        let api = api.clone();
        let mut o = o.clone();
        o.parent = None; // all directly under the main organisation
        async move {
            let w = Write {
                kind: ItemKind::Organization,
                channel_type: None,
                source_id: PtvSourceId::parse(&format!("k-org-{}", o.id)).unwrap(),
                organization_ptv_id: crate::client::pid(&main_org.to_string()),
                name_fi: None,
                body: ptv_sync::ptv::v11::map::organization(&o, &main_org.to_string()).body,
            };
            api.create(&w).await
        }
    }))
    .buffer_unordered(32)
    .collect()
    .await;
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    let adopted = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|w| w.adopted))
        .count();
    let ours = sim
        .catalogue()
        .into_iter()
        .filter(|e| {
            e.kind == SimKind::Organization
                && e.source_id
                    .as_deref()
                    .is_some_and(|s| s.starts_with("k-org-"))
        })
        .count();
    assert_eq!(ours, 1000, "exactly 1,000 entities");
    assert!(sim.duplicates().is_empty(), "no duplicates");
    assert!(
        sim.stats().faults("lost_response") >= 100 && sim.stats().faults("rate_limit") >= 50,
        "{:?}",
        sim.stats().faults_injected
    );
    assert!(
        adopted >= 100,
        "lost answers were resolved by adoption: {adopted}"
    );
}

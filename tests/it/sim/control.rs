//! The `/_sim` control surface, inspection helpers and duplicate detection.

use super::support::{Sim, service};
use ptv_sync::sim::{Faults, SimConfig, Simulator};
use serde_json::{Value, json};

#[tokio::test]
async fn control_surface_sets_faults_and_reports_state() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    let client = &sim.client;
    let put = client
        .put(sim.url("/_sim/faults"))
        .json(&json!({"rateLimitRate": 1.0, "latencyMs": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    assert!((sim.handle.faults().rate_limit_rate - 1.0).abs() < f64::EPSILON);
    assert_eq!(sim.handle.faults().latency.as_millis(), 5);
    assert_eq!(sim.get(&format!("/api/v11/Service/{id}")).await.status, 429);
    // The control surface itself is never faulted.
    let catalogue: Value = client
        .get(sim.url("/_sim/catalogue"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        catalogue
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == id.to_string())
    );
    let stats: Value = client
        .get(sim.url("/_sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["logins"], 1);
    assert_eq!(stats["faultsInjected"]["rate_limit"], 1);
    client
        .put(sim.url("/_sim/faults"))
        .json(&Faults::default())
        .send()
        .await
        .unwrap();

    let locked = client
        .post(sim.url(&format!("/_sim/locked/{id}")))
        .json(&json!({"by": "ui@kunta.fi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 204);
    assert_eq!(
        sim.handle.entity(id).unwrap().locked_by.as_deref(),
        Some("ui@kunta.fi")
    );
    client
        .post(sim.url(&format!("/_sim/locked/{id}")))
        .send()
        .await
        .unwrap();
    assert!(sim.handle.entity(id).unwrap().locked_by.is_none());

    client
        .post(sim.url(&format!("/_sim/modified/{id}")))
        .send()
        .await
        .unwrap();
    let blocked = sim
        .put(
            &format!("/api/v11/Service/{id}"),
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_eq!(blocked.status, 400);

    client
        .post(sim.url("/_sim/revoke-tokens"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sim.post("/api/v11/Service", &service(sim.org, "B", "b"))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn stats_count_by_method_template_and_status() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    sim.get(&format!("/api/v11/Service/{id}")).await;
    sim.get(&format!("/api/v11/Service/{}", uuid::Uuid::new_v4()))
        .await;
    let stats = sim.handle.stats();
    assert_eq!(stats.count_status("POST", "/api/v11/Service", 200), 1);
    assert_eq!(stats.count_status("GET", "/api/v11/Service/{id}", 200), 1);
    assert_eq!(stats.count_status("GET", "/api/v11/Service/{id}", 404), 1);
    assert_eq!(stats.count("POST", "/api/auth/api-login"), 1);
    assert_eq!(stats.total_writes(), 2);
    assert_eq!(stats.writes_applied, 1);
}

#[tokio::test]
async fn duplicates_show_an_item_recreated_instead_of_restored() {
    let sim = Sim::start().await;
    sim.service("A", "a").await;
    sim.service("B", "b").await;
    assert!(sim.handle.duplicates().is_empty());
    sim.put(
        "/api/v11/Service/sourceId/a",
        &json!({"publishingStatus": "Deleted"}),
    )
    .await;
    sim.service("A", "a2").await;
    assert_eq!(sim.handle.duplicates().len(), 2);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let (config, _, _) = SimConfig::single_org();
    let handle = Simulator::start(config).await.unwrap();
    let url = format!("{}/_sim/health", handle.base_url());
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    handle.shutdown().await;
    assert!(reqwest::get(&url).await.is_err());
}

#[test]
fn config_round_trips_through_json_with_millisecond_durations() {
    let (config, _, _) = SimConfig::single_org();
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["tokenLifetimeMs"], 86_400_000);
    assert_eq!(json["faults"]["latencyMs"], 0);
    let back: SimConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back.users, config.users);
    assert_eq!(back.token_lifetime, config.token_lifetime);
}

//! Fault injection (reference §9.2 and rule 20): lost responses, drops, 429s, latency.

use super::support::{Sim, service};
use ptv_sync::sim::{Faults, NO_ANSWER, SimConfig};
use reqwest::Method;
use std::time::Duration;

fn created(sim: &Sim, name: &str) -> bool {
    sim.handle
        .catalogue()
        .iter()
        .any(|e| e.name_fi.as_deref() == Some(name))
}

#[tokio::test]
async fn lost_response_500_leaves_the_entity_in_the_catalogue() {
    let sim = Sim::start().await;
    sim.handle.set_faults(Faults {
        error_rate: 1.0,
        lost_response_share: 1.0,
        ..Faults::default()
    });
    let a = sim
        .post("/api/v11/Service", &service(sim.org, "Hukattu", "lost"))
        .await;
    assert_eq!(a.status, 500);
    assert!(a.body["errorMessage"].is_string());
    assert!(created(&sim, "Hukattu"));
    let stats = sim.handle.stats();
    assert_eq!(stats.faults("lost_response"), 1);
    assert_eq!(stats.writes_applied, 1);
    // Retrying the create now meets the sourceId it left behind, as in PTV.
    sim.handle.set_faults(Faults::default());
    let retry = sim
        .post("/api/v11/Service", &service(sim.org, "Hukattu", "lost"))
        .await;
    assert_eq!(retry.status, 500);
    assert!(
        retry.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
}

#[tokio::test]
async fn error_before_apply_leaves_nothing() {
    let sim = Sim::start().await;
    sim.handle.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(
        sim.post("/api/v11/Service", &service(sim.org, "Ei", "no"))
            .await
            .status,
        500
    );
    assert!(!created(&sim, "Ei"));
    assert_eq!(sim.handle.stats().faults("error"), 1);
}

#[tokio::test]
async fn dropped_connection_gives_no_answer_and_may_have_applied() {
    let sim = Sim::start().await;
    sim.handle.set_faults(Faults {
        drop_rate: 1.0,
        drop_after_apply_share: 1.0,
        ..Faults::default()
    });
    let result = sim
        .client
        .post(sim.url("/api/v11/Service"))
        .bearer_auth(&sim.token)
        .json(&service(sim.org, "Pudonnut", "dropped"))
        .send()
        .await;
    let error = result.expect_err("the connection closes without an answer");
    assert!(!error.is_status(), "{error:?}");
    assert!(created(&sim, "Pudonnut"));
    let stats = sim.handle.stats();
    assert_eq!(stats.faults("drop_after_apply"), 1);
    assert_eq!(stats.count_status("POST", "/api/v11/Service", NO_ANSWER), 1);

    sim.handle.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let result = sim
        .client
        .post(sim.url("/api/v11/Service"))
        .bearer_auth(&sim.token)
        .json(&service(sim.org, "Ei tullut", "never"))
        .send()
        .await;
    assert!(result.is_err());
    assert!(!created(&sim, "Ei tullut"));
}

#[tokio::test]
async fn reads_and_logins_never_get_5xx() {
    let sim = Sim::start().await;
    let id = sim.service("A", "a").await;
    sim.handle.set_faults(Faults {
        error_rate: 1.0,
        drop_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(sim.get(&format!("/api/v11/Service/{id}")).await.status, 200);
    sim.login_as(&sim.user.username, &sim.user.password).await;
}

#[tokio::test]
async fn rate_limit_answers_429_in_plain_text() {
    let sim = Sim::start().await;
    sim.handle.set_faults(Faults {
        rate_limit_rate: 1.0,
        ..Faults::default()
    });
    let a = sim.get(&format!("/api/v11/Organization/{}", sim.org)).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.text, "Too many requests sent to server, try again later");
    assert!(a.headers.get("retry-after").is_none());
    assert_eq!(sim.handle.stats().faults("rate_limit"), 1);
}

#[tokio::test]
async fn rule_20_more_than_max_in_flight_requests_per_user_get_429() {
    let sim = Sim::start().await;
    sim.handle.set_faults(Faults {
        max_in_flight: Some(1),
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let one = service(sim.org, "Yksi", "one");
    let first = sim.post("/api/v11/Service", &one);
    let second = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sim.post("/api/v11/Service", &service(sim.org, "Kaksi", "two"))
            .await
    };
    let (a, b) = tokio::join!(first, second);
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 429]);
    let stats = sim.handle.stats();
    assert_eq!(stats.max_in_flight, 2);
    assert_eq!(stats.faults("in_flight"), 1);
}

#[tokio::test]
async fn seeded_fault_sequences_repeat() {
    async fn sequence() -> Vec<u16> {
        let (mut config, user, org) = SimConfig::single_org();
        config.faults = Faults {
            error_rate: 0.5,
            seed: Some(42),
            ..Faults::default()
        };
        let sim = Sim::with(config, user, org).await;
        let mut out = Vec::new();
        for i in 0..12 {
            let a = sim
                .call(
                    Method::POST,
                    "/api/v11/Service",
                    Some(&sim.token),
                    Some(&service(org, &format!("S{i}"), &format!("s{i}"))),
                )
                .await;
            out.push(a.status);
        }
        out
    }
    let first = sequence().await;
    assert_eq!(first, sequence().await);
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
}

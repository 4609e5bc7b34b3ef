//! What a simulator is started with: users, seeded organisations, API keys and faults.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// Everything a simulator needs at start. Faults can be changed while it runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimConfig {
    #[serde(rename = "tokenLifetimeMs", with = "millis")]
    pub token_lifetime: Duration,
    pub token_style: TokenStyle,
    pub users: Vec<SimUser>,
    pub organizations: Vec<SeedOrganization>,
    pub api_keys: Vec<String>,
    #[serde(default)]
    pub faults: Faults,
    /// Items that exist before any API write (see `catalogue`), seeded in order.
    #[serde(default)]
    pub catalogue: Vec<super::SeedItem>,
}

/// Which key the login answer carries the token under: production answers
/// `serviceToken`, the customer test environment `ptvToken` (reference §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TokenStyle {
    #[default]
    Production,
    Test,
}

/// An API user, bound to one main organisation as PTV's API users are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimUser {
    pub username: String,
    pub password: String,
    pub organization_id: Uuid,
}

/// A main organisation that exists before any API write, published, as DVV creates them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedOrganization {
    pub id: Uuid,
    pub name: String,
    pub organization_type: String,
    pub languages: Vec<String>,
    pub area_type: String,
    pub municipality: Option<String>,
}

/// Injected misbehaviour. Rates are shares in `0.0..=1.0`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Share of write requests answered 500.
    pub error_rate: f64,
    /// Of those 500s, the share where the write was applied first (a lost response).
    pub lost_response_share: f64,
    /// Share of requests answered 429.
    pub rate_limit_rate: f64,
    /// Requests in flight per user above which the answer is 429 (reference §9.2).
    pub max_in_flight: Option<usize>,
    /// Added to every faultable request, outside any lock.
    #[serde(rename = "latencyMs", with = "millis")]
    pub latency: Duration,
    /// Share of write requests whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Of those drops, the share applied before the connection is closed.
    pub drop_after_apply_share: f64,
    /// Makes the fault sequence reproducible.
    pub seed: Option<u64>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            token_lifetime: Duration::from_secs(24 * 60 * 60),
            token_style: TokenStyle::Production,
            users: Vec::new(),
            organizations: Vec::new(),
            api_keys: Vec::new(),
            faults: Faults::default(),
            catalogue: Vec::new(),
        }
    }
}

impl SimConfig {
    /// The demo username, password and API key of [`SimConfig::single_org`].
    pub const DEMO_USERNAME: &'static str = "api.user@demo.example";
    pub const DEMO_PASSWORD: &'static str = "demo-password";
    pub const DEMO_API_KEY: &'static str = "demo-api-key";

    /// One published, nationwide, Finnish/Swedish/English municipality and one API user
    /// bound to it: enough for most tests and the demo.
    #[must_use]
    pub fn single_org() -> (SimConfig, SimUser, Uuid) {
        let org = Uuid::from_u128(0x5a1e_0000_0000_4000_8000_0000_0000_0001);
        let user = SimUser {
            username: Self::DEMO_USERNAME.to_owned(),
            password: Self::DEMO_PASSWORD.to_owned(),
            organization_id: org,
        };
        let config = SimConfig {
            users: vec![user.clone()],
            organizations: vec![SeedOrganization {
                id: org,
                name: "Demokunta".to_owned(),
                organization_type: "Municipality".to_owned(),
                languages: vec!["fi".to_owned(), "sv".to_owned(), "en".to_owned()],
                area_type: "Nationwide".to_owned(),
                municipality: Some("091".to_owned()),
            }],
            api_keys: vec![Self::DEMO_API_KEY.to_owned()],
            ..SimConfig::default()
        };
        (config, user, org)
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

//! Shared test plumbing: a started simulator with a logged-in client, and valid bodies.

use ptv_sync::sim::{SimConfig, SimHandle, SimUser, Simulator};
use reqwest::{Client, Method};
use serde_json::{Value, json};
use uuid::Uuid;

pub const FI: &str = "fi";

pub struct Sim {
    pub handle: SimHandle,
    pub client: Client,
    pub token: String,
    pub org: Uuid,
    pub user: SimUser,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Sim {
    pub async fn start() -> Sim {
        let (config, user, org) = SimConfig::single_org();
        Sim::with(config, user, org).await
    }

    pub async fn with(config: SimConfig, user: SimUser, org: Uuid) -> Sim {
        let handle = Simulator::start(config).await.expect("simulator starts");
        let client = Client::new();
        let mut sim = Sim {
            handle,
            client,
            token: String::new(),
            org,
            user,
        };
        sim.token = sim
            .login_as(&sim.user.username.clone(), &sim.user.password.clone())
            .await;
        sim
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    pub async fn login_as(&self, username: &str, password: &str) -> String {
        let answer = self
            .client
            .post(self.url("/api/auth/api-login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login answers");
        assert_eq!(answer.status(), 200);
        let body: Value = answer.json().await.expect("login json");
        body.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .expect("a token")
            .to_owned()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if path.starts_with("/api/v12") {
            request = request.header("x-api-key", SimConfig::DEMO_API_KEY);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("simulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.call(Method::POST, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.call(Method::PUT, path, Some(&self.token), Some(body))
            .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, None).await
    }

    pub async fn get_authed(&self, path: &str) -> Answer {
        self.call(Method::GET, path, Some(&self.token), None).await
    }

    /// Creates a valid published service; answers its id.
    pub async fn service(&self, name: &str, source_id: &str) -> Uuid {
        let a = self
            .post("/api/v11/Service", &service(self.org, name, source_id))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        id(&a.body)
    }

    pub async fn echannel(&self, name: &str, source_id: &str) -> Uuid {
        let a = self
            .post(
                "/api/v11/ServiceChannel/EChannel",
                &echannel(self.org, name, source_id),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        id(&a.body)
    }
}

pub fn id(body: &Value) -> Uuid {
    body["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("no id in {body}"))
}

/// The keys of a v11 400 body.
pub fn keys(body: &Value) -> Vec<String> {
    body.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

pub fn assert_400_key(a: &Answer, key: &str) {
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(
        a.body
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty()),
        "expected key {key} in {}",
        a.text
    );
}

pub fn assert_error_message(a: &Answer, status: u16, contains: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    let message = a.body["errorMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("no errorMessage in {}", a.text));
    assert!(message.contains(contains), "{message:?} lacks {contains:?}");
}

pub fn service(org: Uuid, name: &str, source_id: &str) -> Value {
    json!({
        "sourceId": source_id,
        "type": "Service",
        "fundingType": "PubliclyFunded",
        "serviceNames": [{"type": "Name", "language": FI, "value": name}],
        "serviceDescriptions": [
            {"type": "Summary", "language": FI, "value": format!("Tiivistelmä: {name}")},
            {"type": "Description", "language": FI, "value": "Palvelun kuvaus."}
        ],
        "languages": [FI],
        "areaType": "Nationwide",
        "serviceClasses": ["http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P3.1"],
        "ontologyTerms": ["http://www.yso.fi/onto/koko/p1234"],
        "targetGroups": ["http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/KR1"],
        "serviceProducers": [{"provisionType": "SelfProducedServices", "organizations": [org]}],
        "mainResponsibleOrganization": org,
        "publishingStatus": "Published"
    })
}

pub fn channel_base(org: Uuid, name: &str, source_id: &str) -> Value {
    json!({
        "sourceId": source_id,
        "organizationId": org,
        "serviceChannelNames": [{"language": FI, "value": name}],
        "serviceChannelDescriptions": [
            {"type": "Summary", "language": FI, "value": format!("Tiivistelmä: {name}")},
            {"type": "Description", "language": FI, "value": "Kanavan kuvaus."}
        ],
        "languages": [FI],
        "isVisibleForAll": true,
        "publishingStatus": "Published"
    })
}

pub fn echannel(org: Uuid, name: &str, source_id: &str) -> Value {
    let mut body = channel_base(org, name, source_id);
    body["webPage"] = json!([{"language": FI, "value": "https://asiointi.example.fi/"}]);
    body["accessibilityClassification"] =
        json!([{"accessibilityClassificationLevel": "Unknown", "language": FI}]);
    body["requiresAuthentication"] = json!(true);
    body
}

pub fn phone_channel(org: Uuid, name: &str, source_id: &str) -> Value {
    let mut body = channel_base(org, name, source_id);
    body["phoneNumbers"] = json!([{
        "type": "Phone", "number": "0912345", "prefixNumber": "+358",
        "serviceChargeType": "FreeOfCharge", "language": FI
    }]);
    body
}

pub fn service_location(org: Uuid, name: &str, source_id: &str) -> Value {
    let mut body = channel_base(org, name, source_id);
    body["serviceChannelNames"] = json!([{"type": "Name", "language": FI, "value": name}]);
    body["displayNameType"] = json!([{"type": "Name", "language": FI}]);
    body["addresses"] = json!([{
        "type": "Location", "subType": "Single",
        "streetAddress": {
            "street": [{"language": FI, "value": "Katu"}], "streetNumber": "1",
            "postalCode": "00100", "municipality": "091"
        }
    }]);
    body
}

pub fn sub_org(parent: Uuid, name: &str, source_id: &str) -> Value {
    json!({
        "sourceId": source_id,
        "parentOrganizationId": parent,
        "organizationType": "Organization",
        "areaType": "Nationwide",
        "organizationNames": [{"type": "Name", "language": FI, "value": name}],
        "displayNameType": [{"type": "Name", "language": FI}],
        "organizationDescriptions": [{"type": "Summary", "language": FI, "value": "Alaorganisaatio."}],
        "publishingStatus": "Published"
    })
}

/// A second API user with its own main organisation in the same simulator config.
pub fn two_users() -> (SimConfig, SimUser, Uuid, SimUser, Uuid) {
    let (mut config, user, org) = SimConfig::single_org();
    let other_org = Uuid::new_v4();
    let mut seed = config.organizations[0].clone();
    seed.id = other_org;
    "Toinen kunta".clone_into(&mut seed.name);
    config.organizations.push(seed);
    let other = SimUser {
        username: "other.api@demo.example".to_owned(),
        password: "other-password".to_owned(),
        organization_id: other_org,
    };
    config.users.push(other.clone());
    (config, user, org, other, other_org)
}

//! api-login and token introspection (reference §2). Tokens are HS256 JWTs, but what
//! makes one valid is the server-side store, as with PTV's introspection: revoking
//! empties the store, and a token outlives neither its store entry nor its `exp`.

use super::config::{SimUser, TokenStyle};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// The API user a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The token's email; sourceIds are scoped to it (reference §4), compared lowercase.
    pub email: String,
    pub organization_id: Uuid,
}

impl Caller {
    pub fn owner_key(&self) -> String {
        self.email.to_lowercase()
    }
}

/// What the `Authorization` header of a request amounts to.
#[derive(Debug, Clone)]
pub(crate) enum Bearer {
    Absent,
    /// Not even a JWT: PTV answers 500 even on anonymous reads (reference §2.3).
    Malformed,
    /// A JWT that introspection reports inactive: expired, revoked or never issued here.
    Inactive,
    Active(Caller),
}

impl Bearer {
    pub fn caller(&self) -> Option<&Caller> {
        match self {
            Bearer::Active(caller) => Some(caller),
            _ => None,
        }
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    email: &'a str,
    username: &'a str,
    #[serde(rename = "activeOrganizationId")]
    active_organization_id: String,
    #[serde(rename = "apiUserOrganization")]
    api_user_organization: String,
    roles: Value,
    scope: &'static str,
}

/// Store size from which a login first drops expired tokens, so that long benchmark
/// runs that log in often do not grow the store without bound.
const PRUNE_AT: usize = 1024;

struct Issued {
    caller: Caller,
    expires_at: Instant,
}

pub(crate) struct Auth {
    key: EncodingKey,
    lifetime: Duration,
    style: TokenStyle,
    users: Vec<SimUser>,
    tokens: Mutex<HashMap<String, Issued>>,
}

impl Auth {
    pub fn new(users: Vec<SimUser>, lifetime: Duration, style: TokenStyle) -> Self {
        let secret = [Uuid::new_v4().into_bytes(), Uuid::new_v4().into_bytes()].concat();
        Auth {
            key: EncodingKey::from_secret(&secret),
            lifetime,
            style,
            users,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Checks credentials and answers the login body, or `None` for a 403.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        organisation: Option<&str>,
    ) -> Option<Value> {
        let user = self
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username) && u.password == password)?;
        if let Some(requested) = organisation.filter(|o| !o.is_empty())
            && Uuid::parse_str(requested).ok()? != user.organization_id
        {
            return None;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let exp = (now + self.lifetime).as_secs_f64().ceil() as u64;
        let org = user.organization_id.to_string();
        let claims = Claims {
            exp,
            iat: now.as_secs(),
            nbf: now.as_secs(),
            jti: Uuid::new_v4().to_string(),
            email: &user.username,
            username: &user.username,
            active_organization_id: org.clone(),
            api_user_organization: org,
            roles: json!({"ptv": ["api"]}),
            scope: "login",
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key).ok()?;
        let mut tokens = self.tokens.lock().expect("token store poisoned");
        if tokens.len() >= PRUNE_AT {
            let now = Instant::now();
            tokens.retain(|_, issued| issued.expires_at > now);
        }
        tokens.insert(
            token.clone(),
            Issued {
                caller: Caller {
                    email: user.username.clone(),
                    organization_id: user.organization_id,
                },
                expires_at: Instant::now() + self.lifetime,
            },
        );
        drop(tokens);
        let field = match self.style {
            TokenStyle::Production => "serviceToken",
            TokenStyle::Test => "ptvToken",
        };
        Some(json!({ field: token }))
    }

    /// Introspects an `Authorization` header value.
    pub fn bearer(&self, header: Option<&str>) -> Bearer {
        let Some(raw) = header else {
            return Bearer::Absent;
        };
        let token = match raw.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => raw.trim(),
        };
        if jsonwebtoken::decode_header(token).is_err() {
            return Bearer::Malformed;
        }
        let mut tokens = self.tokens.lock().expect("token store poisoned");
        match tokens.get(token) {
            Some(issued) if Instant::now() < issued.expires_at => {
                Bearer::Active(issued.caller.clone())
            }
            Some(_) => {
                tokens.remove(token);
                Bearer::Inactive
            }
            None => Bearer::Inactive,
        }
    }

    pub fn revoke_all(&self) {
        self.tokens.lock().expect("token store poisoned").clear();
    }
}

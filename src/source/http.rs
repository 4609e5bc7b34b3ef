//! A source served over HTTP: `{"organizations": [...], "services": [...], "channels": [...]}`.
//!
//! No redirect is followed (it would carry the credentials to wherever it points; a 3xx
//! is a configuration error naming the URL), the request has a timeout, and the body
//! is read only up to `max_size` bytes.

use super::{Origin, Snapshot, Source, SourceError, parse_document};
use crate::model::ItemKind;
use crate::secret::SecretSource;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum HttpAuth {
    None,
    Bearer(SecretSource),
    Basic {
        username: String,
        password: SecretSource,
    },
}

#[derive(Debug, Clone)]
pub struct HttpSource {
    pub url: url::Url,
    pub auth: HttpAuth,
    pub timeout: Duration,
    /// The largest body accepted, in bytes.
    pub max_size: u64,
}

impl HttpSource {
    fn shown_url(&self) -> String {
        let mut u = self.url.clone();
        let _ = u.set_password(None);
        u.set_query(None);
        u.to_string()
    }
}

#[async_trait::async_trait]
impl Source for HttpSource {
    async fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let shown = self.shown_url();
        let err = |status: String, message: String| SourceError::Http {
            url: shown.clone(),
            status,
            message,
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .user_agent(concat!("ptv-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| err("no answer".into(), e.to_string()))?;
        let mut req = client.get(self.url.clone());
        match &self.auth {
            HttpAuth::None => {}
            HttpAuth::Bearer(token) => {
                req = req.bearer_auth(token.read("source bearer token")?.expose_secret());
            }
            HttpAuth::Basic { username, password } => {
                let pw = password.read("source password")?;
                req = req.basic_auth(username, Some(pw.expose_secret()));
            }
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| err("no answer".into(), without_url(&e)))?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(err(
                status.to_string(),
                "a redirect, which is not followed (it would carry the credentials along); set `url` to the address that serves the snapshot".into(),
            ));
        }
        if !status.is_success() {
            return Err(err(
                status.to_string(),
                "the snapshot was not served".into(),
            ));
        }
        let too_large = || {
            err(
                status.to_string(),
                format!(
                    "the body is larger than max_size = {} bytes; raise organization.source.max_size if the data really is that large",
                    self.max_size
                ),
            )
        };
        if resp.content_length().is_some_and(|n| n > self.max_size) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| err(status.to_string(), without_url(&e)))?
        {
            if (bytes.len() + chunk.len()) as u64 > self.max_size {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        let body: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| err(status.to_string(), format!("body is not JSON: {e}")))?;
        let serde_json::Value::Object(mut map) = body else {
            return Err(err(
                status.to_string(),
                "expected an object with organizations, services and channels".into(),
            ));
        };
        let file: Arc<str> = Arc::from(shown.as_str());
        let mut snapshot = Snapshot::default();
        for (key, kind) in [
            ("organizations", ItemKind::Organization),
            ("services", ItemKind::Service),
            ("channels", ItemKind::Channel),
        ] {
            match map.remove(key) {
                None | Some(serde_json::Value::Null) => {}
                Some(serde_json::Value::Array(items)) => {
                    let list: Arc<str> = Arc::from(format!("{file}#{key}"));
                    for (i, v) in items.into_iter().enumerate() {
                        snapshot.add(parse_document(
                            v,
                            Some(kind),
                            Origin {
                                file: list.clone(),
                                index: Some(i),
                            },
                        ))?;
                    }
                }
                Some(_) => {
                    return Err(err(status.to_string(), format!("`{key}` must be a list")));
                }
            }
        }
        if let Some(extra) = map.keys().next() {
            return Err(err(
                status.to_string(),
                format!("unknown key `{extra}`: expected organizations, services, channels"),
            ));
        }
        Ok(snapshot)
    }

    fn describe(&self) -> String {
        format!("http {}", self.shown_url())
    }
}

/// reqwest errors may carry the URL, query string included; keep only the cause.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "<source url>");
    }
    s
}

//! A source served over HTTP: `{"organizations": [...], "services": [...], "channels": [...]}`.

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
        let resp = req
            .send()
            .await
            .map_err(|e| err("no answer".into(), without_url(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(err(
                status.to_string(),
                "the snapshot was not served".into(),
            ));
        }
        let body: serde_json::Value = resp.json().await.map_err(|e| {
            err(
                status.to_string(),
                format!("body is not JSON: {}", without_url(&e)),
            )
        })?;
        let serde_json::Value::Object(mut map) = body else {
            return Err(err(
                status.to_string(),
                "expected an object with organizations, services and channels".into(),
            ));
        };
        let file: Arc<str> = Arc::from(shown.as_str());
        let mut documents = Vec::new();
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
                        documents.push(parse_document(
                            v,
                            Some(kind),
                            Origin {
                                file: list.clone(),
                                index: Some(i),
                            },
                        )?);
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
        Ok(Snapshot { documents })
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

//! A source in a database: one query per kind, each row giving `id` and a JSON `document`.

use super::{Origin, Snapshot, Source, SourceError, parse_document};
use crate::model::ItemKind;
use crate::secret::SecretSource;
use secrecy::ExposeSecret;
use sqlx::{ConnectOptions as _, Connection as _, Row};
use std::sync::Arc;
use std::time::Duration;

/// How much longer the client waits than `PostgreSQL`'s `statement_timeout`.
const SERVER_CANCELS_FIRST: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Default)]
pub struct SqlQueries {
    pub organizations: Option<String>,
    pub services: Option<String>,
    pub channels: Option<String>,
}

/// Supports `postgres://` and `sqlite:` URLs.
///
/// One connection, read-only (`PostgreSQL`: `default_transaction_read_only`; `SQLite`:
/// opened read-only), with `timeout` on connecting and on each statement (`PostgreSQL`
/// also cancels it server-side with `statement_timeout`). In production a `PostgreSQL`
/// connection must check the server's certificate (see [`crate::db_url::check_tls`]).
#[derive(Debug, Clone)]
pub struct SqlSource {
    pub url: SecretSource,
    pub queries: SqlQueries,
    pub timeout: Duration,
    pub production: bool,
}

impl SqlSource {
    fn queries(&self) -> [(ItemKind, Option<&String>); 3] {
        [
            (ItemKind::Organization, self.queries.organizations.as_ref()),
            (ItemKind::Service, self.queries.services.as_ref()),
            (ItemKind::Channel, self.queries.channels.as_ref()),
        ]
    }
}

fn sql_err(kind: ItemKind, e: &impl std::fmt::Display) -> SourceError {
    SourceError::Sql {
        kind: kind.to_string(),
        message: e.to_string(),
    }
}

fn row_document(
    id: String,
    doc: Option<String>,
    kind: ItemKind,
    file: &Arc<str>,
    i: usize,
) -> Result<super::Document, SourceError> {
    // A bad row costs that row (see `Snapshot::add`), not the snapshot.
    let row_err = |message: String| SourceError::Document {
        origin: format!("{file}[{i}]"),
        message: format!("row with id {id}: {message}"),
    };
    let text = doc.ok_or_else(|| row_err("the document is NULL".into()))?;
    let mut value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| row_err(format!("the document is not JSON: {e}")))?;
    if let serde_json::Value::Object(m) = &mut value {
        m.entry("id").or_insert(serde_json::Value::String(id));
    }
    parse_document(
        value,
        Some(kind),
        Origin {
            file: file.clone(),
            index: Some(i),
        },
    )
}

/// Runs each query and turns its rows into documents; `decode` reads `id` and `document`
/// the way the backend stores them.
async fn read_all<C>(
    conn: &mut C,
    queries: [(ItemKind, Option<&String>); 3],
    timeout: Duration,
    decode: impl Fn(
        &<C::Database as sqlx::Database>::Row,
    ) -> Result<(String, Option<String>), sqlx::Error>,
) -> Result<Snapshot, SourceError>
where
    C: sqlx::Connection,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    for<'q> <C::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, C::Database>,
{
    let mut snapshot = Snapshot::default();
    for (kind, q) in queries {
        let Some(q) = q else { continue };
        let file: Arc<str> = Arc::from(format!("sql:{kind}s"));
        let rows = tokio::time::timeout(timeout, sqlx::query(q).fetch_all(&mut *conn))
            .await
            .map_err(|_| {
                sql_err(
                    kind,
                    &format!("no answer within the source timeout ({timeout:?}); the query may need an index"),
                )
            })?
            .map_err(|e| sql_err(kind, &e))?;
        for (i, row) in rows.iter().enumerate() {
            let (id, doc) = decode(row).map_err(|e| sql_err(kind, &e))?;
            snapshot.add(row_document(id, doc, kind, &file, i))?;
        }
    }
    Ok(snapshot)
}

impl SqlSource {
    async fn read(&self, url: &str) -> Result<Snapshot, SourceError> {
        let target = crate::db_url::redact(url);
        let connect_err = |message: String| SourceError::SqlConnect {
            target: target.clone(),
            message,
        };
        let connect_timeout = || {
            connect_err(format!(
                "no connection within the source timeout ({:?})",
                self.timeout
            ))
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            crate::db_url::check_tls(url, self.production, "source database").map_err(|m| {
                SourceError::Refused {
                    path: "organization.source.url".into(),
                    message: m,
                }
            })?;
            let opts = url
                .parse::<sqlx::postgres::PgConnectOptions>()
                .map_err(|e| connect_err(e.to_string()))?
                .application_name("ptv-sync source")
                .options([
                    ("default_transaction_read_only", "on".to_owned()),
                    (
                        "statement_timeout",
                        format!("{}ms", self.timeout.as_millis()),
                    ),
                ]);
            let mut conn = tokio::time::timeout(self.timeout, opts.connect())
                .await
                .map_err(|_| connect_timeout())?
                .map_err(|e| connect_err(e.to_string()))?;
            // A `document` column may be text or json(b).
            // The server cancels a statement at `timeout` and says so; the client's own
            // limit waits a little longer, so that its vaguer message is only a backstop.
            let client_limit = self.timeout + SERVER_CANCELS_FIRST;
            let docs = read_all(&mut conn, self.queries(), client_limit, |row| {
                let doc = match row.try_get::<Option<String>, _>("document") {
                    Ok(d) => d,
                    Err(_) => row
                        .try_get::<Option<serde_json::Value>, _>("document")?
                        .map(|v| v.to_string()),
                };
                Ok((row.try_get("id")?, doc))
            })
            .await;
            let _ = conn.close().await;
            docs
        } else if url.starts_with("sqlite:") {
            let opts = url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .map_err(|e| connect_err(e.to_string()))?
                .read_only(true)
                .busy_timeout(self.timeout);
            let mut conn = tokio::time::timeout(self.timeout, opts.connect())
                .await
                .map_err(|_| connect_timeout())?
                .map_err(|e| connect_err(e.to_string()))?;
            let docs = read_all(&mut conn, self.queries(), self.timeout, |row| {
                Ok((row.try_get("id")?, row.try_get("document")?))
            })
            .await;
            let _ = conn.close().await;
            docs
        } else {
            Err(SourceError::Refused {
                path: "organization.source.url".into(),
                message: "unsupported database URL: use postgres://… or sqlite:…".into(),
            })
        }
    }
}

#[async_trait::async_trait]
impl Source for SqlSource {
    async fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let url = self.url.read("source database URL")?;
        let url = url.expose_secret();
        // A driver's message may echo connection parameters, the password among them.
        self.read(url).await.map_err(|e| match e {
            SourceError::SqlConnect { target, message } => SourceError::SqlConnect {
                target,
                message: crate::db_url::scrub(url, &message),
            },
            SourceError::Sql { kind, message } => SourceError::Sql {
                kind,
                message: crate::db_url::scrub(url, &message),
            },
            other => other,
        })
    }

    fn describe(&self) -> String {
        "sql".into()
    }
}

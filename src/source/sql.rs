//! A source in a database: one query per kind, each row giving `id` and a JSON `document`.

use super::{Origin, Snapshot, Source, SourceError, parse_document};
use crate::model::ItemKind;
use crate::secret::SecretSource;
use secrecy::ExposeSecret;
use sqlx::Row;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct SqlQueries {
    pub organizations: Option<String>,
    pub services: Option<String>,
    pub channels: Option<String>,
}

/// Supports `postgres://` and `sqlite:` URLs.
#[derive(Debug, Clone)]
pub struct SqlSource {
    pub url: SecretSource,
    pub queries: SqlQueries,
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
    let text =
        doc.ok_or_else(|| sql_err(kind, &format!("row {i} (id {id}) has a NULL document")))?;
    let mut value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        sql_err(
            kind,
            &format!("row {i} (id {id}): document is not JSON: {e}"),
        )
    })?;
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
async fn read_all<DB>(
    pool: &sqlx::Pool<DB>,
    queries: [(ItemKind, Option<&String>); 3],
    decode: impl Fn(&DB::Row) -> Result<(String, Option<String>), sqlx::Error>,
) -> Result<Vec<super::Document>, SourceError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let mut documents = Vec::new();
    for (kind, q) in queries {
        let Some(q) = q else { continue };
        let file: Arc<str> = Arc::from(format!("sql:{kind}s"));
        let rows = sqlx::query(q)
            .fetch_all(pool)
            .await
            .map_err(|e| sql_err(kind, &e))?;
        for (i, row) in rows.iter().enumerate() {
            let (id, doc) = decode(row).map_err(|e| sql_err(kind, &e))?;
            documents.push(row_document(id, doc, kind, &file, i)?);
        }
    }
    Ok(documents)
}

#[async_trait::async_trait]
impl Source for SqlSource {
    async fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let url = self.url.read("source database URL")?;
        let url = url.expose_secret();
        let connect_err = |e: sqlx::Error| sql_err(ItemKind::Organization, &e);
        let documents = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .map_err(connect_err)?;
            // A `document` column may be text or json(b).
            let docs = read_all(&pool, self.queries(), |row| {
                let doc = match row.try_get::<Option<String>, _>("document") {
                    Ok(d) => d,
                    Err(_) => row
                        .try_get::<Option<serde_json::Value>, _>("document")?
                        .map(|v| v.to_string()),
                };
                Ok((row.try_get("id")?, doc))
            })
            .await;
            pool.close().await;
            docs?
        } else if url.starts_with("sqlite:") {
            let opts = url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .map_err(connect_err)?
                .read_only(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts)
                .await
                .map_err(connect_err)?;
            let docs = read_all(&pool, self.queries(), |row| {
                Ok((row.try_get("id")?, row.try_get("document")?))
            })
            .await;
            pool.close().await;
            docs?
        } else {
            return Err(sql_err(
                ItemKind::Organization,
                &"unsupported database URL: use postgres://… or sqlite:…",
            ));
        };
        Ok(Snapshot { documents })
    }

    fn describe(&self) -> String {
        "sql".into()
    }
}

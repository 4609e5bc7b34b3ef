//! The `sql` and `http` source adapters read the same documents as `dir`.

use ptv_sync::model::ItemKind;
use ptv_sync::secret::SecretSource;
use ptv_sync::source::{HttpAuth, HttpSource, Source, SqlQueries, SqlSource};
use ptv_sync::synth::{Shape, generate};
use sqlx::{Connection, Executor};

fn queries() -> SqlQueries {
    SqlQueries {
        organizations: Some(
            "SELECT id, document FROM docs WHERE kind = 'organization' ORDER BY id".into(),
        ),
        services: Some("SELECT id, document FROM docs WHERE kind = 'service' ORDER BY id".into()),
        channels: Some("SELECT id, document FROM docs WHERE kind = 'channel' ORDER BY id".into()),
    }
}

fn rows(docs: &ptv_sync::synth::Docs) -> Vec<(String, String, String)> {
    docs.organizations
        .iter()
        .chain(&docs.channels)
        .chain(&docs.services)
        .map(|d| {
            let mut body = d.clone();
            let kind = body.as_object_mut().unwrap().remove("kind").unwrap();
            (
                kind.as_str().unwrap().to_owned(),
                d["id"].as_str().unwrap().to_owned(),
                body.to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn sqlite_source_reads_every_document() {
    let docs = generate(Shape::new(40, 61));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}?mode=rwc", dir.path().join("src.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    conn.execute("CREATE TABLE docs (kind TEXT, id TEXT, document TEXT)")
        .await
        .unwrap();
    for (kind, id, body) in rows(&docs) {
        sqlx::query("INSERT INTO docs VALUES (?, ?, ?)")
            .bind(kind)
            .bind(id)
            .bind(body)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
    let src = SqlSource {
        url: SecretSource::Inline(format!("sqlite:{}", dir.path().join("src.db").display()).into()),
        queries: queries(),
        timeout: std::time::Duration::from_secs(30),
        production: false,
    };
    let snap = src.snapshot().await.unwrap();
    assert_eq!(snap.documents.len(), docs.len());
    assert!(snap.documents.iter().all(|d| d.item.is_ok()));
    assert_eq!(
        snap.documents
            .iter()
            .filter(|d| d.kind == ItemKind::Service)
            .count(),
        docs.services.len()
    );
}

#[tokio::test]
async fn postgres_source_reads_jsonb_documents() {
    let Ok(base) = std::env::var("PTV_SYNC_TEST_POSTGRES_URL") else {
        eprintln!("note: PTV_SYNC_TEST_POSTGRES_URL is not set; PostgreSQL source test skipped");
        return;
    };
    let db = format!("ptvsync_src_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    admin
        .execute(format!("CREATE DATABASE {db}").as_str())
        .await
        .unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{db}"));
    let docs = generate(Shape::new(30, 62));
    let mut conn = sqlx::PgConnection::connect(url.as_str()).await.unwrap();
    conn.execute("CREATE TABLE docs (kind TEXT, id TEXT, document JSONB)")
        .await
        .unwrap();
    for (kind, id, body) in rows(&docs) {
        sqlx::query("INSERT INTO docs VALUES ($1, $2, $3::jsonb)")
            .bind(kind)
            .bind(id)
            .bind(body)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
    let src = SqlSource {
        url: SecretSource::Inline(url.to_string().into()),
        queries: queries(),
        timeout: std::time::Duration::from_secs(30),
        production: false,
    };
    let snap = src.snapshot().await.unwrap();
    assert_eq!(snap.documents.len(), docs.len());
    assert!(snap.documents.iter().all(|d| d.item.is_ok()));
    admin
        .execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str())
        .await
        .unwrap();
}

#[tokio::test]
async fn http_source_reads_lists_with_bearer_auth() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let docs = generate(Shape::new(20, 63));
    let server = MockServer::start().await;
    let strip = |list: &[serde_json::Value]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|d| {
                let mut d = d.clone();
                d.as_object_mut().unwrap().remove("kind");
                d
            })
            .collect()
    };
    Mock::given(method("GET"))
        .and(path("/export"))
        .and(header("authorization", "Bearer s3cret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "organizations": strip(&docs.organizations), "services": strip(&docs.services), "channels": strip(&docs.channels)
        })))
        .mount(&server)
        .await;
    let src = HttpSource {
        url: format!("{}/export", server.uri()).parse().unwrap(),
        auth: HttpAuth::Bearer(SecretSource::Inline("s3cret".to_owned().into())),
        timeout: std::time::Duration::from_secs(5),
        max_size: ptv_sync::source::DEFAULT_MAX_SIZE,
    };
    let snap = src.snapshot().await.unwrap();
    assert_eq!(snap.documents.len(), docs.len());
    assert!(snap.documents.iter().all(|d| d.item.is_ok()));
    let wrong = HttpSource {
        auth: HttpAuth::None,
        ..src
    };
    let err = wrong.snapshot().await.unwrap_err().to_string();
    assert!(
        err.contains("404") && err.contains("nothing was synced"),
        "{err}"
    );
}

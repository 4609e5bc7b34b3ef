//! The source adapters against hostile folders, servers and databases.

use super::{SERVICE_YAML, load};
use ptv_sync::source::DirSource;
use std::path::Path;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Reads on another thread: a source that hangs fails the test instead of hanging it.
fn read_dir_within(root: &Path, secs: u64) -> Result<usize, String> {
    let src = DirSource::new(root);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(
            src.read()
                .map(|s| s.documents.len())
                .map_err(|e| e.to_string()),
        );
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("the dir source hung")
}

/// The source of the first organisation of a configuration.
async fn snapshot_of(text: &str) -> Result<usize, String> {
    let cfg = load(text, &[])?;
    cfg.organizations[0]
        .source
        .build()
        .snapshot()
        .await
        .map(|s| s.documents.len())
        .map_err(|e| e.to_string())
}

fn source_config(dir: &Path, source: &str) -> String {
    super::config_text(dir, "", source)
}

// issue 16 item 8
#[test]
fn the_dir_source_skips_dotfiles_and_editor_lock_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("services.yaml"), SERVICE_YAML).unwrap();
    // Emacs' lock file: a dangling symlink named like a document.
    std::os::unix::fs::symlink(
        "user@host.1234:1700000000",
        dir.path().join(".#services.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join(".services.yaml.swp.yaml"), "{{{").unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git/broken.yaml"), "{{{").unwrap();
    assert_eq!(read_dir_within(dir.path(), 10), Ok(1));
}

// issue 16 item 8
#[test]
fn the_dir_source_reads_regular_files_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("services.yaml"), SERVICE_YAML).unwrap();
    let fifo = dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let err = read_dir_within(dir.path(), 10).unwrap_err();
    assert!(
        err.contains("pipe.yaml") && err.contains("not a regular file"),
        "{err}"
    );
    std::fs::remove_file(&fifo).unwrap();

    // A link to a device would be read forever.
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
    let err = read_dir_within(dir.path(), 10).unwrap_err();
    assert!(err.contains("zero.yaml"), "{err}");
}

// issue 16 item 8
#[test]
fn the_dir_source_stays_inside_its_folder() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), SERVICE_YAML).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("services.yaml"), SERVICE_YAML).unwrap();
    // A link inside the folder is fine.
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/real.yaml"),
        "kind: service\nid: other\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("sub/real.yaml", dir.path().join("link.yaml")).unwrap();
    assert_eq!(read_dir_within(dir.path(), 10), Ok(3));

    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml"),
        dir.path().join("out.yaml"),
    )
    .unwrap();
    let err = read_dir_within(dir.path(), 10).unwrap_err();
    assert!(err.contains("out.yaml") && err.contains("outside"), "{err}");
    std::fs::remove_file(dir.path().join("out.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("outdir")).unwrap();
    let err = read_dir_within(dir.path(), 10).unwrap_err();
    assert!(err.contains("outdir") && err.contains("outside"), "{err}");
}

// issue 16 item 8
#[tokio::test]
async fn the_dir_source_caps_each_file_and_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("source");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a.yaml"), SERVICE_YAML).unwrap();
    std::fs::write(
        src.join("b.yaml"),
        format!("{SERVICE_YAML}# {}\n", "x".repeat(2000)).replace("permit", "b"),
    )
    .unwrap();
    let at = |limits: &str| {
        source_config(
            dir.path(),
            &format!("path = \"{}\"\n{limits}", src.display()),
        )
    };
    assert_eq!(
        snapshot_of(&at("max_file_size = 4096\nmax_size = 8192")).await,
        Ok(2)
    );
    let err = snapshot_of(&at("max_file_size = 1024")).await.unwrap_err();
    assert!(err.contains("b.yaml") && err.contains("1024"), "{err}");
    let err = snapshot_of(&at("max_size = 2000")).await.unwrap_err();
    assert!(err.contains("2000") && err.contains("max_size"), "{err}");
}

// issue 16 item 22
#[test]
fn a_file_that_is_not_utf8_says_so_with_the_byte_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"kind: service\nid: caf".to_vec();
    bytes.push(0xe9); // Latin-1 é
    bytes.extend_from_slice(b"\n");
    std::fs::write(dir.path().join("latin1.yaml"), bytes).unwrap();
    // Since item 14 such a file costs that file only: it is listed as unreadable.
    let snapshot = DirSource::new(dir.path()).read().unwrap();
    let err = format!(
        "{}: {}",
        snapshot.unreadable[0].file, snapshot.unreadable[0].message
    );
    assert!(
        err.contains("latin1.yaml") && err.contains("UTF-8") && err.contains("byte 21"),
        "{err}"
    );
    assert!(!err.contains("check that it exists"), "{err}");
}

// issue 16 item 4
#[tokio::test]
async fn the_http_source_does_not_follow_redirects() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"services": []})))
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/export"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", format!("{}/stolen", elsewhere.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let text = source_config(
        dir.path(),
        &format!("type = \"http\"\nurl = \"{}/export\"", server.uri()),
    );
    let err = snapshot_of(&text).await.unwrap_err();
    assert!(
        err.contains("redirect") && err.contains(&format!("{}/export", server.uri())),
        "{err}"
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

// issue 16 item 9
#[tokio::test]
async fn the_http_source_caps_the_body() {
    let server = MockServer::start().await;
    let body = format!("{{\"services\": []}}{}", " ".repeat(64 * 1024));
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let text = |cap: &str| {
        source_config(
            dir.path(),
            &format!("type = \"http\"\nurl = \"{}/export\"\n{cap}", server.uri()),
        )
    };
    assert_eq!(snapshot_of(&text("")).await, Ok(0));
    let err = snapshot_of(&text("max_size = 4096")).await.unwrap_err();
    assert!(err.contains("4096") && err.contains("max_size"), "{err}");
}

// issue 16 item 9
#[tokio::test]
async fn an_unreachable_source_database_says_so_quickly_and_blames_no_query() {
    let dir = tempfile::tempdir().unwrap();
    let text = source_config(
        dir.path(),
        "type = \"sql\"\nurl = \"postgres://reader:pw-Sql-Secret@127.0.0.1:1/source\"\ntimeout = \"3s\"\norganizations_query = \"SELECT id, document FROM o\"",
    );
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(20), snapshot_of(&text))
        .await
        .expect("gave up in time")
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(!err.contains("organizations"), "{err}");
    assert!(
        err.contains("connect") && err.contains("127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains("pw-Sql-Secret"), "{err}");
}

// issue 16 item 10
#[tokio::test]
async fn a_source_database_without_certificate_checks_is_refused_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let text = |url: &str| {
        super::config_text(
            dir.path(),
            "environment = \"production\"",
            &format!(
                "type = \"sql\"\nurl = \"{url}\"\ntimeout = \"3s\"\nservices_query = \"SELECT id, document FROM s\""
            ),
        )
    };
    let err = snapshot_of(&text("postgres://reader@db.example.invalid/source"))
        .await
        .unwrap_err();
    assert!(err.contains("sslmode=verify-full"), "{err}");
    let err = snapshot_of(&text(
        "postgres://reader@db.example.invalid/source?sslmode=verify-ca",
    ))
    .await
    .unwrap_err();
    assert!(!err.contains("certificate"), "{err}");
    // Loopback needs no certificate.
    let err = snapshot_of(&text("postgres://reader@127.0.0.1:1/source"))
        .await
        .unwrap_err();
    assert!(!err.contains("certificate"), "{err}");
}

// issue 16 item 9
#[tokio::test]
async fn the_sql_source_session_is_read_only_and_has_a_statement_timeout() {
    let Ok(url) = std::env::var("PTV_SYNC_TEST_POSTGRES_URL") else {
        eprintln!("PTV_SYNC_TEST_POSTGRES_URL not set; read-only sql source not checked");
        return;
    };
    let table = format!("h16_src_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE TABLE {table} (id text, document text)"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!(
        "INSERT INTO {table} VALUES ('permit', '{{\"kind\": \"service\"}}')"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = |query: &str| {
        source_config(
            dir.path(),
            &format!(
                "type = \"sql\"\nurl = \"{url}\"\ntimeout = \"5s\"\nservices_query = \"{query}\""
            ),
        )
    };
    let err = snapshot_of(&text(&format!(
        "WITH d AS (DELETE FROM {table} RETURNING id, document) SELECT id, document FROM d"
    )))
    .await
    .unwrap_err();
    assert!(err.contains("read-only"), "{err}");
    let err = snapshot_of(&text(&format!(
        "SELECT id, document FROM {table}, pg_sleep(30)"
    )))
    .await
    .unwrap_err();
    assert!(err.contains("statement timeout"), "{err}");
    let left: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("DROP TABLE {table}"))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
}

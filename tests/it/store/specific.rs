//! Backend-specific behaviour outside the shared contract: `SQLite` opening rules and
//! tuning, URL redaction, migrations kept in step.

use ptv_sync::model::{Action, ItemKind};
use ptv_sync::store::{
    AuditEntry, GENESIS_HASH, OpenMode, SqliteStore, StateStore, StoreError, StoreTarget,
    migration_files, open, redact_url,
};
use secrecy::SecretString;
use std::path::Path;

#[tokio::test]
async fn sqlite_must_exist_does_not_create_a_missing_database() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("var-lib-ptv-sync");
    let path = state_dir.join("state.db");
    let err = open(
        &StoreTarget::Sqlite { path: path.clone() },
        OpenMode::MustExist,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "state database {} does not exist; start the daemon once or pass --state-dir",
            path.display()
        )
    );
    assert!(!path.exists(), "no database file created");
    assert!(!state_dir.exists(), "no state directory created");

    // Same in an existing directory.
    let path = dir.path().join("state.db");
    let err = open(
        &StoreTarget::Sqlite { path: path.clone() },
        OpenMode::MustExist,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing created at all"
    );
}

#[tokio::test]
async fn sqlite_must_exist_refuses_an_uninitialised_file_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, b"").unwrap();
    let err = open(
        &StoreTarget::Sqlite { path: path.clone() },
        OpenMode::MustExist,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::NotInitialised { .. }), "{err}");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        0,
        "no schema written"
    );
}

#[tokio::test]
async fn sqlite_create_makes_directory_database_and_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("state.db");
    let store = SqliteStore::open(&path, OpenMode::CreateIfMissing)
        .await
        .unwrap();
    assert!(path.is_file());
    assert!(dir.path().join("a/b/state.db.lock").is_file());
    store.ping().await.unwrap();
    // Opening again (a restart) migrates nothing and keeps working.
    drop(store);
    let again = SqliteStore::open(&path, OpenMode::CreateIfMissing)
        .await
        .unwrap();
    again.ping().await.unwrap();
}

#[tokio::test]
async fn sqlite_connections_are_tuned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let daemon = SqliteStore::open(&path, OpenMode::CreateIfMissing)
        .await
        .unwrap();
    let cli = SqliteStore::open(&path, OpenMode::MustExist).await.unwrap();
    for store in [&daemon, &cli] {
        let pool = store.pool();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(journal, "wal", "{:?}", store.path());
        assert_eq!(sync, 1, "NORMAL");
        assert_eq!(fk, 1);
        assert_eq!(busy, 5_000);
    }
}

#[tokio::test]
async fn sqlite_must_exist_without_lock_file_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(
        SqliteStore::open(&path, OpenMode::CreateIfMissing)
            .await
            .unwrap(),
    );
    std::fs::remove_file(dir.path().join("state.db.lock")).unwrap();
    let cli = open(&StoreTarget::Sqlite { path }, OpenMode::MustExist)
        .await
        .unwrap();
    let err = cli.lock_org("a").await.unwrap_err();
    assert!(matches!(err, StoreError::LockFileMissing { .. }), "{err}");
    assert!(!dir.path().join("state.db.lock").exists());
}

#[cfg(unix)]
#[tokio::test]
async fn sqlite_permission_problems_name_the_path_and_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&locked).is_ok() {
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
        eprintln!(
            "note: permissions are not enforced for this user (root?); permission test skipped"
        );
        return;
    }
    let path = locked.join("state").join("state.db");
    let err = open(&StoreTarget::Sqlite { path }, OpenMode::CreateIfMissing)
        .await
        .unwrap_err();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o700)).unwrap();
    let msg = err.to_string();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{msg}");
    assert!(msg.contains(&locked.display().to_string()), "{msg}");
    assert!(msg.contains("sudo -u ptv-sync"), "{msg}");
}

#[tokio::test]
async fn postgres_url_password_never_shows() {
    let url = "postgres://ptv:s3cr3t-pa55@127.0.0.1:1/state?password=other-s3cret&sslmode=disable";
    let target = StoreTarget::Postgres {
        url: SecretString::from(url),
    };
    let debug = format!("{target:?}");
    assert!(
        !debug.contains("s3cr3t-pa55") && !debug.contains("other-s3cret"),
        "{debug}"
    );
    assert!(debug.contains("ptv:***@127.0.0.1:1/state"), "{debug}");
    assert!(!target.display().contains("s3cr3t"));
    assert_eq!(redact_url("not a url s3cr3t"), "<unparseable URL>");

    // Nothing listens on port 1: the connection error must not leak the password.
    let err = open(&target, OpenMode::CreateIfMissing).await.unwrap_err();
    let msg = format!("{err} / {err:?}");
    assert!(matches!(err, StoreError::Connect { .. }), "{msg}");
    assert!(
        !msg.contains("s3cr3t-pa55") && !msg.contains("other-s3cret"),
        "{msg}"
    );
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
}

#[test]
fn migration_directories_are_in_step() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let list = |backend: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        list("sqlite"),
        migration_files("sqlite"),
        "every SQLite migration is built in"
    );
    assert_eq!(
        list("postgres"),
        migration_files("postgres"),
        "every PostgreSQL migration is built in"
    );
    assert_eq!(
        list("sqlite"),
        list("postgres"),
        "both backends have the same migrations"
    );
}

/// Both schemas declare the same tables and columns, in the same order.
#[test]
fn migration_schemas_declare_the_same_columns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for file in migration_files("sqlite") {
        let file = file.as_str();
        let sqlite = std::fs::read_to_string(root.join("sqlite").join(file)).unwrap();
        let postgres = std::fs::read_to_string(root.join("postgres").join(file)).unwrap();
        assert_eq!(columns(&sqlite), columns(&postgres), "{file}");
        assert!(!columns(&sqlite).is_empty());
    }
}

/// `table.column` for each column line of each `CREATE TABLE` (a deliberately simple
/// reading of our own formatting: one column per line, constraints in capitals).
fn columns(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut table: Option<String> = None;
    for line in sql.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
            table = rest.split_whitespace().next().map(str::to_owned);
        } else if line.starts_with(");") {
            table = None;
        } else if let Some(t) = &table {
            let first = line.split_whitespace().next().unwrap_or_default();
            if !first.is_empty()
                && !first.starts_with("--")
                && first.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            {
                out.push(format!("{t}.{first}"));
            }
        }
    }
    out
}

fn entry(actor: &str, source_id: &str, ptv_id: Option<&str>, status: Option<u16>) -> AuditEntry {
    AuditEntry {
        seq: 1,
        at: chrono::DateTime::from_timestamp_micros(1_790_000_000_000_000).unwrap(),
        org: "o".into(),
        actor: actor.into(),
        action: Action::Create,
        kind: ItemKind::Service,
        source_id: source_id.into(),
        ptv_id: ptv_id.map(Into::into),
        http_status: status,
        body_sha256: None,
        reason: None,
        prev_hash: GENESIS_HASH.into(),
        hash: String::new(),
    }
}

proptest::proptest! {
    /// Moving the boundary between adjacent fields changes the hash: the encoding is
    /// unambiguous.
    #[test]
    fn audit_hash_is_unambiguous(text in "[a-z]{0,12}", cut_a in 0usize..13, cut_b in 0usize..13) {
        let (cut_a, cut_b) = (cut_a.min(text.len()), cut_b.min(text.len()));
        let a = entry(&text[..cut_a], &text[cut_a..], None, None);
        let b = entry(&text[..cut_b], &text[cut_b..], None, None);
        proptest::prop_assert_eq!(cut_a == cut_b, a.computed_hash() == b.computed_hash());
    }

    /// Every field enters the hash, including absent versus empty optional fields.
    #[test]
    fn audit_hash_covers_every_field(actor in "[a-z]{1,8}", status in proptest::option::of(0u16..600)) {
        let base = entry(&actor, "s", None, status);
        let h = base.computed_hash();
        let mut changed = vec![
            entry(&actor, "s", Some(""), status),
            entry(&format!("{actor}x"), "s", None, status),
            entry(&actor, "s", None, status.map(|s| s + 1).or(Some(0))),
        ];
        let mut later = base.clone();
        later.at += chrono::Duration::microseconds(1);
        changed.push(later);
        let mut other_org = base.clone();
        other_org.org = "p".into();
        changed.push(other_org);
        let mut other_prev = base.clone();
        other_prev.prev_hash = "1".repeat(64);
        changed.push(other_prev);
        let mut other_action = base.clone();
        other_action.action = Action::Update;
        changed.push(other_action);
        let mut other_kind = base.clone();
        other_kind.kind = ItemKind::Channel;
        changed.push(other_kind);
        let mut body = base.clone();
        body.body_sha256 = Some(String::new());
        changed.push(body);
        for c in changed {
            proptest::prop_assert_ne!(&h, &c.computed_hash());
        }
        // `seq` is storage order only.
        let mut reseq = base.clone();
        reseq.seq = 99;
        proptest::prop_assert_eq!(h, reseq.computed_hash());
    }
}

/// The daemon's first start and a `resync` may create the database at the same moment:
/// both must open it, migrated once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_opened_by_several_processes_at_once_is_migrated_once() {
    for round in 0..30 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state").join("state.db");
        let opens = (0..3).map(|_| {
            let target = StoreTarget::Sqlite { path: path.clone() };
            tokio::spawn(async move { open(&target, OpenMode::CreateIfMissing).await })
        });
        for handle in opens.collect::<Vec<_>>() {
            let store = handle
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            store.ping().await.unwrap();
        }
        let store = open(&StoreTarget::Sqlite { path }, OpenMode::MustExist)
            .await
            .unwrap();
        assert!(store.items("x").await.unwrap().is_empty());
    }
}

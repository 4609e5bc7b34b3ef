//! The state directory and database URL, as commands open them.

use super::load;
use ptv_sync::store::OpenMode;

// issue 16 item 17
#[tokio::test]
async fn an_unreadable_state_directory_is_an_error_not_an_empty_state() {
    let dir = tempfile::tempdir().unwrap();
    // Running as root, no permission bit denies a read; a file where the directory
    // should be fails the same check (ENOTDIR), with the same "cannot tell" meaning.
    let state = dir.path().join("state");
    std::fs::write(&state, "not a directory").unwrap();
    let text = super::config_text(dir.path(), "", "path = \"/srv/source\"");
    let cfg = load(&text, &[]).unwrap();
    match ptv_sync::startup::open_store(&cfg, OpenMode::MustExist).await {
        Ok(None) => panic!("an unreadable state directory read as 'nothing synced yet'"),
        Ok(Some(_)) => panic!("opened a store in a file"),
        Err(e) => {
            let msg = format!("{e:#}");
            assert!(msg.contains(&state.display().to_string()), "{msg}");
        }
    }
    // A state directory that does not exist yet is still "nothing synced".
    let text = super::config_text(&dir.path().join("fresh"), "", "path = \"/srv/source\"");
    let cfg = load(&text, &[]).unwrap();
    assert!(
        ptv_sync::startup::open_store(&cfg, OpenMode::MustExist)
            .await
            .unwrap()
            .is_none()
    );
}

// issue 16 item 10
#[tokio::test]
async fn a_state_database_without_certificate_checks_is_refused_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let prod = "environment = \"production\"";
    let with_url = |url: &str, env: &str| {
        let text = super::config_text(dir.path(), env, "path = \"/srv/source\"");
        let dir_line = format!("dir = \"{}\"", dir.path().join("state").display());
        text.replace(&dir_line, &format!("database_url = \"{url}\""))
    };
    let cfg = load(
        &with_url("postgres://ptv@db.example.invalid/ptv", prod),
        &[],
    )
    .unwrap();
    let err = format!(
        "{:#}",
        ptv_sync::startup::open_store(&cfg, OpenMode::MustExist)
            .await
            .expect_err("refused")
    );
    assert!(err.contains("sslmode=verify-full"), "{err}");
    assert!(err.contains("db.example.invalid"), "{err}");

    // verify-full passes the check (and then fails to connect, elsewhere).
    let cfg = load(
        &with_url(
            "postgres://ptv@db.example.invalid/ptv?sslmode=verify-full",
            prod,
        ),
        &[],
    )
    .unwrap();
    let err = format!(
        "{:#}",
        ptv_sync::startup::open_store(&cfg, OpenMode::MustExist)
            .await
            .expect_err("no such host")
    );
    assert!(!err.contains("certificate"), "{err}");
}

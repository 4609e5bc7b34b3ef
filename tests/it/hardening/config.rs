//! Configuration values and the environment at load.

use super::{load, warnings_of};

const BASE: &str = r#"
[[organization]]
name = "espoo"
main_organization_id = "7d8b8c52-2f3a-4b0e-9a31-6c1f3e2d4a10"
source_id_prefix = "espoo"
[organization.ptv]
username = "api@espoo.fi"
password_file = "/run/secrets/pw"
[organization.source]
path = "/srv/source"
"#;

fn with_ptv(line: &str) -> String {
    BASE.replace(
        "password_file = \"/run/secrets/pw\"",
        &format!("password_file = \"/run/secrets/pw\"\n{line}"),
    )
}

// issue 16 item 7
#[test]
fn numbers_and_durations_that_would_panic_later_are_refused_at_load_naming_the_key() {
    let cases = [
        (
            with_ptv("max_in_flight = 9223372036854775807"),
            "max_in_flight",
        ),
        (
            format!("[daemon]\nglobal_max_in_flight = 9223372036854775807\n{BASE}"),
            "global_max_in_flight",
        ),
        (
            format!("[daemon]\nmax_concurrent_orgs = 9223372036854775807\n{BASE}"),
            "max_concurrent_orgs",
        ),
        (
            with_ptv("token_refresh_margin = \"100000000d\""),
            "token_refresh_margin",
        ),
        // 2^64 / 86400 days and more overflowed the multiplication.
        (
            with_ptv("request_timeout = \"999999999999999d\""),
            "request_timeout",
        ),
        (with_ptv("request_timeout = \"0s\""), "request_timeout"),
        (
            with_ptv("connect_timeout = 9223372036854775807"),
            "connect_timeout",
        ),
        (
            with_ptv("retry_max_delay = \"100000000d\""),
            "retry_max_delay",
        ),
        (with_ptv("retry_attempts = 4000000000"), "retry_attempts"),
        (with_ptv("retry_attempts = 0"), "retry_attempts"),
        (
            format!("[daemon]\nshutdown_grace = \"100000000d\"\n{BASE}"),
            "shutdown_grace",
        ),
        (
            format!("[audit]\nretention_days = 4000000000\n{BASE}"),
            "retention_days",
        ),
        (
            BASE.replace(
                "source_id_prefix",
                "max_age = \"100000000d\"\nsource_id_prefix",
            ),
            "max_age",
        ),
        (
            BASE.replace(
                "source_id_prefix",
                "retry_failed_after = \"100000000d\"\nsource_id_prefix",
            ),
            "retry_failed_after",
        ),
        (
            BASE.replace(
                "path = \"/srv/source\"",
                "path = \"/srv/source\"\ntimeout = \"100000000d\"",
            ),
            "timeout",
        ),
    ];
    for (text, key) in cases {
        let err = std::panic::catch_unwind(|| load(&text, &[]))
            .unwrap_or_else(|_| panic!("{key}: loading panicked"))
            .map(|_| ())
            .expect_err(key);
        assert!(err.contains(key), "{key}: {err}");
    }
    // Sensible values still load.
    let ok =
        with_ptv("max_in_flight = 16\ntoken_refresh_margin = \"10m\"\nrequest_timeout = \"2m\"");
    load(&ok, &[]).unwrap();
}

// issue 16 item 15
#[test]
fn a_toml_syntax_error_shows_the_position_but_not_the_line() {
    let text = BASE.replace(
        "password_file = \"/run/secrets/pw\"",
        "password = \"hunter2-secret",
    );
    let err = load(&text, &[]).unwrap_err();
    assert!(!err.contains("hunter2"), "the line leaked: {err}");
    assert!(
        err.contains("/etc/ptv-sync/config.toml") && err.contains("line 8"),
        "{err}"
    );
}

// issue 16 item 16
#[test]
fn variables_named_by_env_keys_are_not_read_as_configuration_keys() {
    let text = format!("[state]\ndatabase_url_env = \"PTV_SYNC_DATABASE_URL\"\n{BASE}");
    let cfg = load(
        &text,
        &[("PTV_SYNC_DATABASE_URL", "postgres://ptv@127.0.0.1/ptv")],
    )
    .unwrap();
    assert!(matches!(
        cfg.state,
        ptv_sync::config::StateConfig::Postgres { .. }
    ));
    // The same for a per-organisation secret.
    let text = BASE.replace(
        "password_file = \"/run/secrets/pw\"",
        "password_env = \"PTV_SYNC_ESPOO_PASSWORD\"",
    );
    load(&text, &[("PTV_SYNC_ESPOO_PASSWORD", "pw")]).unwrap();
}

// issue 16 item 24
#[test]
fn a_database_url_without_a_password_is_not_said_to_hold_one() {
    let (cfg, logs) = warnings_of(|| {
        load(
            &format!("[state]\ndatabase_url = \"postgres://postgres@127.0.0.1:5432/db\"\n{BASE}"),
            &[],
        )
    });
    cfg.unwrap();
    assert!(!logs.contains("inline password"), "{logs}");
    let (cfg, logs) = warnings_of(|| {
        load(
            &format!("[state]\ndatabase_url = \"postgres://u:pw@127.0.0.1:5432/db\"\n{BASE}"),
            &[],
        )
    });
    cfg.unwrap();
    assert!(logs.contains("inline password"), "{logs}");
}

// issue 16 item 9
#[test]
fn an_http_source_must_use_https_in_production() {
    let prod = BASE.replace(
        "source_id_prefix = \"espoo\"",
        "source_id_prefix = \"espoo\"\nenvironment = \"production\"",
    );
    let text = prod.replace(
        "path = \"/srv/source\"",
        "type = \"http\"\nurl = \"http://source.example.fi/export\"",
    );
    let err = load(&text, &[]).unwrap_err();
    assert!(err.contains("source.url") && err.contains("https"), "{err}");
    let text = prod.replace(
        "path = \"/srv/source\"",
        "type = \"http\"\nurl = \"https://source.example.fi/export\"",
    );
    load(&text, &[]).unwrap();
}

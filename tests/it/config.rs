//! Configuration: errors name the file, the key and the fix; env overrides apply.

use ptv_sync::config::{Config, Environment, StateConfig};
use std::path::Path;

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

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_str_with_env(text, Path::new("/etc/ptv-sync/config.toml"), &env)
        .map_err(|e| e.to_string())
}

#[test]
fn defaults_fill_in() {
    let c = load(BASE, &[]).unwrap();
    let o = &c.organizations[0];
    assert_eq!(o.environment, Environment::Test);
    assert_eq!(
        o.ptv.api_base.as_str(),
        "https://api.palvelutietovaranto.trn.suomi.fi/"
    );
    assert_eq!(o.ptv.max_in_flight, 4);
    assert_eq!(o.max_age.as_secs(), 86_400);
    assert_eq!(o.schedule.expr, "0 0 2 * * *");
    assert!(matches!(c.state, StateConfig::Sqlite { .. }));
    assert_eq!(c.daemon.timezone, chrono_tz::Europe::Helsinki);
}

#[test]
fn unknown_key_names_file_and_key() {
    let e = load(&BASE.replace("source_id_prefix", "sourceid_prefix"), &[]).unwrap_err();
    assert!(
        e.contains("/etc/ptv-sync/config.toml") && e.contains("sourceid_prefix"),
        "{e}"
    );
}

#[test]
fn bad_uuid_names_key() {
    let e = load(
        &BASE.replace("7d8b8c52-2f3a-4b0e-9a31-6c1f3e2d4a10", "espoo"),
        &[],
    )
    .unwrap_err();
    assert!(
        e.contains("organization[0].main_organization_id") && e.contains("UUID"),
        "{e}"
    );
}

#[test]
fn org_name_is_checked_with_the_key_named() {
    let e = load(
        &BASE.replace("name = \"espoo\"", "name = \"espoo kunta\""),
        &[],
    )
    .unwrap_err();
    assert!(
        e.contains("organization[0].name")
            && e.contains("'espoo kunta' must be letters, digits, '-' or '_'"),
        "{e}"
    );
    let twice = format!(
        "{BASE}{}",
        BASE.replace(
            "source_id_prefix = \"espoo\"",
            "source_id_prefix = \"espoo2\""
        )
    );
    let e = load(&twice, &[]).unwrap_err();
    assert!(
        e.contains("organization[1].name") && e.contains("organisation name 'espoo' is used twice"),
        "{e}"
    );
}

#[test]
fn five_field_schedule_is_refused_with_the_six_field_form() {
    let text = BASE.replace(
        "source_id_prefix = \"espoo\"",
        "source_id_prefix = \"espoo\"\nschedule = \"0 3 * * 1-5\"",
    );
    let e = load(&text, &[]).unwrap_err();
    assert!(
        e.contains("organization[0].schedule") && e.contains("0 0 3 * * MON-FRI"),
        "{e}"
    );
}

#[test]
fn production_refuses_plain_http() {
    let text = BASE.replace(
        "[organization.ptv]",
        "environment = \"production\"\n[organization.ptv]\napi_base = \"http://proxy.local\"",
    );
    let e = load(&text, &[]).unwrap_err();
    assert!(e.contains("api_base") && e.contains("https"), "{e}");
}

#[test]
fn v12_needs_an_api_key() {
    let text = BASE.replace(
        "source_id_prefix = \"espoo\"",
        "source_id_prefix = \"espoo\"\napi_version = \"v12\"",
    );
    let e = load(&text, &[]).unwrap_err();
    assert!(e.contains("api_key"), "{e}");
}

#[test]
fn two_password_sources_are_refused() {
    let text = BASE.replace(
        "password_file = \"/run/secrets/pw\"",
        "password_file = \"/run/secrets/pw\"\npassword_env = \"PW\"",
    );
    let e = load(&text, &[]).unwrap_err();
    assert!(e.contains("one way only"), "{e}");
}

#[test]
fn inline_password_never_shows_in_debug() {
    let text = BASE.replace(
        "password_file = \"/run/secrets/pw\"",
        "password = \"hunter2-secret\"",
    );
    let c = load(&text, &[]).unwrap();
    assert!(!format!("{c:?}").contains("hunter2-secret"));
}

#[test]
fn environment_overrides_nested_and_per_organisation_keys() {
    let c = load(
        BASE,
        &[
            ("PTV_SYNC_DAEMON__LISTEN", "127.0.0.1:9999"),
            ("PTV_SYNC_ORGANIZATION__espoo__PTV__MAX_IN_FLIGHT", "8"),
            (
                "PTV_SYNC_ORGANIZATION__ESPOO__PTV__USERNAME",
                "other@espoo.fi",
            ),
        ],
    )
    .unwrap();
    assert_eq!(c.daemon.listen.port(), 9999);
    assert_eq!(c.organizations[0].ptv.max_in_flight, 8);
    assert_eq!(c.organizations[0].ptv.username, "other@espoo.fi");
}

#[test]
fn environment_override_of_unknown_organisation_is_an_error() {
    let e = load(
        BASE,
        &[("PTV_SYNC_ORGANIZATION__vantaa__PTV__USERNAME", "x")],
    )
    .unwrap_err();
    assert!(e.contains("vantaa"), "{e}");
}

#[test]
fn example_config_loads() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml"))
        .unwrap();
    let c = load(&text, &[]).unwrap();
    assert_eq!(c.organizations[0].name, "esimerkkila");
}

#[test]
fn drift_defaults_to_report_weekly_at_a_quiet_hour_and_reads_everything() {
    use chrono::{Datelike, Timelike};
    let c = load(BASE, &[]).unwrap();
    let d = &c.organizations[0].drift;
    assert_eq!(d.policy, ptv_sync::config::DriftPolicy::Report);
    assert_eq!(d.max_reads_per_run, None);
    for t in d.schedule.upcoming(3) {
        assert_eq!(
            (t.weekday(), t.hour(), t.minute()),
            (chrono::Weekday::Sun, 3, 17),
            "{t}"
        );
    }
}

#[test]
fn drift_policy_schedule_and_slices_are_read_and_checked() {
    let with = |drift: &str| {
        BASE.replace(
            "[organization.ptv]",
            &format!("[organization.drift]\n{drift}\n[organization.ptv]"),
        )
    };
    let c = load(
        &with("policy = \"overwrite\"\nschedule = \"0 30 4 * * SAT\"\nmax_reads_per_run = 500"),
        &[],
    )
    .unwrap();
    let d = &c.organizations[0].drift;
    assert_eq!(d.policy, ptv_sync::config::DriftPolicy::Overwrite);
    assert_eq!(d.schedule.expr, "0 30 4 * * SAT");
    assert_eq!(d.max_reads_per_run, Some(500));
    let e = load(&with("max_reads_per_run = 0"), &[]).unwrap_err();
    assert!(e.contains("organization[0].drift.max_reads_per_run"), "{e}");
    let e = load(&with("schedule = \"0 17 3 * * 0\""), &[]).unwrap_err();
    assert!(
        e.contains("organization[0].drift.schedule") && e.contains("SUN"),
        "{e}"
    );
    let e = load(&with("policy = \"ignore\""), &[]).unwrap_err();
    assert!(e.contains("ignore"), "{e}");
}

#[test]
fn touch_after_and_window_are_checked_with_the_key_named() {
    let with = |touch: &str| {
        BASE.replace(
            "[organization.ptv]",
            &format!("[organization.touch]\n{touch}\n[organization.ptv]"),
        )
    };
    let c = load(BASE, &[]).unwrap();
    assert_eq!(
        c.organizations[0].touch,
        ptv_sync::plan::touch::TouchPolicy::default()
    );
    let c = load(&with("after = \"365days\"\nwindow = \"60d\""), &[]).unwrap();
    assert_eq!(c.organizations[0].touch.after.as_secs(), 365 * 86_400);
    assert_eq!(c.organizations[0].touch.window.as_secs(), 60 * 86_400);
    for (touch, key) in [
        ("after = \"18months\"", "organization[0].touch.after"),
        ("after = \"12h\"", "organization[0].touch.after"),
        (
            "after = \"12months\"\nwindow = \"6months\"",
            "organization[0].touch.window",
        ),
        ("window = \"1h\"", "organization[0].touch.window"),
    ] {
        let e = load(&with(touch), &[]).unwrap_err();
        assert!(e.contains(key) && e.contains("18 months"), "{touch}: {e}");
    }
    let e = load(&with("afterwards = \"1d\""), &[]).unwrap_err();
    assert!(e.contains("afterwards"), "{e}");
}

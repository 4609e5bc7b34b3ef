//! The binary: secrets checked before a dry run, source text shown safely.

use super::config_text;
use std::path::Path;

fn run(args: &[&str], config: &Path) -> (i32, String, String) {
    let out = crate::cli::bin()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A configuration reading `source/`, with PTV on a closed loopback port.
fn setup(dir: &Path) -> std::path::PathBuf {
    let docs = ptv_sync::synth::generate(ptv_sync::synth::Shape::new(6, 16));
    docs.write_dir(&dir.join("source")).unwrap();
    let text = config_text(
        dir,
        "",
        &format!("path = \"{}\"", dir.join("source").display()),
    )
    .replace(
        "[organization.ptv]\n",
        "[organization.ptv]\napi_base = \"http://127.0.0.1:9\"\ntoken_url = \"http://127.0.0.1:9/login\"\n",
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

// issue 16 item 18
#[test]
fn validate_and_a_dry_run_fail_on_a_missing_password_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path());
    let pw = dir.path().join("password");
    for args in [&["validate"][..], &["resync", "--dry-run"][..]] {
        let (code, out, err) = run(args, &cfg);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(
            format!("{out}{err}").contains(&pw.display().to_string()),
            "{args:?}: {out}{err}"
        );
    }
}

// issue 16 item 18
#[test]
fn a_password_file_readable_by_others_is_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path());
    let pw = dir.path().join("password");
    std::fs::write(&pw, "secret\n").unwrap();
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (_, out, err) = run(&["validate"], &cfg);
    let all = format!("{out}{err}");
    assert!(
        all.contains(&pw.display().to_string()) && all.contains("readable by"),
        "{all}"
    );
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, out, err) = run(&["validate"], &cfg);
    assert!(!format!("{out}{err}").contains("readable by"), "{out}{err}");
}

// issue 16 item 22
#[test]
fn control_characters_from_source_data_are_escaped_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path());
    std::fs::write(dir.path().join("password"), "secret\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(dir.path().join("password"), private).unwrap();
    }
    let clean = |text: &str| !text.chars().any(|c| c.is_control() && c != '\n');
    // A file name and a value that would clear the screen and retitle the terminal
    // (JSON may carry any control character escaped).
    std::fs::write(
        dir.path().join("source/evil\x1b[2J.json"),
        r#"{"kind": "service", "id": "other", "fundingType": "\u001b]0;owned\u0007"}"#,
    )
    .unwrap();
    let (_, out, err) = run(&["validate"], &cfg);
    assert!(out.contains("evil"), "the finding is shown: {out}{err}");
    assert!(
        clean(&out) && clean(&err),
        "raw control characters: {out:?} {err:?}"
    );
    assert!(out.contains("\\u{1b}"), "{out}");
    // A file that does not parse stops the run: its name is escaped in the error too.
    std::fs::write(dir.path().join("source/evil\x1b[2J.yaml"), "kind: [\n").unwrap();
    let (code, out, err) = run(&["validate"], &cfg);
    assert_eq!(code, 1);
    assert!(out.contains("evil\\u{1b}[2J.yaml"), "{out}{err}");
    assert!(
        clean(&out) && clean(&err),
        "raw control characters: {out:?} {err:?}"
    );
}

//! The shipped systemd units: the daemon and the on-demand resync share one state
//! directory, so they must run as the same user under the same hardening. A unit that
//! differs (say `DynamicUser=yes` without `User=`) makes systemd derive another user from
//! the unit's name and re-own the daemon's files while it runs.

use std::collections::BTreeMap;
use std::path::Path;

/// `[Service]` keys that differ by what a unit does (a notify daemon vs a oneshot), not by
/// who it runs as or what it may touch. Every other key must be the same in both units.
const PER_UNIT: &[&str] = &[
    "Type",
    "NotifyAccess",
    "ExecStart",
    "ExecReload",
    "Restart",
    "RestartSec",
    "WatchdogSec",
    "TimeoutStartSec",
    "TimeoutStopSec",
    "KillSignal",
    "KillMode",
    // Only the daemon keeps a runtime directory; systemd removes one when its unit
    // stops, so the oneshot must not own it too.
    "RuntimeDirectory",
    "RuntimeDirectoryMode",
    "RuntimeDirectoryPreserve",
];

/// The `[Service]` section of a unit: every value of each key, in order of appearance.
fn service_section(unit: &str) -> BTreeMap<String, Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("systemd")
        .join(unit);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut section = String::new();
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            name.clone_into(&mut section);
            continue;
        }
        if section != "Service" {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{unit}: line without '=': {line}"));
        keys.entry(key.trim().to_owned())
            .or_default()
            .push(value.trim().to_owned());
    }
    keys
}

fn one<'a>(unit: &str, keys: &'a BTreeMap<String, Vec<String>>, key: &str) -> &'a str {
    match keys.get(key).map(Vec::as_slice) {
        Some([value]) => value,
        other => panic!("{unit}: expected exactly one {key}=, found {other:?}"),
    }
}

const UNITS: [&str; 2] = ["ptv-sync.service", "ptv-sync-resync.service"];

#[test]
fn both_units_run_as_one_named_user_with_a_private_state_directory() {
    for unit in UNITS {
        let keys = service_section(unit);
        assert_eq!(one(unit, &keys, "User"), "ptv-sync", "{unit}: User=");
        assert_eq!(one(unit, &keys, "Group"), "ptv-sync", "{unit}: Group=");
        assert_eq!(
            one(unit, &keys, "StateDirectory"),
            "ptv-sync",
            "{unit}: StateDirectory="
        );
        assert_eq!(
            one(unit, &keys, "StateDirectoryMode"),
            "0700",
            "{unit}: StateDirectoryMode="
        );
        assert_eq!(
            one(unit, &keys, "ConfigurationDirectory"),
            "ptv-sync",
            "{unit}: ConfigurationDirectory="
        );
    }
}

#[test]
fn both_units_can_read_their_configuration_directory() {
    // systemd leaves `ConfigurationDirectory=` owned by root (it chowns only the state,
    // cache, logs and runtime directories to `User=`), so the service reads it as "other":
    // the mode must grant other read and search, or `config.toml` cannot be opened.
    for unit in UNITS {
        let keys = service_section(unit);
        let mode = keys
            .get("ConfigurationDirectoryMode")
            .map_or("0755", |_| one(unit, &keys, "ConfigurationDirectoryMode"));
        let bits = u32::from_str_radix(mode, 8)
            .unwrap_or_else(|e| panic!("{unit}: ConfigurationDirectoryMode={mode}: {e}"));
        assert_eq!(
            bits & 0o005,
            0o005,
            "{unit}: ConfigurationDirectoryMode={mode} does not let the service user (not the owner, root) read /etc/ptv-sync"
        );
    }
}

#[test]
fn both_units_have_the_same_user_state_and_hardening() {
    let [daemon, resync] = UNITS.map(|unit| {
        let mut keys = service_section(unit);
        keys.retain(|key, _| !PER_UNIT.contains(&key.as_str()));
        keys
    });
    for key in daemon.keys().chain(resync.keys()) {
        assert_eq!(
            daemon.get(key),
            resync.get(key),
            "{key}= differs between {} (left) and {} (right)",
            UNITS[0],
            UNITS[1]
        );
    }
}

//! `PTV_SYNC_A__B=v` environment overrides of the configuration file's keys.

use super::ENV_PREFIX;

/// The values of every `*_env` key: names of variables holding secrets, which are not
/// configuration overrides even when they start with `PTV_SYNC_`.
fn secret_variables(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                match v {
                    toml::Value::String(name) if k.ends_with("_env") => out.push(name.clone()),
                    other => secret_variables(other, out),
                }
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| secret_variables(v, out)),
        _ => {}
    }
}

/// Applies `PTV_SYNC_A__B=v` overrides. Values are read as TOML (numbers, booleans) and
/// fall back to strings.
pub(super) fn apply_env(
    root: &mut toml::Value,
    env: &[(String, String)],
) -> Result<(), (String, String)> {
    let mut named = Vec::new();
    secret_variables(root, &mut named);
    for (k, v) in env {
        let Some(rest) = k.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        // Variables of the command line and the test suite, not configuration keys.
        if matches!(rest, "CONFIG" | "LOG") || rest.starts_with("TEST_") || named.contains(k) {
            continue;
        }
        let parts: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        let value = toml::from_str::<toml::Table>(&format!("v = {v}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(v.clone()));
        let mut cur = &mut *root;
        let mut shown = String::new();
        let mut i = 0;
        while i < parts.len() {
            let part = &parts[i];
            shown = if shown.is_empty() {
                part.clone()
            } else {
                format!("{shown}.{part}")
            };
            let table = cur.as_table_mut().ok_or_else(|| {
                (
                    shown.clone(),
                    format!("{k} overrides a value that is not a table"),
                )
            })?;
            if part == "organization" && i == 0 {
                let name = parts.get(1).ok_or_else(|| {
                    (
                        shown.clone(),
                        format!("{k}: name the organisation: PTV_SYNC_ORGANIZATION__<name>__<key>"),
                    )
                })?;
                let orgs = table
                    .get_mut("organization")
                    .and_then(toml::Value::as_array_mut)
                    .ok_or_else(|| {
                        (
                            shown.clone(),
                            format!("{k}: no [[organization]] in the file"),
                        )
                    })?;
                cur = orgs
                    .iter_mut()
                    .find(|o| {
                        o.get("name")
                            .and_then(toml::Value::as_str)
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                    .ok_or_else(|| {
                        (
                            shown.clone(),
                            format!("{k}: no organisation named '{name}' in the file"),
                        )
                    })?;
                shown = format!("organization[{name}]");
                i += 2;
                continue;
            }
            if i == parts.len() - 1 {
                table.insert(part.clone(), value.clone());
                break;
            }
            cur = table
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            i += 1;
        }
    }
    Ok(())
}

//! Fingerprints: SHA-256 over canonical JSON of an item's normalised payload, salted with
//! the mapping version and the API version, so a change in our mapping (or a switch of
//! API version) re-pushes exactly what it affects.

use crate::model::ApiVersion;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// Bump when the model → wire mapping changes in a way that alters what PTV receives.
pub const MAPPING_VERSION: u32 = 1;

/// Canonical JSON: object keys sorted (`serde_json`'s map is ordered), no white space.
#[must_use]
pub fn canonical_json(v: &Value) -> String {
    v.to_string()
}

/// A SHA-256 fingerprint: 32 bytes in memory (a plan holds one per item), lower-case hex
/// in the state store and on screen.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// From its stored hex text; `None` for anything else (such a row is simply re-sent).
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let mut bytes = [0; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        // Stored fingerprints are written lower-case; an upper-case one is not ours.
        (text.bytes().all(|b| !b.is_ascii_uppercase())).then_some(Fingerprint(bytes))
    }

    /// Whether `text` is this fingerprint in its stored form.
    #[must_use]
    pub fn is(&self, text: &str) -> bool {
        Self::parse(text) == Some(*self)
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

#[must_use]
pub fn fingerprint(api: ApiVersion, payload: &Value) -> Fingerprint {
    let mut h = Sha256::new();
    h.update(format!("ptv-sync mapping {MAPPING_VERSION} {api}\n").as_bytes());
    // The canonical text is written straight into the hash: the same bytes as
    // `canonical_json`, without a copy of every payload.
    serde_json::to_writer(&mut Hashing(&mut h), payload).expect("a JSON value always serialises");
    Fingerprint(h.finalize().into())
}

struct Hashing<'a>(&'a mut Sha256);

impl std::io::Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Field paths (source terms, e.g. `languageVersions.fi.summary`) where two payloads differ.
#[must_use]
pub fn changed_paths(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_changes(old, new, &mut String::new(), &mut |path, _, _| {
        out.push(path.to_owned());
    });
    out
}

/// Like [`changed_paths`], with each field's old and new value as compact JSON, cut to
/// `max` characters: what `plan` shows, as `terraform plan` does.
#[must_use]
pub fn changed_values(old: &Value, new: &Value, max: usize) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    walk_changes(old, new, &mut String::new(), &mut |path, a, b| {
        out.push((path.to_owned(), shown(a, max), shown(b, max)));
    });
    out
}

fn shown(v: &Value, max: usize) -> String {
    let text = match v {
        Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    };
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Calls `leaf` with the path and both values of every changed leaf: objects are walked
/// key by key, arrays of equal length index by index, anything else that differs is a
/// leaf (the whole item is `(item)`).
fn walk_changes(
    old: &Value,
    new: &Value,
    path: &mut String,
    leaf: &mut dyn FnMut(&str, &Value, &Value),
) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk_changes(
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                    path,
                    leaf,
                );
                path.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let len = path.len();
                let _ = write!(path, "[{i}]");
                walk_changes(x, y, path, leaf);
                path.truncate(len);
            }
        }
        _ if path.is_empty() => leaf("(item)", old, new),
        _ => leaf(path, old, new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn changed_paths_name_leaves() {
        let a = json!({"languageVersions": {"fi": {"name": "A", "summary": "S"}}, "x": [1, 2]});
        let b = json!({"languageVersions": {"fi": {"name": "A", "summary": "T"}}, "x": [1, 3]});
        assert_eq!(
            changed_paths(&a, &b),
            vec!["languageVersions.fi.summary", "x[1]"]
        );
        assert!(changed_paths(&a, &a).is_empty());
    }

    /// Stored fingerprints stay valid: the hash is over exactly the prefix and the
    /// canonical text.
    #[test]
    fn fingerprint_is_the_hash_of_the_canonical_text() {
        let v = serde_json::json!({"b": [1, {"z": "å\"\n", "a": null}], "a": 1.5});
        let text = format!(
            "ptv-sync mapping {MAPPING_VERSION} v11\n{}",
            canonical_json(&v)
        );
        assert_eq!(
            fingerprint(ApiVersion::V11, &v).to_string(),
            sha256_hex(text.as_bytes())
        );
    }

    #[test]
    fn fingerprint_depends_on_api_version() {
        let v = json!({"a": 1});
        assert_ne!(
            fingerprint(ApiVersion::V11, &v),
            fingerprint(ApiVersion::V12, &v)
        );
    }

    #[test]
    fn fingerprints_read_back_from_their_stored_text_only() {
        let fp = fingerprint(ApiVersion::V11, &json!({"a": 1}));
        let text = fp.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(Fingerprint::parse(&text), Some(fp));
        assert!(fp.is(&text));
        assert_eq!(Fingerprint::parse(&text.to_uppercase()), None);
        assert_eq!(Fingerprint::parse(&text[..62]), None);
        assert_eq!(Fingerprint::parse("fp1"), None);
        assert!(!fp.is("fp1"));
    }

    proptest! {
        /// Key order in the input never changes the fingerprint.
        #[test]
        fn fingerprint_ignores_key_order(pairs in proptest::collection::vec(("[a-z]{1,6}", 0i64..1000), 1..12)) {
            let mut fwd = serde_json::Map::new();
            for (k, v) in &pairs { fwd.insert(k.clone(), json!(v)); }
            let mut rev_text = String::from("{");
            let dedup: std::collections::BTreeMap<_, _> = pairs.iter().cloned().collect();
            let items: Vec<String> = dedup.iter().rev().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            rev_text.push_str(&items.join(","));
            rev_text.push('}');
            let rev: Value = serde_json::from_str(&rev_text).unwrap();
            prop_assert_eq!(fingerprint(ApiVersion::V11, &Value::Object(fwd)), fingerprint(ApiVersion::V11, &rev));
        }
    }
}

//! What PTV holds against what we sent, on the fields we send: both bodies are in the
//! adapter's wire shape (what `PtvApi::sent_body` maps from the last pushed payload, and
//! what a read returns). Normalised before the comparison, so that what PTV does to every
//! body (its own keys, list order, empty lists as `null`) is not reported as an edit:
//!
//! - keys PTV adds (ids, `publishingStatus`, `modified`, …) are ignored: only the keys of
//!   the body we sent are compared, at every depth;
//! - v11's delete flags (`deleteAll…`) exist only in requests and are skipped;
//! - localized lists (`[{language, type?, value}]`) become maps keyed by language (and
//!   type), so their order does not matter and a path names the text that changed
//!   (`serviceDescriptions.fi.Summary`); lists of plain values are compared as sets;
//! - texts are trimmed and line ends unified; `null`, `""`, `[]` and `{}` all mean "none".
//!
//! Paths are then named by the codebase's one JSON change walker
//! ([`crate::fingerprint::changed_paths`]).

use crate::fingerprint::changed_paths;
use serde_json::{Map, Value};

/// The fields (paths in the wire body) where PTV's `held` differs from our `sent`.
#[must_use]
pub fn edited_paths(sent: &Value, held: &Value) -> Vec<String> {
    let sent = normalise(sent).unwrap_or(Value::Null);
    let held = normalise(held).unwrap_or(Value::Null);
    let held = restricted(&held, &sent);
    changed_paths(&sent, &held)
}

/// `held` with only the object keys that `shape` has, at every depth.
fn restricted(held: &Value, shape: &Value) -> Value {
    match (held, shape) {
        (Value::Object(h), Value::Object(s)) => Value::Object(
            s.iter()
                .filter_map(|(k, sv)| Some((k.clone(), restricted(h.get(k)?, sv))))
                .collect(),
        ),
        (Value::Array(h), Value::Array(s)) if h.len() == s.len() => {
            Value::Array(h.iter().zip(s).map(|(h, s)| restricted(h, s)).collect())
        }
        _ => held.clone(),
    }
}

/// The normal form described in the module documentation; `None` for "none".
fn normalise(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(s) => {
            let t = s.replace("\r\n", "\n");
            let t = t.trim();
            (!t.is_empty()).then(|| Value::String(t.to_owned()))
        }
        Value::Object(m) => {
            let out: Map<String, Value> = m
                .iter()
                .filter(|(k, _)| !k.starts_with("delete"))
                .filter_map(|(k, v)| Some((k.clone(), normalise(v)?)))
                .collect();
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let items: Vec<Value> = a.iter().filter_map(normalise).collect();
            if items.is_empty() {
                return None;
            }
            if let Some(map) = localized(&items) {
                return Some(Value::Object(map));
            }
            if items.iter().all(|i| !i.is_object() && !i.is_array()) {
                let mut sorted = items;
                sorted.sort_by_key(ToString::to_string);
                sorted.dedup();
                return Some(Value::Array(sorted));
            }
            Some(Value::Array(items))
        }
        other => Some(other.clone()),
    }
}

/// A localized list as a map `language[.type]` → value (the entry without its
/// `language` and `type`), when every entry has a language and the keys are unique.
fn localized(items: &[Value]) -> Option<Map<String, Value>> {
    let mut map = Map::new();
    for item in items {
        let o = item.as_object()?;
        let lang = o.get("language")?.as_str()?;
        o.get("value")?;
        let key = match o.get("type").and_then(Value::as_str) {
            Some(t) => format!("{lang}.{t}"),
            None => lang.to_owned(),
        };
        let mut rest = o.clone();
        rest.remove("language");
        rest.remove("type");
        let rest = if rest.len() == 1 {
            rest.remove("value").unwrap_or(Value::Null)
        } else {
            Value::Object(rest)
        };
        if map.insert(key, rest).is_some() {
            return None;
        }
    }
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_ptv_adds_and_reorders_is_no_edit() {
        let sent = json!({
            "serviceNames": [
                {"language": "fi", "type": "Name", "value": "Rakennuslupa"},
                {"language": "sv", "type": "Name", "value": "Bygglov"},
            ],
            "languages": ["fi", "sv"],
            "keywords": [],
            "deleteAllKeywords": true,
            "requirements": null,
            "areas": [{"type": "Municipality", "areaCodes": ["091"]}],
        });
        let held = json!({
            "id": "b1", "publishingStatus": "Published", "modified": "2026-01-01T00:00:00",
            "serviceNames": [
                {"language": "sv", "type": "Name", "value": "Bygglov"},
                {"language": "fi", "type": "Name", "value": "Rakennuslupa \r\n"},
            ],
            "languages": ["sv", "fi"],
            "keywords": null,
            "areas": [{"type": "Municipality", "areaCodes": ["091"], "id": "x"}],
        });
        assert_eq!(edited_paths(&sent, &held), Vec::<String>::new());
    }

    #[test]
    fn an_edited_text_is_named_by_language_and_type() {
        let sent = json!({"serviceDescriptions": [
            {"language": "fi", "type": "Summary", "value": "Lyhyesti"},
            {"language": "fi", "type": "Description", "value": "Pitkästi"},
        ], "fundingType": "PubliclyFunded"});
        let held = json!({"serviceDescriptions": [
            {"language": "fi", "type": "Description", "value": "Pitkästi"},
            {"language": "fi", "type": "Summary", "value": "Ihmisen muokkaama"},
        ], "fundingType": "MarketFunded"});
        assert_eq!(
            edited_paths(&sent, &held),
            vec!["fundingType", "serviceDescriptions.fi.Summary"]
        );
    }

    #[test]
    fn a_field_ptv_lost_or_a_v12_language_version_edit_is_named() {
        let sent = json!({"languageVersions": {"fi": {"name": "Neuvonta", "summary": "A"}},
            "phoneNumbers": [{"number": "123", "prefixNumber": "+358"}]});
        let held = json!({"languageVersions": {"fi": {"name": "Neuvonta", "summary": "B"},
            "sv": {"name": "Rådgivning"}}});
        assert_eq!(
            edited_paths(&sent, &held),
            vec!["languageVersions.fi.summary", "phoneNumbers"]
        );
    }

    #[test]
    fn entries_without_unique_language_keys_stay_lists() {
        let pages = json!([
            {"language": "fi", "value": "A", "url": "https://a.example"},
            {"language": "fi", "value": "B", "url": "https://b.example"},
        ]);
        assert_eq!(normalise(&pages), Some(pages.clone()));
        let changed = json!([
            {"language": "fi", "value": "A", "url": "https://a.example"},
            {"language": "fi", "value": "B", "url": "https://c.example"},
        ]);
        assert_eq!(
            edited_paths(
                &json!({ "webPages": pages }),
                &json!({ "webPages": changed })
            ),
            vec!["webPages[1].url"]
        );
    }
}

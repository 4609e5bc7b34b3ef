//! PTV's items read back into the source format: what `export` writes, and what `adopt`
//! compares with the source to tell whether PTV already holds the source's content.
//!
//! # Contract
//!
//! - [`read_back`] is the inverse of the version's mapper (`v11::map`, `v12::map`) on the
//!   bodies PTV shows: an item written from a document reads back as that document, up to
//!   what the version cannot carry (those fields PTV never held).
//! - The document has `kind` and the item's own fields, never `id`, `ptvId`, the owning
//!   organisation (`organization` / `parent`) nor `connections`: those name other items,
//!   which only the caller can resolve to source ids ([`RemoteItem::organization_id`],
//!   [`RemoteConnection`]).
//! - Whatever PTV holds that the source format cannot express is listed in
//!   `not_expressible` (field and why), never dropped silently.
//! - Pure: no I/O.

use super::read::RemoteItem;
use super::{v11, v12};
use crate::model::{ApiVersion, Connection, Item, PtvId};
use serde::Serialize;
use serde_json::{Map, Value};

/// A PTV item as a source document (see the module documentation).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ReadBack {
    pub document: Map<String, Value>,
    /// `field: why`, for what PTV holds and the source format cannot express.
    pub not_expressible: Vec<String>,
}

/// One connection of a service, as PTV shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteConnection {
    /// The service's PTV id.
    pub service: PtvId,
    /// The channel's PTV id.
    pub channel: PtvId,
    /// The connection's details in the version's shape (v11: the `serviceChannels`
    /// entry of the service; v12: a `ConnectionResponse`).
    pub body: Value,
}

/// The item as a source document.
#[must_use]
pub fn read_back(api: ApiVersion, item: &RemoteItem) -> ReadBack {
    match api {
        ApiVersion::V11 => v11::unmap::item(item),
        ApiVersion::V12 => v12::unmap::item(item),
    }
}

/// A connection as one entry of a service's `connections`, without `channel`.
#[must_use]
pub fn read_back_connection(api: ApiVersion, c: &RemoteConnection) -> ReadBack {
    match api {
        ApiVersion::V11 => v11::unmap::connection(&c.body),
        ApiVersion::V12 => v12::unmap::connection(&c.body),
    }
}

/// What a write of `item` would send (its body under a placeholder owner), for telling
/// whether PTV already holds it; `None` when the version cannot express the item.
#[must_use]
pub fn body_of(api: ApiVersion, item: &Item) -> Option<Value> {
    const OWNER: &str = "00000000-0000-0000-0000-000000000000";
    Some(match (api, item) {
        (ApiVersion::V11, Item::Organization(o)) => v11::map::organization(o, OWNER).body,
        (ApiVersion::V11, Item::Service(s)) => v11::map::service(s, OWNER).body,
        (ApiVersion::V11, Item::Channel(c)) => v11::map::channel(c, OWNER, None).body,
        (ApiVersion::V12, Item::Organization(o)) => v12::map::organization(o, OWNER).ok()?.body,
        (ApiVersion::V12, Item::Service(s)) => v12::map::service(s, OWNER).body,
        (ApiVersion::V12, Item::Channel(c)) => v12::map::channel(c, OWNER, None).ok()?.body,
    })
}

/// What a write of `c` would send for one connection (placeholder ids).
#[must_use]
pub fn connection_body_of(api: ApiVersion, c: &Connection) -> Value {
    const ID: &str = "00000000-0000-0000-0000-000000000000";
    match api {
        ApiVersion::V11 => v11::map::connection(c, ID),
        ApiVersion::V12 => v12::map::connection(c, ID, ID).body,
    }
}

/// Whether a value holds anything: not null, not blank, not an empty list or object.
pub(crate) fn has_content(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => a.iter().any(has_content),
        Value::Object(o) => o.values().any(has_content),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Lists every key of `body` with content that is neither read (`read`) nor known to
/// carry nothing of the item's own (`ignored`).
pub(crate) fn unread_keys(body: &Value, read: &[&str], ignored: &[&str], out: &mut Vec<String>) {
    let Some(map) = body.as_object() else { return };
    for (k, v) in map {
        if read.contains(&k.as_str())
            || ignored.contains(&k.as_str())
            || k.starts_with("delete")
            || !has_content(v)
        {
            continue;
        }
        out.push(format!("{k}: no place in the source format"));
    }
}

/// `s` without `prefix` when it has it (a code URI to its code).
pub(crate) fn strip<'a>(s: &'a str, prefix: &str) -> &'a str {
    s.strip_prefix(prefix).unwrap_or(s)
}

/// A string value, `None` when absent, null or blank.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The entries of a list value (none when absent or null).
pub(crate) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `languageVersions.<lang>` of a document, created on first use.
pub(crate) fn lang_entry<'a>(
    doc: &'a mut Map<String, Value>,
    lang: &str,
) -> &'a mut Map<String, Value> {
    let versions = doc
        .entry("languageVersions")
        .or_insert_with(|| Value::Object(Map::new()));
    if !versions.is_object() {
        *versions = Value::Object(Map::new());
    }
    let Value::Object(versions) = versions else {
        unreachable!("made an object above")
    };
    let entry = versions
        .entry(lang.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    let Value::Object(entry) = entry else {
        unreachable!("made an object above")
    };
    entry
}

/// Puts `value` under `key` unless it is empty.
pub(crate) fn put(doc: &mut Map<String, Value>, key: &str, value: Value) {
    if has_content(&value) {
        doc.insert(key.to_owned(), value);
    }
}

/// The languages with a name, in `languageVersions` order.
pub(crate) fn named_languages(doc: &Map<String, Value>) -> Vec<String> {
    doc.get("languageVersions")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// What the version's unmapping tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use super::RemoteItem;
    use crate::model::{ChannelType, ItemKind, PtvId};
    use serde_json::{Map, Value};

    /// A published remote item around `body`.
    pub(crate) fn remote(kind: ItemKind, t: Option<ChannelType>, body: Value) -> RemoteItem {
        RemoteItem {
            ptv_id: PtvId::parse("0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10").unwrap(),
            kind,
            channel_type: t,
            source_id: None,
            organization_id: None,
            name_fi: None,
            publishing_status: crate::ptv::RemoteStatus::Published,
            modified: None,
            modified_by: None,
            body,
        }
    }

    /// A read-back document as the source document it came from (id `x`, no `kind`).
    pub(crate) fn with_id(mut doc: Map<String, Value>) -> Value {
        doc.remove("kind");
        doc.insert("id".into(), "x".into());
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unread_keys_name_only_fields_with_content() {
        let body = json!({"a": 1, "b": null, "c": [], "d": [{"x": null}], "e": "t",
            "deleteAllX": true, "f": {"g": "h"}});
        let mut out = Vec::new();
        unread_keys(&body, &["a"], &["e"], &mut out);
        assert_eq!(out, vec!["f: no place in the source format"]);
    }
}

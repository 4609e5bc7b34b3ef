//! What a person does in PTV's user interface, behind the API's back: publish an
//! edit, archive, remove a connection. Each is a save (the sim clock, the person's
//! name), so it shows in reads (`modified`, `modifiedBy`) and resets the automatic
//! archiving clock, as a UI save does in PTV. The UI's own form checks are not
//! simulated; the catalogue's invariants (unique live names, archive order) are kept.

use super::state::Shared;
use super::store::{Entity, PublishingStatus, SimEntity, SimKind};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Who a UI change is recorded as when the caller names nobody.
pub const UI_USER: &str = "ui.editor@example.fi";

/// Why a UI change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UiError {
    #[error("{0} is not in the simulated catalogue")]
    NotFound(Uuid),
    #[error("service {service} has no connection to channel {channel}")]
    NotConnected { service: Uuid, channel: Uuid },
    #[error("{0} is archived; restore it before editing it")]
    Archived(Uuid),
    #[error("{id}: {reason}")]
    Conflict { id: Uuid, reason: String },
    #[error("{0}")]
    Invalid(String),
}

impl UiError {
    /// The HTTP status `/_sim/ui-*` answers with.
    pub(crate) fn status(&self) -> u16 {
        match self {
            UiError::NotFound(_) | UiError::NotConnected { .. } => 404,
            UiError::Archived(_) | UiError::Conflict { .. } => 409,
            UiError::Invalid(_) => 400,
        }
    }
}

/// Sets the value at a JSON pointer (RFC 6901), creating missing object members on
/// the way; an array index must exist, or be its length or `-` to append.
fn set_pointer(body: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!(
            "'{pointer}' is not a JSON pointer into the body (it must start with '/')"
        ));
    };
    let tokens: Vec<String> = rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let (last, path) = tokens
        .split_last()
        .expect("split yields one token at least");
    let mut current = body;
    for token in path {
        current = match current {
            Value::Object(map) => map.entry(token.clone()).or_insert_with(|| json!({})),
            Value::Array(items) => {
                let len = items.len();
                token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| {
                        format!("'{pointer}': no index '{token}' in an array of {len}")
                    })?
            }
            _ => {
                return Err(format!(
                    "'{pointer}': '{token}' is not inside an object or array"
                ));
            }
        };
    }
    match current {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) if last == "-" || last.parse() == Ok(items.len()) => {
            items.push(value);
            Ok(())
        }
        Value::Array(items) => {
            let len = items.len();
            let slot = last
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| format!("'{pointer}': no index '{last}' in an array of {len}"))?;
            *slot = value;
            Ok(())
        }
        _ => Err(format!("'{pointer}': the parent is not an object or array")),
    }
}

/// The names a stored body holds: a v11 names list (type `Name`, or untyped as
/// channels send them) or v12 `languageVersions.*.name`.
fn names_in(kind: SimKind, body: &Value) -> BTreeMap<String, String> {
    let v11_key = match kind {
        SimKind::Organization => "organizationNames",
        SimKind::Service => "serviceNames",
        SimKind::Channel(_) => "serviceChannelNames",
    };
    let mut names: BTreeMap<String, String> = body
        .get(v11_key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|n| n.get("type").is_none_or(|t| t == "Name"))
        .filter_map(|n| {
            Some((
                n.get("language")?.as_str()?.to_owned(),
                n.get("value")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    if let Some(versions) = body.get("languageVersions").and_then(Value::as_object) {
        for (lang, v) in versions {
            if let Some(name) = v.get("name").and_then(Value::as_str) {
                names.insert(lang.clone(), name.to_owned());
            }
        }
    }
    names
}

/// A person publishes an edit: each pointer of `set` is set in the stored body, and
/// the result is the new Published version.
pub(crate) fn edit(
    shared: &Shared,
    id: Uuid,
    set: &[(&str, Value)],
    by: &str,
) -> Result<SimEntity, UiError> {
    if set.is_empty() {
        return Err(UiError::Invalid(
            "nothing to edit: give at least one JSON pointer and its value in 'set'".to_owned(),
        ));
    }
    let mut cat = shared.catalogue();
    let mut e = cat.get(id).cloned().ok_or(UiError::NotFound(id))?;
    if !e.is_live() {
        return Err(UiError::Archived(id));
    }
    for (pointer, value) in set {
        set_pointer(&mut e.body, pointer, value.clone()).map_err(UiError::Invalid)?;
    }
    let names = names_in(e.kind, &e.body);
    if !names.is_empty() {
        if e.kind != SimKind::Organization
            && let Some((lang, name)) = cat.name_taken(e.kind, e.org, &names, Some(id))
        {
            return Err(UiError::Conflict {
                id,
                reason: format!("the name '{name}' ({lang}) is taken in its organisation"),
            });
        }
        e.names = names;
    }
    e.status = PublishingStatus::Published;
    e.versions += 1;
    e.saved(cat.now(), by);
    let view = e.view();
    cat.put(e);
    Ok(view)
}

/// A person archives the item (archivingType Manual).
pub(crate) fn archive(shared: &Shared, id: Uuid, by: &str) -> Result<SimEntity, UiError> {
    let mut cat = shared.catalogue();
    let mut e = cat.get(id).cloned().ok_or(UiError::NotFound(id))?;
    if !e.is_live() {
        return Err(UiError::Archived(id));
    }
    if e.kind == SimKind::Organization && cat.children(id).any(Entity::is_live) {
        return Err(UiError::Conflict {
            id,
            reason: "the organisation still has live services, channels or sub-organisations"
                .to_owned(),
        });
    }
    let now = cat.now();
    e.archive_manually(now);
    e.versions += 1;
    e.saved(now, by);
    let view = e.view();
    cat.put(e);
    Ok(view)
}

/// A person removes a service's connection to a channel; the service is saved.
pub(crate) fn disconnect(
    shared: &Shared,
    service: Uuid,
    channel: Uuid,
    by: &str,
) -> Result<SimEntity, UiError> {
    let mut cat = shared.catalogue();
    let mut e = cat
        .get(service)
        .filter(|e| e.kind == SimKind::Service)
        .cloned()
        .ok_or(UiError::NotFound(service))?;
    if !e.connections.contains(&channel) {
        return Err(UiError::NotConnected { service, channel });
    }
    e.connections.retain(|c| *c != channel);
    e.saved(cat.now(), by);
    let view = e.view();
    cat.put(e);
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_set_members_array_items_and_escapes() {
        let mut body = json!({"a": [{"v": 1}], "b": {}});
        set_pointer(&mut body, "/a/0/v", json!(2)).unwrap();
        set_pointer(&mut body, "/a/-", json!({"v": 3})).unwrap();
        set_pointer(&mut body, "/b/c~1d/e", json!("x")).unwrap();
        assert_eq!(
            body,
            json!({"a": [{"v": 2}, {"v": 3}], "b": {"c/d": {"e": "x"}}})
        );
        assert!(set_pointer(&mut body, "/a/7/v", json!(0)).is_err());
        assert!(set_pointer(&mut body, "a", json!(0)).is_err());
    }

    #[test]
    fn names_come_from_either_shape() {
        let v11 = json!({"serviceChannelNames": [{"language": "fi", "value": "Neuvonta"}]});
        let v12 = json!({"languageVersions": {"sv": {"name": "Rådgivning"}}});
        let t = SimKind::Channel(crate::model::ChannelType::Phone);
        assert_eq!(names_in(t, &v11)["fi"], "Neuvonta");
        assert_eq!(names_in(t, &v12)["sv"], "Rådgivning");
    }
}

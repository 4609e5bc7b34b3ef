//! Comparing what PTV shows with what was sent, field by field, on the fields we send:
//! the read-back is cut to the sent body's shape and both go through the codebase's one
//! JSON change walker ([`crate::fingerprint::changed_paths`]).

use serde_json::Value;

/// `read` cut to the keys `sent` has (objects recursively; anything else whole): what PTV
/// adds of its own (ids, statuses, modification times) is not a difference.
fn project(read: &Value, sent: &Value) -> Value {
    match (read, sent) {
        (Value::Object(r), Value::Object(s)) => Value::Object(
            s.iter()
                .map(|(k, sv)| (k.clone(), project(r.get(k).unwrap_or(&Value::Null), sv)))
                .collect(),
        ),
        _ => read.clone(),
    }
}

/// The sent body without v11's `delete…` flags: instructions for the write (reference §6),
/// not data PTV keeps.
fn data(sent: &Value) -> Value {
    match sent {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with("delete"))
                .map(|(k, v)| (k.clone(), data(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(data).collect()),
        other => other.clone(),
    }
}

/// The field paths where PTV's read-back differs from what was sent.
#[must_use]
pub fn differences(sent: &Value, read: &Value) -> Vec<String> {
    let sent = data(sent);
    crate::fingerprint::changed_paths(&sent, &project(read, &sent))
}

/// How many leaf fields a body has: what "every field matches" covered.
#[must_use]
pub fn leaves(v: &Value) -> usize {
    count(&data(v))
}

fn count(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.values().map(count).sum(),
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Null => 0,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_ptv_adds_are_no_difference_but_a_changed_one_is() {
        let sent = json!({"names": [{"language": "fi", "value": "A"}], "type": "Service", "deleteAllKeywords": true});
        let read = json!({"id": "x", "publishingStatus": "Published", "names": [{"language": "fi", "value": "A"}], "type": "Service"});
        assert!(differences(&sent, &read).is_empty());
        assert_eq!(leaves(&sent), 3);
        let changed = json!({"names": [{"language": "fi", "value": "B"}], "type": "Service"});
        assert_eq!(differences(&sent, &changed), vec!["names[0].value"]);
        assert_eq!(differences(&sent, &json!({})), vec!["names", "type"]);
    }
}

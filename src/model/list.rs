//! Lists read at their exact length. JSON text gives no length up front, so a `Vec` read
//! from it grows by doubling and keeps up to half its room unused; a service holds a dozen
//! lists, and at 100,000 items that slack was a fifth of a plan's memory.

use serde::{Deserialize, Deserializer};

/// `deserialize_with` for `Vec` fields of the model.
pub(super) fn exact<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(fit(Vec::deserialize(d)?))
}

/// The same items in an allocation of exactly their length. `shrink_to_fit` would not do:
/// the allocator may keep a block that shrinks by less than half where it is.
pub(super) fn fit<T>(v: Vec<T>) -> Vec<T> {
    if v.capacity() == v.len() {
        return v;
    }
    let mut exact = Vec::with_capacity(v.len());
    exact.extend(v);
    exact
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_read_from_text_have_no_room_left() {
        #[derive(serde::Deserialize)]
        struct L {
            #[serde(deserialize_with = "super::exact")]
            items: Vec<u32>,
        }
        let l: L = serde_json::from_str(r#"{"items": [1, 2, 3, 4, 5]}"#).unwrap();
        assert_eq!(l.items, [1, 2, 3, 4, 5]);
        assert_eq!(l.items.capacity(), 5);
    }
}

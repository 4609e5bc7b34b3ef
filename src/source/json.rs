//! JSON files read straight into the model. The general path ([`super::parse_document`])
//! first builds a `serde_json::Value` of each document, which at 100,000 items costs more
//! than the items themselves. Here a document that reads cleanly is deserialized from its
//! text; anything else (a missing or odd `kind` or `id`, a body the model refuses) is read
//! again on the general path, so that every message stays the same.

use super::document::{Document, Origin, ParseIssue, parse_document};
use super::{Snapshot, SourceError};
use crate::model::{Channel, Item, ItemKind, Organization, Service, SourceId};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, IntoDeserializer, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// A JSON file's documents: one object, a list of objects or `null`.
pub fn parse_json_file(text: &str, file: &str) -> Result<Snapshot, SourceError> {
    let syntax = |e: serde_json::Error| SourceError::Syntax {
        file: file.to_owned(),
        message: e.to_string(),
    };
    let name: Arc<str> = Arc::from(file);
    let mut out = Snapshot::default();
    match text.trim_start().as_bytes().first() {
        Some(b'[') => {
            let raws: Vec<&RawValue> = serde_json::from_str(text).map_err(syntax)?;
            out.documents.reserve(raws.len());
            for (i, raw) in raws.into_iter().enumerate() {
                out.add(document(
                    raw.get(),
                    Origin {
                        file: name.clone(),
                        index: Some(i),
                    },
                ))?;
            }
        }
        Some(b'n') => {
            serde_json::from_str::<()>(text).map_err(syntax)?;
        }
        _ => {
            let raw: &RawValue = serde_json::from_str(text).map_err(syntax)?;
            out.add(document(
                raw.get(),
                Origin {
                    file: name,
                    index: None,
                },
            ))?;
        }
    }
    Ok(out)
}

/// The fields that place a document; the rest of it is skipped on this pass.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

fn document(text: &str, origin: Origin) -> Result<Document, SourceError> {
    if let Some((kind, id)) = head(text) {
        let item = match kind {
            ItemKind::Organization => body::<Organization>(text).map(Item::Organization),
            ItemKind::Service => body::<Service>(text).map(Item::Service),
            ItemKind::Channel => body::<Channel>(text).map(Item::Channel),
            ItemKind::Connections => None,
        };
        if let Some(item) = item {
            return Ok(Document {
                kind,
                id,
                origin,
                item: Ok::<_, ParseIssue>(Box::new(item)),
            });
        }
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| SourceError::Syntax {
        file: origin.to_string(),
        message: e.to_string(),
    })?;
    parse_document(value, None, origin)
}

fn head(text: &str) -> Option<(ItemKind, SourceId)> {
    if !text.starts_with('{') {
        return None;
    }
    let head: Head<'_> = serde_json::from_str(text).ok()?;
    let kind = ItemKind::parse(&head.kind?).filter(|k| *k != ItemKind::Connections)?;
    let id = SourceId::parse(&head.id?).ok()?;
    Some((kind, id))
}

fn body<'de, T: Deserialize<'de>>(text: &'de str) -> Option<T> {
    let mut de = serde_json::Deserializer::from_str(text);
    let item = T::deserialize(WithoutKind(&mut de)).ok()?;
    de.end().ok()?;
    Some(item)
}

/// A document's object without its `kind` key, which places the document but is not part
/// of the item.
struct WithoutKind<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for WithoutKind<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(SkipKind(visitor))
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(SkipKind(visitor))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, SkipKind(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier
        ignored_any
    }
}

struct SkipKind<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for SkipKind<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(SkipKindMap(map))
    }
}

struct SkipKindMap<A>(A);

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for SkipKindMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            match self.0.next_key::<Key<'de>>()? {
                None => return Ok(None),
                Some(Key::Borrowed("kind")) => {
                    self.0.next_value::<IgnoredAny>()?;
                }
                Some(Key::Owned(k)) if k == "kind" => {
                    self.0.next_value::<IgnoredAny>()?;
                }
                Some(Key::Borrowed(k)) => {
                    return seed
                        .deserialize(de::value::BorrowedStrDeserializer::new(k))
                        .map(Some);
                }
                Some(Key::Owned(k)) => return seed.deserialize(k.into_deserializer()).map(Some),
            }
        }
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(seed)
    }
}

/// An object key, borrowed from the text unless it holds an escape.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (String, String) {
        let fast = parse_json_file(text, "f.json");
        let general = super::super::document::parse_general(text, "f.json", true);
        (format!("{fast:?}"), format!("{general:?}"))
    }

    #[cfg(feature = "sim")]
    #[test]
    fn reads_generated_snapshots_like_the_general_path() {
        let docs = crate::synth::generate(crate::synth::Shape::new(400, 7));
        for list in [&docs.organizations, &docs.channels, &docs.services] {
            let text = serde_json::to_string_pretty(list).unwrap();
            let (fast, general) = both(&text);
            assert!(fast.starts_with("Ok("), "{fast}");
            assert_eq!(fast, general);
            // Each document took the direct path, not the fallback.
            for doc in list {
                let text = doc.to_string();
                let (kind, _) = head(&text).expect("a generated document places itself");
                let direct = match kind {
                    ItemKind::Organization => body::<Organization>(&text).is_some(),
                    ItemKind::Service => body::<Service>(&text).is_some(),
                    _ => body::<Channel>(&text).is_some(),
                };
                assert!(direct, "{text}");
            }
        }
    }

    #[test]
    fn refuses_like_the_general_path() {
        for text in [
            r#"[{"kind": "service", "id": "s-1", "bogus": 1}, {"id": "o-1", "kind": "organization"}]"#,
            r#"[{"id": "c-1", "kind": "chan\u006eel", "channelType": "Nope"}]"#,
            r#"[{"kind": "service", "id": "s-1", "kind": "service"}]"#,
            r#"[{"kind": 5, "id": "x"}]"#,
            r#"[{"kind": "connections", "id": "x"}]"#,
            r#"[{"kind": "service"}]"#,
            r#"[["service", "s-1"]]"#,
            r#"{"kind": "organization", "id": "o 1"}"#,
            r#"{"kind": "organization", "id": "o-1", "organizationType": "Municipality"} x"#,
            "null",
            "nonsense",
            "[1, 2",
            "",
            "  [ ]",
            "true",
            "5",
            r#""text""#,
            r#"{"kind": "service", "id": "s-1""#,
        ] {
            let (fast, general) = both(text);
            assert_eq!(fast, general, "{text}");
        }
    }
}

//! One source document: identified by kind and id, parsed strictly into the model.

use crate::model::{Channel, Item, ItemKind, Organization, Service, SourceId};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

use super::SourceError;

/// Where a document came from: a file (and its position in a list), a URL or a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub index: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// Why a document's body was refused: the key path and serde's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIssue {
    pub path: String,
    pub message: String,
}

/// A document whose kind and id are known. Its body may still have failed to parse: such a
/// document is invalid (never sent) but still *present*, so it is never archived.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: ItemKind,
    pub id: SourceId,
    pub origin: Origin,
    /// Boxed: a snapshot holds one document per item, and most of an item is on the heap.
    pub item: Result<Box<Item>, ParseIssue>,
}

/// Parses one JSON/YAML value. A value without a readable `kind` or `id` cannot be placed
/// at all, so it is fatal for the snapshot (a half-read source must not look like deletion).
pub fn parse_document(
    mut value: Value,
    default_kind: Option<ItemKind>,
    origin: Origin,
) -> Result<Document, SourceError> {
    let fatal = |message: String| SourceError::Document {
        origin: origin.to_string(),
        message,
    };
    let Value::Object(map) = &mut value else {
        return Err(fatal(format!(
            "expected an object with `kind` and `id`, found {}",
            type_name(&value)
        )));
    };
    let kind = match map.remove("kind") {
        Some(Value::String(k)) => match ItemKind::parse(&k) {
            Some(kind) if kind != ItemKind::Connections => kind,
            _ => {
                return Err(fatal(format!(
                    "unknown kind '{k}': use organization, service or channel"
                )));
            }
        },
        Some(other) => {
            return Err(fatal(format!(
                "`kind` must be a string, found {}",
                type_name(&other)
            )));
        }
        None => default_kind.ok_or_else(|| {
            fatal("missing `kind`: add `kind: organization|service|channel`".into())
        })?,
    };
    let id = match map.get("id") {
        Some(Value::String(raw)) => {
            SourceId::parse(raw).map_err(|m| fatal(format!("`id`: {m}")))?
        }
        Some(other) => {
            return Err(fatal(format!(
                "`id` must be a string, found {}",
                type_name(other)
            )));
        }
        None => {
            return Err(fatal(format!(
                "{kind} without `id`: every document needs one"
            )));
        }
    };
    let item = match kind {
        ItemKind::Organization => body::<Organization>(value).map(Item::Organization),
        ItemKind::Service => body::<Service>(value).map(Item::Service),
        ItemKind::Channel => body::<Channel>(value).map(Item::Channel),
        ItemKind::Connections => unreachable!("refused above"),
    }
    .map(Box::new);
    Ok(Document {
        kind,
        id,
        origin,
        item,
    })
}

fn body<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, ParseIssue> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ParseIssue {
            path: if path == "." { String::new() } else { path },
            message,
        }
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Through a `serde_json::Value` per document: YAML, and JSON that the direct path refuses.
pub(super) fn parse_general(
    text: &str,
    file: &str,
    is_json: bool,
) -> Result<super::Snapshot, SourceError> {
    let value: Value = if is_json {
        serde_json::from_str(text).map_err(|e| SourceError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })?
    } else {
        serde_norway::from_str(text).map_err(|e| SourceError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })?
    };
    let file: Arc<str> = Arc::from(file);
    let mut out = super::Snapshot::default();
    match value {
        Value::Array(items) => {
            for (i, v) in items.into_iter().enumerate() {
                out.add(parse_document(
                    v,
                    None,
                    Origin {
                        file: file.clone(),
                        index: Some(i),
                    },
                ))?;
            }
        }
        Value::Null => {}
        v => out.add(parse_document(v, None, Origin { file, index: None }))?,
    }
    Ok(out)
}

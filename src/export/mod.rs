//! `ptv-sync export`: what PTV holds for the main organisation and its sub-organisations,
//! written as source documents, so that an organisation without a structured source
//! system can start managing its PTV content as files (or bootstrap a mapping).
//!
//! # Contract
//!
//! - Reads PTV's catalogue as `adopt` does ([`crate::ptv::read_catalogue`]: published
//!   items, full entities, the services' connections) and reads each item back into the
//!   source format ([`crate::ptv::read_back`]).
//! - One file per item, under `organizations/`, `services/` and `channels/` (the `dir`
//!   source reads them recursively), named from the Finnish name and the PTV id.
//! - Each document carries `ptvId` and an `id`: the item's own id when PTV shows our
//!   sourceId / externalId on it (`<prefix>-<kind>-<id>`), else `ptv-<PTV id>`, stable
//!   across exports and renames. References (parent, owner, connections) name those ids.
//! - Whatever PTV holds that the source format cannot express is listed per item in the
//!   [`Export`] summary, never dropped silently; so are documents that would not pass
//!   validation as they are.
//! - Refuses a non-empty folder unless `force` (then files of the same name are
//!   replaced; other files stay).

use crate::config::OrgConfig;
use crate::model::{ItemKind, PtvId};
use crate::ptv::{PtvApi, PtvError, RemoteCatalogue, RemoteItem, read_back, read_back_connection};
use crate::source::{Origin, Snapshot, parse_document};
use crate::validate::Severity;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file format of the written documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }
}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "{0} is not empty: export into an empty folder, or pass --force to write into it (files of the same name are replaced, other files stay)"
    )]
    NotEmpty(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading PTV's catalogue: {0}")]
    Ptv(#[from] PtvError),
}

/// One written document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Written {
    pub kind: ItemKind,
    pub id: String,
    pub ptv_id: PtvId,
    /// Relative to the export folder.
    pub file: String,
    /// `field: why`, for what PTV holds and the document cannot carry.
    pub not_expressible: Vec<String>,
}

/// What an export wrote and what it could not carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Export {
    pub organization: crate::model::OrgName,
    pub dir: PathBuf,
    pub written: Vec<Written>,
    /// Validation errors of the written documents as they are (`file: message`).
    pub invalid: Vec<String>,
    pub requests: u32,
}

impl Export {
    /// Documents per kind: organisations, services, channels.
    #[must_use]
    pub fn counts(&self) -> [usize; 3] {
        let mut c = [0; 3];
        for w in &self.written {
            match w.kind {
                ItemKind::Organization => c[0] += 1,
                ItemKind::Service => c[1] += 1,
                _ => c[2] += 1,
            }
        }
        c
    }
}

/// Reads the catalogue and writes it into `dir`.
pub async fn export(
    org: &OrgConfig,
    api: &dyn PtvApi,
    dir: &Path,
    format: Format,
    force: bool,
) -> Result<Export, ExportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    if !force && dir.exists() && std::fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
        return Err(ExportError::NotEmpty(dir.to_path_buf()));
    }
    let cat = crate::ptv::read_catalogue(api, &org.main_organization_id).await?;
    let mut docs = documents(org, &cat);
    with_extension(&mut docs, format);
    let mut written = Vec::with_capacity(docs.len());
    let mut snapshot = Snapshot::default();
    for (doc, mut w) in docs {
        let path = dir.join(&w.file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let text = match format {
            Format::Yaml => serde_norway::to_string(&doc).map_err(std::io::Error::other),
            Format::Json => serde_json::to_string_pretty(&doc)
                .map(|t| t + "\n")
                .map_err(std::io::Error::other),
        }
        .map_err(io(&path))?;
        std::fs::write(&path, text).map_err(io(&path))?;
        let origin = Origin {
            file: Arc::from(w.file.as_str()),
            index: None,
        };
        match parse_document(doc.to_value(), None, origin) {
            Ok(d) => snapshot.documents.push(d),
            Err(e) => w
                .not_expressible
                .push(format!("does not read as a document: {e}")),
        }
        written.push(w);
    }
    let validated =
        crate::validate::validate_owned(snapshot, &crate::pipeline::validate_options(org));
    let invalid = validated
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(ToString::to_string)
        .collect();
    Ok(Export {
        organization: org.name.clone(),
        dir: dir.to_path_buf(),
        written,
        invalid,
        requests: cat.requests,
    })
}

/// A document with its keys in reading order: `kind`, `id`, `ptvId`, the owner, the
/// item's fields, `connections`.
#[derive(Debug, Clone, PartialEq)]
struct Document(Vec<(String, Value)>);

impl Document {
    fn to_value(&self) -> Value {
        Value::Object(self.0.iter().cloned().collect())
    }
}

impl Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// The id an item gets: its own source id when it carries our sourceId / externalId,
/// else one derived from its PTV id.
fn id_for(org: &OrgConfig, item: &RemoteItem) -> String {
    let short = match item.kind {
        ItemKind::Organization => "org",
        ItemKind::Service => "service",
        ItemKind::Channel => "channel",
        ItemKind::Connections => "connections",
    };
    let ours = format!("{}-{short}-", org.source_id_prefix);
    item.source_id
        .as_deref()
        .and_then(|sid| sid.strip_prefix(ours.as_str()))
        .map(|rest| rest.split_once(".g").map_or(rest, |(base, _)| base))
        .filter(|id| crate::model::SourceId::parse(id).is_ok())
        .map_or_else(|| format!("ptv-{}", item.ptv_id), str::to_owned)
}

/// A file-name slug of a name: lower-case ASCII letters and digits, dashes between.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'ä' | 'å' | 'á' | 'à' => 'a',
            'ö' | 'ó' | 'ò' => 'o',
            'é' | 'è' => 'e',
            'ü' | 'ú' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn documents(org: &OrgConfig, cat: &RemoteCatalogue) -> Vec<(Document, Written)> {
    let main = org.main_organization_id;
    let ids: HashMap<PtvId, String> = cat.iter().map(|r| (r.ptv_id, id_for(org, r))).collect();
    let mut connections: HashMap<PtvId, Vec<&crate::ptv::RemoteConnection>> = HashMap::new();
    for c in &cat.connections {
        connections.entry(c.service).or_default().push(c);
    }
    let mut used_files: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for r in cat.iter() {
        let back = read_back(org.api_version, r);
        let mut notes = back.not_expressible;
        let id = ids[&r.ptv_id].clone();
        let mut doc = vec![
            (
                "kind".to_owned(),
                Value::String(kind_name(r.kind).to_owned()),
            ),
            ("id".to_owned(), Value::String(id.clone())),
            ("ptvId".to_owned(), Value::String(r.ptv_id.to_string())),
        ];
        let owner_key = if r.kind == ItemKind::Organization {
            "parent"
        } else {
            "organization"
        };
        match r.organization_id {
            Some(o) if o == main => {}
            Some(o) => match ids.get(&o) {
                Some(owner) => doc.push((owner_key.to_owned(), Value::String(owner.clone()))),
                None => notes.push(format!(
                    "{owner_key}: PTV puts it under organisation {o}, which is not exported (not published, or outside the organisation); the document puts it under the main organisation"
                )),
            },
            None => {}
        }
        let mut fields = back.document;
        fields.remove("kind");
        doc.extend(fields);
        if r.kind == ItemKind::Service {
            let mut list = Vec::new();
            for c in connections.get(&r.ptv_id).into_iter().flatten() {
                let Some(channel) = ids.get(&c.channel) else {
                    notes.push(format!(
                        "connections: channel {} is not this organisation's (or not published); the source format connects only its own channels",
                        c.channel
                    ));
                    continue;
                };
                let back = read_back_connection(org.api_version, c);
                notes.extend(back.not_expressible);
                let mut m = Map::new();
                m.insert("channel".into(), Value::String(channel.clone()));
                m.extend(back.document);
                list.push(Value::Object(m));
            }
            if !list.is_empty() {
                doc.push(("connections".to_owned(), Value::Array(list)));
            }
        }
        let folder = match r.kind {
            ItemKind::Organization => "organizations",
            ItemKind::Service => "services",
            _ => "channels",
        };
        let name = slug(r.name_fi.as_deref().unwrap_or_default());
        let guid = r.ptv_id.to_string();
        let short = &guid[..8];
        let base = if name.is_empty() {
            format!("{folder}/{short}")
        } else {
            format!("{folder}/{name}-{short}")
        };
        let n = used_files.entry(base.clone()).or_default();
        *n += 1;
        let stem = if *n == 1 { base } else { format!("{base}-{n}") };
        out.push((
            Document(doc),
            Written {
                kind: r.kind,
                id,
                ptv_id: r.ptv_id,
                file: stem,
                not_expressible: notes,
            },
        ));
    }
    out
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Organization => "organization",
        ItemKind::Service => "service",
        _ => "channel",
    }
}

/// The file names with their extension (the stem is chosen before the format).
fn with_extension(export: &mut [(Document, Written)], format: Format) {
    for (_, w) in export {
        w.file = format!("{}.{}", w.file, format.extension());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(
            slug("Kirjastokortti – Lånekort!"),
            "kirjastokortti-lanekort"
        );
        assert_eq!(slug("  Äänestys  2026 "), "aanestys-2026");
        assert_eq!(slug("???"), "");
        assert!(slug(&"pitkä nimi ".repeat(20)).len() <= 40);
    }
}

//! Source adapters: each reads a *full* snapshot of what should exist in PTV.

mod dir;
mod document;
mod file;
mod http;
mod json;
mod sql;

pub use dir::{DirLimits, DirSource};
pub use document::{Document, Origin, ParseIssue, parse_document};
pub use file::parse_file;
pub use http::{HttpAuth, HttpSource};
pub use sql::{SqlQueries, SqlSource};

/// Default caps on what a source may hand us: far above a real organisation's data
/// (100,000 items are a few hundred MB of JSON), far below what exhausts the machine.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 << 20;
pub const DEFAULT_MAX_SIZE: u64 = 2 << 30;

/// A snapshot: every document the source holds, in a stable order. Also what one file,
/// response or query of it held, on the way to the whole.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub documents: Vec<Document>,
    /// Files, and documents within them, that could not be read as documents (a syntax
    /// error, an unusable `kind` or `id`, not UTF-8). The rest of the snapshot is good, but
    /// what these held is unknown: nothing may be archived while any is listed.
    pub unreadable: Vec<Unreadable>,
}

impl Snapshot {
    /// Takes one parsed document: a document that cannot be placed (its `kind` or `id`
    /// unusable) costs itself, not its file or the snapshot; other errors are returned.
    pub(crate) fn add(&mut self, parsed: Result<Document, SourceError>) -> Result<(), SourceError> {
        match parsed {
            Ok(d) => self.documents.push(d),
            Err(SourceError::Document { origin, message }) => self.unreadable.push(Unreadable {
                file: origin.split('[').next().unwrap_or(&origin).to_owned(),
                message: format!("{origin}: {message}"),
            }),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    pub(crate) fn extend(&mut self, other: Snapshot) {
        self.documents.extend(other.documents);
        self.unreadable.extend(other.unreadable);
    }
}

/// A file of the snapshot whose documents are unknown, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unreadable {
    pub file: String,
    pub message: String,
}

impl Unreadable {
    /// A file-level error that costs that file only; `None` for errors that make the
    /// whole snapshot unreadable (the folder, permissions, a pipe, a cap).
    #[must_use]
    pub fn of(file: &str, e: &SourceError) -> Option<Unreadable> {
        let message = match e {
            SourceError::Syntax { message, .. } => format!("does not parse: {message}"),
            SourceError::Document { origin, message } => format!("{origin}: {message}"),
            SourceError::NotUtf8 { offset, .. } => {
                format!("not valid UTF-8 at byte {offset}; save it as UTF-8")
            }
            _ => return None,
        };
        Some(Unreadable {
            file: file.to_owned(),
            message,
        })
    }
}

/// A snapshot that cannot be read whole. The run aborts before any plan.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read source {path}: {message}; check that it exists and is readable")]
    Io { path: String, message: String },
    #[error("{path}: {message} (nothing was synced)")]
    Refused { path: String, message: String },
    #[error("{file} is not valid UTF-8 at byte {offset}; save it as UTF-8 (nothing was synced)")]
    NotUtf8 { file: String, offset: usize },
    #[error(
        "cannot connect to the source database {target}: {message}; check that it runs, the URL and the credentials (nothing was synced)"
    )]
    SqlConnect { target: String, message: String },
    #[error("{file} does not parse: {message}; fix the file (nothing was synced)")]
    Syntax { file: String, message: String },
    #[error("{origin}: {message}")]
    Document { origin: String, message: String },
    #[error(
        "source {url} answered {status}: {message}; check the URL and credentials (nothing was synced)"
    )]
    Http {
        url: String,
        status: String,
        message: String,
    },
    #[error(
        "source query for {kind}s failed: {message}; check the query and the database (nothing was synced)"
    )]
    Sql { kind: String, message: String },
    #[error("{0}")]
    Secret(#[from] crate::secret::SecretError),
}

#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// Reads the whole snapshot, or fails without a partial result.
    async fn snapshot(&self) -> Result<Snapshot, SourceError>;
    /// Where the source is, for messages (never with credentials).
    fn describe(&self) -> String;
}

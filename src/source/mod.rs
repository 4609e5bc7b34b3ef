//! Source adapters: each reads a *full* snapshot of what should exist in PTV.

mod dir;
mod document;
mod file;
mod http;
mod json;
mod sql;

pub use dir::DirSource;
pub use document::{Document, Origin, ParseIssue, parse_document};
pub use file::parse_file;
pub use http::{HttpAuth, HttpSource};
pub use sql::{SqlQueries, SqlSource};

/// A snapshot: every document the source holds, in a stable order.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub documents: Vec<Document>,
}

/// A snapshot that cannot be read whole. The run aborts before any plan.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read source {path}: {message}; check that it exists and is readable")]
    Io { path: String, message: String },
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

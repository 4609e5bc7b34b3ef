//! A source file's text into documents, by format: JSON on the direct path
//! ([`super::json`]), YAML on the general path through `serde_json::Value`
//! ([`super::document`]). Kept apart from both so that neither format's module needs the
//! other.

use super::document::parse_general;
use super::json::parse_json_file;
use super::{Snapshot, SourceError};

/// Parses a file's text (YAML or JSON by extension) into its documents: one object or a
/// list of objects. A document whose `kind` or `id` is unusable is listed as unreadable
/// and the others are read; an error of the file itself (its syntax) is returned.
pub fn parse_file(text: &str, file: &str, is_json: bool) -> Result<Snapshot, SourceError> {
    if is_json {
        parse_json_file(text, file)
    } else {
        parse_general(text, file, false)
    }
}

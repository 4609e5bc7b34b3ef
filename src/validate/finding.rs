//! What validation reports: one finding per problem, naming item, file and field path.

use crate::model::{ItemKind, SourceId};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Closed set of finding kinds; tests and tooling branch on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// The document's body does not fit the model (unknown key, wrong type, bad enum).
    Parse,
    DuplicateId,
    Required,
    TooLong,
    Format,
    /// A value outside what PTV accepts in this combination.
    NotAllowed,
    Count,
    UnknownReference,
    Cycle,
    TooDeep,
    DuplicateName,
    SummaryEqualsName,
    AreaTooWide,
    LanguageMissing,
    /// Depends on an item that is itself invalid.
    DependsOnInvalid,
    /// Valid, but the configured PTV version has no place for it: not sent.
    NotSent,
    /// Content checklist (warning): a phone number, e-mail, web or street address in a
    /// service's own text.
    ChannelDataInDescription,
    /// Content checklist (warning): the summary repeats the description's first sentence.
    SummaryRepeatsDescription,
    /// Content checklist (warning): the description copies its general description.
    CopiesGeneralDescription,
}

impl FindingKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Parse => "parse",
            FindingKind::DuplicateId => "duplicate-id",
            FindingKind::Required => "required",
            FindingKind::TooLong => "too-long",
            FindingKind::Format => "format",
            FindingKind::NotAllowed => "not-allowed",
            FindingKind::Count => "count",
            FindingKind::UnknownReference => "unknown-reference",
            FindingKind::Cycle => "cycle",
            FindingKind::TooDeep => "too-deep",
            FindingKind::DuplicateName => "duplicate-name",
            FindingKind::SummaryEqualsName => "summary-equals-name",
            FindingKind::AreaTooWide => "area-too-wide",
            FindingKind::LanguageMissing => "language-missing",
            FindingKind::DependsOnInvalid => "depends-on-invalid",
            FindingKind::NotSent => "not-sent",
            FindingKind::ChannelDataInDescription => "channel-data-in-description",
            FindingKind::SummaryRepeatsDescription => "summary-repeats-description",
            FindingKind::CopiesGeneralDescription => "copies-general-description",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    pub item_kind: ItemKind,
    pub id: SourceId,
    pub file: String,
    /// Field path in source terms, e.g. `languageVersions.fi.summary`; empty for the item.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{sev}[{}] {} {} ({})",
            self.kind, self.item_kind, self.id, self.file
        )?;
        if !self.path.is_empty() {
            write!(f, " at {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

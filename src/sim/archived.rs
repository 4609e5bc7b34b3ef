//! Listing archived items, both versions' way (reference §3.2, §3.3, §5; the v12
//! `…/archived` paths of the beta `OpenAPI` document): what a person or an API write
//! archived (archivingType Manual) and what PTV archived after 18 months unsaved
//! (Automatic), oldest archive first.

use super::store::{ArchivingType, Catalogue, Entity, SimKind};
use chrono::{DateTime, Utc};

/// What to list.
#[derive(Debug, Clone, Default)]
pub(crate) struct ArchivedQuery {
    pub organization: Option<uuid::Uuid>,
    pub archiving_type: Option<ArchivingType>,
    /// Inclusive bounds on the archive time.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Archived entities of the accepted kinds, ordered by archive time, then creation.
pub(crate) fn archived<'c>(
    cat: &'c Catalogue,
    kind_ok: impl Fn(SimKind) -> bool,
    query: &ArchivedQuery,
) -> Vec<(&'c Entity, DateTime<Utc>)> {
    let mut items: Vec<(&Entity, DateTime<Utc>)> = cat
        .all()
        .filter(|e| kind_ok(e.kind) && !e.is_live())
        .filter(|e| query.organization.is_none_or(|org| e.org == Some(org)))
        .filter(|e| {
            query
                .archiving_type
                .is_none_or(|t| e.archiving_type == Some(t))
        })
        .map(|e| (e, e.archived_at.unwrap_or(e.modified)))
        .filter(|(_, at)| query.from.is_none_or(|from| *at >= from))
        .filter(|(_, at)| query.to.is_none_or(|to| *at <= to))
        .collect();
    items.sort_by_key(|(_, at)| *at);
    items
}

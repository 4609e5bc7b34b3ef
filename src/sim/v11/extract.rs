//! What the per-kind validators (`organization`, `service`, `channel`) share with the
//! write pipeline in `write`: the context a body is checked in and what a valid body
//! tells. Its own file so the validators and the pipeline that calls them do not import
//! each other.

use super::check::Loc;
use crate::sim::store::PublishingStatus;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// What a validator learned from a valid body.
pub(crate) struct Extract {
    pub names: BTreeMap<String, String>,
    pub languages: Vec<String>,
    pub area_type: Option<String>,
    pub visible_for_all: bool,
    pub org: Option<Uuid>,
    pub connections: Option<Vec<Uuid>>,
}

pub(crate) struct Ctx {
    pub post: bool,
    pub status: PublishingStatus,
}

/// `Name` entries per language.
pub(crate) fn names_of(names: &[Loc]) -> BTreeMap<String, String> {
    names
        .iter()
        .filter(|n| n.kind.as_deref().is_none_or(|k| k == "Name"))
        .map(|n| (n.language.clone(), n.value.clone()))
        .collect()
}

/// The item's languages: every language any of its localized lists uses.
pub(crate) fn required_languages(lists: &[&[Loc]]) -> BTreeSet<String> {
    lists
        .iter()
        .flat_map(|l| l.iter().map(|x| x.language.clone()))
        .collect()
}

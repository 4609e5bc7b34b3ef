//! Matching the source to what PTV holds, in a fixed order of trust:
//!
//! 1. the state already links the item (nothing to do);
//! 2. the PTV id the source document names (`ptvId`): PTV must hold it, published, as
//!    the same kind (and channel type) under the same owning organisation; otherwise
//!    the item is *refused* (reported with why, never linked nor matched otherwise);
//! 3. our own sourceId / externalId on the PTV item (any generation `….gN`);
//! 4. the same kind (and channel type), the same owning organisation and the same
//!    normalised Finnish name, unique on both sides.
//!
//! A name shared by several PTV items (or several source items) is *ambiguous*: it is
//! reported with its candidates and never linked. PTV items nobody claims are left alone.
//! Pure: no I/O, so every rule is unit-tested.

use crate::model::{ChannelType, ItemKind, PtvId, PtvSourceId, SourceId};
use crate::ptv::RemoteItem;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A source item as matching sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wanted {
    pub kind: ItemKind,
    pub channel_type: Option<ChannelType>,
    /// The id in the source.
    pub source_id: SourceId,
    /// Our base PTV sourceId / externalId (generation 0).
    pub ptv_source_id: PtvSourceId,
    /// The owning (parent) organisation's source id; `None` for the main organisation.
    pub owner: Option<String>,
    pub name_fi: Option<String>,
    /// PTV id the state already links, if any.
    pub linked: Option<PtvId>,
    /// PTV id the source document names (`ptvId`).
    pub ptv_id: Option<PtvId>,
}

/// How a source item was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The state already links it.
    State,
    /// The source document names the PTV id (`ptvId`).
    PtvId,
    /// Our sourceId (v11) / externalId (v12) is on the PTV item.
    SourceId,
    /// Same kind, channel type, owner and normalised Finnish name, unique on both sides.
    Name,
}

impl MatchedBy {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::State => "state",
            MatchedBy::PtvId => "ptvId",
            MatchedBy::SourceId => "sourceId",
            MatchedBy::Name => "name",
        }
    }
}

/// One line of the adoption table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Row {
    Matched {
        wanted: Wanted,
        ptv_id: PtvId,
        by: MatchedBy,
    },
    Ambiguous {
        wanted: Wanted,
        candidates: Vec<PtvId>,
    },
    SourceOnly {
        wanted: Wanted,
    },
    /// The source names a PTV id (`ptvId`) that PTV does not hold as this item.
    Refused {
        wanted: Wanted,
        ptv_id: PtvId,
        reason: String,
    },
    PtvOnly {
        item: RemoteItem,
    },
}

impl Row {
    /// Whether `adopt --apply` would write a link for this row.
    #[must_use]
    pub fn to_link(&self) -> bool {
        matches!(self, Row::Matched { by, .. } if *by != MatchedBy::State)
    }
}

/// Lower case, whitespace collapsed, trimmed: how editors' names differ without meaning to.
#[must_use]
pub fn normalise(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `remote` carries our sourceId `base`, at any generation.
fn ours(remote: Option<&str>, base: &str) -> bool {
    remote.is_some_and(|r| {
        r.eq_ignore_ascii_case(base)
            || r.get(..base.len()).is_some_and(|head| {
                head.eq_ignore_ascii_case(base)
                    && r[base.len()..]
                        .strip_prefix(".g")
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
    })
}

type NameKey = (ItemKind, Option<ChannelType>, PtvId, String);

/// Matches `wanted` (organisations first, parents before children) against `remote`.
/// `main` is the main organisation's PTV id: the owner of items without one.
#[must_use]
pub fn match_items(main: &PtvId, wanted: &[Wanted], remote: &[RemoteItem]) -> Vec<Row> {
    let mut claimed: HashSet<PtvId> = wanted.iter().filter_map(|w| w.linked).collect();
    // Organisation source id → PTV id, growing as organisations match, so that a
    // sub-organisation's items look for their owner's PTV id.
    let mut org_ids: HashMap<&str, PtvId> = HashMap::new();
    let mut rows = Vec::with_capacity(wanted.len() + remote.len());
    let mut order: Vec<&Wanted> = wanted.iter().collect();
    order.sort_by_key(|w| match w.kind {
        ItemKind::Organization => 0,
        ItemKind::Channel => 1,
        ItemKind::Service | ItemKind::Connections => 2,
    });

    // Pass 1: state links, the source's own `ptvId`, and our own sourceIds.
    let by_id: HashMap<PtvId, &RemoteItem> = remote.iter().map(|r| (r.ptv_id, r)).collect();
    let mut pending = Vec::new();
    for w in order {
        if w.linked.is_none()
            && let Some(id) = w.ptv_id
        {
            match named(w, &id, &by_id, &claimed) {
                Ok(r) => {
                    claimed.insert(r.ptv_id);
                    if w.kind == ItemKind::Organization {
                        org_ids.insert(w.source_id.as_str(), r.ptv_id);
                    }
                    rows.push(Row::Matched {
                        wanted: w.clone(),
                        ptv_id: r.ptv_id,
                        by: MatchedBy::PtvId,
                    });
                }
                Err(reason) => rows.push(Row::Refused {
                    wanted: w.clone(),
                    ptv_id: id,
                    reason,
                }),
            }
            continue;
        }
        let found = w.linked.map(|id| (id, MatchedBy::State)).or_else(|| {
            let r = remote.iter().find(|r| {
                r.kind == w.kind
                    && !claimed.contains(&r.ptv_id)
                    && ours(r.source_id.as_deref(), w.ptv_source_id.as_str())
            })?;
            claimed.insert(r.ptv_id);
            Some((r.ptv_id, MatchedBy::SourceId))
        });
        match found {
            Some((ptv_id, by)) => {
                if w.kind == ItemKind::Organization {
                    org_ids.insert(w.source_id.as_str(), ptv_id);
                }
                rows.push(Row::Matched {
                    wanted: w.clone(),
                    ptv_id,
                    by,
                });
            }
            None => pending.push(w),
        }
    }

    // Pass 2: names; organisations level by level (parents first), so that a
    // sub-organisation's children and items find their owner's PTV id, then the rest.
    let parent_of: HashMap<&str, Option<&str>> = wanted
        .iter()
        .filter(|w| w.kind == ItemKind::Organization)
        .map(|w| (w.source_id.as_str(), w.owner.as_deref()))
        .collect();
    let depth = |w: &Wanted| {
        let mut d = 0;
        let mut cur = w.owner.as_deref();
        while let Some(o) = cur {
            d += 1;
            if d > parent_of.len() {
                break;
            }
            cur = parent_of.get(o).copied().flatten();
        }
        d
    };
    let mut levels: BTreeMap<usize, Vec<&Wanted>> = BTreeMap::new();
    let mut others = Vec::new();
    for w in &pending {
        if w.kind == ItemKind::Organization {
            levels.entry(depth(w)).or_default().push(*w);
        } else {
            others.push(*w);
        }
    }
    let mut batches: Vec<Vec<&Wanted>> = levels.into_values().collect();
    batches.push(others);
    for batch in batches {
        let kinds: Vec<ItemKind> = batch.iter().map(|w| w.kind).collect();
        let owner_of = |w: &Wanted, org_ids: &HashMap<&str, PtvId>| -> Option<PtvId> {
            match &w.owner {
                None => Some(*main),
                Some(o) => org_ids.get(o.as_str()).copied(),
            }
        };
        let key = |w: &Wanted, org_ids: &HashMap<&str, PtvId>| -> Option<NameKey> {
            Some((
                w.kind,
                w.channel_type,
                owner_of(w, org_ids)?,
                normalise(w.name_fi.as_deref()?),
            ))
        };
        let mut source_side: HashMap<NameKey, usize> = HashMap::new();
        for w in &batch {
            if let Some(k) = key(w, &org_ids) {
                *source_side.entry(k).or_default() += 1;
            }
        }
        let mut ptv_side: BTreeMap<NameKey, Vec<&RemoteItem>> = BTreeMap::new();
        for r in remote
            .iter()
            .filter(|r| kinds.contains(&r.kind) && !claimed.contains(&r.ptv_id))
        {
            if let (Some(owner), Some(name)) = (r.organization_id, &r.name_fi) {
                ptv_side
                    .entry((r.kind, r.channel_type, owner, normalise(name)))
                    .or_default()
                    .push(r);
            }
        }
        let mut new_orgs = Vec::new();
        for w in batch {
            let k = key(w, &org_ids);
            let candidates = k
                .as_ref()
                .and_then(|k| ptv_side.get(k))
                .cloned()
                .unwrap_or_default();
            let unique_here = k.as_ref().is_some_and(|k| source_side.get(k) == Some(&1));
            match candidates.as_slice() {
                [one] if unique_here => {
                    claimed.insert(one.ptv_id);
                    if w.kind == ItemKind::Organization {
                        new_orgs.push((w.source_id.as_str(), one.ptv_id));
                    }
                    rows.push(Row::Matched {
                        wanted: w.clone(),
                        ptv_id: one.ptv_id,
                        by: MatchedBy::Name,
                    });
                }
                [] => rows.push(Row::SourceOnly { wanted: w.clone() }),
                many => {
                    for c in many {
                        claimed.insert(c.ptv_id);
                    }
                    rows.push(Row::Ambiguous {
                        wanted: w.clone(),
                        candidates: many.iter().map(|c| c.ptv_id).collect(),
                    });
                }
            }
        }
        org_ids.extend(new_orgs);
    }

    // A named PTV item must sit under the organisation the source puts the item in,
    // known only now that every organisation has matched.
    for row in &mut rows {
        let Row::Matched {
            wanted,
            ptv_id,
            by: MatchedBy::PtvId,
        } = row
        else {
            continue;
        };
        let expected = match &wanted.owner {
            None => Some(main),
            Some(o) => org_ids.get(o.as_str()),
        };
        let held = by_id.get(ptv_id).and_then(|r| r.organization_id);
        let reason = match (expected, held) {
            (Some(e), Some(h)) if *e == h => continue,
            (None, _) => format!(
                "its organisation '{}' is not in PTV (or not matched), so PTV item {ptv_id} cannot be under it",
                wanted.owner.as_deref().unwrap_or_default()
            ),
            (Some(e), h) => format!(
                "PTV holds {ptv_id} under organisation {}, the source puts it under {}",
                h.map_or_else(|| "(none)".to_owned(), |h| h.to_string()),
                wanted.owner.as_deref().map_or_else(
                    || format!("the main organisation {e}"),
                    |o| format!("'{o}' ({e})")
                )
            ),
        };
        claimed.remove(ptv_id);
        *row = Row::Refused {
            wanted: wanted.clone(),
            ptv_id: *ptv_id,
            reason,
        };
    }

    rows.extend(
        remote
            .iter()
            .filter(|r| !claimed.contains(&r.ptv_id))
            .map(|r| Row::PtvOnly { item: r.clone() }),
    );
    rows
}

/// The PTV item a source item names by `ptvId`, or why it cannot be that item.
fn named<'r>(
    w: &Wanted,
    id: &PtvId,
    by_id: &HashMap<PtvId, &'r RemoteItem>,
    claimed: &HashSet<PtvId>,
) -> Result<&'r RemoteItem, String> {
    let Some(r) = by_id.get(id).copied() else {
        return Err(format!(
            "PTV holds no published item {id} in this organisation or its sub-organisations (unknown, archived, a draft, or another organisation's); correct or remove `ptvId`"
        ));
    };
    if r.kind != w.kind || r.channel_type != w.channel_type {
        let what = |k: ItemKind, t: Option<ChannelType>| match t {
            Some(t) => format!("{k} ({t})"),
            None => k.to_string(),
        };
        return Err(format!(
            "PTV item {id} is a {}, the source describes a {}; correct `ptvId`",
            what(r.kind, r.channel_type),
            what(w.kind, w.channel_type)
        ));
    }
    if claimed.contains(&r.ptv_id) {
        return Err(format!(
            "PTV item {id} is already linked to another source item; each `ptvId` may name one item"
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ptv::RemoteStatus;

    /// The PTV items of these tests, by label (`p1` names the same item as `P1`).
    const LABELS: [&str; 14] = [
        "M",
        "P1",
        "P2",
        "P3",
        "P4",
        "P5",
        "P6",
        "P9",
        "O1",
        "O2",
        "C0",
        "C1",
        "S2",
        "P-MISSING",
    ];

    /// The GUID of a labelled PTV item.
    fn g(label: &str) -> PtvId {
        let n = LABELS
            .iter()
            .position(|l| l.eq_ignore_ascii_case(label))
            .unwrap_or_else(|| panic!("no test label {label}"));
        PtvId::parse(&format!("00000000-0000-4000-8000-{:012}", n + 1)).unwrap()
    }

    /// The label of a GUID made by [`g`].
    fn label(id: &PtvId) -> String {
        LABELS
            .iter()
            .find(|l| g(l) == *id)
            .map_or_else(|| id.to_string(), |l| (*l).to_owned())
    }

    fn want(kind: ItemKind, id: &str, name: &str, owner: Option<&str>) -> Wanted {
        Wanted {
            kind,
            channel_type: (kind == ItemKind::Channel).then_some(ChannelType::Phone),
            source_id: SourceId::parse(id).unwrap(),
            ptv_source_id: PtvSourceId::parse(&format!("t-{kind}-{id}")).unwrap(),
            owner: owner.map(str::to_owned),
            name_fi: Some(name.into()),
            linked: None,
            ptv_id: None,
        }
    }

    fn remote(kind: ItemKind, id: &str, name: &str, org: &str, sid: Option<&str>) -> RemoteItem {
        RemoteItem {
            ptv_id: g(id),
            kind,
            channel_type: (kind == ItemKind::Channel).then_some(ChannelType::Phone),
            source_id: sid.map(str::to_owned),
            organization_id: Some(g(org)),
            name_fi: Some(name.into()),
            publishing_status: RemoteStatus::Published,
            modified: None,
            modified_by: None,
            body: serde_json::Value::Null,
        }
    }

    fn outcome(rows: &[Row], id: &str) -> (String, Vec<String>) {
        rows.iter()
            .find_map(|r| match r {
                Row::Matched { wanted, ptv_id, by } if wanted.source_id == id => {
                    Some((by.as_str().to_owned(), vec![label(ptv_id)]))
                }
                Row::Ambiguous { wanted, candidates } if wanted.source_id == id => {
                    Some(("ambiguous".into(), candidates.iter().map(label).collect()))
                }
                Row::SourceOnly { wanted } if wanted.source_id == id => {
                    Some(("source_only".into(), Vec::new()))
                }
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn names_match_after_normalising_and_only_when_unique_on_both_sides() {
        let wanted = vec![
            want(ItemKind::Service, "permit", "Rakennuslupa", None),
            want(ItemKind::Service, "pool", "Uimahalli", None),
            want(ItemKind::Service, "a", "Sama nimi", None),
            want(ItemKind::Service, "b", "Sama  nimi", None),
            want(ItemKind::Service, "new", "Uusi palvelu", None),
        ];
        let remote = vec![
            remote(ItemKind::Service, "P1", "  rakennuslupa ", "M", None),
            remote(ItemKind::Service, "P2", "Uimahalli", "M", None),
            remote(ItemKind::Service, "P3", "Uimahalli", "M", None),
            remote(ItemKind::Service, "P4", "Sama nimi", "M", None),
            remote(ItemKind::Service, "P5", "Vain PTV:ssä", "M", None),
            // Same name, but a channel: kinds never match across.
            remote(ItemKind::Channel, "P6", "Uusi palvelu", "M", None),
        ];
        let rows = match_items(&g("M"), &wanted, &remote);
        assert_eq!(outcome(&rows, "permit"), ("name".into(), vec!["P1".into()]));
        assert_eq!(
            outcome(&rows, "pool"),
            ("ambiguous".into(), vec!["P2".into(), "P3".into()])
        );
        // Two source items share the name: which one the PTV item is, is a guess.
        assert_eq!(outcome(&rows, "a"), ("ambiguous".into(), vec!["P4".into()]));
        assert_eq!(outcome(&rows, "b"), ("ambiguous".into(), vec!["P4".into()]));
        assert_eq!(outcome(&rows, "new").0, "source_only");
        let ptv_only: Vec<String> = rows
            .iter()
            .filter_map(|r| match r {
                Row::PtvOnly { item } => Some(label(&item.ptv_id)),
                _ => None,
            })
            .collect();
        assert_eq!(ptv_only, vec!["P5", "P6"]);
    }

    #[test]
    fn our_source_id_wins_over_names_and_state_links_are_kept() {
        let mut linked = want(ItemKind::Service, "kept", "Kirjasto", None);
        linked.linked = Some(g("P9"));
        let wanted = vec![
            want(ItemKind::Service, "permit", "Rakennuslupa", None),
            linked,
        ];
        let remote = vec![
            remote(ItemKind::Service, "P1", "Rakennuslupa", "M", None),
            remote(
                ItemKind::Service,
                "P2",
                "Vanha nimi",
                "M",
                Some("t-service-permit.g2"),
            ),
            remote(ItemKind::Service, "P9", "Kirjasto", "M", None),
        ];
        let rows = match_items(&g("M"), &wanted, &remote);
        assert_eq!(
            outcome(&rows, "permit"),
            ("sourceId".into(), vec!["P2".into()])
        );
        assert_eq!(outcome(&rows, "kept"), ("state".into(), vec!["P9".into()]));
        assert!(!rows.iter().any(|r| matches!(
            r,
            Row::Matched {
                by: MatchedBy::State,
                ..
            }
        ) && r.to_link()));
        assert!(ours(Some("T-SERVICE-PERMIT"), "t-service-permit"));
        assert!(!ours(Some("t-service-permit2"), "t-service-permit"));
        assert!(!ours(Some("t-service-permit.g"), "t-service-permit"));
    }

    #[test]
    fn a_sub_organisations_items_match_under_its_ptv_id() {
        let wanted = vec![
            want(ItemKind::Channel, "phone", "Neuvonta", Some("library")),
            want(ItemKind::Organization, "library", "Kirjastotoimi", None),
        ];
        let remote = vec![
            remote(ItemKind::Organization, "O1", "Kirjastotoimi", "M", None),
            // The same name under the main organisation is another item.
            remote(ItemKind::Channel, "C0", "Neuvonta", "M", None),
            remote(ItemKind::Channel, "C1", "Neuvonta", "O1", None),
        ];
        let rows = match_items(&g("M"), &wanted, &remote);
        assert_eq!(
            outcome(&rows, "library"),
            ("name".into(), vec!["O1".into()])
        );
        // Two levels down: the grandchild organisation and its items match too.
        let mut deep = wanted.clone();
        deep.push(want(
            ItemKind::Organization,
            "branch",
            "Sivukirjasto",
            Some("library"),
        ));
        deep.push(want(ItemKind::Service, "loan", "Lainaus", Some("branch")));
        let mut remote_deep = remote.clone();
        remote_deep.push(self::remote(
            ItemKind::Organization,
            "O2",
            "Sivukirjasto",
            "O1",
            None,
        ));
        remote_deep.push(self::remote(ItemKind::Service, "S2", "Lainaus", "O2", None));
        let deep_rows = match_items(&g("M"), &deep, &remote_deep);
        assert_eq!(
            outcome(&deep_rows, "branch"),
            ("name".into(), vec!["O2".into()])
        );
        assert_eq!(
            outcome(&deep_rows, "loan"),
            ("name".into(), vec!["S2".into()])
        );
        assert_eq!(outcome(&rows, "phone"), ("name".into(), vec!["C1".into()]));
    }

    #[test]
    fn a_ptv_id_in_the_source_matches_first_or_is_refused_with_why() {
        let named = |id: &str, name: &str, ptv: &str| Wanted {
            ptv_id: Some(g(ptv)),
            ..want(ItemKind::Service, id, name, None)
        };
        let mut channel = want(ItemKind::Channel, "phone", "Neuvonta", None);
        channel.ptv_id = Some(g("p1"));
        let mut under_org = want(ItemKind::Service, "lib", "Lainaus", Some("library"));
        under_org.ptv_id = Some(g("p4"));
        let wanted = vec![
            // Named by its PTV id although PTV has it under another name and our sourceId
            // sits on another item: the explicit id wins.
            named("permit", "Rakennuslupa", "P2"),
            named("gone", "Poistunut", "p-missing"),
            channel,
            named("twice", "Kahdesti", "P2"),
            want(ItemKind::Organization, "library", "Kirjastotoimi", None),
            under_org,
        ];
        let remote = vec![
            remote(
                ItemKind::Service,
                "P1",
                "Rakennuslupa",
                "M",
                Some("t-service-permit"),
            ),
            remote(ItemKind::Service, "P2", "Vanha nimi", "M", None),
            remote(ItemKind::Organization, "O1", "Kirjastotoimi", "M", None),
            // Under the main organisation, not under the library.
            remote(ItemKind::Service, "P4", "Lainaus", "M", None),
        ];
        let rows = match_items(&g("M"), &wanted, &remote);
        assert_eq!(
            outcome(&rows, "permit"),
            ("ptvId".into(), vec!["P2".into()])
        );
        let refused = |id: &str| {
            rows.iter()
                .find_map(|r| match r {
                    Row::Refused { wanted, reason, .. } if wanted.source_id == id => {
                        Some(reason.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{id} should be refused: {rows:?}"))
        };
        assert!(refused("gone").contains(&format!("holds no published item {}", g("p-missing"))));
        assert!(refused("phone").contains("is a service, the source describes a channel"));
        assert!(refused("twice").contains("already linked to another source item"));
        assert!(
            refused("lib").contains(&format!("under organisation {}", g("M"))),
            "{}",
            refused("lib")
        );
        // Refused items are not matched otherwise, and what they named stays PTV-only.
        let ptv_only: Vec<String> = rows
            .iter()
            .filter_map(|r| match r {
                Row::PtvOnly { item } => Some(label(&item.ptv_id)),
                _ => None,
            })
            .collect();
        assert_eq!(ptv_only, vec!["P1", "P4"]);
    }
}

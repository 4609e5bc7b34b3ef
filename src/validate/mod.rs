//! Validation of a snapshot against everything checkable locally.
//!
//! Policy for dependents of invalid items (documented in the README):
//! - an invalid item is never sent and never archived (it is still in the source);
//! - sub-organisations, services and channels of an invalid organisation are held back
//!   too (`depends-on-invalid`): they cannot be placed under an organisation we cannot send;
//! - a service whose connections name an unknown or invalid channel is still sent, but its
//!   connection set is held back whole (PTV keeps the connections it has), because sending
//!   the set without that channel would *remove* a connection that may exist.

mod content;
mod finding;
mod rules;

pub use content::{GeneralDescriptions, GeneralDescriptionsError};
pub use finding::{Finding, FindingKind, Severity};

use crate::model::{
    ApiVersion, Area, Channel, ChannelType, Connection, Item, ItemKind, Lang, Organization,
    Service, SourceId,
};
use crate::source::{Origin, Snapshot};
use rules::Ck;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::sync::Arc;

/// PTV's organisation hierarchy limit is 5 levels; the main organisation is one of them.
const MAX_SOURCE_DEPTH: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    pub api: ApiVersion,
    /// The main organisation's area: the widest a top-level item may have.
    pub main_area: Option<Area>,
    /// Run DVV's content checks ([`content`]): `ptv-sync validate` only.
    pub content: bool,
    /// Texts of linked general descriptions, for the content check that they are not
    /// copied.
    pub general_descriptions: Option<std::sync::Arc<GeneralDescriptions>>,
}

pub type Key = (ItemKind, SourceId);

/// The valid part of a snapshot, plus everything known about the rest.
#[derive(Debug, Clone, Default)]
pub struct Validated {
    // Behind a pointer: moving a few hundred bytes per item into (and around) maps of
    // 100,000 items cost more than the items themselves. Shared: a plan's writing steps
    // hold their items without copying them.
    pub organizations: BTreeMap<SourceId, Arc<Organization>>,
    pub services: BTreeMap<SourceId, Arc<Service>>,
    pub channels: BTreeMap<SourceId, Arc<Channel>>,
    /// Connection sets of valid services that may be sent (service id → set).
    pub connections: BTreeMap<SourceId, Vec<Connection>>,
    /// Every item the source holds, valid or not, and where it came from: none of these is
    /// ever archived.
    pub present: BTreeMap<Key, Origin>,
    /// Items (including connection sets) that are not sent, with their error findings.
    pub invalid: BTreeMap<Key, Vec<Finding>>,
    pub findings: Vec<Finding>,
    /// Source files whose documents are unknown ([`crate::source::Snapshot::unreadable`]):
    /// errors, and no archive may go while any is listed.
    pub unreadable: Vec<crate::source::Unreadable>,
}

impl Validated {
    #[must_use]
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
            + self.unreadable.len()
    }
    #[must_use]
    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }
    #[must_use]
    pub fn valid_count(&self) -> usize {
        self.organizations.len() + self.services.len() + self.channels.len()
    }
}

struct Run<'a> {
    opts: &'a ValidateOptions,
    findings: Vec<Finding>,
    present: BTreeMap<Key, Origin>,
}

impl Run<'_> {
    fn ck<'b>(&'b mut self, kind: ItemKind, id: &'b SourceId, file: &'b dyn Display) -> Ck<'b> {
        Ck {
            item_kind: kind,
            id,
            file,
            out: &mut self.findings,
        }
    }
    fn file(&self, kind: ItemKind, id: &SourceId) -> String {
        file_of(&self.present, kind, id)
    }
    fn err(&mut self, kind: ItemKind, id: &SourceId, fk: FindingKind, path: &str, msg: String) {
        let file = self.file(kind, id);
        self.ck(kind, id, &file).err(fk, path, msg);
    }
}

/// The file an item came from; a connection set lives in its service's document.
fn file_of(present: &BTreeMap<Key, Origin>, kind: ItemKind, id: &SourceId) -> String {
    let kind = if kind == ItemKind::Connections {
        ItemKind::Service
    } else {
        kind
    };
    present
        .get(&(kind, id.clone()))
        .map(ToString::to_string)
        .unwrap_or_default()
}

#[must_use]
pub fn validate(snapshot: &Snapshot, opts: &ValidateOptions) -> Validated {
    validate_owned(snapshot.clone(), opts)
}

/// As [`validate`], consuming the snapshot so that its items move instead of being copied
/// (a large snapshot is never held twice).
#[must_use]
pub fn validate_owned(snapshot: Snapshot, opts: &ValidateOptions) -> Validated {
    let mut run = Run {
        opts,
        findings: Vec::new(),
        present: BTreeMap::new(),
    };
    // Collected, then built in bulk: maps built by `collect` have full nodes, where
    // inserting one by one leaves them half empty (an item is a few hundred bytes inline).
    let mut items: Vec<(Key, Origin, Box<Item>)> = Vec::with_capacity(snapshot.documents.len());
    let mut dup: BTreeSet<Key> = BTreeSet::new();

    let unreadable = snapshot.unreadable;
    for doc in snapshot.documents {
        let key = (doc.kind, doc.id.clone());
        if let Some(first) = run.present.get(&key) {
            let first = first.to_string();
            run.ck(doc.kind, &doc.id, &doc.origin).err(
                FindingKind::DuplicateId,
                "id",
                format!("{} id '{}' is also used in {first}; ids must be unique per kind, so neither is sent", doc.kind, doc.id),
            );
            dup.insert(key);
            continue;
        }
        match doc.item {
            Ok(item) => items.push((key.clone(), doc.origin.clone(), item)),
            Err(issue) => {
                run.ck(doc.kind, &doc.id, &doc.origin).err(
                    FindingKind::Parse,
                    issue.path,
                    issue.message,
                );
            }
        }
        run.present.insert(key, doc.origin);
    }
    if !dup.is_empty() {
        items.retain(|(key, _, _)| !dup.contains(key));
    }

    let api = opts.api;
    // Per item and independent: checked on every core, in order.
    let found = crate::parallel::map_chunks(&items, |chunk| {
        let mut out = Vec::new();
        for ((kind, id), origin, item) in chunk {
            let mut ck = Ck {
                item_kind: *kind,
                id,
                file: origin,
                out: &mut out,
            };
            match &**item {
                Item::Organization(o) => rules::organization(&mut ck, o, api),
                Item::Service(s) => {
                    rules::service(&mut ck, s, api);
                    if opts.content {
                        content::service(&mut ck, s, opts.general_descriptions.as_deref());
                    }
                }
                Item::Channel(c) => rules::channel(&mut ck, c, api),
            }
        }
        out
    });
    run.findings.extend(found);

    let (mut o, mut s, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for (_, _, item) in items {
        match *item {
            Item::Organization(x) => o.push((x.id.clone(), Arc::new(x))),
            Item::Service(x) => s.push((x.id.clone(), Arc::new(x))),
            Item::Channel(x) => c.push((x.id.clone(), Arc::new(x))),
        }
    }
    let mut orgs: BTreeMap<SourceId, Arc<Organization>> = o.into_iter().collect();
    let mut services: BTreeMap<SourceId, Arc<Service>> = s.into_iter().collect();
    let mut channels: BTreeMap<SourceId, Arc<Channel>> = c.into_iter().collect();

    references(&mut run, &orgs, &services, &channels);
    unique_names(&mut run, &services, &channels);

    // Anything with an error finding (or a duplicate/parse failure) is invalid.
    let mut invalid: BTreeMap<Key, Vec<Finding>> = BTreeMap::new();
    for f in &run.findings {
        if f.severity == Severity::Error {
            invalid
                .entry((f.item_kind, f.id.clone()))
                .or_default()
                .push(f.clone());
        }
    }
    for key in run.present.keys() {
        if !invalid.contains_key(key)
            && !orgs.contains_key(key.1.as_str())
            && !services.contains_key(key.1.as_str())
            && !channels.contains_key(key.1.as_str())
        {
            invalid.entry(key.clone()).or_default();
        }
    }
    dependents(&mut run, &mut invalid, &orgs, &services, &channels);

    let is_invalid = |k: ItemKind, id: &SourceId| invalid.contains_key(&(k, id.clone()));
    orgs.retain(|id, _| !is_invalid(ItemKind::Organization, id));
    channels.retain(|id, _| !is_invalid(ItemKind::Channel, id));
    services.retain(|id, _| !is_invalid(ItemKind::Service, id));
    // Moved out: a service's payload does not include its connections.
    let connections = services
        .iter_mut()
        .map(|(id, s)| {
            let s = Arc::get_mut(s).expect("no item is shared before validation ends");
            (id, std::mem::take(&mut s.connections))
        })
        .filter(|(id, _)| !is_invalid(ItemKind::Connections, id))
        .map(|(id, set)| (id.clone(), set))
        .collect();

    run.findings.sort_by(|a, b| {
        (a.item_kind, &a.id, a.severity, &a.path).cmp(&(b.item_kind, &b.id, b.severity, &b.path))
    });
    Validated {
        organizations: orgs,
        services,
        channels,
        connections,
        present: run.present,
        invalid,
        findings: run.findings,
        unreadable,
    }
}

/// The area and languages of the organisation an item belongs to (`None` = the main one).
fn owner_area(
    orgs: &BTreeMap<SourceId, Arc<Organization>>,
    owner: Option<&SourceId>,
    main: Option<&Area>,
) -> Option<Area> {
    match owner {
        Some(id) => orgs.get(id).and_then(|o| o.effective_area()),
        None => main.cloned(),
    }
}

fn area_fits(run: &mut Run<'_>, kind: ItemKind, id: &SourceId, area: &Area, owner: Option<&Area>) {
    if let Some(owner) = owner
        && area.area_type.breadth() > owner.area_type.breadth()
    {
        run.err(
            kind,
            id,
            FindingKind::AreaTooWide,
            "area.type",
            format!(
                "{:?} is wider than its organisation's {:?} (PTV: \"Area information type … is too wide\"); narrow it",
                area.area_type, owner.area_type
            ),
        );
    }
}

fn languages_covered(
    run: &mut Run<'_>,
    kind: ItemKind,
    id: &SourceId,
    langs: &[Lang],
    owner: Option<&Organization>,
) {
    let Some(org) = owner else { return };
    for lang in langs {
        if !org.language_versions.contains_key(lang) {
            run.err(
                kind,
                id,
                FindingKind::LanguageMissing,
                &format!("languageVersions.{lang}"),
                format!(
                    "organisation '{}' has no '{lang}' language version; PTV refuses to publish an item in a language its organisation lacks",
                    org.id
                ),
            );
        }
    }
}

fn references(
    run: &mut Run<'_>,
    orgs: &BTreeMap<SourceId, Arc<Organization>>,
    services: &BTreeMap<SourceId, Arc<Service>>,
    channels: &BTreeMap<SourceId, Arc<Channel>>,
) {
    let main_area = run.opts.main_area.clone();
    for o in orgs.values() {
        let id = &o.id;
        if let Some(p) = &o.parent {
            if orgs.contains_key(p) {
                // Walk up: a cycle or too deep a chain is an error on this organisation.
                let mut seen = BTreeSet::from([o.id.clone()]);
                let mut cur = Some(p.clone());
                let mut depth = 1;
                while let Some(c) = cur {
                    if !seen.insert(c.clone()) {
                        run.err(
                            ItemKind::Organization,
                            id,
                            FindingKind::Cycle,
                            "parent",
                            format!("parent chain loops back through '{c}'; break the cycle"),
                        );
                        break;
                    }
                    depth += 1;
                    cur = orgs.get(&c).and_then(|x| x.parent.clone());
                }
                if depth > MAX_SOURCE_DEPTH {
                    run.err(
                        ItemKind::Organization,
                        id,
                        FindingKind::TooDeep,
                        "parent",
                        format!(
                            "{depth} levels below the main organisation; PTV allows 5 levels in all"
                        ),
                    );
                }
                let parent_area = orgs.get(p).and_then(|o| o.effective_area());
                if let Some(a) = o.effective_area() {
                    area_fits(run, ItemKind::Organization, id, &a, parent_area.as_ref());
                }
            } else {
                run.err(
                    ItemKind::Organization,
                    id,
                    FindingKind::UnknownReference,
                    "parent",
                    format!("parent organisation '{p}' is not in the source"),
                );
            }
        }
    }
    for s in services.values() {
        let id = &s.id;
        if let Some(org) = &s.organization
            && !orgs.contains_key(org)
        {
            run.err(
                ItemKind::Service,
                id,
                FindingKind::UnknownReference,
                "organization",
                format!("organisation '{org}' is not in the source"),
            );
        }
        let owner = owner_area(orgs, s.organization.as_ref(), main_area.as_ref());
        area_fits(run, ItemKind::Service, id, &s.area, owner.as_ref());
        let langs: Vec<Lang> = s.language_versions.keys().copied().collect();
        languages_covered(
            run,
            ItemKind::Service,
            id,
            &langs,
            s.organization
                .as_ref()
                .and_then(|o| orgs.get(o))
                .map(|o| &**o),
        );
        for (i, c) in s.connections.iter().enumerate() {
            let path = format!("connections[{i}].channel");
            let Some(ch) = channels.get(&c.channel) else {
                let msg = format!(
                    "channel '{}' is not in the source (or is invalid); the connection set is held back until it is",
                    c.channel
                );
                run.err(
                    ItemKind::Connections,
                    id,
                    FindingKind::UnknownReference,
                    &path,
                    msg,
                );
                continue;
            };
            if ch.organization != s.organization && !ch.visible_for_all {
                run.err(ItemKind::Connections, id, FindingKind::NotAllowed, &path, format!("channel '{}' belongs to another organisation and is not visibleForAll; PTV refuses the connection", c.channel));
            }
            if !c.service_hours.is_empty() && ch.channel_type != ChannelType::ServiceLocation {
                run.err(
                    ItemKind::Connections,
                    id,
                    FindingKind::NotAllowed,
                    &format!("connections[{i}].serviceHours"),
                    "PTV takes connection hours for ServiceLocation channels only".into(),
                );
            }
        }
    }
    for c in channels.values() {
        let id = &c.id;
        if let Some(org) = &c.organization
            && !orgs.contains_key(org)
        {
            run.err(
                ItemKind::Channel,
                id,
                FindingKind::UnknownReference,
                "organization",
                format!("organisation '{org}' is not in the source"),
            );
        }
        if let Some(a) = &c.area {
            let owner = owner_area(orgs, c.organization.as_ref(), main_area.as_ref());
            area_fits(run, ItemKind::Channel, id, a, owner.as_ref());
        }
        let langs: Vec<Lang> = c.language_versions.keys().copied().collect();
        languages_covered(
            run,
            ItemKind::Channel,
            id,
            &langs,
            c.organization
                .as_ref()
                .and_then(|o| orgs.get(o))
                .map(|o| &**o),
        );
    }
}

/// PTV keeps service names unique per organisation and channel names per organisation and
/// channel type, whatever the case. The first item in id order keeps the name; the others
/// are refused.
fn unique_names(
    run: &mut Run<'_>,
    services: &BTreeMap<SourceId, Arc<Service>>,
    channels: &BTreeMap<SourceId, Arc<Channel>>,
) {
    // One entry per name borrowed from the items, grouped by a hash of its scope and
    // case-folded name: a map of lower-cased copies was the largest thing validation held.
    let count = services
        .values()
        .map(|s| s.language_versions.len())
        .sum::<usize>()
        + channels
            .values()
            .map(|c| c.language_versions.len())
            .sum::<usize>();
    let mut names: Vec<NameUse<'_>> = Vec::with_capacity(count);
    for s in services.values() {
        for (lang, v) in &s.language_versions {
            names.push(NameUse::new(
                ItemKind::Service,
                &s.id,
                s.organization.as_ref(),
                None,
                *lang,
                v.name.as_str(),
            ));
        }
    }
    for c in channels.values() {
        for (lang, v) in &c.language_versions {
            names.push(NameUse::new(
                ItemKind::Channel,
                &c.id,
                c.organization.as_ref(),
                Some(c.channel_type),
                *lang,
                v.name.as_str(),
            ));
        }
    }
    // Stable: within a group, items keep their id order.
    names.sort_by_key(|n| n.hash);
    let mut dupes = Vec::new();
    for group in names
        .chunk_by(|a, b| a.hash == b.hash)
        .filter(|g| g.len() > 1)
    {
        for (i, n) in group.iter().enumerate() {
            if let Some(first) = group[..i].iter().find(|f| f.same_name(n)) {
                dupes.push((n.kind, n.id, n.lang, first.id));
            }
        }
    }
    for (kind, id, lang, first) in dupes {
        run.err(
            kind,
            id,
            FindingKind::DuplicateName,
            &format!("languageVersions.{lang}.name"),
            format!(
                "'{first}' already has this name in its organisation; PTV requires unique names"
            ),
        );
    }
}

/// A name of a service or channel in one language, in the scope where it must be unique.
struct NameUse<'a> {
    hash: u64,
    owner: Option<&'a SourceId>,
    channel_type: Option<ChannelType>,
    lang: Lang,
    name: &'a str,
    kind: ItemKind,
    id: &'a SourceId,
}

impl<'a> NameUse<'a> {
    fn new(
        kind: ItemKind,
        id: &'a SourceId,
        owner: Option<&'a SourceId>,
        channel_type: Option<ChannelType>,
        lang: Lang,
        name: &'a str,
    ) -> Self {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        (owner, channel_type, lang).hash(&mut h);
        folded(name).for_each(|c| c.hash(&mut h));
        NameUse {
            hash: h.finish(),
            owner,
            channel_type,
            lang,
            name,
            kind,
            id,
        }
    }
    fn same_name(&self, other: &NameUse<'_>) -> bool {
        (self.owner, self.channel_type, self.lang) == (other.owner, other.channel_type, other.lang)
            && folded(self.name).eq(folded(other.name))
    }
}

fn folded(name: &str) -> impl Iterator<Item = char> + '_ {
    name.chars().flat_map(char::to_lowercase)
}

fn dependents(
    run: &mut Run<'_>,
    invalid: &mut BTreeMap<Key, Vec<Finding>>,
    orgs: &BTreeMap<SourceId, Arc<Organization>>,
    services: &BTreeMap<SourceId, Arc<Service>>,
    channels: &BTreeMap<SourceId, Arc<Channel>>,
) {
    let bad_org = |invalid: &BTreeMap<Key, Vec<Finding>>, o: &Option<SourceId>| {
        o.as_ref()
            .filter(|o| invalid.contains_key(&(ItemKind::Organization, (*o).clone())))
            .cloned()
    };
    let mark = |run: &mut Run<'_>,
                invalid: &mut BTreeMap<Key, Vec<Finding>>,
                kind: ItemKind,
                id: &SourceId,
                path: &str,
                msg: String| {
        let key = (kind, id.clone());
        if invalid.contains_key(&key) {
            return false;
        }
        let before = run.findings.len();
        run.err(kind, id, FindingKind::DependsOnInvalid, path, msg);
        invalid.insert(key, run.findings[before..].to_vec());
        true
    };
    // Sub-organisations to a fixpoint: an invalid organisation holds back its whole subtree.
    loop {
        let mut changed = false;
        for o in orgs.values() {
            if let Some(p) = bad_org(invalid, &o.parent) {
                changed |= mark(
                    run,
                    invalid,
                    ItemKind::Organization,
                    &o.id,
                    "parent",
                    format!("parent organisation '{p}' is invalid; fix it first"),
                );
            }
        }
        if !changed {
            break;
        }
    }
    for s in services.values() {
        if let Some(p) = bad_org(invalid, &s.organization) {
            mark(
                run,
                invalid,
                ItemKind::Service,
                &s.id,
                "organization",
                format!("organisation '{p}' is invalid; fix it first"),
            );
        }
    }
    for c in channels.values() {
        if let Some(p) = bad_org(invalid, &c.organization) {
            mark(
                run,
                invalid,
                ItemKind::Channel,
                &c.id,
                "organization",
                format!("organisation '{p}' is invalid; fix it first"),
            );
        }
    }
    for s in services.values() {
        if invalid.contains_key(&(ItemKind::Service, s.id.clone())) {
            invalid
                .entry((ItemKind::Connections, s.id.clone()))
                .or_default();
            continue;
        }
        for (i, c) in s.connections.iter().enumerate() {
            if channels.contains_key(&c.channel)
                && invalid.contains_key(&(ItemKind::Channel, c.channel.clone()))
            {
                let key = (ItemKind::Connections, s.id.clone());
                if invalid.contains_key(&key) {
                    break;
                }
                let file = run.file(ItemKind::Service, &s.id);
                let before = run.findings.len();
                run.ck(ItemKind::Connections, &s.id, &file).warn(
                    FindingKind::DependsOnInvalid,
                    format!("connections[{i}].channel"),
                    format!("channel '{}' is invalid; the service is sent but its connection set is held back until the channel is fixed", c.channel),
                );
                invalid.insert(key, run.findings[before..].to_vec());
                break;
            }
        }
    }
}

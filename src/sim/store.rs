//! The simulated catalogue: every entity with its latest version, plus the indexes that
//! keep each request O(1): sourceIds and externalIds per owner and scope, names per
//! organisation and kind, and each organisation's children.

use crate::model::ChannelType;
use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SimKind {
    Organization,
    Service,
    Channel(ChannelType),
}

impl SimKind {
    pub(crate) fn scope(self) -> Scope {
        match self {
            SimKind::Organization => Scope::Organization,
            SimKind::Service => Scope::Service,
            SimKind::Channel(_) => Scope::ServiceChannel,
        }
    }

    /// How PTV's messages name the entity ("Service with source id …").
    pub(crate) fn label(self) -> &'static str {
        match self {
            SimKind::Organization => "Organization",
            SimKind::Service => "Service",
            SimKind::Channel(_) => "Service channel",
        }
    }
}

/// How people read the kind: `organization`, `service`, `channel EService`.
impl std::fmt::Display for SimKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimKind::Organization => f.write_str("organization"),
            SimKind::Service => f.write_str("service"),
            SimKind::Channel(t) => write!(f, "channel {t}"),
        }
    }
}

/// sourceId namespaces: all five channel types share one (reference §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    Organization,
    Service,
    ServiceChannel,
}

/// The publishing status of an entity's latest version (reference §5). `Deleted` is
/// what the UI and v12 call archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PublishingStatus {
    Draft,
    Published,
    Deleted,
    Modified,
}

impl PublishingStatus {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "Draft" => Some(Self::Draft),
            "Published" => Some(Self::Published),
            "Deleted" => Some(Self::Deleted),
            "Modified" => Some(Self::Modified),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Published => "Published",
            Self::Deleted => "Deleted",
            Self::Modified => "Modified",
        }
    }
}

/// How an item came to be archived (v11 `archivingType`, reference §3.2, §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArchivingType {
    /// By a person in the UI or by an API write (`Deleted`).
    Manual,
    /// By PTV itself, after [`AUTO_ARCHIVE_MONTHS`] without a save.
    Automatic,
}

impl ArchivingType {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "Manual" => Some(Self::Manual),
            "Automatic" => Some(Self::Automatic),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "Manual",
            Self::Automatic => "Automatic",
        }
    }
}

/// How the simulator writes a timestamp: RFC 3339 in UTC, to the second.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// PTV archives services and channels (Draft or Published) not saved for this many
/// calendar months; organisations are exempt (reference §5).
pub const AUTO_ARCHIVE_MONTHS: u32 = 18;

/// One entity of the simulated catalogue, as tests see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimEntity {
    pub kind: SimKind,
    pub id: Uuid,
    pub source_id: Option<String>,
    /// The API user whose sourceId namespace holds `source_id`.
    pub source_owner: Option<String>,
    pub external_id: Option<String>,
    /// Services and channels: the owning organisation. Organisations: the parent.
    pub organization_id: Option<Uuid>,
    pub status: PublishingStatus,
    /// Accepted writes, the create included.
    pub versions: u32,
    pub name_fi: Option<String>,
    pub names: BTreeMap<String, String>,
    /// The merged state PTV holds, in the shape of the API that last wrote it.
    pub last_body: Value,
    /// Services: connected channel ids.
    pub connections: Vec<Uuid>,
    /// Which API last wrote it: "v11", "v12" or "seed".
    pub api: &'static str,
    pub locked_by: Option<String>,
    /// The last accepted save (the sim clock), and who made it: the API user, the UI
    /// user of a `/_sim/ui-*` call, or `seed`.
    pub modified: DateTime<Utc>,
    pub modified_by: String,
    /// Archived items: when, and whether by a person/API or by PTV's 18-month rule.
    pub archived_at: Option<DateTime<Utc>>,
    pub archiving_type: Option<ArchivingType>,
}

#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub kind: SimKind,
    pub id: Uuid,
    pub org: Option<Uuid>,
    pub source: Option<(String, String)>,
    pub external: Option<(String, String)>,
    pub status: PublishingStatus,
    pub versions: u32,
    /// Name (type `Name`) per language.
    pub names: BTreeMap<String, String>,
    /// Every language the entity has content in.
    pub languages: Vec<String>,
    pub area_type: Option<String>,
    pub visible_for_all: bool,
    pub body: Value,
    pub api: &'static str,
    pub connections: Vec<Uuid>,
    pub locked_by: Option<String>,
    pub modified: DateTime<Utc>,
    pub modified_by: String,
    pub archived_at: Option<DateTime<Utc>>,
    pub archiving_type: Option<ArchivingType>,
}

impl Entity {
    pub fn view(&self) -> SimEntity {
        SimEntity {
            kind: self.kind,
            id: self.id,
            source_id: self.source.as_ref().map(|(_, s)| s.clone()),
            source_owner: self.source.as_ref().map(|(o, _)| o.clone()),
            external_id: self.external.as_ref().map(|(_, e)| e.clone()),
            organization_id: self.org,
            status: self.status,
            versions: self.versions,
            name_fi: self.names.get("fi").cloned(),
            names: self.names.clone(),
            last_body: self.body.clone(),
            connections: self.connections.clone(),
            api: self.api,
            locked_by: self.locked_by.clone(),
            modified: self.modified,
            modified_by: self.modified_by.clone(),
            archived_at: self.archived_at,
            archiving_type: self.archiving_type,
        }
    }

    pub fn is_live(&self) -> bool {
        self.status != PublishingStatus::Deleted
    }

    /// When PTV's automatic archiving takes this entity, if it can.
    pub fn auto_archive_at(&self) -> Option<DateTime<Utc>> {
        let eligible = self.kind != SimKind::Organization
            && matches!(
                self.status,
                PublishingStatus::Draft | PublishingStatus::Published
            );
        if eligible {
            self.modified
                .checked_add_months(Months::new(AUTO_ARCHIVE_MONTHS))
        } else {
            None
        }
    }

    /// Records an accepted save at `now` by `by`.
    pub fn saved(&mut self, now: DateTime<Utc>, by: &str) {
        self.modified = now;
        by.clone_into(&mut self.modified_by);
    }

    /// Archives by a person or an API write at `now`.
    pub fn archive_manually(&mut self, now: DateTime<Utc>) {
        self.status = PublishingStatus::Deleted;
        self.archived_at = Some(now);
        self.archiving_type = Some(ArchivingType::Manual);
    }
}

type NameKey = (SimKind, Option<Uuid>, String, String);
type IdKey = (String, Scope, String);

#[derive(Default, Clone)]
pub(crate) struct Catalogue {
    entities: HashMap<Uuid, Entity>,
    order: Vec<Uuid>,
    sources: HashMap<IdKey, Uuid>,
    externals: HashMap<IdKey, Uuid>,
    names: HashMap<NameKey, Uuid>,
    children: HashMap<Uuid, Vec<Uuid>>,
    /// The sim clock when the lock was taken ([`Catalogue::sweep`]): every save of one
    /// critical section is stamped with it.
    now: DateTime<Utc>,
    /// No entity is due for automatic archiving before this (a lower bound: saves only
    /// move due dates later, and [`Catalogue::put`] lowers it for earlier ones).
    next_sweep: Option<DateTime<Utc>>,
}

impl Catalogue {
    /// The sim clock of this critical section.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Sets the clock of this critical section and runs PTV's automatic archiving
    /// (reference §5) for everything due before it: status Deleted, archivingType
    /// Automatic, archived at the moment the 18 months ran out. Cheap when nothing
    /// is due.
    pub fn sweep(&mut self, now: DateTime<Utc>) {
        self.now = now;
        if self.next_sweep.is_none_or(|at| at >= now) {
            return;
        }
        self.next_sweep = None;
        let mut due = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        for e in self.entities.values() {
            match e.auto_archive_at() {
                Some(at) if at < now => due.push((e.id, at)),
                Some(at) => next = Some(next.map_or(at, |n| n.min(at))),
                None => {}
            }
        }
        for (id, at) in due {
            if let Some(mut e) = self.entities.get(&id).cloned() {
                e.status = PublishingStatus::Deleted;
                e.archived_at = Some(at);
                e.archiving_type = Some(ArchivingType::Automatic);
                self.put(e);
            }
        }
        self.next_sweep = next;
    }

    pub fn get(&self, id: Uuid) -> Option<&Entity> {
        self.entities.get(&id)
    }

    pub fn get_mut_unindexed(&mut self, id: Uuid) -> Option<&mut Entity> {
        self.entities.get_mut(&id)
    }

    pub fn by_source(&self, owner: &str, scope: Scope, source_id: &str) -> Option<Uuid> {
        self.sources
            .get(&(owner.to_lowercase(), scope, source_id.to_owned()))
            .copied()
    }

    pub fn by_external(&self, owner: &str, scope: Scope, external_id: &str) -> Option<Uuid> {
        self.externals
            .get(&(owner.to_lowercase(), scope, external_id.to_owned()))
            .copied()
    }

    /// A live entity other than `except` of the same kind and organisation with one of
    /// these names: the (language, name) it collides on.
    pub fn name_taken(
        &self,
        kind: SimKind,
        org: Option<Uuid>,
        names: &BTreeMap<String, String>,
        except: Option<Uuid>,
    ) -> Option<(String, String)> {
        names.iter().find_map(|(lang, name)| {
            let key = (kind, org, lang.clone(), name.clone());
            match self.names.get(&key) {
                Some(holder) if Some(*holder) != except => Some((lang.clone(), name.clone())),
                _ => None,
            }
        })
    }

    /// Inserts or replaces an entity, keeping every index in step.
    pub fn put(&mut self, entity: Entity) {
        if let Some(old) = self.entities.remove(&entity.id) {
            self.unindex(&old);
        } else {
            self.order.push(entity.id);
            if let Some(org) = entity.org {
                self.children.entry(org).or_default().push(entity.id);
            }
        }
        self.index(&entity);
        if let Some(at) = entity.auto_archive_at() {
            self.next_sweep = Some(self.next_sweep.map_or(at, |n| n.min(at)));
        }
        self.entities.insert(entity.id, entity);
    }

    fn index(&mut self, e: &Entity) {
        if let Some((owner, sid)) = &e.source {
            self.sources
                .insert((owner.to_lowercase(), e.kind.scope(), sid.clone()), e.id);
        }
        if let Some((owner, xid)) = &e.external {
            self.externals
                .insert((owner.to_lowercase(), e.kind.scope(), xid.clone()), e.id);
        }
        if e.is_live() {
            for (lang, name) in &e.names {
                self.names
                    .insert((e.kind, e.org, lang.clone(), name.clone()), e.id);
            }
        }
    }

    fn unindex(&mut self, e: &Entity) {
        if let Some((owner, sid)) = &e.source {
            self.sources
                .remove(&(owner.to_lowercase(), e.kind.scope(), sid.clone()));
        }
        if let Some((owner, xid)) = &e.external {
            self.externals
                .remove(&(owner.to_lowercase(), e.kind.scope(), xid.clone()));
        }
        for (lang, name) in &e.names {
            let key = (e.kind, e.org, lang.clone(), name.clone());
            if self.names.get(&key) == Some(&e.id) {
                self.names.remove(&key);
            }
        }
    }

    /// Entities whose `org` is `org`, in creation order.
    pub fn children(&self, org: Uuid) -> impl Iterator<Item = &Entity> {
        self.children
            .get(&org)
            .into_iter()
            .flatten()
            .filter_map(|id| self.entities.get(id))
    }

    /// Whether `org` is `root` or lies below it (API users act for their main
    /// organisation and its sub-organisations).
    pub fn is_within(&self, org: Uuid, root: Uuid) -> bool {
        let mut current = Some(org);
        for _ in 0..16 {
            match current {
                Some(id) if id == root => return true,
                Some(id) => current = self.entities.get(&id).and_then(|e| e.org),
                None => return false,
            }
        }
        false
    }

    pub fn all(&self) -> impl Iterator<Item = &Entity> {
        self.order.iter().filter_map(|id| self.entities.get(id))
    }

    /// Entities sharing (kind, organisation, language, name) — archived ones included,
    /// so that re-creating instead of restoring shows — or (owner, scope, sourceId).
    pub fn duplicates(&self) -> Vec<SimEntity> {
        let mut by_name: HashMap<NameKey, Vec<Uuid>> = HashMap::new();
        for e in self.all() {
            for (lang, name) in &e.names {
                by_name
                    .entry((e.kind, e.org, lang.clone(), name.clone()))
                    .or_default()
                    .push(e.id);
            }
        }
        let mut by_source: HashMap<IdKey, Vec<Uuid>> = HashMap::new();
        for e in self.all() {
            if let Some((owner, sid)) = &e.source {
                by_source
                    .entry((owner.to_lowercase(), e.kind.scope(), sid.clone()))
                    .or_default()
                    .push(e.id);
            }
        }
        let mut ids: Vec<Uuid> = by_name
            .into_values()
            .chain(by_source.into_values())
            .filter(|group| group.len() > 1)
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| self.entities.get(&id).map(Entity::view))
            .collect()
    }
}

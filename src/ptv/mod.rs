//! The PTV client: tokens, transport, retries and typed errors, and one adapter per
//! import API version behind the typed [`PtvApi`] trait the sync engine calls. The engine
//! hands it model items; each adapter maps them to its own bodies ([`wire`]) and says
//! what its version could not carry ([`Written::not_sent`]). Only this module knows
//! which version an organisation writes to.
//!
//! # Contract of the adapters
//!
//! - `create` is *safe*: when the outcome of a create is unknown (timeout, dropped
//!   connection, 5xx) or PTV says the sourceId / externalId already exists, or that the
//!   name "already exists within organization" (a v12 channel has no externalId, so this
//!   is how PTV answers our own create sent twice), the adapter never posts blindly
//!   again. It looks the item up and adopts it
//!   (`Written::adopted = true`). On v11 the lookup is a PUT of the same full body by
//!   sourceId, which also **restores an archived item** (PTV restores a `Deleted` item
//!   that receives `Published`); so `create` always leaves the item existing, published
//!   and carrying our body, and the engine needs no special case. On v12 an item found
//!   only in the archive is restored by a PUT of the full body before returning.
//!   Only when nothing can be found does `create` post again (within the retry budget);
//!   a taken name that no lookup explains stays a validation error. An item adopted by
//!   name gets our body by a PUT. The engine itself looks an item up (`find`) before a
//!   create whose earlier attempt was never confirmed, as a killed process leaves it.
//! - `find` is read-only: it tells the engine whether an item with this sourceId /
//!   externalId (or, for v12 channels, organisation + type + Finnish name) exists, and
//!   whether it is archived, so that the engine can `restore` rather than `create`.
//! - `update`, `restore` and `archive` send the full body (v11 adds `publishingStatus`).
//! - `set_connections` writes the full desired set of a service's connections.
//! - The catalogue reads (`list_by_organization`, `read_many`, `sub_organizations`,
//!   `read_latest`) return version-neutral [`RemoteItem`]s; `list_archived` returns
//!   [`ArchivedItem`]s; see [`read`].
//! - `sent_body` is the body a write of an item sends, without a request: what the
//!   drift check compares with what PTV holds.
//! - Every error is a [`PtvError`] whose [`PtvError::class`] tells the engine whether to
//!   give up, retry in a later run, or ask a person.

mod auth;
mod client;
pub mod error;
pub mod read;
pub mod read_back;
mod retry;
mod typed;
pub mod v11;
pub mod v12;
pub mod wire;

use crate::model::{ApiVersion, ChannelType, Connection, Item, ItemKind, PtvId, PtvSourceId};
use std::sync::Arc;
use tokio::sync::Semaphore;

pub use client::{PtvClientConfig, RequestLog, RequestRecord};
pub use error::{ErrorClass, PtvError};
pub use read::{ArchivedItem, Fetched, RemoteCatalogue, RemoteItem, RemoteStatus, read_catalogue};
pub use read_back::{
    ReadBack, RemoteConnection, body_of, connection_body_of, read_back, read_back_connection,
};
pub use retry::RetryPolicy;

/// One item to write: the model item (a channel with its area resolved), the PTV
/// sourceId it goes under and the PTV id of its responsible organisation (for a
/// sub-organisation: its parent).
#[derive(Debug, Clone, Copy)]
pub struct ItemWrite<'a> {
    pub item: &'a Item,
    /// PTV `sourceId` (v11) / `externalId` (v12), namespaced, with generation suffix.
    pub source_id: &'a PtvSourceId,
    pub owner: &'a PtvId,
}

/// An item to archive: the item last sent, where it is known (v11 archives by sending it
/// again with `publishingStatus: Deleted`).
#[derive(Debug, Clone, Copy)]
pub struct Archive<'a> {
    pub kind: ItemKind,
    pub source_id: &'a PtvSourceId,
    pub owner: &'a PtvId,
    pub last: Option<&'a Item>,
}

/// The full desired connection set of one service.
#[derive(Debug, Clone)]
pub struct ConnectionSet<'a> {
    pub service_ptv_id: &'a PtvId,
    pub service_source_id: &'a PtvSourceId,
    /// Each desired connection with the PTV id of its channel.
    pub desired: Vec<(&'a Connection, PtvId)>,
    /// The channel ids written last time (v12 removes the ones no longer desired).
    pub previous_channel_ids: Vec<PtvId>,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub ptv_id: PtvId,
    /// Status of the last request; 0 when nothing needed sending (a v12 connection set
    /// that did not change), 404 for a v12 archive of an item already archived.
    pub http_status: u16,
    /// Hex SHA-256 of the last request body sent (empty when no request had a body).
    pub body_sha256: String,
    /// The create was resolved by finding the existing item.
    pub adopted: bool,
    /// HTTP requests made, retries and lookups included.
    pub requests: u32,
    /// What of the item this API version cannot carry, so was not sent (see [`Mapped`]).
    pub not_sent: Vec<String>,
}

/// What `find` looks for.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub kind: ItemKind,
    pub channel_type: Option<ChannelType>,
    pub source_id: PtvSourceId,
    pub organization_ptv_id: PtvId,
    pub name_fi: Option<String>,
}

impl Lookup {
    /// What finds an item to archive: its type and Finnish name where the last item sent
    /// is known (v12 channels are found by name).
    #[must_use]
    pub fn of_archive(a: &Archive<'_>) -> Self {
        Lookup {
            kind: a.kind,
            channel_type: a.last.and_then(Item::channel_type),
            source_id: a.source_id.clone(),
            organization_ptv_id: *a.owner,
            name_fi: a.last.map(Item::display_name),
        }
    }
}

/// An existing PTV item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub ptv_id: PtvId,
    /// Archived (`Deleted`): restore it with [`PtvApi::restore`] instead of creating.
    pub archived: bool,
}

/// A body mapped from the model, and what the target version cannot carry (reported
/// per item as "not sent", a warning: nothing is dropped silently).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub body: serde_json::Value,
    pub not_sent: Vec<String>,
}

/// What the engine, `adopt`, `drift`, `export` and `readiness` read from PTV, and the
/// session they read in. Declared once: each adapter implements it directly, and both the
/// port ([`PtvApi`]) and the wire level ([`wire::Wire`]) extend it.
#[async_trait::async_trait]
pub trait PtvRead: Send + Sync {
    /// Read-only lookup for safe creates; `None` when nothing matches.
    async fn find(&self, lookup: &Lookup) -> Result<Option<Found>, PtvError>;
    /// The item as PTV holds it (latest version where the API offers it), `None` if unknown.
    async fn read(
        &self,
        kind: ItemKind,
        channel_type: Option<ChannelType>,
        ptv_id: &PtvId,
    ) -> Result<Option<serde_json::Value>, PtvError>;
    /// Published services (`kind = Service`) or channels (`Channel`) owned by the
    /// organisation `org`, full entities, every page.
    async fn list_by_organization(
        &self,
        org: &PtvId,
        kind: ItemKind,
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError>;
    /// Published items by PTV id (v11: batches of 100; v12: one read each). Unknown or
    /// unpublished ids are left out.
    async fn read_many(
        &self,
        kind: ItemKind,
        ptv_ids: &[PtvId],
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError>;
    /// The published connections of these services (v11: their `serviceChannels`, no
    /// request; v12: `connection/search`, 20 services a request).
    async fn connections(
        &self,
        services: &[RemoteItem],
    ) -> Result<Fetched<Vec<RemoteConnection>>, PtvError>;
    /// Ids of every organisation below `org` in PTV's hierarchy, parents first.
    async fn sub_organizations(&self, org: &PtvId) -> Result<Fetched<Vec<PtvId>>, PtvError>;
    /// The latest version whatever its state (v11 `active` read, which shows drafts and
    /// Modified versions); v12 has no such read and answers the published version.
    /// `None` when PTV shows nothing (unknown, archived, or a v12 draft).
    async fn read_latest(
        &self,
        kind: ItemKind,
        ptv_id: &PtvId,
    ) -> Result<Option<RemoteItem>, PtvError>;
    /// Services (`kind = Service`) or channels (`Channel`) PTV lists as archived: v11 for
    /// the organisation `org` (both archiving types), v12 every one archived at or after
    /// `since` (its list has no organisation filter). Every page.
    async fn list_archived(
        &self,
        org: &PtvId,
        kind: ItemKind,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Fetched<Vec<ArchivedItem>>, PtvError>;
    /// Expiry of the current token, for `status` and metrics.
    fn token_expiry(&self) -> Option<chrono::DateTime<chrono::Utc>>;
    /// Logins made so far.
    fn logins(&self) -> u64;
    /// Logs in, or keeps a token still valid: before a run writes, so that a wrong
    /// password or an unreachable PTV is one error for the organisation, not one per item.
    async fn login(&self) -> Result<(), PtvError>;
}

/// The PTV API the sync engine calls, in the model's terms: each adapter maps items to
/// its own version's bodies, and the version is chosen once, in [`connect`]. Every
/// [`wire::Wire`] is one (`typed`).
#[async_trait::async_trait]
pub trait PtvApi: PtvRead {
    /// Safe create; see the module documentation.
    async fn create(&self, w: &ItemWrite<'_>) -> Result<Written, PtvError>;
    async fn update(&self, ptv_id: &PtvId, w: &ItemWrite<'_>) -> Result<Written, PtvError>;
    /// v11: PUT of the full body, `Published`, on an archived item; v12: PUT of the full body.
    async fn restore(&self, ptv_id: &PtvId, w: &ItemWrite<'_>) -> Result<Written, PtvError>;
    /// v11: PUT of the full last body with `publishingStatus: Deleted`; v12: DELETE.
    async fn archive(&self, ptv_id: &PtvId, a: &Archive<'_>) -> Result<Written, PtvError>;
    /// Writes the full connection set of a service.
    async fn set_connections(&self, c: &ConnectionSet<'_>) -> Result<Written, PtvError>;
    /// The body a create or update of this item sends, in this version's shape (no
    /// request is made).
    fn sent_body(&self, w: &ItemWrite<'_>) -> Result<serde_json::Value, PtvError>;
}

/// Builds the client of the configured API version. `global` caps requests in flight
/// across all organisations.
pub fn connect(cfg: PtvClientConfig, global: Arc<Semaphore>) -> Result<Arc<dyn PtvApi>, PtvError> {
    Ok(match cfg.api_version {
        ApiVersion::V11 => Arc::new(v11::V11Client::new(cfg, global)?),
        ApiVersion::V12 => Arc::new(v12::V12Client::new(cfg, global)?),
    })
}

/// "service espoo-service-x (PTV id …)", for messages.
pub(crate) fn describe(
    kind: ItemKind,
    channel_type: Option<ChannelType>,
    source_id: &str,
    ptv_id: Option<&str>,
) -> String {
    let what = match channel_type {
        Some(t) if kind == ItemKind::Channel => format!("{t} channel"),
        _ => kind.to_string(),
    };
    match ptv_id {
        Some(id) => format!("{what} {source_id} (PTV id {id})"),
        None => format!("{what} {source_id}"),
    }
}

/// The PTV id in an answer (`id` on v11, `contentId` on v12): `Ok(None)` when it names
/// none, an error when what it names is not a GUID (PTV's answer is not what its API
/// promises, so nothing is taken from it). `item` and `request` name what was asked.
pub(crate) fn id_of(
    body: &serde_json::Value,
    item: &str,
    request: &str,
) -> Result<Option<PtvId>, PtvError> {
    let Some((key, raw)) = ["id", "contentId"].iter().find_map(|k| {
        body.get(*k)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| (*k, s))
    }) else {
        return Ok(None);
    };
    ptv_id_in(raw, item, request, key).map(Some)
}

/// A PTV id PTV's answer names in `field`; not a GUID: an error naming the request and
/// the field (PTV's answer is not what its API promises, so nothing is taken from it).
pub(crate) fn ptv_id_in(
    raw: &str,
    item: &str,
    request: &str,
    field: &str,
) -> Result<PtvId, PtvError> {
    PtvId::parse(raw).map_err(|e| PtvError::Transient {
        item: item.to_owned(),
        status: None,
        message: format!(
            "PTV's answer to {request} was unexpected: its `{field}` is not a GUID ({e}); nothing was taken from it"
        ),
    })
}

//! The adapters' own level: one trait over HTTP bodies already in a version's wire shape,
//! implemented by the v11 and v12 adapters. The engine never sees it: [`super::PtvApi`]
//! maps model items with the adapter's own mapper and then calls this. The client tests
//! talk at this level to pin each adapter's HTTP behaviour with hand-made bodies.
//!
//! Reads are not repeated here: a `Wire` is a [`super::PtvRead`], declared once for the
//! port and this level alike. Adding a PTV read: declare it in `PtvRead` and implement it
//! in each adapter.

use super::{Lookup, Mapped, PtvClientConfig, PtvError, PtvRead, Written, v11, v12};
use crate::model::{ApiVersion, ChannelType, Connection, Item, ItemKind, PtvId, PtvSourceId};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// One item write, already mapped to the target version's wire shape.
#[derive(Debug, Clone)]
pub struct Write {
    pub kind: ItemKind,
    pub channel_type: Option<ChannelType>,
    /// PTV `sourceId` (v11) / `externalId` (v12), namespaced, with generation suffix.
    pub source_id: PtvSourceId,
    /// PTV id of the responsible organisation (for a sub-organisation: its parent).
    pub organization_ptv_id: PtvId,
    /// Finnish name: v12 channels have no externalId, so they are found by name.
    pub name_fi: Option<String>,
    /// Version-specific body from `v11::map` / `v12::map`, without `publishingStatus`.
    pub body: serde_json::Value,
}

/// The full desired connection set of one service, in wire shape.
#[derive(Debug, Clone)]
pub struct ConnectionsWrite {
    pub service_ptv_id: PtvId,
    pub service_source_id: PtvSourceId,
    /// Version-specific relation bodies, each naming the channel's PTV id.
    pub desired: Vec<serde_json::Value>,
    pub desired_channel_ids: Vec<PtvId>,
    /// The channel ids written last time (v12 removes the ones no longer desired).
    pub previous_channel_ids: Vec<PtvId>,
}

impl Lookup {
    /// What finds the item a wire write creates.
    #[must_use]
    pub fn of(w: &Write) -> Self {
        Lookup {
            kind: w.kind,
            channel_type: w.channel_type,
            source_id: w.source_id.clone(),
            organization_ptv_id: w.organization_ptv_id,
            name_fi: w.name_fi.clone(),
        }
    }
}

/// One adapter at the wire level; the contract of each call is the module documentation
/// of [`super`].
#[async_trait::async_trait]
pub trait Wire: PtvRead {
    /// The body of `item` under `owner` (the PTV id of its organisation), and what this
    /// version cannot carry. Channels arrive with their area resolved.
    fn map_item(&self, item: &Item, owner: &PtvId) -> Result<Mapped, PtvError>;
    /// The relation body of one connection of `service` to `channel` (PTV ids).
    fn map_connection(&self, c: &Connection, service: &PtvId, channel: &PtvId) -> Mapped;
    /// Safe create.
    async fn create(&self, w: &Write) -> Result<Written, PtvError>;
    async fn update(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError>;
    /// v11: PUT of the full body, `Published`, on an archived item; v12: PUT of the full body.
    async fn restore(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError>;
    /// v11: PUT of the full last body with `publishingStatus: Deleted`; v12: DELETE.
    async fn archive(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError>;
    /// Writes the full connection set of a service.
    async fn set_connections(&self, c: &ConnectionsWrite) -> Result<Written, PtvError>;
}

/// The wire-level adapter of the configured API version. `global` caps requests in
/// flight across all organisations.
pub fn connect(cfg: PtvClientConfig, global: Arc<Semaphore>) -> Result<Arc<dyn Wire>, PtvError> {
    Ok(match cfg.api_version {
        ApiVersion::V11 => Arc::new(v11::V11Client::new(cfg, global)?),
        ApiVersion::V12 => Arc::new(v12::V12Client::new(cfg, global)?),
    })
}

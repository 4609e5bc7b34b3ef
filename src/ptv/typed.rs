//! The typed port over either adapter: maps each model item with the adapter's own
//! mapper ([`Wire::map_item`]), calls the adapter, and hands back what the version could
//! not carry with the result.

use super::wire::{ConnectionsWrite, Wire, Write};
use super::{
    Archive, ArchivedItem, ConnectionSet, Fetched, Found, ItemWrite, Lookup, PtvApi, PtvError,
    RemoteConnection, RemoteItem, Written,
};
use crate::model::{ChannelType, ItemKind, PtvId};

/// An adapter seen through [`PtvApi`].
pub(crate) struct Typed<W>(pub W);

impl<W: Wire> Typed<W> {
    fn write(&self, w: &ItemWrite<'_>) -> Result<(Write, Vec<String>), PtvError> {
        let mapped = self.0.map_item(w.item, w.owner)?;
        Ok((
            Write {
                kind: w.item.kind(),
                channel_type: w.item.channel_type(),
                source_id: w.source_id.clone(),
                organization_ptv_id: *w.owner,
                name_fi: Some(w.item.display_name()),
                body: mapped.body,
            },
            mapped.not_sent,
        ))
    }
}

fn with_not_sent(r: Result<Written, PtvError>, not_sent: Vec<String>) -> Result<Written, PtvError> {
    r.map(|mut w| {
        w.not_sent = not_sent;
        w
    })
}

#[async_trait::async_trait]
impl<W: Wire> PtvApi for Typed<W> {
    async fn create(&self, w: &ItemWrite<'_>) -> Result<Written, PtvError> {
        let (write, not_sent) = self.write(w)?;
        with_not_sent(self.0.create(&write).await, not_sent)
    }

    async fn update(&self, ptv_id: &PtvId, w: &ItemWrite<'_>) -> Result<Written, PtvError> {
        let (write, not_sent) = self.write(w)?;
        with_not_sent(self.0.update(ptv_id, &write).await, not_sent)
    }

    async fn restore(&self, ptv_id: &PtvId, w: &ItemWrite<'_>) -> Result<Written, PtvError> {
        let (write, not_sent) = self.write(w)?;
        with_not_sent(self.0.restore(ptv_id, &write).await, not_sent)
    }

    /// The last item's full body where it can still be built; otherwise an empty one
    /// (v12 archives without a body; v11 then sends only `sourceId` and the status).
    async fn archive(&self, ptv_id: &PtvId, a: &Archive<'_>) -> Result<Written, PtvError> {
        let full = a.last.and_then(|item| {
            self.write(&ItemWrite {
                item,
                source_id: a.source_id,
                owner: a.owner,
            })
            .ok()
        });
        let write = full.map_or_else(
            || Write {
                kind: a.kind,
                channel_type: None,
                source_id: a.source_id.clone(),
                organization_ptv_id: *a.owner,
                name_fi: None,
                body: serde_json::json!({}),
            },
            |(w, _)| w,
        );
        self.0.archive(ptv_id, &write).await
    }

    async fn set_connections(&self, c: &ConnectionSet<'_>) -> Result<Written, PtvError> {
        let mut not_sent = Vec::new();
        let desired = c
            .desired
            .iter()
            .map(|(conn, channel)| {
                let m = self.0.map_connection(conn, c.service_ptv_id, channel);
                not_sent.extend(m.not_sent);
                m.body
            })
            .collect();
        let write = ConnectionsWrite {
            service_ptv_id: *c.service_ptv_id,
            service_source_id: c.service_source_id.clone(),
            desired,
            desired_channel_ids: c.desired.iter().map(|(_, id)| *id).collect(),
            previous_channel_ids: c.previous_channel_ids.clone(),
        };
        with_not_sent(self.0.set_connections(&write).await, not_sent)
    }

    async fn find(&self, lookup: &Lookup) -> Result<Option<Found>, PtvError> {
        self.0.find(lookup).await
    }

    async fn read(
        &self,
        kind: ItemKind,
        channel_type: Option<ChannelType>,
        ptv_id: &PtvId,
    ) -> Result<Option<serde_json::Value>, PtvError> {
        self.0.read(kind, channel_type, ptv_id).await
    }

    async fn list_by_organization(
        &self,
        org: &PtvId,
        kind: ItemKind,
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        self.0.list_by_organization(org, kind).await
    }

    async fn read_many(
        &self,
        kind: ItemKind,
        ptv_ids: &[PtvId],
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        self.0.read_many(kind, ptv_ids).await
    }

    async fn connections(
        &self,
        services: &[RemoteItem],
    ) -> Result<Fetched<Vec<RemoteConnection>>, PtvError> {
        self.0.connections(services).await
    }

    async fn sub_organizations(&self, org: &PtvId) -> Result<Fetched<Vec<PtvId>>, PtvError> {
        self.0.sub_organizations(org).await
    }

    async fn read_latest(
        &self,
        kind: ItemKind,
        ptv_id: &PtvId,
    ) -> Result<Option<RemoteItem>, PtvError> {
        self.0.read_latest(kind, ptv_id).await
    }

    async fn list_archived(
        &self,
        org: &PtvId,
        kind: ItemKind,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Fetched<Vec<ArchivedItem>>, PtvError> {
        self.0.list_archived(org, kind, since).await
    }

    fn sent_body(&self, w: &ItemWrite<'_>) -> Result<serde_json::Value, PtvError> {
        Ok(self.0.map_item(w.item, w.owner)?.body)
    }

    fn token_expiry(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.token_expiry()
    }

    fn logins(&self) -> u64 {
        self.0.logins()
    }

    async fn login(&self) -> Result<(), PtvError> {
        self.0.login().await
    }
}

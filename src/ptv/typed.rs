//! The typed port over either adapter: every [`Wire`] is a [`PtvApi`]. A write maps the
//! model item with the adapter's own mapper ([`Wire::map_item`]), calls the adapter, and
//! hands back what the version could not carry with the result; reads are the adapter's
//! own ([`super::PtvRead`]), with nothing in between.

use super::wire::{ConnectionsWrite, Wire, Write};
use super::{Archive, ConnectionSet, ItemWrite, PtvApi, PtvError, Written};
use crate::model::PtvId;

fn write<W: Wire>(wire: &W, w: &ItemWrite<'_>) -> Result<(Write, Vec<String>), PtvError> {
    let mapped = wire.map_item(w.item, w.owner)?;
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

fn with_not_sent(r: Result<Written, PtvError>, not_sent: Vec<String>) -> Result<Written, PtvError> {
    r.map(|mut w| {
        w.not_sent = not_sent;
        w
    })
}

#[async_trait::async_trait]
impl<W: Wire> PtvApi for W {
    async fn create(&self, w: &ItemWrite<'_>) -> Result<Written, PtvError> {
        let (write, not_sent) = write(self, w)?;
        with_not_sent(Wire::create(self, &write).await, not_sent)
    }

    async fn update(&self, ptv_id: &PtvId, w: &ItemWrite<'_>) -> Result<Written, PtvError> {
        let (write, not_sent) = write(self, w)?;
        with_not_sent(Wire::update(self, ptv_id, &write).await, not_sent)
    }

    async fn restore(&self, ptv_id: &PtvId, w: &ItemWrite<'_>) -> Result<Written, PtvError> {
        let (write, not_sent) = write(self, w)?;
        with_not_sent(Wire::restore(self, ptv_id, &write).await, not_sent)
    }

    /// The last item's full body where it can still be built; otherwise an empty one
    /// (v12 archives without a body; v11 then sends only `sourceId` and the status).
    async fn archive(&self, ptv_id: &PtvId, a: &Archive<'_>) -> Result<Written, PtvError> {
        let full = a.last.and_then(|item| {
            write(
                self,
                &ItemWrite {
                    item,
                    source_id: a.source_id,
                    owner: a.owner,
                },
            )
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
        Wire::archive(self, ptv_id, &write).await
    }

    async fn set_connections(&self, c: &ConnectionSet<'_>) -> Result<Written, PtvError> {
        let mut not_sent = Vec::new();
        let desired = c
            .desired
            .iter()
            .map(|(conn, channel)| {
                let m = self.map_connection(conn, c.service_ptv_id, channel);
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
        with_not_sent(Wire::set_connections(self, &write).await, not_sent)
    }

    fn sent_body(&self, w: &ItemWrite<'_>) -> Result<serde_json::Value, PtvError> {
        Ok(self.map_item(w.item, w.owner)?.body)
    }
}

//! One step: what a create, update, restore, archive or connection-set write does (how
//! it can fail: [`StepError`]).

use super::commit::Ctx;
use super::error::StepError;
use super::{Engine, ItemResult};
use crate::fingerprint::sha256_hex;
use crate::model::{Action, Item, ItemKind, Outcome, PtvId};
use crate::plan::{Desired, Step};
use crate::ptv::{Archive, ConnectionSet, ItemWrite, PtvError, Written};
use crate::store::{ItemRecord, ItemStatus, RemoteState, RunItem};

impl Engine {
    pub(super) async fn step(&self, ctx: &Ctx, s: &Step) -> ItemResult {
        let mut result = ItemResult {
            kind: s.kind,
            id: s.id.clone(),
            action: s.action,
            outcome: Outcome::Ok,
            error: None,
        };
        if self.cancel.is_cancelled() {
            result.outcome = Outcome::Skipped;
            result.error = Some(StepError::ShuttingDown.to_string());
            return result;
        }
        let outcome = if let Some((outcome, message)) = ctx.held.get(&(s.kind, s.id.clone())) {
            Err(StepError::Held {
                outcome: *outcome,
                message: message.clone(),
            })
        } else {
            match s.action {
                Action::Archive => self.archive(ctx, s).await,
                Action::Create | Action::Update | Action::Restore
                    if s.kind == ItemKind::Connections =>
                {
                    self.connections(ctx, s).await
                }
                Action::Create | Action::Update | Action::Restore | Action::Touch => {
                    self.upsert(ctx, s).await
                }
                _ => Ok(()),
            }
        };
        if let Err(e) = outcome {
            result.outcome = e.outcome();
            result.error = Some(e.to_string());
        }
        let item = RunItem {
            kind: s.kind,
            source_id: s.id.clone(),
            action: recorded_action(s),
            outcome: result.outcome,
            error: result.error.clone(),
        };
        if let Err(e) = self.store.record_run_item(ctx.run_id, &item).await {
            tracing::warn!("cannot record run item {} {}: {e}", s.kind, s.id);
        }
        result
    }

    async fn upsert(&self, ctx: &Ctx, s: &Step) -> Result<(), StepError> {
        let Some((desired, item)) = s.desired.as_deref().and_then(|d| Some((d, d.item()?))) else {
            return Err(StepError::Gone);
        };
        let owner = self.owner_ptv_id(ctx, &item)?;
        let payload = desired.payload();
        let mut rec = self.whole_row(ctx, s.kind, &s.id).await?;

        // A channel cannot change type in PTV: archive the old one, create afresh.
        if s.action == Action::Update
            && let (Item::Channel(c), Some(old)) = (&item, rec.payload.as_ref())
            && let Ok(old_channel) = old.parse::<crate::model::Channel>()
            && old_channel.channel_type != c.channel_type
        {
            if let Some(old_id) = rec.ptv_id {
                let old_item = Item::Channel(old_channel);
                {
                    let a = Archive {
                        kind: s.kind,
                        source_id: &rec.ptv_source_id,
                        owner: &owner,
                        last: Some(&old_item),
                    };
                    match self.api.archive(&old_id, &a).await {
                        Ok(wr) => {
                            self.audit(
                                s.kind,
                                &s.id,
                                Action::Archive,
                                Some(&wr.ptv_id),
                                wr.http_status,
                                &wr.body_sha256,
                            )
                            .await;
                        }
                        Err(e) => {
                            return Err(self.fail(ctx, rec, s, &e, Action::Archive).await);
                        }
                    }
                }
            }
            self.next_generation(&mut rec).await?;
            self.record_intent(ctx, &mut rec, &payload).await?;
            let source_id = rec.ptv_source_id.clone();
            let w = ItemWrite {
                item: &item,
                source_id: &source_id,
                owner: &owner,
            };
            return match self.api.create(&w).await {
                Ok(wr) => {
                    self.succeed(ctx, rec, s, &wr, Action::Create, Some(payload))
                        .await
                }
                Err(e) => Err(self.fail(ctx, rec, s, &e, Action::Create).await),
            };
        }

        let (action, result) = match (s.action, rec.ptv_id) {
            (Action::Update, Some(id)) => (
                Action::Update,
                self.api.update(&id, &item_write(&rec, &item, &owner)).await,
            ),
            // The same content again: the save itself is the point (PTV's clock).
            (Action::Touch, Some(id)) => (
                Action::Touch,
                self.api.update(&id, &item_write(&rec, &item, &owner)).await,
            ),
            (Action::Restore, Some(id)) => (
                Action::Restore,
                self.api
                    .restore(&id, &item_write(&rec, &item, &owner))
                    .await,
            ),
            _ => {
                // An earlier create was sent but never confirmed (the process died, or PTV
                // did not answer): look for it before posting again.
                let adopted = if unconfirmed_create(&rec) {
                    match self.find_unconfirmed(&rec, &item, &owner).await {
                        Ok(found) => found,
                        Err(e) => return Err(self.fail(ctx, rec, s, &e, Action::Create).await),
                    }
                } else {
                    None
                };
                self.record_intent(ctx, &mut rec, &payload).await?;
                let w = item_write(&rec, &item, &owner);
                let result = match &adopted {
                    // It gets our body now: it may hold what the earlier run sent.
                    Some(found) if found.archived => self.api.restore(&found.ptv_id, &w).await,
                    Some(found) => self.api.update(&found.ptv_id, &w).await,
                    None => self.api.create(&w).await,
                };
                let result = result.map(|mut wr| {
                    wr.adopted |= adopted.is_some();
                    wr
                });
                (Action::Create, result)
            }
        };
        match result {
            Ok(w) => self.succeed(ctx, rec, s, &w, action, Some(payload)).await,
            // PTV no longer has it (removed, or archived by someone else beyond restore):
            // create it afresh under the next generation of its sourceId.
            Err(PtvError::NotFound { .. }) if action != Action::Create => {
                tracing::warn!(organization = %self.org.name, kind = %s.kind, id = %s.id, "PTV no longer has this item; creating it again under a new sourceId generation");
                self.next_generation(&mut rec).await?;
                self.record_intent(ctx, &mut rec, &payload).await?;
                match self.api.create(&item_write(&rec, &item, &owner)).await {
                    Ok(wr) => {
                        self.succeed(ctx, rec, s, &wr, Action::Create, Some(payload))
                            .await
                    }
                    Err(e) => Err(self.fail(ctx, rec, s, &e, Action::Create).await),
                }
            }
            Err(e) => Err(self.fail(ctx, rec, s, &e, action).await),
        }
    }

    async fn connections(&self, ctx: &Ctx, s: &Step) -> Result<(), StepError> {
        let Some(
            desired @ Desired::Connections {
                set,
                previous_channel_ids,
            },
        ) = s.desired.as_deref()
        else {
            return Err(StepError::Gone);
        };
        let service = self.ptv_id_of(ctx, ItemKind::Service, Some(&s.id))?;
        let mut channel_ids = Vec::with_capacity(set.len());
        for c in set {
            channel_ids.push(self.ptv_id_of(ctx, ItemKind::Channel, Some(&c.channel))?);
        }
        let rec = self.row(ctx, ItemKind::Connections, &s.id);
        let service_row = self.row(ctx, ItemKind::Service, &s.id);
        let write = ConnectionSet {
            service_ptv_id: &service,
            service_source_id: &service_row.ptv_source_id,
            desired: set.iter().zip(channel_ids.iter().copied()).collect(),
            previous_channel_ids: previous_channel_ids.clone(),
        };
        // Remembers the channel PTV ids we set, for v12's removals next time.
        let payload = desired.connections_payload(&channel_ids);
        match self.api.set_connections(&write).await {
            Ok(w) => {
                self.succeed(ctx, rec, s, &w, Action::Connections, Some(payload))
                    .await
            }
            Err(e) => Err(self.fail(ctx, rec, s, &e, Action::Connections).await),
        }
    }

    async fn archive(&self, ctx: &Ctx, s: &Step) -> Result<(), StepError> {
        let rec = self.whole_row(ctx, s.kind, &s.id).await?;
        if rec.protected {
            return Ok(());
        }
        let item: Option<Item> = rec.payload.as_ref().and_then(|p| match s.kind {
            ItemKind::Organization => p.parse().ok().map(Item::Organization),
            ItemKind::Service => p.parse().ok().map(Item::Service),
            ItemKind::Channel => p.parse().ok().map(Item::Channel),
            ItemKind::Connections => None,
        });
        // The owner's PTV id matters for lookups (v11 lists by organisation).
        let owner = item
            .as_ref()
            .and_then(|i| self.owner_ptv_id(ctx, i).ok())
            .unwrap_or(self.org.main_organization_id);
        let write = Archive {
            kind: s.kind,
            source_id: &rec.ptv_source_id,
            owner: &owner,
            last: item.as_ref(),
        };
        // No PTV id: a create was attempted but never confirmed. Find it by sourceId; if PTV
        // never got it, there is nothing to archive and the row is cleared.
        let ptv_id = match rec.ptv_id {
            Some(id) => id,
            None => match self.api.find(&crate::ptv::Lookup::of_archive(&write)).await {
                Ok(Some(found)) if !found.archived => found.ptv_id,
                Ok(_) => {
                    let mut cleared = rec;
                    cleared.attempts = 0;
                    cleared.last_error = None;
                    cleared.payload = None;
                    cleared.last_touched_at = self.clock.now();
                    return self.commit(ctx, cleared).await;
                }
                Err(e) => return Err(self.fail(ctx, rec, s, &e, Action::Archive).await),
            },
        };
        let result = match self.api.archive(&ptv_id, &write).await {
            // Already gone from PTV's live set: the archive is done.
            Err(PtvError::NotFound { .. }) => Ok(Written {
                ptv_id,
                http_status: 404,
                body_sha256: sha256_hex(b""),
                adopted: false,
                requests: 1,
                not_sent: Vec::new(),
            }),
            other => other,
        };
        match result {
            Ok(w) => {
                self.succeed(ctx, rec, s, &w, Action::Archive, None).await?;
                if s.kind == ItemKind::Service {
                    // The service's connection set goes with it; PTV needs no write for that.
                    let mut conn = self.row(ctx, ItemKind::Connections, &s.id);
                    if conn.remote == RemoteState::Live {
                        conn.remote = RemoteState::Archived;
                        conn.status = ItemStatus::Archived;
                        conn.last_touched_at = self.clock.now();
                        self.commit(ctx, conn).await?;
                    }
                }
                Ok(())
            }
            Err(e) => Err(self.fail(ctx, rec, s, &e, Action::Archive).await),
        }
    }
}

/// A create was recorded as intended (see `record_intent`) but its outcome never was.
pub(super) fn unconfirmed_create(rec: &ItemRecord) -> bool {
    rec.ptv_id.is_none() && rec.attempts > 0 && rec.remote != RemoteState::Live
}

impl Engine {
    /// Looks up an item whose earlier create was never confirmed: by sourceId, and (v12
    /// channels have no externalId) by type, organisation and Finnish name, both the
    /// name sent then and the name now.
    async fn find_unconfirmed(
        &self,
        rec: &ItemRecord,
        item: &Item,
        owner: &PtvId,
    ) -> Result<Option<crate::ptv::Found>, PtvError> {
        let sent: Option<Item> = rec.payload.as_ref().and_then(|p| match item {
            Item::Organization(_) => p.parse().ok().map(Item::Organization),
            Item::Service(_) => p.parse().ok().map(Item::Service),
            Item::Channel(_) => p.parse().ok().map(Item::Channel),
        });
        let mut names = vec![item.display_name()];
        if let Some(old) = sent.as_ref().map(Item::display_name)
            && !names.contains(&old)
        {
            names.push(old);
        }
        for name in names {
            let lookup = crate::ptv::Lookup {
                kind: item.kind(),
                channel_type: item.channel_type(),
                source_id: rec.ptv_source_id.clone(),
                organization_ptv_id: *owner,
                name_fi: Some(name),
            };
            if let Some(found) = self.api.find(&lookup).await? {
                tracing::info!(organization = %self.org.name, kind = %rec.kind, id = %rec.source_id, ptv_id = %found.ptv_id, "found the item an unconfirmed create made; adopting it");
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

fn item_write<'a>(rec: &'a ItemRecord, item: &'a Item, owner: &'a PtvId) -> ItemWrite<'a> {
    ItemWrite {
        item,
        source_id: &rec.ptv_source_id,
        owner,
    }
}

/// A connection set's write is recorded as `connections`, whatever the plan called it; any
/// other step as planned (only steps that write reach here).
fn recorded_action(s: &Step) -> Action {
    if s.kind == ItemKind::Connections {
        Action::Connections
    } else {
        s.action
    }
}

//! Committing what a step did: the working copy of the organisation's rows, each row
//! written to the store first and then to the working copy, the audit line after the
//! commit, and a failure recorded on its row.

use super::Engine;
use super::error::StepError;
use crate::model::{Action, Item, ItemKind, PtvId, SourceId, ptv_source_id};
use crate::plan::Step;
use crate::ptv::{PtvError, Written};
use crate::store::{
    ErrorClass, ItemError, ItemRecord, ItemStatus, NewAuditEntry, Payload, RemoteState,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The working copy of the organisation's rows during a run.
pub(super) type Rows = Arc<Mutex<HashMap<(ItemKind, SourceId), ItemRecord>>>;

/// What every step of one run shares.
pub(super) struct Ctx {
    pub(super) rows: Rows,
    pub(super) run_id: i64,
    /// Creates not sent this run: PTV holds an unlinked item they would duplicate.
    pub(super) held: super::existing::Held,
}

impl Ctx {
    pub(super) fn new(rows: Vec<ItemRecord>, run_id: i64) -> Self {
        Ctx {
            rows: Arc::new(Mutex::new(
                rows.into_iter()
                    .map(|r| ((r.kind, r.source_id.clone()), r))
                    .collect(),
            )),
            run_id,
            held: super::existing::Held::new(),
        }
    }
}

impl Engine {
    pub(super) fn row(&self, ctx: &Ctx, kind: ItemKind, id: &SourceId) -> ItemRecord {
        let rows = ctx.rows.lock().expect("rows lock");
        rows.get(&(kind, id.clone())).cloned().unwrap_or_else(|| {
            let mut r = ItemRecord::new(self.org.state_key(), kind, id, self.clock.now());
            r.ptv_source_id = ptv_source_id(&self.org.source_id_prefix, kind, id, 0);
            r
        })
    }

    /// The row with its stored payload: the working copy holds services and channels as
    /// heads. The store is never behind the working copy (`commit` writes it first).
    pub(super) async fn whole_row(
        &self,
        ctx: &Ctx,
        kind: ItemKind,
        id: &SourceId,
    ) -> Result<ItemRecord, StepError> {
        if matches!(kind, ItemKind::Service | ItemKind::Channel) {
            let stored = self
                .store
                .item(self.org.state_key(), kind, id.as_str())
                .await?;
            if let Some(rec) = stored {
                return Ok(rec);
            }
        }
        Ok(self.row(ctx, kind, id))
    }

    pub(super) fn ptv_id_of(
        &self,
        ctx: &Ctx,
        kind: ItemKind,
        id: Option<&SourceId>,
    ) -> Result<PtvId, StepError> {
        let Some(id) = id else {
            return Ok(self.org.main_organization_id);
        };
        let rows = ctx.rows.lock().expect("rows lock");
        rows.get(&(kind, id.clone()))
            .filter(|r| r.remote == RemoteState::Live)
            .and_then(|r| r.ptv_id)
            .ok_or_else(|| StepError::Waiting {
                kind,
                id: id.clone(),
            })
    }

    /// Commits a row: first in the store, then in the working copy.
    pub(super) async fn commit(&self, ctx: &Ctx, rec: ItemRecord) -> Result<(), StepError> {
        self.store.put_item(&rec).await?;
        Self::keep_head(ctx, rec);
        Ok(())
    }

    /// [`commit`](Self::commit) with the audit entry of the write, in one store
    /// transaction: a crash cannot keep the row and lose its audit line.
    async fn commit_audited(
        &self,
        ctx: &Ctx,
        rec: ItemRecord,
        entry: &NewAuditEntry,
    ) -> Result<(), StepError> {
        self.store.put_item_audited(&rec, entry).await?;
        Self::keep_head(ctx, rec);
        Ok(())
    }

    fn keep_head(ctx: &Ctx, rec: ItemRecord) {
        let mut head = rec;
        if matches!(head.kind, ItemKind::Service | ItemKind::Channel) {
            head.payload = None; // see `whole_row`
        }
        ctx.rows
            .lock()
            .expect("rows lock")
            .insert((head.kind, head.source_id.clone()), head);
    }

    /// Appends the audit entry of a write that changes no row (its outcome is logged if
    /// the append fails: the write to PTV happened either way).
    pub(super) async fn audit(
        &self,
        kind: ItemKind,
        id: &SourceId,
        action: Action,
        ptv_id: Option<&PtvId>,
        status: u16,
        body_sha: &str,
    ) {
        let entry = self.audit_entry(kind, id, action, ptv_id, status, body_sha);
        if let Err(e) = self.store.append_audit(&entry).await {
            tracing::error!("audit append failed for {kind} {id}: {e}");
        }
    }

    fn audit_entry(
        &self,
        kind: ItemKind,
        id: &SourceId,
        action: Action,
        ptv_id: Option<&PtvId>,
        status: u16,
        body_sha: &str,
    ) -> NewAuditEntry {
        NewAuditEntry {
            at: self.clock.now(),
            org: self.org.state_key().to_owned(),
            actor: self.actor.clone(),
            action,
            kind,
            source_id: id.to_string(),
            ptv_id: ptv_id.map(ToString::to_string),
            http_status: Some(status),
            body_sha256: (!body_sha.is_empty()).then(|| body_sha.to_owned()),
            reason: None,
        }
    }

    /// Records a failed attempt on the row and turns the error into the step's.
    pub(super) async fn fail(
        &self,
        ctx: &Ctx,
        mut rec: ItemRecord,
        s: &Step,
        e: &PtvError,
        action: Action,
    ) -> StepError {
        let class = e.class();
        let message = e.to_string();
        if let Some(status) = e.http_status() {
            self.audit(s.kind, &s.id, action, rec.ptv_id.as_ref(), status, "")
                .await;
        }
        rec.status = if class == ErrorClass::NeedsPerson {
            ItemStatus::Blocked
        } else {
            ItemStatus::Failed
        };
        rec.last_error = Some(Box::new(ItemError {
            class,
            message: message.clone(),
            fields: e.fields().cloned().unwrap_or_default(),
            fingerprint: s.fingerprint.map(|f| f.to_string()),
            at: self.clock.now(),
        }));
        rec.attempts += 1;
        rec.last_touched_at = self.clock.now();
        tracing::warn!(organization = %self.org.name, kind = %s.kind, id = %s.id, "{message}");
        metrics::counter!("ptv_sync_writes_total", "org" => self.org.name.to_string(), "kind" => s.kind.as_str(), "action" => action.as_str(), "outcome" => class.as_str()).increment(1);
        if let Err(err) = self.commit(ctx, rec).await {
            return err;
        }
        StepError::Ptv(e.clone())
    }

    pub(super) async fn succeed(
        &self,
        ctx: &Ctx,
        mut rec: ItemRecord,
        s: &Step,
        w: &Written,
        action: Action,
        payload: Option<serde_json::Value>,
    ) -> Result<(), StepError> {
        let now = self.clock.now();
        rec.ptv_id = Some(w.ptv_id);
        if action == Action::Archive {
            rec.remote = RemoteState::Archived;
            rec.status = ItemStatus::Archived;
        } else {
            rec.remote = RemoteState::Live;
            rec.status = ItemStatus::Active;
            rec.fingerprint = s.fingerprint.map(|f| f.to_string());
            rec.payload = payload.map(Payload::from);
            rec.first_pushed_at.get_or_insert(now);
            rec.last_pushed_at = Some(now);
        }
        rec.last_error = None;
        rec.attempts = 0;
        rec.last_touched_at = now;
        if !w.not_sent.is_empty() {
            tracing::info!(organization = %self.org.name, kind = %s.kind, id = %s.id, "not sent, this PTV version cannot carry it: {}", w.not_sent.join("; "));
        }
        let audited = if w.adopted { Action::Adopt } else { action };
        let mut entry = self.audit_entry(
            s.kind,
            &s.id,
            audited,
            Some(&w.ptv_id),
            w.http_status,
            &w.body_sha256,
        );
        // Why an unchanged item is sent again: the drift check's note.
        entry.reason = s
            .reason
            .clone()
            .filter(|r| r.starts_with(crate::store::DRIFT_NOTE_PREFIX));
        self.commit_audited(ctx, rec, &entry).await?;
        metrics::counter!("ptv_sync_writes_total", "org" => self.org.name.to_string(), "kind" => s.kind.as_str(), "action" => audited.as_str(), "outcome" => "ok").increment(1);
        Ok(())
    }

    /// The PTV id of the organisation an item hangs under.
    pub(super) fn owner_ptv_id(&self, ctx: &Ctx, item: &Item) -> Result<PtvId, StepError> {
        match item {
            Item::Organization(o) => self.ptv_id_of(ctx, ItemKind::Organization, o.parent.as_ref()),
            Item::Service(s) => {
                self.ptv_id_of(ctx, ItemKind::Organization, s.organization.as_ref())
            }
            Item::Channel(c) => {
                self.ptv_id_of(ctx, ItemKind::Organization, c.organization.as_ref())
            }
        }
    }

    /// Picks the next free generation for an item whose sourceId PTV still holds.
    pub(super) async fn next_generation(&self, rec: &mut ItemRecord) -> Result<(), StepError> {
        let scope = rec.ptv_scope().unwrap_or("connection");
        let mut g = rec.generation + 1;
        loop {
            let candidate = ptv_source_id(&self.org.source_id_prefix, rec.kind, &rec.source_id, g);
            let taken = self
                .store
                .source_id_taken(self.org.state_key(), scope, candidate.as_str())
                .await?;
            if !taken {
                rec.generation = g;
                rec.ptv_source_id = candidate;
                rec.ptv_id = None;
                rec.remote = RemoteState::Absent;
                return Ok(());
            }
            g += 1;
        }
    }

    /// Before a create, the row records the attempt and what is being created: if the
    /// process dies after PTV applied it but before we commit, and the item then leaves the
    /// source, the planner still knows to find it in PTV and archive it.
    pub(super) async fn record_intent(
        &self,
        ctx: &Ctx,
        rec: &mut ItemRecord,
        payload: &serde_json::Value,
    ) -> Result<(), StepError> {
        if rec.remote == RemoteState::Live {
            return Ok(());
        }
        rec.attempts += 1;
        rec.payload = Some(Payload::new(payload));
        rec.last_touched_at = self.clock.now();
        self.commit(ctx, rec.clone()).await
    }
}

//! One stage of the readiness test through the engine, and the read-backs of what it
//! wrote: items field by field, connection sets by their channels, archives by PTV's
//! archive list or the read by id.

use super::testset::{Removed, TestSet};
use super::{ItemCheck, readback};
use crate::apply::{Engine, ItemResult, RunOptions};
use crate::config::OrgConfig;
use crate::model::{ChannelType, Item, ItemKind, Outcome, PtvId, ptv_source_id};
use crate::plan::Step;
use crate::ptv::wire::Wire;
use crate::ptv::{Lookup, PtvApi, RequestLog};
use crate::store::StateStore;
use crate::validate::Finding;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What one stage did.
pub(super) struct StageRun {
    pub(super) steps: Vec<Step>,
    pub(super) results: Vec<ItemResult>,
    pub(super) findings: Vec<Finding>,
}

pub(super) struct Runner {
    /// The readiness organisation: the real one's PTV settings, our key and source.
    pub(super) org: OrgConfig,
    pub(super) main_id: crate::model::PtvId,
    pub(super) source_dir: std::path::PathBuf,
    pub(super) store: Arc<dyn StateStore>,
    pub(super) api: Arc<dyn PtvApi>,
    /// The adapter's own mapper: what a write sent, for the read-back.
    pub(super) wire: Arc<dyn Wire>,
    pub(super) engine: Engine,
    pub(super) log: RequestLog,
    pub(super) ui_base: url::Url,
}

fn kind_label(kind: ItemKind, t: Option<ChannelType>) -> String {
    match (kind, t) {
        (ItemKind::Channel, Some(t)) => format!("{t} channel"),
        (ItemKind::Organization, _) => "sub-organisation".into(),
        (k, _) => k.to_string(),
    }
}

pub(super) fn blank(kind: ItemKind, t: Option<ChannelType>, id: &str) -> ItemCheck {
    ItemCheck {
        kind: kind_label(kind, t),
        source_id: id.to_owned(),
        ptv_id: None,
        link: None,
        ok: false,
        outcome: String::new(),
        readback: String::new(),
    }
}

/// Records how the step's write went; `false` when it did not succeed (nothing to read
/// back).
fn write_outcome(c: &mut ItemCheck, step: &Step, result: Option<&ItemResult>) -> bool {
    if result.is_none_or(|r| r.outcome != Outcome::Ok) {
        c.outcome = result
            .and_then(|r| r.error.clone())
            .unwrap_or_else(|| "not attempted".into());
        c.readback = "not read back: the write did not succeed".into();
        return false;
    }
    c.outcome = format!("{} ok", step.action.as_str());
    true
}

fn channel_type_of(step: &Step) -> Option<ChannelType> {
    step.desired
        .as_deref()
        .and_then(crate::plan::Desired::item)
        .and_then(|i| i.channel_type())
}

impl Runner {
    /// Writes the stage's documents as the source and runs them through the engine.
    pub(super) async fn stage(&self, docs: &[Value]) -> anyhow::Result<StageRun> {
        std::fs::write(
            self.source_dir.join("testset.json"),
            serde_json::to_vec_pretty(docs)?,
        )?;
        let opts = RunOptions {
            // The test set is small and ours: removing most of it is the point.
            allow_mass_archive: true,
            ..RunOptions::default()
        };
        // The engine's own clock, as its runs plan by.
        let now = self.engine.clock.now();
        let prepared = crate::pipeline::prepare(&self.org, self.store.as_ref(), &opts, now).await?;
        let findings = prepared.validated.findings.clone();
        let steps: Vec<Step> = prepared
            .plan
            .steps
            .iter()
            .filter(|s| s.action.writes())
            .cloned()
            .collect();
        let report = self.engine.apply(prepared, &opts).await?;
        Ok(StageRun {
            steps,
            results: report.results,
            findings,
        })
    }

    pub(super) async fn ptv_id_of(&self, kind: ItemKind, id: &str) -> Option<PtvId> {
        self.store
            .item(self.org.state_key(), kind, id)
            .await
            .ok()
            .flatten()
            .and_then(|r| r.ptv_id)
    }

    /// The PTV id of an item's organisation (a sub-organisation's parent); `None` when
    /// the sub-organisation has none recorded.
    pub(super) async fn owner_of(&self, owner: Option<&str>) -> Option<crate::model::PtvId> {
        match owner {
            Some(id) => self
                .store
                .item(self.org.state_key(), ItemKind::Organization, id)
                .await
                .ok()
                .flatten()
                .and_then(|r| r.ptv_id),
            None => Some(self.main_id),
        }
    }

    pub(super) fn link(&self, kind: ItemKind, ptv_id: &PtvId) -> String {
        let segment = match kind {
            ItemKind::Organization => "organization",
            ItemKind::Channel => "channel",
            ItemKind::Service | ItemKind::Connections => "service",
        };
        format!(
            "{}/{segment}/{ptv_id}",
            self.ui_base.as_str().trim_end_matches('/')
        )
    }

    pub(super) fn with_ptv_id(
        &self,
        mut c: ItemCheck,
        kind: ItemKind,
        ptv_id: Option<PtvId>,
    ) -> ItemCheck {
        c.link = ptv_id.as_ref().map(|p| self.link(kind, p));
        c.ptv_id = ptv_id;
        c
    }

    /// A written organisation, service or channel: its result, then PTV's copy compared
    /// with what the adapter maps the item to.
    pub(super) async fn check_item(&self, step: &Step, result: Option<&ItemResult>) -> ItemCheck {
        let t = channel_type_of(step);
        let mut c = blank(step.kind, t, step.id.as_str());
        let ptv_id = self.ptv_id_of(step.kind, step.id.as_str()).await;
        c = self.with_ptv_id(c, step.kind, ptv_id);
        if !write_outcome(&mut c, step, result) {
            return c;
        }
        let (Some(ptv_id), Some(item)) = (
            ptv_id,
            step.desired.as_deref().and_then(crate::plan::Desired::item),
        ) else {
            c.readback = "no PTV id recorded for the item".into();
            return c;
        };
        match self.compare(&item, &ptv_id).await {
            Ok(detail) => {
                c.ok = true;
                c.readback = detail;
            }
            Err(why) => c.readback = why,
        }
        c
    }

    pub(super) async fn compare(&self, item: &Item, ptv_id: &PtvId) -> Result<String, String> {
        let owner = match item {
            Item::Organization(o) => o.parent.as_ref(),
            Item::Service(s) => s.organization.as_ref(),
            Item::Channel(ch) => ch.organization.as_ref(),
        };
        let Some(owner) = self
            .owner_of(owner.map(crate::model::SourceId::as_str))
            .await
        else {
            return Err("its organisation has no PTV id recorded".into());
        };
        let sent = self
            .wire
            .map_item(item, &owner)
            .map_err(|e| format!("cannot map the item again: {e}"))?
            .body;
        let read = self
            .api
            .read(item.kind(), item.channel_type(), ptv_id)
            .await
            .map_err(|e| format!("read-back failed: {e}"))?
            .ok_or_else(|| format!("PTV shows no item with id {ptv_id}"))?;
        let diffs = readback::differences(&sent, &read);
        if diffs.is_empty() {
            Ok(format!(
                "read back: all {} fields sent match",
                readback::leaves(&sent)
            ))
        } else {
            Err(format!(
                "read back: differs from what was sent at {}",
                diffs.join(", ")
            ))
        }
    }

    /// A written connection set: the channels PTV shows connected are the ones sent.
    pub(super) async fn check_connections(
        &self,
        step: &Step,
        result: Option<&ItemResult>,
        set: &TestSet,
    ) -> ItemCheck {
        let mut c = blank(ItemKind::Connections, None, step.id.as_str());
        let service = self.ptv_id_of(ItemKind::Service, step.id.as_str()).await;
        c = self.with_ptv_id(c, ItemKind::Service, service);
        if !write_outcome(&mut c, step, result) {
            return c;
        }
        let Some(service) = service else {
            c.readback = "no PTV id recorded for the service".into();
            return c;
        };
        let mut want = BTreeSet::new();
        for (_, ch) in set
            .connection_pairs()
            .into_iter()
            .filter(|(s, _)| step.id == s.as_str())
        {
            if let Some(id) = self.ptv_id_of(ItemKind::Channel, &ch).await {
                want.insert(id);
            }
        }
        match self.connected(&service).await {
            Ok(have) => {
                if have == want {
                    c.ok = true;
                    c.readback = format!(
                        "read back: PTV shows the {} channel(s) sent connected; their additional information (charge type, description, service hours) was sent with each",
                        want.len()
                    );
                } else {
                    let (have, want) = (texts(&have), texts(&want));
                    c.readback =
                        format!("read back: PTV shows channels {have:?} connected, sent {want:?}");
                }
            }
            Err(e) => c.readback = format!("read-back failed: {e}"),
        }
        c
    }

    /// The channels PTV shows connected to `service` (PTV ids), through the catalogue's
    /// connection read.
    async fn connected(&self, service: &PtvId) -> Result<BTreeSet<PtvId>, String> {
        let item = self
            .api
            .read_latest(ItemKind::Service, service)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("PTV shows no service with id {service}"))?;
        let conns = self
            .api
            .connections(std::slice::from_ref(&item))
            .await
            .map_err(|e| e.to_string())?;
        Ok(conns
            .value
            .into_iter()
            .filter(|c| c.service == *service)
            .map(|c| c.channel)
            .collect())
    }

    /// An item taken out of the source: PTV finds it archived.
    pub(super) async fn check_archived(
        &self,
        r: &Removed,
        result: Option<&ItemResult>,
    ) -> ItemCheck {
        let mut c = blank(r.kind, r.channel_type, &r.id);
        let rec = self
            .store
            .item(self.org.state_key(), r.kind, &r.id)
            .await
            .ok()
            .flatten();
        let ptv_id = rec.as_ref().and_then(|r| r.ptv_id);
        c = self.with_ptv_id(c, r.kind, ptv_id);
        c.outcome = match result {
            Some(res) if res.outcome == Outcome::Ok => "archive ok".into(),
            Some(res) => res
                .error
                .clone()
                .unwrap_or_else(|| res.outcome.as_str().into()),
            None => "no archive was planned".into(),
        };
        let Some(source_id) = rec.map(|rec| rec.ptv_source_id).or_else(|| {
            crate::model::SourceId::parse(&r.id)
                .ok()
                .map(|id| ptv_source_id(&self.org.source_id_prefix, r.kind, &id, 0))
        }) else {
            c.readback = format!("not looked up: '{}' is no source id", r.id);
            return c;
        };
        let lookup = Lookup {
            kind: r.kind,
            channel_type: r.channel_type,
            source_id,
            // An organisation with no PTV id recorded: looked for under the main one.
            organization_ptv_id: self
                .owner_of(r.owner.as_deref())
                .await
                .unwrap_or(self.main_id),
            name_fi: r.name_fi.clone(),
        };
        let archived_ok = result.is_some_and(|res| res.outcome == Outcome::Ok);
        match self.api.find(&lookup).await {
            Ok(Some(found)) if found.archived => {
                c.ok = archived_ok;
                c.readback = "read back: PTV lists it archived".into();
            }
            Ok(Some(_)) => c.readback = "read back: PTV still holds it live".into(),
            // Where PTV lists no archived items (v11 has no archive list for
            // organisations), the read by id must show it archived or no more.
            Ok(None) => match c.ptv_id {
                Some(id) => match self.api.read(r.kind, r.channel_type, &id).await {
                    Ok(None) => {
                        c.ok = archived_ok;
                        c.readback = "read back: PTV confirmed the archive and no longer shows the item (read by id: not found; not in the organisation's list)".into();
                    }
                    Ok(Some(body)) if is_archived(&body) => {
                        c.ok = archived_ok;
                        c.readback = "read back: PTV holds it archived".into();
                    }
                    Ok(Some(_)) => c.readback = "read back: PTV still shows it live".into(),
                    Err(e) => c.readback = format!("read-back failed: {e}"),
                },
                None => c.readback = "read back: no PTV id was recorded for it".into(),
            },
            Err(e) => c.readback = format!("read-back failed: {e}"),
        }
        c
    }

    /// A language PTV's copy of the main organisation lacks: a service in it passes our
    /// validation (the main organisation is not in the source) and PTV refuses it
    /// (reference §12 rule 12).
    pub(super) async fn missing_language(&self) -> Option<String> {
        let body = self
            .api
            .read(ItemKind::Organization, None, &self.main_id)
            .await
            .ok()??;
        let mut langs: BTreeSet<String> = body["organizationNames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["language"].as_str().map(str::to_owned))
            .collect();
        if let Some(lv) = body["languageVersions"].as_object() {
            langs.extend(lv.keys().cloned());
        }
        if langs.is_empty() {
            return None;
        }
        ["se", "smn", "sms", "en", "sv"]
            .into_iter()
            .find(|l| !langs.contains(*l))
            .map(str::to_owned)
    }
}

/// Whether a read body says archived (v11 `publishingStatus: Deleted`, v12 `status`).
fn is_archived(body: &Value) -> bool {
    ["publishingStatus", "status"].iter().any(|k| {
        body[*k].as_str().and_then(crate::ptv::RemoteStatus::parse)
            == Some(crate::ptv::RemoteStatus::Archived)
    })
}

/// The results of one stage for (kind, id).
pub(super) fn result_of<'a>(run: &'a StageRun, kind: ItemKind, id: &str) -> Option<&'a ItemResult> {
    run.results.iter().find(|r| r.kind == kind && r.id == id)
}

/// PTV ids as the text a readback line shows.
fn texts(ids: &BTreeSet<PtvId>) -> BTreeSet<String> {
    ids.iter().map(ToString::to_string).collect()
}

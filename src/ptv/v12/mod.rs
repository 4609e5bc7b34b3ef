//! The v12 adapter: `x-api-key` on every call, bearer token on writes, bodies per the
//! official request schemas, paths and statuses from [`routes`] (the one module that
//! holds every assumption about v12 writes).

pub mod map;
mod read;
pub mod routes;
pub mod unmap;

use super::PtvRead;
use super::client::{Call, Mode, Reply, Trace, Transport};
use super::error::PtvError;
use super::wire::{ConnectionsWrite, Wire, Write};
use super::{
    ArchivedItem, Fetched, Found, Lookup, Mapped, PtvClientConfig, RemoteItem, Written, describe,
    id_of, ptv_id_in,
};
use crate::model::{ApiVersion, ChannelType, Connection, Item, ItemKind, PtvId};
use routes::Route;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Most search pages `find` reads (100 items a page).
const MAX_PAGES: u64 = 500;
const PAGE_SIZE: u64 = 100;

pub struct V12Client {
    t: Transport,
    main_organization_id: String,
    retry: super::RetryPolicy,
}

fn route_err(e: routes::RouteError) -> PtvError {
    PtvError::config(e.to_string())
}

fn written(ptv_id: PtvId, status: u16, trace: &Trace, adopted: bool) -> Written {
    Written {
        ptv_id,
        http_status: status,
        body_sha256: trace.last_body_sha256.clone().unwrap_or_default(),
        adopted,
        requests: trace.requests,
        not_sent: Vec::new(),
    }
}

/// The create body: ours plus `externalId` where v12 has one (services, organisations).
fn create_body(w: &Write) -> Result<Value, PtvError> {
    let Value::Object(mut map) = w.body.clone() else {
        return Err(PtvError::config(format!(
            "the v12 body of {} is not a JSON object",
            describe(w.kind, w.channel_type, w.source_id.as_str(), None)
        )));
    };
    if matches!(w.kind, ItemKind::Service | ItemKind::Organization) {
        map.insert("externalId".into(), Value::String(w.source_id.to_string()));
    }
    Ok(Value::Object(map))
}

/// The Finnish name of a v12 item (`languageVersions.fi.name`).
fn name_fi(item: &Value) -> Option<&str> {
    item.pointer("/languageVersions/fi/name")
        .and_then(Value::as_str)
}

/// Whether a v12 item is the one looked up: by `externalId` where PTV returns it, else
/// (channels have none, and the beta responses show none) by Finnish name, which PTV
/// keeps unique per organisation (and channel type).
fn matches(item: &Value, l: &Lookup) -> bool {
    if let Some(ext) = item.get("externalId").and_then(Value::as_str) {
        return ext == l.source_id.as_str();
    }
    if let Some(t) = l.channel_type {
        let ty = item.get("serviceChannelType").and_then(Value::as_str);
        if ty.is_some_and(|ty| ty != routes::channel_type_name(t)) {
            return false;
        }
    }
    match (&l.name_fi, name_fi(item)) {
        (Some(want), Some(have)) => want.trim() == have.trim(),
        _ => false,
    }
}

/// A UUID mentioned in a problem detail (a 409 may name the existing item).
fn uuid_in(text: &str) -> Option<PtvId> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .find_map(|w| PtvId::parse(w).ok())
}

impl V12Client {
    /// The adapter alone (`ptv::connect` picks it by version); `global` caps requests in
    /// flight across organisations.
    pub fn new(cfg: PtvClientConfig, global: Arc<Semaphore>) -> Result<Self, PtvError> {
        let main_organization_id = cfg.main_organization_id.clone();
        let retry = cfg.retry.clone();
        Ok(V12Client {
            t: Transport::new(cfg, global)?,
            main_organization_id,
            retry,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn call(
        &self,
        route: Route,
        query: Vec<(&'static str, String)>,
        body: Option<&Value>,
        mode: Mode,
        kind: ItemKind,
        item: &str,
        trace: &mut Trace,
    ) -> Result<Reply, PtvError> {
        let bearer = route.method != reqwest::Method::GET;
        let expect = route.expect;
        let method = route.method.clone();
        let reply = self
            .t
            .send(
                &Call {
                    method: route.method,
                    path: route.path,
                    query,
                    body,
                    bearer,
                    mode,
                    kind,
                    item,
                },
                trace,
            )
            .await?;
        if !expect.contains(&reply.status) {
            tracing::warn!(
                item,
                %method,
                status = reply.status,
                expected = ?expect,
                "PTV v12 answered with a status the write contract does not list; update src/ptv/v12/routes.rs"
            );
        }
        Ok(reply)
    }

    async fn get(
        &self,
        route: Route,
        query: Vec<(&'static str, String)>,
        kind: ItemKind,
        item: &str,
        trace: &mut Trace,
    ) -> Result<Option<Value>, PtvError> {
        match self
            .call(route, query, None, Mode::Idempotent, kind, item, trace)
            .await
        {
            Ok(r) => Ok(Some(r.body)),
            Err(PtvError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put(&self, ptv_id: &PtvId, w: &Write, trace: &mut Trace) -> Result<Written, PtvError> {
        let id = ptv_id.to_string();
        let route = routes::update(w.kind, w.channel_type, &id).map_err(route_err)?;
        let item = describe(w.kind, w.channel_type, w.source_id.as_str(), Some(&id));
        let reply = self
            .call(
                route,
                Vec::new(),
                Some(&w.body),
                Mode::Idempotent,
                w.kind,
                &item,
                trace,
            )
            .await?;
        Ok(written(*ptv_id, reply.status, trace, false))
    }

    async fn search(&self, l: &Lookup, trace: &mut Trace) -> Result<Option<Found>, PtvError> {
        let item = describe(l.kind, l.channel_type, l.source_id.as_str(), None);
        let mut page = 1_u64;
        loop {
            let mut query = vec![
                ("organizationContentIds", l.organization_ptv_id.to_string()),
                ("page", page.to_string()),
                ("pageSize", PAGE_SIZE.to_string()),
            ];
            if let Some(t) = l.channel_type {
                query.push(("channelTypes", routes::channel_type_name(t).to_owned()));
            }
            let route = routes::search(l.kind).map_err(route_err)?;
            let Some(body) = self.get(route, query, l.kind, &item, trace).await? else {
                return Ok(None);
            };
            let items = body.get("items").and_then(Value::as_array);
            if let Some(hit) = items.and_then(|a| a.iter().find(|it| matches(it, l)))
                && let Some(id) = id_of(hit, &item, "the search")?
            {
                return Ok(Some(Found {
                    ptv_id: id,
                    archived: false,
                }));
            }
            let total_pages = body.get("totalPages").and_then(Value::as_u64).unwrap_or(0);
            if page >= total_pages || page >= MAX_PAGES {
                return Ok(None);
            }
            page += 1;
        }
    }

    /// Sub-organisations: every descendant of the main organisation, read one by one.
    async fn find_organization(
        &self,
        l: &Lookup,
        trace: &mut Trace,
    ) -> Result<Option<Found>, PtvError> {
        let item = describe(l.kind, None, l.source_id.as_str(), None);
        let Some(tree) = self
            .get(
                routes::hierarchy(&self.main_organization_id),
                Vec::new(),
                l.kind,
                &item,
                trace,
            )
            .await?
        else {
            return Ok(None);
        };
        let mut ids = BTreeSet::new();
        for e in tree
            .get("edges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(c) = e.get("childContentId").and_then(Value::as_str)
                && c != self.main_organization_id
            {
                ids.insert(c.to_owned());
            }
        }
        for id in ids {
            let route = routes::read(ItemKind::Organization, &id).map_err(route_err)?;
            if let Some(org) = self.get(route, Vec::new(), l.kind, &item, trace).await?
                && matches(&org, l)
            {
                return Ok(Some(Found {
                    ptv_id: ptv_id_in(&id, &item, "the organisation hierarchy", "childContentId")?,
                    archived: false,
                }));
            }
        }
        Ok(None)
    }

    async fn find_traced(&self, l: &Lookup, trace: &mut Trace) -> Result<Option<Found>, PtvError> {
        match l.kind {
            ItemKind::Organization => self.find_organization(l, trace).await,
            ItemKind::Service | ItemKind::Channel => self.search(l, trace).await,
            ItemKind::Connections => {
                Err(PtvError::config("connections have no identity to look up"))
            }
        }
    }

    /// After a 409 that search could not resolve: the problem detail may name the
    /// existing item; if it is archived (GET 404), restore it with our body.
    async fn resolve_named(
        &self,
        w: &Write,
        message: &str,
        trace: &mut Trace,
    ) -> Result<Option<Written>, PtvError> {
        let Some(id) = uuid_in(message) else {
            return Ok(None);
        };
        let item = describe(
            w.kind,
            w.channel_type,
            w.source_id.as_str(),
            Some(&id.to_string()),
        );
        let route = routes::read(w.kind, &id.to_string()).map_err(route_err)?;
        let live = self
            .get(route, Vec::new(), w.kind, &item, trace)
            .await?
            .is_some();
        if !live {
            tracing::info!(item = %item, "the existing item is archived; restoring it");
        }
        let mut done = self.put(&id, w, trace).await?;
        done.adopted = true;
        Ok(Some(done))
    }
}

#[async_trait::async_trait]
impl Wire for V12Client {
    fn map_item(&self, item: &Item, owner: &PtvId) -> Result<Mapped, PtvError> {
        let owner = &owner.to_string();
        let unsendable = |e: map::MapError| PtvError::Unsendable {
            item: describe(item.kind(), item.channel_type(), item.id().as_str(), None),
            version: ApiVersion::V12,
            field: e.field,
            message: e.message,
        };
        match item {
            Item::Organization(o) => map::organization(o, owner).map_err(unsendable),
            Item::Service(s) => Ok(map::service(s, owner)),
            Item::Channel(c) => map::channel(c, owner, c.area.as_ref()).map_err(unsendable),
        }
    }

    fn map_connection(&self, c: &Connection, service: &PtvId, channel: &PtvId) -> Mapped {
        map::connection(c, &service.to_string(), &channel.to_string())
    }

    async fn create(&self, w: &Write) -> Result<Written, PtvError> {
        let body = create_body(w)?;
        let item = describe(w.kind, w.channel_type, w.source_id.as_str(), None);
        let lookup = Lookup::of(w);
        let mut trace = Trace::default();
        let mut delays = self.retry.delays();
        let mut posts = 0_u32;
        loop {
            posts += 1;
            let route = routes::create(w.kind, w.channel_type).map_err(route_err)?;
            let outcome = self
                .call(
                    route,
                    Vec::new(),
                    Some(&body),
                    Mode::Create,
                    w.kind,
                    &item,
                    &mut trace,
                )
                .await;
            // `conflict`: the externalId is taken; `name_taken`: the name is (a v12
            // channel has no externalId, so our own earlier create answers this).
            let (conflict, name_taken, unknown) = match outcome {
                Ok(reply) => match id_of(&reply.body, &item, "the create")? {
                    Some(id) => return Ok(written(id, reply.status, &trace, false)),
                    None => (
                        None,
                        false,
                        PtvError::Transient {
                            item: item.clone(),
                            status: Some(reply.status),
                            message: "PTV answered the create without a contentId".into(),
                        },
                    ),
                },
                Err(e @ PtvError::Transient { .. }) => (None, false, e),
                Err(PtvError::Conflict { message, .. }) => (
                    Some(message.clone()),
                    false,
                    PtvError::Conflict {
                        item: item.clone(),
                        message,
                    },
                ),
                Err(e) if e.says_name_taken() => (None, true, e),
                Err(e) => return Err(e),
            };
            tracing::info!(item = %item, "create outcome unknown, or externalId or name taken; searching for the item");
            if let Some(found) = self.find_traced(&lookup, &mut trace).await? {
                tracing::info!(item = %item, ptv_id = %found.ptv_id, "adopted the existing item");
                if name_taken {
                    // Found by name only: it may hold what an earlier run sent, so it
                    // gets our body now.
                    let mut done = self.put(&found.ptv_id, w, &mut trace).await?;
                    done.adopted = true;
                    return Ok(done);
                }
                let status = if conflict.is_some() {
                    routes::EXISTS
                } else {
                    200
                };
                return Ok(written(found.ptv_id, status, &trace, true));
            }
            if name_taken {
                // Nothing of ours by that name: another item holds it, a data error.
                return Err(unknown);
            }
            if let Some(message) = conflict {
                if let Some(done) = self.resolve_named(w, &message, &mut trace).await? {
                    return Ok(done);
                }
                return Err(PtvError::Conflict {
                    item,
                    message: format!(
                        "{message}; no item with this externalId or name was found to adopt"
                    ),
                });
            }
            match delays.next() {
                Some(d) if posts < self.retry.max_attempts => tokio::time::sleep(d).await,
                _ => return Err(unknown),
            }
        }
    }

    async fn update(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError> {
        self.put(ptv_id, w, &mut Trace::default()).await
    }

    async fn restore(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError> {
        self.put(ptv_id, w, &mut Trace::default()).await
    }

    async fn archive(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError> {
        let id = ptv_id.to_string();
        let route = routes::archive(w.kind, &id).map_err(route_err)?;
        let item = describe(w.kind, w.channel_type, w.source_id.as_str(), Some(&id));
        let mut trace = Trace::default();
        match self
            .call(
                route,
                Vec::new(),
                None,
                Mode::Idempotent,
                w.kind,
                &item,
                &mut trace,
            )
            .await
        {
            Ok(reply) => Ok(written(*ptv_id, reply.status, &trace, false)),
            // An archived item answers 404: a repeated archive (e.g. after a lost answer)
            // has nothing left to do.
            Err(PtvError::NotFound { .. }) => {
                tracing::info!(item = %item, "already archived in PTV");
                Ok(written(*ptv_id, routes::GONE, &trace, false))
            }
            Err(e) => Err(e),
        }
    }

    /// POST per connection not written before, DELETE per connection no longer desired.
    /// `http_status` is that of the last request, 0 when nothing needed writing.
    async fn set_connections(&self, c: &ConnectionsWrite) -> Result<Written, PtvError> {
        let previous: BTreeSet<&PtvId> = c.previous_channel_ids.iter().collect();
        let desired: BTreeSet<&PtvId> = c.desired_channel_ids.iter().collect();
        let service = c.service_ptv_id.to_string();
        let mut trace = Trace::default();
        let mut last = 0_u16;
        for channel in desired.difference(&previous) {
            let body = c
                .desired
                .iter()
                .find(|b| {
                    b.get("channelContentId")
                        .and_then(Value::as_str)
                        .and_then(|id| PtvId::parse(id).ok())
                        .as_ref()
                        == Some(*channel)
                })
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"serviceContentId": service, "channelContentId": channel}));
            let item = format!(
                "connection of service {} to channel {channel}",
                c.service_source_id
            );
            match self
                .call(
                    routes::connect(),
                    Vec::new(),
                    Some(&body),
                    Mode::Idempotent,
                    ItemKind::Connections,
                    &item,
                    &mut trace,
                )
                .await
            {
                Ok(r) => last = r.status,
                // Already connected (e.g. the previous run's answer was lost).
                Err(PtvError::Conflict { .. }) => last = routes::EXISTS,
                Err(e) => return Err(e),
            }
        }
        for channel in previous.difference(&desired) {
            let item = format!(
                "connection of service {} to channel {channel}",
                c.service_source_id
            );
            match self
                .call(
                    routes::disconnect(&service, &channel.to_string()),
                    Vec::new(),
                    None,
                    Mode::Idempotent,
                    ItemKind::Connections,
                    &item,
                    &mut trace,
                )
                .await
            {
                Ok(r) => last = r.status,
                Err(PtvError::NotFound { .. }) => last = routes::GONE,
                Err(e) => return Err(e),
            }
        }
        Ok(written(c.service_ptv_id, last, &trace, false))
    }
}

#[async_trait::async_trait]
impl PtvRead for V12Client {
    async fn find(&self, lookup: &Lookup) -> Result<Option<Found>, PtvError> {
        self.find_traced(lookup, &mut Trace::default()).await
    }

    async fn read(
        &self,
        kind: ItemKind,
        _channel_type: Option<ChannelType>,
        ptv_id: &PtvId,
    ) -> Result<Option<Value>, PtvError> {
        let ptv_id = &ptv_id.to_string();
        let route = routes::read(kind, ptv_id).map_err(route_err)?;
        let item = describe(kind, None, ptv_id, None);
        self.get(route, Vec::new(), kind, &item, &mut Trace::default())
            .await
    }

    async fn list_by_organization(
        &self,
        org: &PtvId,
        kind: ItemKind,
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        self.list_org(org, kind).await
    }

    async fn read_many(
        &self,
        kind: ItemKind,
        ptv_ids: &[PtvId],
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        self.read_each(kind, ptv_ids).await
    }

    async fn connections(
        &self,
        services: &[RemoteItem],
    ) -> Result<Fetched<Vec<super::RemoteConnection>>, PtvError> {
        let ids: Vec<PtvId> = services.iter().map(|s| s.ptv_id).collect();
        self.connections_of(&ids).await
    }

    async fn sub_organizations(&self, org: &PtvId) -> Result<Fetched<Vec<PtvId>>, PtvError> {
        self.hierarchy_of(org).await
    }

    async fn read_latest(
        &self,
        kind: ItemKind,
        ptv_id: &PtvId,
    ) -> Result<Option<RemoteItem>, PtvError> {
        self.published(kind, ptv_id, &mut Trace::default()).await
    }

    async fn list_archived(
        &self,
        _org: &PtvId,
        kind: ItemKind,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Fetched<Vec<ArchivedItem>>, PtvError> {
        self.archived(kind, since).await
    }

    fn token_expiry(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.t.tokens().expiry()
    }

    fn logins(&self) -> u64 {
        self.t.tokens().logins()
    }
    async fn login(&self) -> Result<(), PtvError> {
        self.t.tokens().get().await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(t: Option<ChannelType>, name: Option<&str>) -> Lookup {
        Lookup {
            kind: if t.is_some() {
                ItemKind::Channel
            } else {
                ItemKind::Service
            },
            channel_type: t,
            source_id: crate::model::PtvSourceId::parse("x-1").unwrap(),
            organization_ptv_id: PtvId::parse("0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10").unwrap(),
            name_fi: name.map(str::to_owned),
        }
    }

    #[test]
    fn items_match_by_external_id_then_type_and_name() {
        let l = lookup(Some(ChannelType::Phone), Some("Neuvonta"));
        let phone = serde_json::json!({"contentId": "c", "serviceChannelType": "TelephoneService", "languageVersions": {"fi": {"name": "Neuvonta"}}});
        let web = serde_json::json!({"contentId": "c", "serviceChannelType": "WebPage", "languageVersions": {"fi": {"name": "Neuvonta"}}});
        assert!(matches(&phone, &l));
        assert!(!matches(&web, &l));
        let ext = serde_json::json!({"externalId": "x-2", "languageVersions": {"fi": {"name": "Neuvonta"}}});
        assert!(!matches(&ext, &lookup(None, Some("Neuvonta"))));
        assert!(!matches(&phone, &lookup(Some(ChannelType::Phone), None)));
    }

    #[test]
    fn uuid_is_found_in_a_problem_detail() {
        assert_eq!(
            uuid_in("externalId x already used by 3fa85f64-5717-4562-b3fc-2c963f66afa6.")
                .map(|id| id.to_string())
                .as_deref(),
            Some("3fa85f64-5717-4562-b3fc-2c963f66afa6")
        );
        assert_eq!(uuid_in("no id here"), None);
    }

    #[test]
    fn external_id_goes_only_where_v12_has_one() {
        let mut w = Write {
            kind: ItemKind::Service,
            channel_type: None,
            source_id: crate::model::PtvSourceId::parse("x-1").unwrap(),
            organization_ptv_id: PtvId::parse("0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10").unwrap(),
            name_fi: None,
            body: serde_json::json!({}),
        };
        assert_eq!(create_body(&w).unwrap()["externalId"], "x-1");
        w.kind = ItemKind::Channel;
        w.channel_type = Some(ChannelType::WebPage);
        assert!(create_body(&w).unwrap().get("externalId").is_none());
    }
}

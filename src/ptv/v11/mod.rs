//! The v11 adapter: `/api/v11/...` paths, `publishingStatus` added to every body, PUT by
//! GUID, PUT by sourceId for recovery only, archive by `publishingStatus: Deleted`.

pub mod map;
mod read;
pub mod unmap;

use super::PtvRead;
use super::client::{Call, Mode, Reply, Trace, Transport};
use super::error::{PtvError, says_already_exists};
use super::wire::{ConnectionsWrite, Wire, Write};
use super::{
    ArchivedItem, Fetched, Found, Lookup, Mapped, PtvClientConfig, RemoteItem, Written, describe,
    id_of, ptv_id_in,
};
use crate::model::{ChannelType, Connection, Item, ItemKind, PtvId};
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Semaphore;

const PUBLISHED: &str = "Published";
const DELETED: &str = "Deleted";

/// Most GUIDs `Organization/list?guids=` takes at once.
const GUIDS_PER_CALL: usize = 100;
/// Most pages `find` reads from one list before giving up (100 items a page).
const MAX_PAGES: u64 = 500;

pub struct V11Client {
    t: Transport,
    main_organization_id: String,
    max_create_attempts: u32,
    retry: super::RetryPolicy,
}

/// The path segments of an item kind's collection: `["api","v11","ServiceChannel","EChannel"]`.
fn collection(kind: ItemKind, channel_type: Option<ChannelType>) -> Result<Vec<String>, PtvError> {
    let mut p = vec!["api".to_owned(), "v11".to_owned()];
    match kind {
        ItemKind::Organization => p.push("Organization".into()),
        ItemKind::Service => p.push("Service".into()),
        ItemKind::Channel => {
            let t = channel_type
                .ok_or_else(|| PtvError::config("a channel write needs its channel type"))?;
            p.push("ServiceChannel".into());
            p.push(channel_segment(t).into());
        }
        ItemKind::Connections => {
            return Err(PtvError::config(
                "connections are written with set_connections, not as an item",
            ));
        }
    }
    Ok(p)
}

/// v11 calls the e-service channel `EChannel`.
#[must_use]
pub fn channel_segment(t: ChannelType) -> &'static str {
    match t {
        ChannelType::EService => "EChannel",
        ChannelType::WebPage => "WebPage",
        ChannelType::Phone => "Phone",
        ChannelType::PrintableForm => "PrintableForm",
        ChannelType::ServiceLocation => "ServiceLocation",
    }
}

fn entity_root(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Organization => "Organization",
        ItemKind::Channel => "ServiceChannel",
        ItemKind::Service | ItemKind::Connections => "Service",
    }
}

/// The write body: ours plus `sourceId` and `publishingStatus`.
fn with_status(w: &Write, status: &str) -> Result<Value, PtvError> {
    let Value::Object(mut map) = w.body.clone() else {
        return Err(PtvError::config(format!(
            "the v11 body of {} is not a JSON object",
            describe(w.kind, w.channel_type, w.source_id.as_str(), None)
        )));
    };
    map.insert("sourceId".into(), Value::String(w.source_id.to_string()));
    map.insert("publishingStatus".into(), Value::String(status.into()));
    Ok(Value::Object(map))
}

fn written(ptv_id: PtvId, reply: &Reply, trace: &Trace, adopted: bool) -> Written {
    Written {
        ptv_id,
        http_status: reply.status,
        body_sha256: trace.last_body_sha256.clone().unwrap_or_default(),
        adopted,
        requests: trace.requests,
        not_sent: Vec::new(),
    }
}

impl V11Client {
    /// The adapter alone (`ptv::connect` picks it by version); `global` caps requests in
    /// flight across organisations.
    pub fn new(cfg: PtvClientConfig, global: Arc<Semaphore>) -> Result<Self, PtvError> {
        let main_organization_id = cfg.main_organization_id.clone();
        let retry = cfg.retry.clone();
        Ok(V11Client {
            t: Transport::new(cfg, global)?,
            main_organization_id,
            max_create_attempts: retry.max_attempts,
            retry,
        })
    }

    /// Current limit on requests in flight (lowered by 429s).
    #[must_use]
    pub fn in_flight_limit(&self) -> usize {
        self.t.in_flight_limit()
    }

    async fn put(
        &self,
        path: Vec<String>,
        w: &Write,
        ptv_id: Option<&str>,
        status: &str,
        trace: &mut Trace,
    ) -> Result<Reply, PtvError> {
        let body = with_status(w, status)?;
        let item = describe(w.kind, w.channel_type, w.source_id.as_str(), ptv_id);
        self.t
            .send(
                &Call {
                    method: Method::PUT,
                    path,
                    query: Vec::new(),
                    body: Some(&body),
                    bearer: true,
                    mode: Mode::Idempotent,
                    kind: w.kind,
                    item: &item,
                },
                trace,
            )
            .await
    }

    async fn put_by_id(
        &self,
        ptv_id: &PtvId,
        w: &Write,
        status: &str,
    ) -> Result<Written, PtvError> {
        let mut path = collection(w.kind, w.channel_type)?;
        let id = ptv_id.to_string();
        path.push(id.clone());
        let mut trace = Trace::default();
        let reply = self.put(path, w, Some(&id), status, &mut trace).await?;
        Ok(written(*ptv_id, &reply, &trace, false))
    }

    /// Recovery: PUT the full body by sourceId. `Ok(None)` when PTV knows no such sourceId.
    /// Publishing also restores an archived item.
    async fn put_by_source_id(
        &self,
        w: &Write,
        trace: &mut Trace,
    ) -> Result<Option<Reply>, PtvError> {
        let mut path = collection(w.kind, w.channel_type)?;
        path.push("sourceId".into());
        path.push(w.source_id.to_string());
        match self.put(path, w, None, PUBLISHED, trace).await {
            Ok(r) => Ok(Some(r)),
            Err(PtvError::NotFound { message, .. })
                if message.to_ascii_lowercase().contains("not found") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn get(
        &self,
        path: Vec<String>,
        query: Vec<(&'static str, String)>,
        bearer: bool,
        kind: ItemKind,
        item: &str,
        trace: &mut Trace,
    ) -> Result<Option<Value>, PtvError> {
        let call = Call {
            method: Method::GET,
            path,
            query,
            body: None,
            bearer,
            mode: Mode::Idempotent,
            kind,
            item,
        };
        match self.t.send(&call, trace).await {
            Ok(r) => Ok(Some(r.body)),
            Err(PtvError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Pages through `…/list/organization` (with the token, so that `sourceId` shows).
    async fn find_in_org_list(
        &self,
        l: &Lookup,
        trace: &mut Trace,
    ) -> Result<Option<Found>, PtvError> {
        let item = describe(l.kind, l.channel_type, l.source_id.as_str(), None);
        let root = entity_root(l.kind);
        let mut page = 1_u64;
        loop {
            let path = vec![
                "api".into(),
                "v11".into(),
                root.into(),
                "list".into(),
                "organization".into(),
            ];
            let query = vec![
                ("organizationId", l.organization_ptv_id.to_string()),
                ("page", page.to_string()),
            ];
            let Some(body) = self.get(path, query, true, l.kind, &item, trace).await? else {
                return Ok(None);
            };
            if let Some(id) = match_source_id(body.get("itemList"), l.source_id.as_str()) {
                return Ok(Some(Found {
                    ptv_id: ptv_id_in(id, &item, "the organisation's list", "id")?,
                    archived: false,
                }));
            }
            let page_count = body.get("pageCount").and_then(Value::as_u64).unwrap_or(0);
            if page >= page_count || page >= MAX_PAGES {
                return Ok(None);
            }
            page += 1;
        }
    }

    /// Pages through `…/archived/list` looking for the sourceId.
    async fn find_in_archive(
        &self,
        l: &Lookup,
        trace: &mut Trace,
    ) -> Result<Option<Found>, PtvError> {
        let item = describe(l.kind, l.channel_type, l.source_id.as_str(), None);
        let root = entity_root(l.kind);
        let take = 100_u64;
        let mut skip = 0_u64;
        loop {
            let path = vec![
                "api".into(),
                "v11".into(),
                root.into(),
                "archived".into(),
                "list".into(),
            ];
            let query = vec![
                ("organizationId", l.organization_ptv_id.to_string()),
                ("skip", skip.to_string()),
                ("take", take.to_string()),
            ];
            let Some(body) = self.get(path, query, true, l.kind, &item, trace).await? else {
                return Ok(None);
            };
            let items = body
                .get("itemList")
                .or_else(|| body.get("items"))
                .or(Some(&body));
            if let Some(id) = match_source_id(items, l.source_id.as_str()) {
                return Ok(Some(Found {
                    ptv_id: ptv_id_in(id, &item, "the archived list", "id")?,
                    archived: true,
                }));
            }
            let n = items.and_then(Value::as_array).map_or(0, Vec::len) as u64;
            if n < take || skip / take >= MAX_PAGES {
                return Ok(None);
            }
            skip += take;
        }
    }

    /// Sub-organisations: walk the main organisation's hierarchy, then read them in
    /// batches with the token to see their sourceIds.
    async fn find_organization(
        &self,
        l: &Lookup,
        trace: &mut Trace,
    ) -> Result<Option<Found>, PtvError> {
        let item = describe(l.kind, None, l.source_id.as_str(), None);
        let path = vec![
            "api".into(),
            "v11".into(),
            "Organization".into(),
            "Hierarchy".into(),
            self.main_organization_id.clone(),
        ];
        let Some(tree) = self
            .get(path, Vec::new(), false, l.kind, &item, trace)
            .await?
        else {
            return Ok(None);
        };
        let mut ids = Vec::new();
        collect_sub_ids(&tree, &mut ids);
        for chunk in ids.chunks(GUIDS_PER_CALL) {
            let path = vec![
                "api".into(),
                "v11".into(),
                "Organization".into(),
                "list".into(),
            ];
            let query = vec![("guids", chunk.join(","))];
            let Some(body) = self.get(path, query, true, l.kind, &item, trace).await? else {
                continue;
            };
            let list = body.get("itemList").or(Some(&body));
            if let Some(id) = match_source_id(list, l.source_id.as_str()) {
                let archived = list
                    .and_then(Value::as_array)
                    .and_then(|a| {
                        a.iter()
                            .find(|o| o.get("id").and_then(Value::as_str) == Some(id))
                    })
                    .and_then(|o| o.get("publishingStatus"))
                    .and_then(Value::as_str)
                    .is_some_and(|s| s == DELETED || s == "Archived");
                return Ok(Some(Found {
                    ptv_id: ptv_id_in(id, &item, "the organisation list", "id")?,
                    archived,
                }));
            }
        }
        Ok(None)
    }

    async fn find_traced(&self, l: &Lookup, trace: &mut Trace) -> Result<Option<Found>, PtvError> {
        match l.kind {
            ItemKind::Organization => self.find_organization(l, trace).await,
            ItemKind::Service | ItemKind::Channel => {
                if let Some(f) = self.find_in_org_list(l, trace).await? {
                    return Ok(Some(f));
                }
                self.find_in_archive(l, trace).await
            }
            ItemKind::Connections => {
                Err(PtvError::config("connections have no identity to look up"))
            }
        }
    }
}

/// The `id` of the item in `list` whose `sourceId` is `source_id` (case-insensitive, as PTV).
fn match_source_id<'a>(list: Option<&'a Value>, source_id: &str) -> Option<&'a str> {
    list?.as_array()?.iter().find_map(|it| {
        let sid = it.get("sourceId").and_then(Value::as_str)?;
        if sid.eq_ignore_ascii_case(source_id) {
            it.get("id").and_then(Value::as_str)
        } else {
            None
        }
    })
}

fn collect_sub_ids(node: &Value, out: &mut Vec<String>) {
    if let Some(subs) = node.get("subOrganizations").and_then(Value::as_array) {
        for s in subs {
            if let Some(id) = s.get("id").and_then(Value::as_str) {
                out.push(id.to_owned());
            }
            collect_sub_ids(s, out);
        }
    }
}

#[async_trait::async_trait]
impl Wire for V11Client {
    fn map_item(&self, item: &Item, owner: &PtvId) -> Result<Mapped, PtvError> {
        let owner = &owner.to_string();
        Ok(match item {
            Item::Organization(o) => map::organization(o, owner),
            Item::Service(s) => map::service(s, owner),
            Item::Channel(c) => map::channel(c, owner, c.area.as_ref()),
        })
    }

    fn map_connection(&self, c: &Connection, _service: &PtvId, channel: &PtvId) -> Mapped {
        Mapped {
            body: map::connection(c, &channel.to_string()),
            not_sent: Vec::new(),
        }
    }

    async fn create(&self, w: &Write) -> Result<Written, PtvError> {
        let body = with_status(w, PUBLISHED)?;
        let item = describe(w.kind, w.channel_type, w.source_id.as_str(), None);
        let path = collection(w.kind, w.channel_type)?;
        let mut trace = Trace::default();
        let mut delays = self.retry.delays();
        let mut posts = 0_u32;
        loop {
            posts += 1;
            let call = Call {
                method: Method::POST,
                path: path.clone(),
                query: Vec::new(),
                body: Some(&body),
                bearer: true,
                mode: Mode::Create,
                kind: w.kind,
                item: &item,
            };
            let (exists_said, unknown) = match self.t.send(&call, &mut trace).await {
                Ok(reply) => match id_of(&reply.body, &item, "the create")? {
                    Some(id) => return Ok(written(id, &reply, &trace, false)),
                    None => (
                        false,
                        PtvError::Transient {
                            item: item.clone(),
                            status: Some(reply.status),
                            message: "PTV answered the create without an id".into(),
                        },
                    ),
                },
                Err(e @ PtvError::Transient { .. }) => (false, e),
                // The name is taken: perhaps by our own create whose answer was lost, which
                // the sourceId lookup below finds; if not, another item holds the name.
                Err(e) if e.says_name_taken() => (true, e),
                Err(PtvError::Conflict { message, .. }) if says_already_exists(&message) => (
                    true,
                    PtvError::Conflict {
                        item: item.clone(),
                        message,
                    },
                ),
                Err(e) => return Err(e),
            };
            tracing::info!(item = %item, "create outcome unknown or sourceId taken; looking the item up by sourceId");
            if let Some(reply) = self.put_by_source_id(w, &mut trace).await? {
                let Some(id) = id_of(&reply.body, &item, "the PUT by sourceId")? else {
                    return Err(PtvError::Conflict {
                        item,
                        message: "PTV accepted the sourceId update but did not say the item's id"
                            .into(),
                    });
                };
                tracing::info!(item = %item, ptv_id = %id, "adopted the existing item");
                return Ok(written(id, &reply, &trace, true));
            }
            if exists_said && unknown.says_name_taken() {
                return Err(unknown);
            }
            if exists_said {
                return Err(PtvError::Conflict {
                    item,
                    message: match unknown {
                        PtvError::Conflict { message, .. } => format!(
                            "{message}; yet PUT by sourceId found nothing (another API user's sourceId?)"
                        ),
                        other => other.to_string(),
                    },
                });
            }
            // Not created: safe to post again, within the budget.
            match delays.next() {
                Some(d) if posts < self.max_create_attempts => tokio::time::sleep(d).await,
                _ => return Err(unknown),
            }
        }
    }

    async fn update(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError> {
        self.put_by_id(ptv_id, w, PUBLISHED).await
    }

    async fn restore(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError> {
        self.put_by_id(ptv_id, w, PUBLISHED).await
    }

    async fn archive(&self, ptv_id: &PtvId, w: &Write) -> Result<Written, PtvError> {
        self.put_by_id(ptv_id, w, DELETED).await
    }

    async fn set_connections(&self, c: &ConnectionsWrite) -> Result<Written, PtvError> {
        let body = serde_json::json!({
            "deleteAllChannelRelations": c.desired.is_empty(),
            "channelRelations": c.desired,
        });
        let item = format!(
            "connections of service {} (PTV id {})",
            c.service_source_id, c.service_ptv_id
        );
        let mut trace = Trace::default();
        let reply = self
            .t
            .send(
                &Call {
                    method: Method::PUT,
                    path: vec![
                        "api".into(),
                        "v11".into(),
                        "Connection".into(),
                        "serviceId".into(),
                        c.service_ptv_id.to_string(),
                    ],
                    query: Vec::new(),
                    body: Some(&body),
                    bearer: true,
                    mode: Mode::Idempotent,
                    kind: ItemKind::Connections,
                    item: &item,
                },
                &mut trace,
            )
            .await?;
        Ok(written(c.service_ptv_id, &reply, &trace, false))
    }
}

#[async_trait::async_trait]
impl PtvRead for V11Client {
    async fn find(&self, lookup: &Lookup) -> Result<Option<Found>, PtvError> {
        let mut trace = Trace::default();
        self.find_traced(lookup, &mut trace).await
    }

    async fn read(
        &self,
        kind: ItemKind,
        _channel_type: Option<ChannelType>,
        ptv_id: &PtvId,
    ) -> Result<Option<Value>, PtvError> {
        let ptv_id = &ptv_id.to_string();
        let item = describe(kind, None, ptv_id, None);
        let mut trace = Trace::default();
        // Services and channels: the restricted `active` read shows the latest version
        // whatever its state (Draft, Modified). Organisations have only the public read,
        // which must go without a token.
        let (path, bearer) = match kind {
            ItemKind::Organization => (
                vec![
                    "api".into(),
                    "v11".into(),
                    "Organization".into(),
                    ptv_id.to_owned(),
                ],
                false,
            ),
            ItemKind::Service | ItemKind::Connections => (
                vec![
                    "api".into(),
                    "v11".into(),
                    "Service".into(),
                    "active".into(),
                    ptv_id.to_owned(),
                ],
                true,
            ),
            ItemKind::Channel => (
                vec![
                    "api".into(),
                    "v11".into(),
                    "ServiceChannel".into(),
                    "active".into(),
                    ptv_id.to_owned(),
                ],
                true,
            ),
        };
        self.get(path, Vec::new(), bearer, kind, &item, &mut trace)
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
        self.read_guids(kind, ptv_ids).await
    }

    async fn connections(
        &self,
        services: &[RemoteItem],
    ) -> Result<Fetched<Vec<super::RemoteConnection>>, PtvError> {
        Ok(Fetched {
            value: read::connections_in(services),
            requests: 0,
        })
    }

    async fn sub_organizations(&self, org: &PtvId) -> Result<Fetched<Vec<PtvId>>, PtvError> {
        self.hierarchy(org).await
    }

    async fn read_latest(
        &self,
        kind: ItemKind,
        ptv_id: &PtvId,
    ) -> Result<Option<RemoteItem>, PtvError> {
        self.active(kind, ptv_id).await
    }

    async fn list_archived(
        &self,
        org: &PtvId,
        kind: ItemKind,
        _since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Fetched<Vec<ArchivedItem>>, PtvError> {
        self.archived(org, kind).await
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

    #[test]
    fn paths_follow_the_v11_controllers() {
        assert_eq!(
            collection(ItemKind::Channel, Some(ChannelType::EService))
                .unwrap()
                .join("/"),
            "api/v11/ServiceChannel/EChannel"
        );
        assert_eq!(
            collection(ItemKind::Service, None).unwrap().join("/"),
            "api/v11/Service"
        );
        assert_eq!(
            collection(ItemKind::Organization, None).unwrap().join("/"),
            "api/v11/Organization"
        );
        assert!(collection(ItemKind::Channel, None).is_err());
    }

    #[test]
    fn status_and_source_id_are_added() {
        let w = Write {
            kind: ItemKind::Service,
            channel_type: None,
            source_id: crate::model::PtvSourceId::parse("x-service-1").unwrap(),
            organization_ptv_id: PtvId::parse("0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10").unwrap(),
            name_fi: None,
            body: serde_json::json!({"fundingType": "PubliclyFunded"}),
        };
        let b = with_status(&w, DELETED).unwrap();
        assert_eq!(b["publishingStatus"], "Deleted");
        assert_eq!(b["sourceId"], "x-service-1");
        assert_eq!(b["fundingType"], "PubliclyFunded");
    }

    #[test]
    fn source_ids_match_case_insensitively_and_sub_orgs_are_collected() {
        let list =
            serde_json::json!([{"id": "a", "sourceId": "X-1"}, {"id": "b", "sourceId": "x-2"}]);
        assert_eq!(match_source_id(Some(&list), "x-1"), Some("a"));
        assert_eq!(match_source_id(Some(&list), "x-3"), None);
        let tree = serde_json::json!({"id": "m", "subOrganizations": [{"id": "s1", "subOrganizations": [{"id": "s2"}]}]});
        let mut ids = Vec::new();
        collect_sub_ids(&tree, &mut ids);
        assert_eq!(ids, vec!["s1", "s2"]);
    }
}

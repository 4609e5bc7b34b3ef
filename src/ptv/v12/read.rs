//! v12 catalogue reads, from DVV's beta `OpenAPI` document: `{entity}/search` by
//! `organizationContentIds` (pages of at most 100, published only),
//! `{entity}/{contentId}` (no batch read exists: one request per id) and
//! `organization/hierarchy/{contentId}` (parent/child edges) and `{entity}/archived`
//! (pages, since a date, the whole organisation's). v12 has no read of unpublished
//! versions, so `read_latest` is the published read.

use super::super::client::Trace;
use super::super::read::{
    ArchivedItem, PAGE_SIZE, RemoteItem, RemoteStatus, all_pages, archived_pages, entity_id,
    list_entries, skip_odd, text,
};
use super::super::read_back::RemoteConnection;
use super::super::{Fetched, PtvError, describe, ptv_id_in};
use super::{MAX_PAGES, V12Client, route_err, routes};
use crate::model::{ChannelType, ItemKind, PtvId};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

fn channel_type(s: &str) -> Option<ChannelType> {
    ChannelType::ALL
        .into_iter()
        .find(|t| routes::channel_type_name(*t) == s)
}

/// A v12 entity as a [`RemoteItem`]; `Ok(None)` without a `contentId`, an error naming
/// `request` and the field when its id or its owner's is not a GUID.
pub(crate) fn remote(
    kind: ItemKind,
    body: Value,
    org_hint: Option<&PtvId>,
    request: &str,
) -> Result<Option<RemoteItem>, PtvError> {
    let Some((ptv_id, what)) = entity_id(kind, &body, "contentId", request)? else {
        return Ok(None);
    };
    let owner_key = if kind == ItemKind::Organization {
        "parentOrganizationContentId"
    } else {
        "organizationContentId"
    };
    let organization_id = match text(&body, owner_key) {
        Some(raw) => Some(ptv_id_in(&raw, &what, request, owner_key)?),
        None => org_hint.copied(),
    };
    Ok(Some(RemoteItem {
        ptv_id,
        kind,
        channel_type: body
            .get("serviceChannelType")
            .and_then(Value::as_str)
            .and_then(channel_type),
        source_id: text(&body, "externalId"),
        organization_id,
        name_fi: body
            .pointer("/languageVersions/fi/name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        publishing_status: body
            .get("status")
            .and_then(Value::as_str)
            .and_then(RemoteStatus::parse)
            .unwrap_or(RemoteStatus::Published),
        modified: text(&body, "modifiedAt").or_else(|| text(&body, "publishedAt")),
        modified_by: text(&body, "modifiedBy"),
        body,
    }))
}

/// Descendants of `root` in a hierarchy answer's edges, parents first.
fn descendants(tree: &Value, root: &str) -> Vec<String> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in tree
        .get("edges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(p), Some(c)) = (
            e.get("parentContentId").and_then(Value::as_str),
            e.get("childContentId").and_then(Value::as_str),
        ) {
            children.entry(p).or_default().push(c);
        }
    }
    let mut seen = BTreeSet::from([root]);
    let mut out = Vec::new();
    let mut next = vec![root];
    while !next.is_empty() {
        let mut deeper = Vec::new();
        for p in next {
            for c in children.get(p).into_iter().flatten() {
                if seen.insert(c) {
                    out.push((*c).to_owned());
                    deeper.push(*c);
                }
            }
        }
        next = deeper;
    }
    out
}

impl V12Client {
    async fn search_page(
        &self,
        kind: ItemKind,
        org: &PtvId,
        page: u64,
        item: &str,
    ) -> Result<(Option<Value>, u32), PtvError> {
        let mut trace = Trace::default();
        let route = routes::search(kind).map_err(route_err)?;
        let query = vec![
            ("organizationContentIds", org.to_string()),
            ("page", page.to_string()),
            ("pageSize", PAGE_SIZE.to_string()),
        ];
        let body = self.get(route, query, kind, item, &mut trace).await?;
        Ok((body, trace.requests))
    }

    /// Every page of the organisation's list ([`all_pages`]).
    pub(super) async fn list_org(
        &self,
        org: &PtvId,
        kind: ItemKind,
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        let item = format!("{kind}s of organisation {org}");
        let (bodies, requests) = all_pages("totalPages", MAX_PAGES, |p| {
            self.search_page(kind, org, p, &item)
        })
        .await?;
        let value = bodies
            .into_iter()
            .flat_map(|mut b| match b.get_mut("items").map(Value::take) {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            })
            .filter_map(|e| skip_odd(remote(kind, e, Some(org), &item)))
            .collect();
        Ok(Fetched { value, requests })
    }

    pub(super) async fn read_each(
        &self,
        kind: ItemKind,
        ids: &[PtvId],
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        let reads = futures::future::try_join_all(ids.iter().map(|id| async move {
            let mut trace = Trace::default();
            let item = self.published(kind, id, &mut trace).await?;
            Ok::<_, PtvError>((item, trace.requests))
        }))
        .await?;
        let mut requests = 0;
        let mut value = Vec::new();
        for (item, n) in reads {
            requests += n;
            value.extend(item);
        }
        Ok(Fetched { value, requests })
    }

    pub(super) async fn published(
        &self,
        kind: ItemKind,
        id: &PtvId,
        trace: &mut Trace,
    ) -> Result<Option<RemoteItem>, PtvError> {
        let id = &id.to_string();
        let route = routes::read(kind, id).map_err(route_err)?;
        let item = describe(kind, None, id, None);
        let body = self.get(route, Vec::new(), kind, &item, trace).await?;
        match body {
            Some(b) => remote(kind, b, None, "the read by id"),
            None => Ok(None),
        }
    }

    /// `{entity}/archived` since `since`, every page.
    pub(super) async fn archived(
        &self,
        kind: ItemKind,
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Fetched<Vec<ArchivedItem>>, PtvError> {
        let item = format!("archived {kind}s");
        let since = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let (bodies, requests) = archived_pages(MAX_PAGES, |p| {
            let (item, since) = (&item, &since);
            async move {
                let mut trace = Trace::default();
                let route = routes::archived(kind).map_err(route_err)?;
                let query = vec![
                    ("page", p.to_string()),
                    ("pageSize", PAGE_SIZE.to_string()),
                    ("archivedAtOrAfter", since.clone()),
                ];
                let body = self.get(route, query, kind, item, &mut trace).await?;
                Ok((body, trace.requests))
            }
        })
        .await?;
        let value = bodies
            .iter()
            .flat_map(list_entries)
            .filter_map(|e| skip_odd(ArchivedItem::parse(e, None, &item)))
            .collect();
        Ok(Fetched { value, requests })
    }

    /// The services' connections: `connection/search` by up to 20 service ids a request,
    /// every page of each.
    pub(super) async fn connections_of(
        &self,
        services: &[PtvId],
    ) -> Result<Fetched<Vec<RemoteConnection>>, PtvError> {
        let batches =
            futures::future::try_join_all(services.chunks(routes::CONNECTION_SEARCH_IDS).map(
                |ids| async move {
                    let item = format!("connections of {} services", ids.len());
                    all_pages("totalPages", MAX_PAGES, |page| {
                        let item = item.clone();
                        async move {
                            let mut query: Vec<(&'static str, String)> = ids
                                .iter()
                                .map(|id| ("serviceContentIds", id.to_string()))
                                .collect();
                            query.push(("page", page.to_string()));
                            query.push(("pageSize", PAGE_SIZE.to_string()));
                            let mut trace = Trace::default();
                            let body = self
                                .get(
                                    routes::connection_search(),
                                    query,
                                    ItemKind::Connections,
                                    &item,
                                    &mut trace,
                                )
                                .await?;
                            Ok((body, trace.requests))
                        }
                    })
                    .await
                },
            ))
            .await?;
        let mut requests = 0;
        let mut value = Vec::new();
        for (bodies, n) in batches {
            requests += n;
            for b in bodies {
                for c in b
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some((service, channel)) = skip_odd(connection_ids(c)) {
                        value.push(RemoteConnection {
                            service,
                            channel,
                            body: c.clone(),
                        });
                    }
                }
            }
        }
        Ok(Fetched { value, requests })
    }

    /// The sub-organisations; one that is not a GUID fails the read (leaving it out
    /// would leave out its services and channels unnoticed).
    pub(super) async fn hierarchy_of(&self, org: &PtvId) -> Result<Fetched<Vec<PtvId>>, PtvError> {
        let org = &org.to_string();
        let item = describe(ItemKind::Organization, None, org, None);
        let mut trace = Trace::default();
        let tree = self
            .get(
                routes::hierarchy(org),
                Vec::new(),
                ItemKind::Organization,
                &item,
                &mut trace,
            )
            .await?;
        let value = tree
            .map(|t| descendants(&t, org))
            .unwrap_or_default()
            .iter()
            .map(|id| ptv_id_in(id, &item, "the organisation hierarchy", "childContentId"))
            .collect::<Result<_, _>>()?;
        Ok(Fetched {
            value,
            requests: trace.requests,
        })
    }
}

/// The service's and the channel's ids of a connection search entry; `Ok(None)` when one
/// is missing, an error naming the field when one is not a GUID.
fn connection_ids(c: &Value) -> Result<Option<(PtvId, PtvId)>, PtvError> {
    let (Some(service), Some(channel)) = (text(c, "serviceContentId"), text(c, "channelContentId"))
    else {
        return Ok(None);
    };
    let item = format!("the connection of service {service} to channel {channel}");
    let request = "the connection search";
    Ok(Some((
        ptv_id_in(&service, &item, request, "serviceContentId")?,
        ptv_id_in(&channel, &item, request, "channelContentId")?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const O1: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d12";

    #[test]
    fn a_v12_channel_reads_as_a_remote_item() {
        let body = serde_json::json!({
            "contentId": "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d11", "externalId": null,
            "serviceChannelType": "TelephoneService",
            "organizationContentId": O1, "status": "Published",
            "languageVersions": {"fi": {"name": "Neuvonta"}},
        });
        let r = remote(ItemKind::Channel, body, None, "a read")
            .unwrap()
            .unwrap();
        assert_eq!(r.channel_type, Some(ChannelType::Phone));
        assert_eq!(
            r.organization_id.map(|o| o.to_string()).as_deref(),
            Some(O1)
        );
        assert_eq!(r.source_id, None);
        assert_eq!(r.name_fi.as_deref(), Some("Neuvonta"));
    }

    #[test]
    fn a_connection_names_its_service_and_channel_by_guid() {
        const S: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d13";
        let c = serde_json::json!({"serviceContentId": S, "channelContentId": O1});
        let (service, channel) = connection_ids(&c).unwrap().unwrap();
        assert_eq!(
            (service.to_string(), channel.to_string()),
            (S.into(), O1.into())
        );
        assert_eq!(
            connection_ids(&serde_json::json!({"serviceContentId": S})).unwrap(),
            None
        );
        let odd = serde_json::json!({"serviceContentId": S, "channelContentId": "c1"});
        let e = connection_ids(&odd).unwrap_err().to_string();
        assert!(e.contains("`channelContentId`"), "{e}");
        assert_eq!(skip_odd(connection_ids(&odd)), None);
    }

    #[test]
    fn descendants_come_parents_first_and_cycles_end() {
        let tree = serde_json::json!({"edges": [
            {"parentContentId": "a", "childContentId": "b"},
            {"parentContentId": "m", "childContentId": "a"},
            {"parentContentId": "b", "childContentId": "m"},
            {"parentContentId": "x", "childContentId": "y"},
        ]});
        assert_eq!(descendants(&tree, "m"), vec!["a", "b"]);
    }
}

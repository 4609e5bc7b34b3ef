//! v11 catalogue reads (reference §3, §9.1): `…/list/organization` (100 full entities
//! a page, published only), `…/list?guids=` (at most 100), `Organization/Hierarchy/{id}`
//! and the restricted `…/active/{id}`. Lists and batches go with the token, so that PTV
//! shows our `sourceId`s; the hierarchy and organisation reads are anonymous.

use super::super::client::Trace;
use super::super::read::{PAGE_SIZE, RemoteItem, RemoteStatus, all_pages, localized, text};
use super::super::{Fetched, PtvError, describe};
use super::{MAX_PAGES, V11Client, collect_sub_ids, entity_root};
use crate::model::{ChannelType, ItemKind};
use serde_json::Value;

fn path(parts: &[&str]) -> Vec<String> {
    let mut p = vec!["api".to_owned(), "v11".to_owned()];
    p.extend(parts.iter().map(|s| (*s).to_owned()));
    p
}

/// v11's `serviceChannelType` (`EChannel` for e-services).
fn channel_type(s: &str) -> Option<ChannelType> {
    if s == "EChannel" {
        return Some(ChannelType::EService);
    }
    ChannelType::ALL.into_iter().find(|t| t.as_str() == s)
}

/// The owning organisation as v11 out-models and in-models name it.
fn owner(kind: ItemKind, body: &Value) -> Option<String> {
    let direct = match kind {
        ItemKind::Organization => ["parentOrganizationId", "parentOrganization"],
        ItemKind::Service | ItemKind::Connections => {
            ["mainResponsibleOrganization", "mainOrganizationId"]
        }
        ItemKind::Channel => ["organizationId", "mainOrganizationId"],
    };
    direct
        .iter()
        .find_map(|k| match body.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Object(o)) => o.get("id").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
        .or_else(|| {
            // Service out-model: `organizations: [{roleType: Responsible, organization: {id}}]`.
            body.get("organizations")?
                .as_array()?
                .iter()
                .find(|o| o.get("roleType").and_then(Value::as_str) == Some("Responsible"))?
                .pointer("/organization/id")?
                .as_str()
                .map(str::to_owned)
        })
}

/// A v11 entity as a [`RemoteItem`]; `None` without an id. `org_hint` is the
/// organisation a list was read for, used when the body does not name its owner.
pub(crate) fn remote(kind: ItemKind, body: Value, org_hint: Option<&str>) -> Option<RemoteItem> {
    let ptv_id = text(&body, "id")?;
    let names = match kind {
        ItemKind::Organization => "organizationNames",
        ItemKind::Channel => "serviceChannelNames",
        ItemKind::Service | ItemKind::Connections => "serviceNames",
    };
    Some(RemoteItem {
        ptv_id,
        kind,
        channel_type: body
            .get("serviceChannelType")
            .and_then(Value::as_str)
            .and_then(channel_type),
        source_id: text(&body, "sourceId"),
        organization_id: owner(kind, &body).or_else(|| org_hint.map(str::to_owned)),
        name_fi: localized(body.get(names), "fi").map(str::to_owned),
        publishing_status: body
            .get("publishingStatus")
            .and_then(Value::as_str)
            .and_then(RemoteStatus::parse)
            .unwrap_or(RemoteStatus::Published),
        modified: text(&body, "modified"),
        modified_by: text(&body, "modifiedBy"),
        body,
    })
}

/// The entities of a list answer: `itemList` of a page, or a bare array.
fn entities(body: Value) -> Vec<Value> {
    match body {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("itemList") {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

impl V11Client {
    async fn page(
        &self,
        kind: ItemKind,
        org: &str,
        page: u64,
        item: &str,
    ) -> Result<(Option<Value>, u32), PtvError> {
        let mut trace = Trace::default();
        let body = self
            .get(
                path(&[entity_root(kind), "list", "organization"]),
                vec![
                    ("organizationId", org.to_owned()),
                    ("page", page.to_string()),
                ],
                true,
                kind,
                item,
                &mut trace,
            )
            .await?;
        Ok((body, trace.requests))
    }

    /// Every page of the organisation's list ([`all_pages`]).
    pub(super) async fn list_org(
        &self,
        org: &str,
        kind: ItemKind,
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        let item = format!("{kind}s of organisation {org}");
        let (bodies, requests) =
            all_pages("pageCount", MAX_PAGES, |p| self.page(kind, org, p, &item)).await?;
        let value = bodies
            .into_iter()
            .flat_map(entities)
            .filter_map(|e| remote(kind, e, Some(org)))
            .collect();
        Ok(Fetched { value, requests })
    }

    pub(super) async fn read_guids(
        &self,
        kind: ItemKind,
        ids: &[String],
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        let root = entity_root(kind);
        let batches =
            futures::future::try_join_all(ids.chunks(PAGE_SIZE).map(|chunk| async move {
                let item = format!("{} {kind}s by id", chunk.len());
                let mut trace = Trace::default();
                let body = self
                    .get(
                        path(&[root, "list"]),
                        vec![("guids", chunk.join(","))],
                        true,
                        kind,
                        &item,
                        &mut trace,
                    )
                    .await?;
                Ok::<_, PtvError>((body, trace.requests))
            }))
            .await?;
        let mut requests = 0;
        let mut value = Vec::new();
        for (body, n) in batches {
            requests += n;
            value.extend(
                body.into_iter()
                    .flat_map(entities)
                    .filter_map(|e| remote(kind, e, None)),
            );
        }
        Ok(Fetched { value, requests })
    }

    pub(super) async fn hierarchy(&self, org: &str) -> Result<Fetched<Vec<String>>, PtvError> {
        let item = describe(ItemKind::Organization, None, org, None);
        let mut trace = Trace::default();
        let tree = self
            .get(
                path(&["Organization", "Hierarchy", org]),
                Vec::new(),
                false,
                ItemKind::Organization,
                &item,
                &mut trace,
            )
            .await?;
        let mut ids = Vec::new();
        if let Some(tree) = tree {
            collect_sub_ids(&tree, &mut ids);
        }
        Ok(Fetched {
            value: ids,
            requests: trace.requests,
        })
    }

    /// Services and channels: the restricted `active` read. Organisations have only the
    /// public read, which must go without a token.
    pub(super) async fn active(
        &self,
        kind: ItemKind,
        ptv_id: &str,
    ) -> Result<Option<RemoteItem>, PtvError> {
        let item = describe(kind, None, ptv_id, None);
        let (p, bearer) = match kind {
            ItemKind::Organization => (path(&["Organization", ptv_id]), false),
            _ => (path(&[entity_root(kind), "active", ptv_id]), true),
        };
        let body = self
            .get(p, Vec::new(), bearer, kind, &item, &mut Trace::default())
            .await?;
        Ok(body.and_then(|b| remote(kind, b, None)))
    }
}

/// A v11 service's connections: its `serviceChannels` (v11 has no connection read).
pub(super) fn connections_in(
    services: &[RemoteItem],
) -> Vec<super::super::read_back::RemoteConnection> {
    services
        .iter()
        .flat_map(|s| {
            s.body
                .get("serviceChannels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    let channel = c
                        .pointer("/serviceChannel/id")
                        .or_else(|| c.get("serviceChannelId"))
                        .and_then(Value::as_str)?;
                    Some(super::super::read_back::RemoteConnection {
                        service: s.ptv_id.clone(),
                        channel: channel.to_owned(),
                        body: c.clone(),
                    })
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v11_channel_reads_as_a_remote_item() {
        let body = serde_json::json!({
            "id": "c1", "sourceId": "x-channel-1", "serviceChannelType": "EChannel",
            "organizationId": "o1", "publishingStatus": "Modified",
            "serviceChannelNames": [{"language": "fi", "type": "Name", "value": "Verkkoasiointi"}],
            "modified": "2026-01-02T03:04:05", "modifiedBy": "editor@example.fi",
        });
        let r = remote(ItemKind::Channel, body, Some("other")).unwrap();
        assert_eq!(r.channel_type, Some(ChannelType::EService));
        assert_eq!(r.organization_id.as_deref(), Some("o1"));
        assert_eq!(r.source_id.as_deref(), Some("x-channel-1"));
        assert_eq!(r.name_fi.as_deref(), Some("Verkkoasiointi"));
        assert_eq!(r.publishing_status, RemoteStatus::Modified);
        assert_eq!(r.modified_by.as_deref(), Some("editor@example.fi"));
    }

    #[test]
    fn a_service_owner_comes_from_its_responsible_organisation() {
        let body = serde_json::json!({
            "id": "s1", "sourceId": null,
            "organizations": [
                {"roleType": "Producer", "organization": {"id": "p"}},
                {"roleType": "Responsible", "organization": {"id": "r"}},
            ],
        });
        let r = remote(ItemKind::Service, body, None).unwrap();
        assert_eq!(r.organization_id.as_deref(), Some("r"));
        assert_eq!(r.source_id, None);
        assert!(remote(ItemKind::Service, serde_json::json!({}), None).is_none());
    }
}

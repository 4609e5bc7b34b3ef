//! v11 catalogue reads (reference §3, §9.1): `…/list/organization` (100 full entities
//! a page, published only), `…/list?guids=` (at most 100), `Organization/Hierarchy/{id}`
//! the restricted `…/active/{id}` and `…/archived/list` (skip/take, per organisation and
//! archiving type). Lists and batches go with the token, so that PTV shows our
//! `sourceId`s; the hierarchy and organisation reads are anonymous. A service's
//! connections are its `serviceChannels`.

use super::super::client::Trace;
use super::super::read::{
    ArchivedItem, PAGE_SIZE, RemoteItem, RemoteStatus, all_pages, archived_pages, entity_id,
    list_entries, localized, skip_odd, text,
};
use super::super::{Fetched, PtvError, describe, ptv_id_in};
use super::{MAX_PAGES, V11Client, collect_sub_ids, entity_root};
use crate::model::{ChannelType, ItemKind, PtvId};
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

/// The owning organisation as v11 out-models and in-models name it, with the field that
/// names it.
fn owner(kind: ItemKind, body: &Value) -> Option<(String, &'static str)> {
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
            Some(Value::String(s)) if !s.is_empty() => Some((s.clone(), *k)),
            Some(Value::Object(o)) => o
                .get("id")
                .and_then(Value::as_str)
                .map(|s| (s.to_owned(), *k)),
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
                .map(|s| (s.to_owned(), "organizations"))
        })
}

/// A v11 entity as a [`RemoteItem`]; `Ok(None)` without an id, an error naming `request`
/// and the field when its id or its owner's is not a GUID. `org_hint` is the organisation
/// a list was read for, used when the body does not name its owner.
pub(crate) fn remote(
    kind: ItemKind,
    body: Value,
    org_hint: Option<&PtvId>,
    request: &str,
) -> Result<Option<RemoteItem>, PtvError> {
    let Some((ptv_id, what)) = entity_id(kind, &body, "id", request)? else {
        return Ok(None);
    };
    let organization_id = match owner(kind, &body) {
        Some((raw, field)) => Some(ptv_id_in(&raw, &what, request, field)?),
        None => org_hint.copied(),
    };
    let names = match kind {
        ItemKind::Organization => "organizationNames",
        ItemKind::Channel => "serviceChannelNames",
        ItemKind::Service | ItemKind::Connections => "serviceNames",
    };
    Ok(Some(RemoteItem {
        ptv_id,
        kind,
        channel_type: body
            .get("serviceChannelType")
            .and_then(Value::as_str)
            .and_then(channel_type),
        source_id: text(&body, "sourceId"),
        organization_id,
        name_fi: localized(body.get(names), "fi").map(str::to_owned),
        publishing_status: body
            .get("publishingStatus")
            .and_then(Value::as_str)
            .and_then(RemoteStatus::parse)
            .unwrap_or(RemoteStatus::Published),
        modified: text(&body, "modified"),
        modified_by: text(&body, "modifiedBy"),
        body,
    }))
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

/// PTV's two archiving types (reference §3.2).
const ARCHIVING_TYPES: [&str; 2] = ["Manual", "Automatic"];

impl V11Client {
    /// `…/archived/list` of one organisation and archiving type, every page.
    pub(super) async fn archived(
        &self,
        org: &PtvId,
        kind: ItemKind,
    ) -> Result<Fetched<Vec<ArchivedItem>>, PtvError> {
        let org = &org.to_string();
        let root = entity_root(kind);
        let item = format!("archived {kind}s of organisation {org}");
        let lists = futures::future::try_join_all(ARCHIVING_TYPES.map(|archiving| {
            let item = &item;
            async move {
                let (bodies, requests) = archived_pages(MAX_PAGES, |p| async move {
                    let mut trace = Trace::default();
                    let body = self
                        .get(
                            path(&[root, "archived", "list"]),
                            vec![
                                ("organizationId", org.to_owned()),
                                ("archivingType", archiving.to_owned()),
                                ("skip", ((p - 1) * PAGE_SIZE as u64).to_string()),
                                ("take", PAGE_SIZE.to_string()),
                            ],
                            true,
                            kind,
                            item,
                            &mut trace,
                        )
                        .await?;
                    Ok((body, trace.requests))
                })
                .await?;
                let value: Vec<ArchivedItem> = bodies
                    .iter()
                    .flat_map(list_entries)
                    .filter_map(|e| skip_odd(ArchivedItem::parse(e, Some(archiving), item)))
                    .collect();
                Ok::<_, PtvError>(Fetched { value, requests })
            }
        }))
        .await?;
        let mut out: Fetched<Vec<ArchivedItem>> = Fetched::default();
        for l in lists {
            out.requests += l.requests;
            out.value.extend(l.value);
        }
        Ok(out)
    }

    async fn page(
        &self,
        kind: ItemKind,
        org: &PtvId,
        page: u64,
        item: &str,
    ) -> Result<(Option<Value>, u32), PtvError> {
        let mut trace = Trace::default();
        let body = self
            .get(
                path(&[entity_root(kind), "list", "organization"]),
                vec![
                    ("organizationId", org.to_string()),
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
        org: &PtvId,
        kind: ItemKind,
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        let item = format!("{kind}s of organisation {org}");
        let (bodies, requests) =
            all_pages("pageCount", MAX_PAGES, |p| self.page(kind, org, p, &item)).await?;
        let value = bodies
            .into_iter()
            .flat_map(entities)
            .filter_map(|e| skip_odd(remote(kind, e, Some(org), &item)))
            .collect();
        Ok(Fetched { value, requests })
    }

    pub(super) async fn read_guids(
        &self,
        kind: ItemKind,
        ids: &[PtvId],
    ) -> Result<Fetched<Vec<RemoteItem>>, PtvError> {
        let root = entity_root(kind);
        let batches =
            futures::future::try_join_all(ids.chunks(PAGE_SIZE).map(|chunk| async move {
                let item = format!("{} {kind}s by id", chunk.len());
                let guids: Vec<String> = chunk.iter().map(PtvId::to_string).collect();
                let mut trace = Trace::default();
                let body = self
                    .get(
                        path(&[root, "list"]),
                        vec![("guids", guids.join(","))],
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
                    .filter_map(|e| skip_odd(remote(kind, e, None, "a read by id"))),
            );
        }
        Ok(Fetched { value, requests })
    }

    /// The sub-organisations; one that is not a GUID fails the read (leaving it out
    /// would leave out its services and channels unnoticed).
    pub(super) async fn hierarchy(&self, org: &PtvId) -> Result<Fetched<Vec<PtvId>>, PtvError> {
        let org = &org.to_string();
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
        let value = ids
            .iter()
            .map(|id| {
                ptv_id_in(
                    id,
                    &item,
                    "the organisation hierarchy",
                    "subOrganizations.id",
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(Fetched {
            value,
            requests: trace.requests,
        })
    }

    /// Services and channels: the restricted `active` read. Organisations have only the
    /// public read, which must go without a token.
    pub(super) async fn active(
        &self,
        kind: ItemKind,
        ptv_id: &PtvId,
    ) -> Result<Option<RemoteItem>, PtvError> {
        let ptv_id = &ptv_id.to_string();
        let item = describe(kind, None, ptv_id, None);
        let (p, bearer) = match kind {
            ItemKind::Organization => (path(&["Organization", ptv_id]), false),
            _ => (path(&[entity_root(kind), "active", ptv_id]), true),
        };
        let body = self
            .get(p, Vec::new(), bearer, kind, &item, &mut Trace::default())
            .await?;
        match body {
            Some(b) => remote(kind, b, None, "the read of the latest version"),
            None => Ok(None),
        }
    }
}

/// A v11 service's connections: its `serviceChannels` (v11 has no connection read). A
/// channel id that is not a GUID leaves that connection out, with a warning.
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
                    let channel = skip_odd(
                        ptv_id_in(
                            channel,
                            &format!("a connection of service {}", s.ptv_id),
                            "the service read",
                            "serviceChannels.serviceChannel.id",
                        )
                        .map(Some),
                    )?;
                    Some(super::super::read_back::RemoteConnection {
                        service: s.ptv_id,
                        channel,
                        body: c.clone(),
                    })
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const C1: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d11";
    const O1: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d12";
    const R: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d13";
    const P: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d14";
    const OTHER: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d15";

    #[test]
    fn a_v11_channel_reads_as_a_remote_item() {
        let body = serde_json::json!({
            "id": C1, "sourceId": "x-channel-1", "serviceChannelType": "EChannel",
            "organizationId": O1, "publishingStatus": "Modified",
            "serviceChannelNames": [{"language": "fi", "type": "Name", "value": "Verkkoasiointi"}],
            "modified": "2026-01-02T03:04:05", "modifiedBy": "editor@example.fi",
        });
        let other = PtvId::parse(OTHER).unwrap();
        let r = remote(ItemKind::Channel, body, Some(&other), "a list")
            .unwrap()
            .unwrap();
        assert_eq!(r.channel_type, Some(ChannelType::EService));
        assert_eq!(
            r.organization_id.map(|o| o.to_string()).as_deref(),
            Some(O1)
        );
        assert_eq!(r.source_id.as_deref(), Some("x-channel-1"));
        assert_eq!(r.name_fi.as_deref(), Some("Verkkoasiointi"));
        assert_eq!(r.publishing_status, RemoteStatus::Modified);
        assert_eq!(r.modified_by.as_deref(), Some("editor@example.fi"));
    }

    #[test]
    fn a_service_owner_comes_from_its_responsible_organisation() {
        let body = serde_json::json!({
            "id": C1, "sourceId": null,
            "organizations": [
                {"roleType": "Producer", "organization": {"id": P}},
                {"roleType": "Responsible", "organization": {"id": R}},
            ],
        });
        let r = remote(ItemKind::Service, body, None, "a list")
            .unwrap()
            .unwrap();
        assert_eq!(r.organization_id.map(|o| o.to_string()).as_deref(), Some(R));
        assert_eq!(r.source_id, None);
        assert!(
            remote(ItemKind::Service, serde_json::json!({}), None, "a list")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_connection_to_a_channel_that_is_not_a_guid_is_left_out() {
        let body = serde_json::json!({"id": R, "serviceChannels": [
            {"serviceChannel": {"id": C1}}, {"serviceChannelId": "odd"}]});
        let service = remote(ItemKind::Service, body, None, "a read")
            .unwrap()
            .unwrap();
        let conns = connections_in(std::slice::from_ref(&service));
        assert_eq!(conns.len(), 1);
        assert_eq!(conns[0].service.to_string(), R);
        assert_eq!(conns[0].channel.to_string(), C1);
    }

    #[test]
    fn an_id_that_is_not_a_guid_is_an_error_naming_the_request_and_field() {
        let odd = |body| {
            remote(ItemKind::Service, body, None, "the list")
                .unwrap_err()
                .to_string()
        };
        let e = odd(serde_json::json!({"id": "s1"}));
        assert!(e.contains("the list") && e.contains("`id`"), "{e}");
        let e = odd(serde_json::json!({"id": C1, "mainResponsibleOrganization": "r"}));
        assert!(e.contains("`mainResponsibleOrganization`"), "{e}");
    }
}

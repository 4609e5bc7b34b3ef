//! Reading the catalogue: what PTV already holds for an organisation, in one
//! version-neutral shape ([`RemoteItem`]), so that adoption, drift and readiness never
//! see an API version.
//!
//! # Contract
//!
//! - Reads go through the same transport as writes: the same in-flight limits, retries
//!   (every read is idempotent) and HTTP metrics. Each result says how many requests it
//!   took, so callers can compare with the ideal (pages plus id batches).
//! - Lists are PTV's public, published-only lists: drafts are invisible there (read
//!   them with [`super::PtvRead::read_latest`]), archived items are never listed.
//! - `source_id` is *our* identity on the item: the v11 `sourceId` (PTV shows it only
//!   to the API user that set it) or the v12 `externalId`.
//! - [`read_catalogue`] reads a main organisation's whole tree: the hierarchy, the
//!   sub-organisations in id batches, services and channels per organisation, then the
//!   services' connections.
//! - Archived items are read from PTV's archived lists ([`ArchivedItem`]): v11
//!   `archived/list` per organisation and archiving type (skip/take), v12
//!   `{entity}/archived` since a date; both paged by [`archived_pages`].

use super::{PtvApi, PtvError, ptv_id_in};
use crate::model::{ChannelType, ItemKind, PtvId};
use serde::Serialize;
use serde_json::Value;

/// The publishing state of the version a read returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteStatus {
    Draft,
    Published,
    /// A published item with an unpublished edit on top (v11 only): API writes are
    /// refused until someone publishes or discards the edit in the UI.
    Modified,
    Archived,
}

impl RemoteStatus {
    /// PTV's names: v11 `publishingStatus`, v12 `status`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Draft" => Some(Self::Draft),
            "Published" => Some(Self::Published),
            "Modified" => Some(Self::Modified),
            "Deleted" | "Archived" => Some(Self::Archived),
            _ => None,
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Modified => "modified",
            Self::Archived => "archived",
        }
    }
}

/// One item as PTV holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteItem {
    pub ptv_id: PtvId,
    pub kind: ItemKind,
    pub channel_type: Option<ChannelType>,
    /// Our sourceId (v11) / externalId (v12) on the item; `None` for items made in the
    /// UI or by another API user.
    pub source_id: Option<String>,
    /// Services and channels: the owning organisation. Organisations: the parent.
    pub organization_id: Option<PtvId>,
    pub name_fi: Option<String>,
    pub publishing_status: RemoteStatus,
    /// When and by whom PTV says the item was last changed, where the API tells.
    pub modified: Option<String>,
    pub modified_by: Option<String>,
    /// The entity as the API returned it (version-specific shape).
    pub body: Value,
}

/// An item PTV lists as archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchivedItem {
    pub ptv_id: PtvId,
    /// Our sourceId / externalId, where the list shows it.
    pub source_id: Option<String>,
    /// `Manual` (a person, or an API write) or `Automatic` (PTV's own, after 18 months
    /// unmodified), where PTV tells.
    pub archiving_type: Option<String>,
    /// When, as PTV writes it.
    pub archived_at: Option<String>,
}

impl ArchivedItem {
    /// One entry of an archived list (v11 `id`, v12 `contentId`); `Ok(None)` without an
    /// id, an error naming `request` and the field when the id is not a GUID.
    /// `archiving_type` is the type the list was asked for, used when the entry does not
    /// say.
    pub fn parse(
        entry: &Value,
        archiving_type: Option<&str>,
        request: &str,
    ) -> Result<Option<Self>, PtvError> {
        let Some((field, raw)) = ["id", "contentId"]
            .iter()
            .find_map(|k| text(entry, k).map(|t| (*k, t)))
        else {
            return Ok(None);
        };
        let ptv_id = ptv_id_in(&raw, "an archived item", request, field)?;
        Ok(Some(ArchivedItem {
            ptv_id,
            source_id: text(entry, "sourceId").or_else(|| text(entry, "externalId")),
            archiving_type: text(entry, "archivingType")
                .or_else(|| archiving_type.map(str::to_owned)),
            archived_at: [
                "archivedAt",
                "archived",
                "archivingDate",
                "modified",
                "modifiedAt",
            ]
            .iter()
            .find_map(|k| text(entry, k)),
        }))
    }
}

/// The entries of a list that parse; an odd entry (an id that is not a GUID) is left out
/// with a warning naming it, so that one entry PTV garbled does not hide the rest.
pub(crate) fn skip_odd<T>(parsed: Result<Option<T>, PtvError>) -> Option<T> {
    parsed.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "left out an entry of PTV's list");
        None
    })
}

/// A read's result and the HTTP requests it took.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fetched<T> {
    pub value: T,
    pub requests: u32,
}

/// What PTV holds for a main organisation and its sub-organisations.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct RemoteCatalogue {
    /// Sub-organisations (not the main one), published.
    pub organizations: Vec<RemoteItem>,
    pub services: Vec<RemoteItem>,
    pub channels: Vec<RemoteItem>,
    /// The services' published connections (v11: from the services; v12: the
    /// connection search).
    pub connections: Vec<super::RemoteConnection>,
    /// HTTP requests the read took.
    pub requests: u32,
    /// The fewest requests that can read the same: one hierarchy read, the id batches
    /// of sub-organisations, and the pages per organisation and kind.
    pub ideal_requests: u32,
}

impl RemoteCatalogue {
    #[must_use]
    pub fn len(&self) -> usize {
        self.organizations.len() + self.services.len() + self.channels.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every item, organisations first.
    pub fn iter(&self) -> impl Iterator<Item = &RemoteItem> {
        self.organizations
            .iter()
            .chain(&self.services)
            .chain(&self.channels)
    }
}

/// Items per page of the full-entity lists, and ids per batch read (reference §9.1).
pub const PAGE_SIZE: usize = 100;

/// Reads the organisation `main` and everything below it (published items only).
pub async fn read_catalogue(api: &dyn PtvApi, main: &PtvId) -> Result<RemoteCatalogue, PtvError> {
    let subs = api.sub_organizations(main).await?;
    let mut cat = RemoteCatalogue {
        requests: subs.requests,
        ideal_requests: 1 + u32::try_from(subs.value.len().div_ceil(PAGE_SIZE)).unwrap_or(0),
        ..RemoteCatalogue::default()
    };
    let orgs = api.read_many(ItemKind::Organization, &subs.value).await?;
    cat.requests += orgs.requests;
    cat.organizations = orgs.value;
    let mut owners = vec![*main];
    owners.extend(subs.value);
    for kind in [ItemKind::Service, ItemKind::Channel] {
        let lists = futures::future::try_join_all(
            owners.iter().map(|org| api.list_by_organization(org, kind)),
        )
        .await?;
        for list in lists {
            cat.requests += list.requests;
            cat.ideal_requests +=
                u32::try_from(list.value.len().div_ceil(PAGE_SIZE).max(1)).unwrap_or(u32::MAX);
            match kind {
                ItemKind::Service => cat.services.extend(list.value),
                _ => cat.channels.extend(list.value),
            }
        }
    }
    let connections = api.connections(&cat.services).await?;
    cat.requests += connections.requests;
    // One page per batch of services is the least a connection read takes.
    cat.ideal_requests += connections.requests;
    cat.connections = connections.value;
    Ok(cat)
}

/// Every page of a paged list: page 1 first (it tells the page count under `count_key`),
/// then the others concurrently within the transport's in-flight limit, at most
/// `max_pages` in all. Returns the pages' bodies and the requests made.
pub(crate) async fn all_pages<F, Fut>(
    count_key: &str,
    max_pages: u64,
    page: F,
) -> Result<(Vec<Value>, u32), PtvError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<(Option<Value>, u32), PtvError>>,
{
    let (first, requests) = page(1).await?;
    let Some(first) = first else {
        return Ok((Vec::new(), requests));
    };
    let count = first.get(count_key).and_then(Value::as_u64).unwrap_or(1);
    with_the_rest(first, requests, count.min(max_pages), &page).await
}

/// Page 1 (`first`, read with `requests`) and pages 2 to `count`, read concurrently.
async fn with_the_rest<F, Fut>(
    first: Value,
    mut requests: u32,
    count: u64,
    page: &F,
) -> Result<(Vec<Value>, u32), PtvError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<(Option<Value>, u32), PtvError>>,
{
    let mut bodies = vec![first];
    for (body, n) in futures::future::try_join_all((2..=count).map(page)).await? {
        requests += n;
        bodies.extend(body);
    }
    Ok((bodies, requests))
}

/// The entries of a list answer: `itemList` (v11 pages), `items` (v12 pages) or a bare
/// array.
pub(crate) fn list_entries(body: &Value) -> &[Value] {
    body.get("itemList")
        .or_else(|| body.get("items"))
        .unwrap_or(body)
        .as_array()
        .map_or(&[], Vec::as_slice)
}

/// How many pages a list answer says there are: a page count, or an item count.
fn page_count(body: &Value) -> Option<u64> {
    ["pageCount", "totalPages"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_u64))
        .or_else(|| {
            ["totalCount", "totalItems", "count"]
                .iter()
                .find_map(|k| body.get(*k).and_then(Value::as_u64))
                .map(|n| n.div_ceil(PAGE_SIZE as u64))
        })
}

/// Every page of an archived list ([`PAGE_SIZE`] entries a page): when page 1 tells how
/// many there are, the others are read concurrently (within the transport's in-flight
/// limit); otherwise one after the other until a page is not full. At most `max_pages`.
pub(crate) async fn archived_pages<F, Fut>(
    max_pages: u64,
    page: F,
) -> Result<(Vec<Value>, u32), PtvError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<(Option<Value>, u32), PtvError>>,
{
    let (first, mut requests) = page(1).await?;
    let Some(first) = first else {
        return Ok((Vec::new(), requests));
    };
    if let Some(count) = page_count(&first) {
        return with_the_rest(first, requests, count.min(max_pages), &page).await;
    }
    let mut full = list_entries(&first).len() >= PAGE_SIZE;
    let mut bodies = vec![first];
    let mut next = 2;
    while full && next <= max_pages {
        let (body, n) = page(next).await?;
        requests += n;
        let Some(body) = body else { break };
        full = list_entries(&body).len() >= PAGE_SIZE;
        bodies.push(body);
        next += 1;
    }
    Ok((bodies, requests))
}

/// The value of a localized list entry (`[{language, type?, value}]`) in `lang`,
/// preferring type `Name`.
pub(crate) fn localized<'a>(list: Option<&'a Value>, lang: &str) -> Option<&'a str> {
    let list = list?.as_array()?;
    let in_lang = |e: &&Value| e.get("language").and_then(Value::as_str) == Some(lang);
    list.iter()
        .filter(in_lang)
        .find(|e| {
            e.get("type")
                .and_then(Value::as_str)
                .is_none_or(|t| t == "Name")
        })
        .or_else(|| list.iter().find(in_lang))
        .and_then(|e| e.get("value"))
        .and_then(Value::as_str)
}

/// The id of an entity in a read answer, under `field` (v11 `id`, v12 `contentId`), and how
/// messages name the entity; `Ok(None)` without an id, an error naming `request` and the
/// field when it is not a GUID.
pub(crate) fn entity_id(
    kind: ItemKind,
    body: &Value,
    field: &str,
    request: &str,
) -> Result<Option<(PtvId, String)>, PtvError> {
    let Some(raw) = text(body, field) else {
        return Ok(None);
    };
    let what = super::describe(kind, None, &raw, None);
    Ok(Some((ptv_id_in(&raw, &what, request, field)?, what)))
}

/// A string field, `None` when absent, null or empty.
pub(crate) fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_of_both_versions_parse() {
        assert_eq!(RemoteStatus::parse("Deleted"), Some(RemoteStatus::Archived));
        assert_eq!(
            RemoteStatus::parse("Archived"),
            Some(RemoteStatus::Archived)
        );
        assert_eq!(
            RemoteStatus::parse("Modified"),
            Some(RemoteStatus::Modified)
        );
        assert_eq!(RemoteStatus::parse("Withdrawn"), None);
    }

    #[test]
    fn archived_entries_of_both_versions_parse() {
        const A1: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d11";
        const C1: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d12";
        let v11 = serde_json::json!({"id": A1, "sourceId": "x-service-1",
            "archivingType": "Automatic", "archivedAt": "2026-01-02T03:04:05Z"});
        let a = ArchivedItem::parse(&v11, Some("Manual"), "a list")
            .unwrap()
            .unwrap();
        assert_eq!(a.ptv_id.to_string(), A1);
        assert_eq!(a.source_id.as_deref(), Some("x-service-1"));
        assert_eq!(a.archiving_type.as_deref(), Some("Automatic"));
        assert_eq!(a.archived_at.as_deref(), Some("2026-01-02T03:04:05Z"));
        let v12 = serde_json::json!({"contentId": C1});
        let b = ArchivedItem::parse(&v12, Some("Manual"), "a list")
            .unwrap()
            .unwrap();
        assert_eq!(
            (b.ptv_id.to_string().as_str(), b.archiving_type.as_deref()),
            (C1, Some("Manual"))
        );
        assert_eq!(
            ArchivedItem::parse(&serde_json::json!({}), None, "a list").unwrap(),
            None
        );
        let odd = ArchivedItem::parse(&serde_json::json!({"id": "a1"}), None, "a list")
            .unwrap_err()
            .to_string();
        assert!(odd.contains("a list") && odd.contains("`id`"), "{odd}");
    }

    fn page_of(n: usize, extra: Value) -> Value {
        let mut body = serde_json::json!({"itemList": vec![serde_json::json!({"id": "x"}); n]});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        body
    }

    #[tokio::test]
    async fn archived_pages_follow_a_count_or_read_until_a_short_page() {
        let asked = std::sync::Mutex::new(Vec::new());
        let (bodies, requests) = archived_pages(50, |p| {
            asked.lock().unwrap().push(p);
            async move {
                let n = if p < 3 { PAGE_SIZE } else { 7 };
                Ok((Some(page_of(n, serde_json::json!({}))), 1))
            }
        })
        .await
        .unwrap();
        assert_eq!((bodies.len(), requests), (3, 3));
        assert_eq!(*asked.lock().unwrap(), vec![1, 2, 3]);

        let (bodies, requests) = archived_pages(50, |p| async move {
            Ok((
                Some(page_of(
                    if p == 1 { 3 } else { 0 },
                    serde_json::json!({"totalItems": 250}),
                )),
                1,
            ))
        })
        .await
        .unwrap();
        assert_eq!((bodies.len(), requests), (3, 3));
        let (bodies, _) = archived_pages(2, |_| async move {
            Ok((Some(page_of(PAGE_SIZE, serde_json::json!({}))), 1))
        })
        .await
        .unwrap();
        assert_eq!(bodies.len(), 2, "max_pages bounds a list that never ends");
    }

    #[test]
    fn localized_prefers_the_name_in_the_language() {
        let list = serde_json::json!([
            {"language": "sv", "type": "Name", "value": "Bygglov"},
            {"language": "fi", "type": "AlternativeName", "value": "Lupa"},
            {"language": "fi", "type": "Name", "value": "Rakennuslupa"},
        ]);
        assert_eq!(localized(Some(&list), "fi"), Some("Rakennuslupa"));
        assert_eq!(localized(Some(&list), "en"), None);
    }
}

//! Every v12 path, method and expected status ptv-sync assumes, in one table.
//!
//! DVV's beta `OpenAPI` document (0.1.0) defines write *bodies* but no write *paths*; the paths
//! below follow `/work/shared/ptv/v12-write-contract.md`. The day DVV publishes the
//! write paths, this module (and the simulator, and that page) change; nothing else.
//! Reads (`{entity}/{contentId}`, `{entity}/search`, `organization/hierarchy/{id}`)
//! are from the beta document itself.

use crate::model::{ChannelType, ItemKind};
use reqwest::Method;

/// One request's method, path segments and the statuses that mean success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: Vec<String>,
    /// Success statuses the contract promises; any other 2xx is accepted with a warning.
    pub expect: &'static [u16],
}

/// A create whose externalId already exists answers this.
pub const EXISTS: u16 = 409;
/// Answer of GET on an archived item (with `reason: Unknown`).
pub const GONE: u16 = 404;

const CREATED: &[u16] = &[201];
const UPDATED: &[u16] = &[200];
const DELETED: &[u16] = &[204];
const READ: &[u16] = &[200];

fn api(parts: &[&str]) -> Vec<String> {
    let mut p = vec!["api".to_owned(), "v12".to_owned()];
    p.extend(parts.iter().map(|s| (*s).to_owned()));
    p
}

/// The URL segment of a channel type in write paths.
#[must_use]
pub fn channel_segment(t: ChannelType) -> &'static str {
    match t {
        ChannelType::EService => "e-service",
        ChannelType::WebPage => "web-page",
        ChannelType::PrintableForm => "printable-form",
        ChannelType::ServiceLocation => "service-location",
        ChannelType::Phone => "telephone",
    }
}

/// v12's name of a channel type (`ChannelType` enum of the beta document).
#[must_use]
pub fn channel_type_name(t: ChannelType) -> &'static str {
    match t {
        ChannelType::EService => "EService",
        ChannelType::WebPage => "WebPage",
        ChannelType::PrintableForm => "PrintableForm",
        ChannelType::ServiceLocation => "ServiceLocation",
        ChannelType::Phone => "TelephoneService",
    }
}

/// The collection segment of an item kind: `organization`, `service`, `service-channel`.
fn entity(kind: ItemKind) -> Option<&'static str> {
    match kind {
        ItemKind::Organization => Some("organization"),
        ItemKind::Service => Some("service"),
        ItemKind::Channel => Some("service-channel"),
        ItemKind::Connections => None,
    }
}

/// Why a route cannot be built (a programming or data error upstream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("a channel write needs its channel type")]
    NoChannelType,
    #[error("connections are written with set_connections, not as an item")]
    Connections,
}

fn entity_of(kind: ItemKind) -> Result<&'static str, RouteError> {
    entity(kind).ok_or(RouteError::Connections)
}

fn write_base(kind: ItemKind, t: Option<ChannelType>) -> Result<Vec<String>, RouteError> {
    let e = entity_of(kind)?;
    Ok(if kind == ItemKind::Channel {
        api(&[e, channel_segment(t.ok_or(RouteError::NoChannelType)?)])
    } else {
        api(&[e])
    })
}

pub fn create(kind: ItemKind, t: Option<ChannelType>) -> Result<Route, RouteError> {
    Ok(Route {
        method: Method::POST,
        path: write_base(kind, t)?,
        expect: CREATED,
    })
}

/// Update, and restore of an archived item: PUT of the full body.
pub fn update(
    kind: ItemKind,
    t: Option<ChannelType>,
    content_id: &str,
) -> Result<Route, RouteError> {
    let mut path = write_base(kind, t)?;
    path.push(content_id.to_owned());
    Ok(Route {
        method: Method::PUT,
        path,
        expect: UPDATED,
    })
}

pub fn archive(kind: ItemKind, content_id: &str) -> Result<Route, RouteError> {
    Ok(Route {
        method: Method::DELETE,
        path: api(&[entity_of(kind)?, content_id]),
        expect: DELETED,
    })
}

#[must_use]
pub fn connect() -> Route {
    Route {
        method: Method::POST,
        path: api(&["connection"]),
        expect: CREATED,
    }
}

#[must_use]
pub fn disconnect(service: &str, channel: &str) -> Route {
    Route {
        method: Method::DELETE,
        path: api(&["connection", service, channel]),
        expect: DELETED,
    }
}

pub fn read(kind: ItemKind, content_id: &str) -> Result<Route, RouteError> {
    Ok(Route {
        method: Method::GET,
        path: api(&[entity_of(kind)?, content_id]),
        expect: READ,
    })
}

/// `GET /api/v12/{service|service-channel}/search` (organisations: see `hierarchy`).
pub fn search(kind: ItemKind) -> Result<Route, RouteError> {
    Ok(Route {
        method: Method::GET,
        path: api(&[entity_of(kind)?, "search"]),
        expect: READ,
    })
}

/// `GET /api/v12/connection/search`: a service's connections, by `serviceContentIds`
/// (at most [`CONNECTION_SEARCH_IDS`] a request), paged.
#[must_use]
pub fn connection_search() -> Route {
    Route {
        method: Method::GET,
        path: api(&["connection", "search"]),
        expect: READ,
    }
}

/// The most ids `connection/search` takes per filter (`maxItems: 20`).
pub const CONNECTION_SEARCH_IDS: usize = 20;

#[must_use]
pub fn hierarchy(org: &str) -> Route {
    Route {
        method: Method::GET,
        path: api(&["organization", "hierarchy", org]),
        expect: READ,
    }
}

/// The official request schema (`components.schemas.*`) a body must satisfy.
#[must_use]
pub fn body_schema(kind: ItemKind, t: Option<ChannelType>, create: bool) -> Option<&'static str> {
    Some(match (kind, t, create) {
        (ItemKind::Organization, _, true) => "PostSubOrganizationExternalIdReques",
        (ItemKind::Organization, _, false) => "PutSubOrganizationRequest",
        (ItemKind::Service, _, true) => "ServiceExternalIdRequest",
        (ItemKind::Service, _, false) => "PutServiceRequest",
        (ItemKind::Channel, Some(ChannelType::EService), true) => "PostEServiceChannelRequest",
        (ItemKind::Channel, Some(ChannelType::EService), false) => {
            "PutEServiceChannelRequestSchema"
        }
        (ItemKind::Channel, Some(ChannelType::WebPage), true) => "PostWebPageChannelRequest",
        (ItemKind::Channel, Some(ChannelType::WebPage), false) => "PutWebPageChannelRequest",
        (ItemKind::Channel, Some(ChannelType::PrintableForm), true) => {
            "PostPrintableFormChannelRequest"
        }
        (ItemKind::Channel, Some(ChannelType::PrintableForm), false) => {
            "PutPrintableFormChannelRequestSchema"
        }
        (ItemKind::Channel, Some(ChannelType::ServiceLocation), true) => {
            "PostServiceLocationChannelRequest"
        }
        (ItemKind::Channel, Some(ChannelType::ServiceLocation), false) => {
            "PutServiceLocationChannelRequestSchema"
        }
        (ItemKind::Channel, Some(ChannelType::Phone), true) => "PostTelephoneChannelRequest",
        (ItemKind::Channel, Some(ChannelType::Phone), false) => "PutTelephoneChannelRequestSchema",
        (ItemKind::Connections, _, _) => "ConnectionRequest",
        (ItemKind::Channel, None, _) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_write_contract() {
        let r = create(ItemKind::Channel, Some(ChannelType::Phone)).unwrap();
        assert_eq!(
            (r.method, r.path.join("/")),
            (Method::POST, "api/v12/service-channel/telephone".to_owned())
        );
        let r = update(ItemKind::Service, None, "c1").unwrap();
        assert_eq!(
            (r.method, r.path.join("/")),
            (Method::PUT, "api/v12/service/c1".to_owned())
        );
        let r = archive(ItemKind::Channel, "c2").unwrap();
        assert_eq!(
            (r.method, r.path.join("/"), r.expect),
            (
                Method::DELETE,
                "api/v12/service-channel/c2".to_owned(),
                DELETED
            )
        );
        assert_eq!(
            disconnect("s", "c").path.join("/"),
            "api/v12/connection/s/c"
        );
        assert_eq!(
            create(ItemKind::Organization, None).unwrap().expect,
            CREATED
        );
        assert_eq!(
            create(ItemKind::Channel, None),
            Err(RouteError::NoChannelType)
        );
        assert_eq!(
            create(ItemKind::Connections, None),
            Err(RouteError::Connections)
        );
    }

    #[test]
    fn every_schema_name_exists_in_the_official_document() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("openapi-beta.json")).unwrap();
        let schemas = &doc["components"]["schemas"];
        for kind in ItemKind::ALL {
            let types: Vec<Option<ChannelType>> = if kind == ItemKind::Channel {
                ChannelType::ALL.iter().copied().map(Some).collect()
            } else {
                vec![None]
            };
            for t in types {
                for create in [true, false] {
                    let name = body_schema(kind, t, create).unwrap();
                    assert!(schemas.get(name).is_some(), "{name} missing");
                }
            }
        }
        let enum_values = &schemas["ChannelType"]["enum"];
        for t in ChannelType::ALL {
            assert!(
                enum_values
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| v == channel_type_name(t))
            );
        }
    }
}

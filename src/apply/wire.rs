//! From the model to the configured API version's wire bodies: the one place the engine
//! chooses between the v11 and v12 mappers.

use crate::model::{ApiVersion, ChannelType, Connection, Item};
use crate::ptv::{v11, v12};
use serde_json::Value;

/// A body that cannot be built for this API version: the field and why.
#[derive(Debug, Clone)]
pub struct MapFailure {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for MapFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The write body of an item; `owner` is the PTV id of its organisation (a
/// sub-organisation's parent). Channels arrive with their area already resolved.
pub fn item_body(api: ApiVersion, item: &Item, owner: &str) -> Result<Value, MapFailure> {
    let v12_err = |e: v12::map::MapError| MapFailure {
        field: e.field,
        message: e.message,
    };
    Ok(match (api, item) {
        (ApiVersion::V11, Item::Organization(o)) => v11::map::organization(o, owner).body,
        (ApiVersion::V11, Item::Service(s)) => v11::map::service(s, owner).body,
        (ApiVersion::V11, Item::Channel(c)) => v11::map::channel(c, owner, c.area.as_ref()).body,
        (ApiVersion::V12, Item::Organization(o)) => {
            v12::map::organization(o, owner).map_err(v12_err)?.body
        }
        (ApiVersion::V12, Item::Service(s)) => v12::map::service(s, owner).body,
        (ApiVersion::V12, Item::Channel(c)) => {
            v12::map::channel(c, owner, c.area.as_ref())
                .map_err(v12_err)?
                .body
        }
    })
}

/// One relation body per connection, each naming the channel's PTV id.
#[must_use]
pub fn connection_bodies(
    api: ApiVersion,
    service: &str,
    targets: &[(&Connection, String, ChannelType)],
) -> Vec<Value> {
    targets
        .iter()
        .map(|(c, channel, _)| match api {
            ApiVersion::V11 => v11::map::connection(c, channel),
            ApiVersion::V12 => v12::map::connection(c, service, channel).body,
        })
        .collect()
}

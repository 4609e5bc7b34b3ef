//! Closed sets shared by every layer: what an item is, and which PTV API it goes to.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of item ptv-sync keeps in step. `Connections` is a service's full
/// connection set, planned and fingerprinted apart from the service itself so that a
/// connection change costs one connection write and nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Organization,
    Channel,
    Service,
    Connections,
}

impl ItemKind {
    pub const ALL: [ItemKind; 4] = [
        ItemKind::Organization,
        ItemKind::Channel,
        ItemKind::Service,
        ItemKind::Connections,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Organization => "organization",
            ItemKind::Channel => "channel",
            ItemKind::Service => "service",
            ItemKind::Connections => "connections",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The five kinds of service channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ChannelType {
    EService,
    WebPage,
    Phone,
    PrintableForm,
    ServiceLocation,
}

impl ChannelType {
    pub const ALL: [ChannelType; 5] = [
        ChannelType::EService,
        ChannelType::WebPage,
        ChannelType::Phone,
        ChannelType::PrintableForm,
        ChannelType::ServiceLocation,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelType::EService => "EService",
            ChannelType::WebPage => "WebPage",
            ChannelType::Phone => "Phone",
            ChannelType::PrintableForm => "PrintableForm",
            ChannelType::ServiceLocation => "ServiceLocation",
        }
    }
}

impl fmt::Display for ChannelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which PTV import API an organisation writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    #[default]
    V11,
    V12,
}

impl ApiVersion {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V11 => "v11",
            ApiVersion::V12 => "v12",
        }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

//! Organisations, services and channels as the source describes them.

use super::common::{Area, Email, LangMap, Phone, ServiceHours, WebPage};
use super::{ChannelType, ItemKind, Lang, PtvId, SourceId, Text};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrganizationType {
    State,
    Municipality,
    RegionalOrganization,
    Organization,
    Company,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganizationLang {
    pub name: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_name: Option<Text>,
    pub summary: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
}

/// A sub-organisation of the configured main organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Organization {
    pub id: SourceId,
    /// The PTV item this one is, for `adopt` (matched before sourceIds and names). Not a
    /// PTV field: never sent, stored or fingerprinted.
    #[serde(default, skip_serializing)]
    pub ptv_id: Option<PtvId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<SourceId>,
    pub organization_type: OrganizationType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_code: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub municipality: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    pub language_versions: LangMap<OrganizationLang>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub emails: Vec<Email>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub phones: Vec<Phone>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub web_pages: Vec<WebPage>,
}

impl Organization {
    /// The organisation's effective area: a municipality's is its municipality.
    #[must_use]
    pub fn effective_area(&self) -> Option<Area> {
        match (&self.area, self.organization_type, &self.municipality) {
            (Some(a), _, _) => Some(a.clone()),
            (None, OrganizationType::Municipality, Some(m)) => Some(Area::municipality(m)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceType {
    Service,
    PermitOrObligation,
    ProfessionalQualification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FundingType {
    PubliclyFunded,
    MarketFunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceChargeType {
    Free,
    Charged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceLang {
    pub name: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative_name: Option<Text>,
    pub summary: Text,
    pub description: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_instructions: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Text>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub keywords: Vec<Text>,
}

/// One service-channel connection with its extra information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Connection {
    pub channel: SourceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_type: Option<ServiceChargeType>,
    #[serde(default, skip_serializing_if = "LangMap::is_empty")]
    pub description: LangMap<Text>,
    /// Connection-specific hours (PTV allows them for `ServiceLocation` channels).
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_hours: Vec<ServiceHours>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Service {
    pub id: SourceId,
    /// The PTV item this one is, for `adopt` (matched before sourceIds and names). Not a
    /// PTV field: never sent, stored or fingerprinted.
    #[serde(default, skip_serializing)]
    pub ptv_id: Option<PtvId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<SourceId>,
    pub service_type: ServiceType,
    pub funding_type: FundingType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_type: Option<ServiceChargeType>,
    #[serde(deserialize_with = "super::list::exact")]
    pub service_languages: Vec<Text>,
    pub area: Area,
    #[serde(deserialize_with = "super::list::exact")]
    pub target_groups: Vec<Text>,
    #[serde(deserialize_with = "super::list::exact")]
    pub service_classes: Vec<Text>,
    #[serde(deserialize_with = "super::list::exact")]
    pub ontology_terms: Vec<Text>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub life_events: Vec<Text>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub industrial_classes: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub general_description: Option<Text>,
    pub language_versions: LangMap<ServiceLang>,
    #[serde(deserialize_with = "super::list::exact", default, skip_serializing)]
    pub connections: Vec<Connection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessibilityLevel {
    FullyCompliant,
    PartiallyCompliant,
    NonCompliant,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WcagLevel {
    LevelA,
    LevelAA,
    LevelAAA,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Accessibility {
    pub level: AccessibilityLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wcag_level: Option<WcagLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_url: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_name: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelLang {
    pub name: Text,
    pub summary: Text,
    pub description: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_address: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_address_name: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibility: Option<Accessibility>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormType {
    #[serde(rename = "PDF")]
    Pdf,
    #[serde(rename = "DOC")]
    Doc,
    Excel,
    #[serde(rename = "rtf")]
    Rtf,
    #[serde(rename = "odt")]
    Odt,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FormUrl {
    pub language: Lang,
    pub url: Text,
    #[serde(rename = "type")]
    pub form_type: FormType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressType {
    Location,
    Postal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    #[serde(rename = "type")]
    pub address_type: AddressType,
    pub street: LangMap<Text>,
    pub street_number: Text,
    pub postal_code: Text,
    pub municipality: Text,
    /// EPSG:3067 (ETRS-TM35FIN) northing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// EPSG:3067 easting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Channel {
    pub id: SourceId,
    /// The PTV item this one is, for `adopt` (matched before sourceIds and names). Not a
    /// PTV field: never sent, stored or fingerprinted.
    #[serde(default, skip_serializing)]
    pub ptv_id: Option<PtvId>,
    pub channel_type: ChannelType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<SourceId>,
    #[serde(deserialize_with = "super::list::exact")]
    pub service_languages: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    #[serde(default)]
    pub visible_for_all: bool,
    pub language_versions: LangMap<ChannelLang>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_authentication: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_signature: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_quantity: Option<u8>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub phones: Vec<Phone>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub emails: Vec<super::common::Email>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub form_urls: Vec<FormUrl>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub addresses: Vec<Address>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub service_hours: Vec<ServiceHours>,
}

/// A parsed source document.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Organization(Organization),
    Service(Service),
    Channel(Channel),
}

impl Item {
    #[must_use]
    pub fn kind(&self) -> ItemKind {
        match self {
            Item::Organization(_) => ItemKind::Organization,
            Item::Service(_) => ItemKind::Service,
            Item::Channel(_) => ItemKind::Channel,
        }
    }
    #[must_use]
    pub fn id(&self) -> &SourceId {
        match self {
            Item::Organization(o) => &o.id,
            Item::Service(s) => &s.id,
            Item::Channel(c) => &c.id,
        }
    }
    /// The PTV item the source says this is (`ptvId`), if it says.
    #[must_use]
    pub fn ptv_id(&self) -> Option<PtvId> {
        match self {
            Item::Organization(o) => o.ptv_id,
            Item::Service(s) => s.ptv_id,
            Item::Channel(c) => c.ptv_id,
        }
    }
    /// A channel's type; `None` for the other kinds.
    #[must_use]
    pub fn channel_type(&self) -> Option<ChannelType> {
        match self {
            Item::Channel(c) => Some(c.channel_type),
            _ => None,
        }
    }
    /// Languages the item has content in.
    #[must_use]
    pub fn languages(&self) -> Vec<Lang> {
        match self {
            Item::Organization(o) => o.language_versions.keys().copied().collect(),
            Item::Service(s) => s.language_versions.keys().copied().collect(),
            Item::Channel(c) => c.language_versions.keys().copied().collect(),
        }
    }
    /// The Finnish name, or the first language's, for messages and lookups.
    #[must_use]
    pub fn display_name(&self) -> String {
        fn first<T>(m: &LangMap<T>, f: impl Fn(&T) -> &Text) -> String {
            m.get(&Lang::Fi)
                .or_else(|| m.values().next())
                .map(|v| f(v).to_string())
                .unwrap_or_default()
        }
        match self {
            Item::Organization(o) => first(&o.language_versions, |l| &l.name),
            Item::Service(s) => first(&s.language_versions, |l| &l.name),
            Item::Channel(c) => first(&c.language_versions, |l| &l.name),
        }
    }
}

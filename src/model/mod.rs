//! The version-neutral model of what the source says should exist in PTV: typed,
//! strictly parsed (unknown keys are errors) and normalised once, at the edge.

mod action;
mod common;
mod identity;
mod items;
mod kind;
mod list;
mod org_name;
mod parsed_str;
mod stored_enum;
mod text;

pub use action::{Action, Outcome};
pub use common::{
    Area, AreaType, Email, Lang, LangMap, OpeningHours, Phone, PhoneChargeType, PhoneType,
    ServiceHours, ServiceHoursType, WebPage, Weekday,
};
pub use identity::{PtvSourceId, ptv_source_id};
pub use items::{
    Accessibility, AccessibilityLevel, Address, AddressType, Channel, ChannelLang, Connection,
    FormType, FormUrl, FundingType, Item, Organization, OrganizationLang, OrganizationType,
    Service, ServiceChargeType, ServiceLang, ServiceType, WcagLevel,
};
pub use kind::{ApiVersion, ChannelType, ItemKind};
pub use org_name::{OrgName, StateKey};
pub use stored_enum::ErrorClass;
pub(crate) use stored_enum::stored_enum;
pub use text::{PtvId, SourceId, Text};

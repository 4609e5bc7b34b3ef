//! Building blocks shared by organisations, services and channels.

use super::Text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// PTV's data languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Fi,
    Sv,
    En,
    Se,
    Smn,
    Sms,
}

impl Lang {
    pub const ALL: [Lang; 6] = [Lang::Fi, Lang::Sv, Lang::En, Lang::Se, Lang::Smn, Lang::Sms];

    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fi => "fi",
            Lang::Sv => "sv",
            Lang::En => "en",
            Lang::Se => "se",
            Lang::Smn => "smn",
            Lang::Sms => "sms",
        }
    }
}

// Read through a string so that error paths can name the key (`languageVersions.de`).
impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown language '{s}': use fi, sv, en, se, smn or sms"
                ))
            })
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

pub type LangMap<T> = BTreeMap<Lang, T>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AreaType {
    WholeCountry,
    WholeCountryExceptAland,
    LimitedArea,
}

impl AreaType {
    /// Wider areas rank higher; a service may not be wider than its organisation.
    #[must_use]
    pub fn breadth(self) -> u8 {
        match self {
            AreaType::WholeCountry => 2,
            AreaType::WholeCountryExceptAland => 1,
            AreaType::LimitedArea => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Area {
    #[serde(rename = "type")]
    pub area_type: AreaType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub municipalities: Vec<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wellbeing_services_counties: Vec<Text>,
}

impl Area {
    #[must_use]
    pub fn municipality(code: &Text) -> Self {
        Area {
            area_type: AreaType::LimitedArea,
            municipalities: vec![code.clone()],
            regions: Vec::new(),
            wellbeing_services_counties: Vec::new(),
        }
    }
    #[must_use]
    pub fn code_count(&self) -> usize {
        self.municipalities.len() + self.regions.len() + self.wellbeing_services_counties.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhoneChargeType {
    FreeOfCharge,
    Chargeable,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhoneType {
    Phone,
    Sms,
    Fax,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Phone {
    pub language: Lang,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Text>,
    pub number: Text,
    pub charge_type: PhoneChargeType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_description: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<Text>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub phone_type: Option<PhoneType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Email {
    pub language: Lang,
    pub value: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebPage {
    pub language: Lang,
    pub name: Text,
    pub url: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceHoursType {
    Standard,
    Exception,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpeningHours {
    pub day_from: Weekday,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_to: Option<Weekday>,
    pub from: Text,
    pub to: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceHours {
    #[serde(rename = "type")]
    pub hours_type: ServiceHoursType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<chrono::NaiveDate>,
    /// Closed for the whole period (an exception such as a holiday).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opening_hours: Vec<OpeningHours>,
    #[serde(default, skip_serializing_if = "LangMap::is_empty")]
    pub additional_information: LangMap<Text>,
}

//! Building blocks shared by organisations, services and channels.

use super::Text;
use serde::{Deserialize, Serialize};
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

/// Per-language values in language order. A sorted vector rather than a `BTreeMap`: an
/// item has one to three languages, and a B-tree node per map cost kilobytes per item at
/// 100,000 items. A language given twice is a parse error, not a silent overwrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LangMap<T>(Vec<(Lang, T)>);

impl<T> Default for LangMap<T> {
    fn default() -> Self {
        LangMap(Vec::new())
    }
}

type Pairs<'a, T> =
    std::iter::Map<std::slice::Iter<'a, (Lang, T)>, fn(&'a (Lang, T)) -> (&'a Lang, &'a T)>;

impl<T> LangMap<T> {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn position(&self, lang: Lang) -> Result<usize, usize> {
        self.0.binary_search_by(|(l, _)| l.cmp(&lang))
    }
    #[must_use]
    pub fn get(&self, lang: &Lang) -> Option<&T> {
        self.position(*lang).ok().map(|i| &self.0[i].1)
    }
    #[must_use]
    pub fn contains_key(&self, lang: &Lang) -> bool {
        self.position(*lang).is_ok()
    }
    /// Sets the value of a language; returns the one it replaces.
    pub fn insert(&mut self, lang: Lang, value: T) -> Option<T> {
        match self.position(lang) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (lang, value));
                None
            }
        }
    }
    pub fn iter(&self) -> Pairs<'_, T> {
        self.0.iter().map(|(l, v)| (l, v))
    }
    pub fn keys(&self) -> impl Iterator<Item = &Lang> {
        self.0.iter().map(|(l, _)| l)
    }
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl<T> std::ops::Index<&Lang> for LangMap<T> {
    type Output = T;
    /// # Panics
    /// If the language is not in the map, as `BTreeMap` does.
    fn index(&self, lang: &Lang) -> &T {
        self.get(lang).expect("language not in the map")
    }
}

impl<T> FromIterator<(Lang, T)> for LangMap<T> {
    fn from_iter<I: IntoIterator<Item = (Lang, T)>>(iter: I) -> Self {
        let mut m = LangMap::new();
        for (l, v) in iter {
            m.insert(l, v);
        }
        m
    }
}

impl<'a, T> IntoIterator for &'a LangMap<T> {
    type Item = (&'a Lang, &'a T);
    type IntoIter = Pairs<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Serialize> Serialize for LangMap<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LangMap<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = LangMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from language code (fi, sv, en, se, smn, sms) to a value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<Self::Value, A::Error> {
                let mut m = LangMap(Vec::with_capacity(access.size_hint().unwrap_or(2)));
                while let Some((lang, value)) = access.next_entry::<Lang, T>()? {
                    if m.insert(lang, value).is_some() {
                        return Err(serde::de::Error::custom(format!(
                            "language '{lang}' is given twice"
                        )));
                    }
                }
                Ok(LangMap(super::list::fit(m.0)))
            }
        }
        d.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

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
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub municipalities: Vec<Text>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub regions: Vec<Text>,
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
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
    #[serde(
        deserialize_with = "super::list::exact",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub opening_hours: Vec<OpeningHours>,
    #[serde(default, skip_serializing_if = "LangMap::is_empty")]
    pub additional_information: LangMap<Text>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_map_keeps_language_order_and_refuses_a_language_twice() {
        let m: LangMap<u8> = serde_json::from_str(r#"{"sv": 2, "fi": 1}"#).unwrap();
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [Lang::Fi, Lang::Sv]);
        assert_eq!((m[&Lang::Sv], m.get(&Lang::En)), (2, None));
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"fi":1,"sv":2}"#);
        let err = serde_json::from_str::<LangMap<u8>>(r#"{"fi": 1, "fi": 2}"#).unwrap_err();
        assert!(
            err.to_string().contains("language 'fi' is given twice"),
            "{err}"
        );
        let err = serde_json::from_str::<LangMap<u8>>(r#"{"de": 1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown language 'de'"), "{err}");
    }
}

//! v11 bodies → source documents: the inverse of [`super::map`] (see
//! [`crate::ptv::read_back`] for the contract).

use super::super::read::RemoteItem;
use super::super::read_back::{
    ReadBack, lang_entry, list, named_languages, put, str_of, strip, unread_keys,
};
use crate::model::{ChannelType, ItemKind};
use serde_json::{Map, Value, json};

const TARGET_GROUP: &str = "http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/";
const SERVICE_CLASS: &str = "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/";
const LIFE_EVENT: &str = "http://uri.suomi.fi/codelist/ptv/ptvelti/code/";
const INDUSTRIAL_CLASS: &str = "http://uri.suomi.fi/codelist/jhs/toimiala_1_20080101/code/";

/// Keys every v11 entity carries that are not the item's own content.
const BOOKKEEPING: &[&str] = &[
    "id",
    "sourceId",
    "publishingStatus",
    "modified",
    "modifiedBy",
    "versionId",
    "displayNameType",
    "mainResponsibleOrganization",
    "mainOrganizationId",
    "organizationId",
    "parentOrganizationId",
    "parentOrganization",
    "serviceChannels",
    "serviceChannelType",
    "oid",
];

/// The value of each `{language, value}` entry, by language.
fn by_language(entries: &[Value]) -> Vec<(String, Value)> {
    entries
        .iter()
        .filter_map(|e| {
            Some((
                str_of(e, "language")?.to_owned(),
                Value::String(str_of(e, "value")?.to_owned()),
            ))
        })
        .collect()
}

/// `{language, type, value}` entries of `types` into `languageVersions.<lang>.<field>`.
fn localized(doc: &mut Map<String, Value>, entries: &[Value], types: &[(&str, &str)]) {
    for e in entries {
        let (Some(lang), Some(value)) = (str_of(e, "language"), str_of(e, "value")) else {
            continue;
        };
        let t = str_of(e, "type").unwrap_or("Name");
        if let Some((_, field)) = types.iter().find(|(ty, _)| *ty == t) {
            lang_entry(doc, lang).insert((*field).to_owned(), value.into());
        }
    }
}

/// Localized entries of types the source format has no field for.
fn unknown_types(entries: &[Value], key: &str, types: &[(&str, &str)], out: &mut Vec<String>) {
    for e in entries {
        let t = str_of(e, "type").unwrap_or("Name");
        if !types.iter().any(|(ty, _)| *ty == t) && str_of(e, "value").is_some() {
            out.push(format!("{key} of type {t}: no place in the source format"));
        }
    }
}

fn area_type(t: &str) -> Option<&'static str> {
    match t {
        "Nationwide" => Some("WholeCountry"),
        "NationwideExceptAlandIslands" => Some("WholeCountryExceptAland"),
        "LimitedType" => Some("LimitedArea"),
        _ => None,
    }
}

fn area_group(sub: &str) -> Option<&'static str> {
    match sub {
        "Municipality" => Some("municipalities"),
        "Region" => Some("regions"),
        "WellbeingServiceCounties" | "WellbeingServiceCounty" => Some("wellbeingServicesCounties"),
        _ => None,
    }
}

/// A service's or channel's `areaType` + `areas: [{type, areaCodes}]`.
fn area(body: &Value, out: &mut Vec<String>) -> Option<Value> {
    let t = area_type(str_of(body, "areaType")?)?;
    let mut a = Map::new();
    a.insert("type".into(), t.into());
    if t == "LimitedArea" {
        for group in list(body, "areas") {
            let sub = str_of(group, "type").unwrap_or_default();
            match area_group(sub) {
                Some(key) => {
                    let codes = a.entry(key).or_insert_with(|| json!([]));
                    if let Value::Array(codes) = codes {
                        codes.extend(list(group, "areaCodes").iter().cloned());
                    }
                }
                None => out.push(format!(
                    "areas of type {sub}: no place in the source format"
                )),
            }
        }
    }
    Some(Value::Object(a))
}

/// A phone; `with_type` for a channel's (organisations' phones have no type).
fn phone(p: &Value, with_type: bool) -> Option<Value> {
    let mut m = Map::new();
    m.insert("language".into(), str_of(p, "language")?.into());
    let finnish = p.get("isFinnishServiceNumber").and_then(Value::as_bool) == Some(true);
    if !finnish && let Some(prefix) = str_of(p, "prefixNumber") {
        m.insert("prefix".into(), prefix.into());
    }
    m.insert("number".into(), str_of(p, "number")?.into());
    m.insert(
        "chargeType".into(),
        str_of(p, "serviceChargeType")
            .unwrap_or("Chargeable")
            .into(),
    );
    for (from, to) in [
        ("chargeDescription", "chargeDescription"),
        ("additionalInformation", "additionalInformation"),
    ] {
        if let Some(v) = str_of(p, from) {
            m.insert(to.into(), v.into());
        }
    }
    // Channel phones carry a type in the source format; v11 support phones have none
    // (they are voice numbers).
    if with_type {
        m.insert("type".into(), str_of(p, "type").unwrap_or("Phone").into());
    }
    Some(Value::Object(m))
}

fn emails(entries: &[Value]) -> Value {
    by_language(entries)
        .into_iter()
        .map(|(l, v)| json!({"language": l, "value": v}))
        .collect()
}

fn date(v: &Value, key: &str) -> Option<String> {
    str_of(v, key).map(|s| s.get(..10).unwrap_or(s).to_owned())
}

/// v11 service hours as the source's `serviceHours`.
fn service_hours(entries: &[Value], out: &mut Vec<String>) -> Value {
    entries
        .iter()
        .map(|h| {
            let mut m = Map::new();
            let t = match str_of(h, "serviceHourType") {
                Some("Exceptional" | "Exception") => "Exception",
                _ => "Standard",
            };
            m.insert("type".into(), t.into());
            if let Some(d) = date(h, "validFrom") {
                m.insert("validFrom".into(), d.into());
            }
            if let Some(d) = date(h, "validTo") {
                m.insert("validTo".into(), d.into());
            }
            if h.get("isClosed").and_then(Value::as_bool) == Some(true) {
                m.insert("closed".into(), true.into());
            }
            for flag in ["isAlwaysOpen", "isReservation"] {
                if h.get(flag).and_then(Value::as_bool) == Some(true) {
                    out.push(format!(
                        "serviceHours.{flag}: no place in the source format"
                    ));
                }
            }
            let opening: Vec<Value> = list(h, "openingHour")
                .iter()
                .map(|o| {
                    let mut oh = Map::new();
                    for k in ["dayFrom", "dayTo", "from", "to"] {
                        if let Some(v) = str_of(o, k) {
                            let v = if k == "from" || k == "to" {
                                v.get(..5).unwrap_or(v)
                            } else {
                                v
                            };
                            oh.insert(k.into(), v.into());
                        }
                    }
                    Value::Object(oh)
                })
                .collect();
            put(&mut m, "openingHours", Value::Array(opening));
            let info: Map<String, Value> = by_language(list(h, "additionalInformation"))
                .into_iter()
                .collect();
            put(&mut m, "additionalInformation", Value::Object(info));
            Value::Object(m)
        })
        .collect()
}

/// The item as a source document.
#[must_use]
pub fn item(r: &RemoteItem) -> ReadBack {
    match r.kind {
        ItemKind::Organization => organization(&r.body),
        ItemKind::Service | ItemKind::Connections => service(&r.body),
        ItemKind::Channel => channel(&r.body, r.channel_type),
    }
}

const NAMES: &[(&str, &str)] = &[("Name", "name"), ("AlternativeName", "alternativeName")];

fn organization(b: &Value) -> ReadBack {
    let mut out = Vec::new();
    let mut doc = Map::new();
    doc.insert("kind".into(), "organization".into());
    let org_type = str_of(b, "organizationType").unwrap_or("Organization");
    doc.insert("organizationType".into(), org_type.into());
    if let Some(c) = str_of(b, "businessCode") {
        doc.insert("businessCode".into(), c.into());
    }
    let municipality = match b.get("municipality") {
        Some(Value::Object(m)) => m.get("code").and_then(Value::as_str),
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    };
    if let Some(m) = municipality {
        doc.insert("municipality".into(), m.into());
    }
    localized(&mut doc, list(b, "organizationNames"), NAMES);
    unknown_types(
        list(b, "organizationNames"),
        "organizationNames",
        NAMES,
        &mut out,
    );
    let texts = [("Summary", "summary"), ("Description", "description")];
    localized(&mut doc, list(b, "organizationDescriptions"), &texts);
    unknown_types(
        list(b, "organizationDescriptions"),
        "organizationDescriptions",
        &texts,
        &mut out,
    );
    match (org_type, str_of(b, "areaType").and_then(area_type)) {
        // A municipality's area is its municipality; only Nationwide is ever written.
        ("Municipality", Some("WholeCountry")) => {
            doc.insert("area".into(), json!({"type": "WholeCountry"}));
        }
        ("Municipality", _) | (_, None) => {}
        (_, Some("LimitedArea")) => {
            let key = str_of(b, "subAreaType").and_then(area_group);
            match key {
                Some(key) => {
                    let mut a = Map::new();
                    a.insert("type".into(), "LimitedArea".into());
                    a.insert(key.into(), Value::Array(list(b, "areas").to_vec()));
                    doc.insert("area".into(), Value::Object(a));
                }
                None => out.push("area: a limited area without a known subAreaType".into()),
            }
        }
        (_, Some(t)) => {
            doc.insert("area".into(), json!({"type": t}));
        }
    }
    put(&mut doc, "emails", emails(list(b, "emails")));
    let phones: Vec<Value> = list(b, "phoneNumbers")
        .iter()
        .filter_map(|p| phone(p, false))
        .collect();
    put(&mut doc, "phones", Value::Array(phones));
    let pages: Vec<Value> = list(b, "webPages")
        .iter()
        .filter_map(|w| {
            Some(json!({"language": str_of(w, "language")?, "name": str_of(w, "value")?, "url": str_of(w, "url")?}))
        })
        .collect();
    put(&mut doc, "webPages", Value::Array(pages));
    unread_keys(
        b,
        &[
            "organizationType",
            "businessCode",
            "municipality",
            "organizationNames",
            "organizationDescriptions",
            "areaType",
            "subAreaType",
            "areas",
            "emails",
            "phoneNumbers",
            "webPages",
        ],
        BOOKKEEPING,
        &mut out,
    );
    ReadBack {
        document: doc,
        not_expressible: out,
    }
}

fn codes(b: &Value, key: &str, prefix: &str) -> Value {
    list(b, key)
        .iter()
        .filter_map(Value::as_str)
        .map(|s| Value::String(strip(s, prefix).to_owned()))
        .collect()
}

fn service(b: &Value) -> ReadBack {
    let mut out = Vec::new();
    let mut doc = Map::new();
    doc.insert("kind".into(), "service".into());
    let service_type = str_of(b, "type").unwrap_or("Service");
    doc.insert("serviceType".into(), service_type.into());
    doc.insert(
        "fundingType".into(),
        str_of(b, "fundingType").unwrap_or("PubliclyFunded").into(),
    );
    match str_of(b, "serviceChargeType") {
        Some("FreeOfCharge" | "Free") => {
            doc.insert("chargeType".into(), "Free".into());
        }
        Some("Chargeable" | "Charged") => {
            doc.insert("chargeType".into(), "Charged".into());
        }
        Some(other) => out.push(format!(
            "serviceChargeType {other}: no place in the source format"
        )),
        None => {}
    }
    put(
        &mut doc,
        "serviceLanguages",
        Value::Array(list(b, "languages").to_vec()),
    );
    if let Some(a) = area(b, &mut out) {
        doc.insert("area".into(), a);
    }
    put(
        &mut doc,
        "targetGroups",
        codes(b, "targetGroups", TARGET_GROUP),
    );
    put(
        &mut doc,
        "serviceClasses",
        codes(b, "serviceClasses", SERVICE_CLASS),
    );
    put(
        &mut doc,
        "ontologyTerms",
        Value::Array(list(b, "ontologyTerms").to_vec()),
    );
    put(&mut doc, "lifeEvents", codes(b, "lifeEvents", LIFE_EVENT));
    put(
        &mut doc,
        "industrialClasses",
        codes(b, "industrialClasses", INDUSTRIAL_CLASS),
    );
    if let Some(g) = str_of(b, "generalDescriptionId") {
        doc.insert("generalDescription".into(), g.into());
    }
    localized(&mut doc, list(b, "serviceNames"), NAMES);
    unknown_types(list(b, "serviceNames"), "serviceNames", NAMES, &mut out);
    let texts = [
        ("Summary", "summary"),
        ("Description", "description"),
        ("UserInstruction", "userInstructions"),
    ];
    localized(&mut doc, list(b, "serviceDescriptions"), &texts);
    unknown_types(
        list(b, "serviceDescriptions"),
        "serviceDescriptions",
        &texts,
        &mut out,
    );
    for (lang, v) in by_language(list(b, "requirements")) {
        lang_entry(&mut doc, &lang).insert("conditions".into(), v);
    }
    for (lang, v) in by_language(list(b, "keywords")) {
        let entry = lang_entry(&mut doc, &lang);
        let words = entry.entry("keywords").or_insert_with(|| json!([]));
        if let Value::Array(words) = words {
            words.push(v);
        }
    }
    producers(b, &mut out);
    unread_keys(
        b,
        &[
            "type",
            "fundingType",
            "serviceChargeType",
            "languages",
            "areaType",
            "areas",
            "targetGroups",
            "serviceClasses",
            "ontologyTerms",
            "lifeEvents",
            "industrialClasses",
            "generalDescriptionId",
            "serviceNames",
            "serviceDescriptions",
            "requirements",
            "keywords",
            "serviceProducers",
            "organizations",
        ],
        BOOKKEEPING,
        &mut out,
    );
    ReadBack {
        document: doc,
        not_expressible: out,
    }
}

/// Producers other than the responsible organisation itself have no place in the source
/// format (ptv-sync sends the organisation as its own producer).
fn producers(b: &Value, out: &mut Vec<String>) {
    let owner = str_of(b, "mainResponsibleOrganization");
    for p in list(b, "serviceProducers") {
        let own = str_of(p, "provisionType") == Some("SelfProducedServices")
            && list(p, "organizations")
                .iter()
                .all(|o| o.as_str() == owner || o.get("id").and_then(Value::as_str) == owner);
        if !own || has_other(p) {
            out.push(format!(
                "serviceProducers ({}): only the organisation itself, self-produced, has a place in the source format",
                str_of(p, "provisionType").unwrap_or("?")
            ));
        }
    }
}

fn has_other(p: &Value) -> bool {
    !list(p, "additionalInformation").is_empty()
}

fn web_addresses(doc: &mut Map<String, Value>, entries: &[Value]) {
    for (lang, url) in by_language(entries) {
        lang_entry(doc, &lang).insert("webAddress".into(), url);
    }
}

fn accessibility(doc: &mut Map<String, Value>, entries: &[Value]) {
    for e in entries {
        let Some(lang) = str_of(e, "language") else {
            continue;
        };
        let level = str_of(e, "accessibilityClassificationLevel").unwrap_or("Unknown");
        let mut a = Map::new();
        a.insert("level".into(), level.into());
        for (from, to) in [
            ("wcagLevel", "wcagLevel"),
            ("accessibilityStatementWebPage", "statementUrl"),
            ("accessibilityStatementWebPageName", "statementName"),
        ] {
            if let Some(v) = str_of(e, from) {
                a.insert(to.into(), v.into());
            }
        }
        // `Unknown` alone is what an absent `accessibility` is sent as.
        if level != "Unknown" || a.len() > 1 {
            lang_entry(doc, lang).insert("accessibility".into(), Value::Object(a));
        }
    }
}

fn channel(b: &Value, channel_type: Option<ChannelType>) -> ReadBack {
    let mut out = Vec::new();
    let mut doc = Map::new();
    doc.insert("kind".into(), "channel".into());
    let t = channel_type.unwrap_or(ChannelType::WebPage);
    doc.insert("channelType".into(), t.as_str().into());
    put(
        &mut doc,
        "serviceLanguages",
        Value::Array(list(b, "languages").to_vec()),
    );
    if let Some(a) = area(b, &mut out) {
        doc.insert("area".into(), a);
    }
    if b.get("isVisibleForAll").and_then(Value::as_bool) == Some(true) {
        doc.insert("visibleForAll".into(), true.into());
    }
    localized(
        &mut doc,
        list(b, "serviceChannelNames"),
        &[("Name", "name")],
    );
    let texts = [("Summary", "summary"), ("Description", "description")];
    localized(&mut doc, list(b, "serviceChannelDescriptions"), &texts);
    unknown_types(
        list(b, "serviceChannelDescriptions"),
        "serviceChannelDescriptions",
        &texts,
        &mut out,
    );
    let mut read = vec![
        "languages",
        "areaType",
        "areas",
        "isVisibleForAll",
        "serviceChannelNames",
        "serviceChannelDescriptions",
    ];
    let support_phones = |doc: &mut Map<String, Value>, key: &str| {
        let phones: Vec<Value> = list(b, key).iter().filter_map(|p| phone(p, true)).collect();
        put(doc, "phones", Value::Array(phones));
    };
    let hours = |doc: &mut Map<String, Value>, out: &mut Vec<String>| {
        let h = service_hours(list(b, "serviceHours"), out);
        put(doc, "serviceHours", h);
    };
    match t {
        ChannelType::EService | ChannelType::WebPage => {
            web_addresses(&mut doc, list(b, "webPage"));
            accessibility(&mut doc, list(b, "accessibilityClassification"));
            put(&mut doc, "emails", emails(list(b, "supportEmails")));
            support_phones(&mut doc, "supportPhones");
            read.extend([
                "webPage",
                "accessibilityClassification",
                "supportEmails",
                "supportPhones",
            ]);
            if t == ChannelType::EService {
                for key in ["requiresAuthentication", "requiresSignature"] {
                    if b.get(key).and_then(Value::as_bool) == Some(true) {
                        doc.insert(key.into(), true.into());
                    }
                }
                let quantity = match b.get("signatureQuantity") {
                    Some(Value::String(s)) => s.parse::<u8>().ok(),
                    Some(Value::Number(n)) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
                    _ => None,
                };
                if doc.contains_key("requiresSignature")
                    && let Some(q) = quantity
                {
                    doc.insert("signatureQuantity".into(), q.into());
                }
                hours(&mut doc, &mut out);
                read.extend([
                    "requiresAuthentication",
                    "requiresSignature",
                    "signatureQuantity",
                    "serviceHours",
                ]);
            }
        }
        ChannelType::Phone => {
            let phones: Vec<Value> = list(b, "phoneNumbers")
                .iter()
                .filter_map(|p| phone(p, true))
                .collect();
            put(&mut doc, "phones", Value::Array(phones));
            web_addresses(&mut doc, list(b, "webPage"));
            put(&mut doc, "emails", emails(list(b, "supportEmails")));
            hours(&mut doc, &mut out);
            read.extend(["phoneNumbers", "webPage", "supportEmails", "serviceHours"]);
        }
        ChannelType::PrintableForm => {
            let urls: Vec<Value> = list(b, "channelUrls")
                .iter()
                .filter_map(|u| {
                    Some(
                        json!({"language": str_of(u, "language")?, "url": str_of(u, "value")?,
                        "type": str_of(u, "type").unwrap_or("PDF")}),
                    )
                })
                .collect();
            put(&mut doc, "formUrls", Value::Array(urls));
            put(&mut doc, "emails", emails(list(b, "supportEmails")));
            support_phones(&mut doc, "supportPhones");
            read.extend(["channelUrls", "supportEmails", "supportPhones"]);
        }
        ChannelType::ServiceLocation => {
            service_location(b, &mut doc, &mut out);
            read.extend([
                "addresses",
                "phoneNumbers",
                "faxNumbers",
                "emails",
                "webPages",
                "serviceHours",
            ]);
        }
    }
    unread_keys(b, &read, BOOKKEEPING, &mut out);
    ReadBack {
        document: doc,
        not_expressible: out,
    }
}

fn service_location(b: &Value, doc: &mut Map<String, Value>, out: &mut Vec<String>) {
    let addresses: Vec<Value> = list(b, "addresses")
        .iter()
        .filter_map(|a| {
            let sa = a.get("streetAddress")?;
            let t = if str_of(a, "type") == Some("Postal") {
                "Postal"
            } else {
                "Location"
            };
            let street: Map<String, Value> = by_language(list(sa, "street")).into_iter().collect();
            let mut m = Map::new();
            m.insert("type".into(), t.into());
            m.insert("street".into(), Value::Object(street));
            for k in ["streetNumber", "postalCode", "municipality"] {
                let v = match sa.get(k) {
                    Some(Value::Object(o)) => o.get("code").and_then(Value::as_str),
                    Some(Value::String(s)) => Some(s.as_str()),
                    _ => None,
                };
                if let Some(v) = v {
                    m.insert(k.into(), v.into());
                }
            }
            for k in ["latitude", "longitude"] {
                let v = match sa.get(k) {
                    Some(Value::String(s)) => s.parse::<f64>().ok(),
                    Some(Value::Number(n)) => n.as_f64(),
                    _ => None,
                };
                if let Some(v) = v {
                    m.insert(k.into(), v.into());
                }
            }
            Some(Value::Object(m))
        })
        .collect();
    put(doc, "addresses", Value::Array(addresses));
    let mut phones: Vec<Value> = list(b, "phoneNumbers")
        .iter()
        .filter_map(|p| phone(p, true))
        .collect();
    phones.extend(list(b, "faxNumbers").iter().filter_map(|p| {
        let mut v = phone(p, true)?;
        v["type"] = "Fax".into();
        Some(v)
    }));
    put(doc, "phones", Value::Array(phones));
    put(doc, "emails", emails(list(b, "emails")));
    for w in list(b, "webPages") {
        let (Some(lang), Some(url)) = (str_of(w, "language"), str_of(w, "url")) else {
            continue;
        };
        let entry = lang_entry(doc, lang);
        entry.insert("webAddress".into(), url.into());
        if let Some(name) = str_of(w, "value") {
            entry.insert("webAddressName".into(), name.into());
        }
    }
    // A web address named as the channel is what an unnamed one is sent as.
    for lang in named_languages(doc) {
        let entry = lang_entry(doc, &lang);
        if entry.get("webAddressName") == entry.get("name") {
            entry.remove("webAddressName");
        }
    }
    let h = service_hours(list(b, "serviceHours"), out);
    put(doc, "serviceHours", h);
}

/// A `serviceChannels` entry of a service (the out-model's connection) as an entry of
/// the source's `connections`, without `channel`.
#[must_use]
pub fn connection(c: &Value) -> ReadBack {
    let mut out = Vec::new();
    let mut doc = Map::new();
    match str_of(c, "serviceChargeType") {
        Some("FreeOfCharge" | "Free") => {
            doc.insert("chargeType".into(), "Free".into());
        }
        Some("Chargeable" | "Charged") => {
            doc.insert("chargeType".into(), "Charged".into());
        }
        _ => {}
    }
    let descriptions: Map<String, Value> = list(c, "description")
        .iter()
        .filter_map(|d| {
            Some((
                str_of(d, "language")?.to_owned(),
                Value::String(str_of(d, "value")?.to_owned()),
            ))
        })
        .collect();
    put(&mut doc, "description", Value::Object(descriptions));
    let h = service_hours(list(c, "serviceHours"), &mut out);
    put(&mut doc, "serviceHours", h);
    unread_keys(
        c,
        &["serviceChargeType", "description", "serviceHours"],
        &[
            "serviceChannel",
            "serviceChannelId",
            "modified",
            "serviceId",
        ],
        &mut out,
    );
    for e in &mut out {
        *e = format!("connections.{e}");
    }
    ReadBack {
        document: doc,
        not_expressible: out,
    }
}

#[cfg(test)]
mod tests {
    use super::super::map;
    use super::*;
    use crate::model::{Channel, Organization, Service};
    use crate::ptv::read_back::test_support::{remote, with_id};

    #[test]
    fn a_mapped_service_reads_back_as_its_document() {
        let src = json!({"id": "x", "serviceType": "PermitOrObligation", "fundingType": "PubliclyFunded",
            "chargeType": "Charged", "serviceLanguages": ["fi", "sv"],
            "area": {"type": "LimitedArea", "municipalities": ["049"], "regions": ["01"]},
            "targetGroups": ["KR1", "KR2.1"], "serviceClasses": ["P3.1"],
            "ontologyTerms": ["http://www.yso.fi/onto/koko/p1"], "lifeEvents": ["KE1"],
            "industrialClasses": ["41200"],
            "languageVersions": {"fi": {"name": "Lupa", "alternativeName": "L", "summary": "S.",
                "description": "D.", "userInstructions": "U.", "conditions": "C.", "keywords": ["a", "b"]},
                "sv": {"name": "Lov", "summary": "S.", "description": "D."}}});
        let s: Service = serde_json::from_value(src.clone()).unwrap();
        let body = map::service(&s, "org").body;
        let back = item(&remote(ItemKind::Service, None, body));
        assert_eq!(back.not_expressible, Vec::<String>::new());
        let again: Service = serde_json::from_value(with_id(back.document)).unwrap();
        assert_eq!(again, s);
    }

    #[test]
    fn mapped_channels_and_organisations_read_back_as_their_documents() {
        let location = json!({"id": "x", "channelType": "ServiceLocation", "serviceLanguages": ["fi"],
            "area": {"type": "WholeCountry"}, "visibleForAll": true,
            "languageVersions": {"fi": {"name": "Toimisto", "summary": "S.", "description": "D.",
                "webAddress": "https://example.fi", "webAddressName": "Kotisivu"}},
            "addresses": [{"type": "Location", "street": {"fi": "Katu"}, "streetNumber": "1",
                "postalCode": "00100", "municipality": "091", "latitude": 6_672_000.5, "longitude": 385_000.0}],
            "phones": [{"language": "fi", "type": "Phone", "prefix": "+358", "number": "91234567", "chargeType": "Chargeable"},
                {"language": "fi", "type": "Fax", "prefix": "+358", "number": "91234568", "chargeType": "Chargeable"}],
            "emails": [{"language": "fi", "value": "a@example.fi"}],
            "serviceHours": [{"type": "Exception", "validFrom": "2026-12-24", "closed": true,
                "additionalInformation": {"fi": "Jouluaatto"}},
                {"type": "Standard", "openingHours": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "08:00", "to": "16:00"}]}]});
        let eservice = json!({"id": "x", "channelType": "EService", "serviceLanguages": ["fi"],
            "area": {"type": "WholeCountry"}, "requiresAuthentication": true, "requiresSignature": true,
            "signatureQuantity": 2,
            "languageVersions": {"fi": {"name": "E", "summary": "S.", "description": "D.",
                "webAddress": "https://e.example.fi",
                "accessibility": {"level": "PartiallyCompliant", "wcagLevel": "LevelA"}}},
            "phones": [{"language": "fi", "type": "Phone", "number": "0800123456", "chargeType": "FreeOfCharge"}]});
        for src in [location, eservice] {
            let c: Channel = serde_json::from_value(src).unwrap();
            let body = map::channel(&c, "org", None).body;
            let back = item(&remote(ItemKind::Channel, Some(c.channel_type), body));
            assert_eq!(back.not_expressible, Vec::<String>::new());
            let again: Channel = serde_json::from_value(with_id(back.document)).unwrap();
            assert_eq!(again, c);
        }
        let org = json!({"id": "x", "organizationType": "Organization", "businessCode": "1234567-8",
            "area": {"type": "LimitedArea", "regions": ["01"]},
            "languageVersions": {"fi": {"name": "O", "summary": "S.", "description": "D."}},
            "webPages": [{"language": "fi", "name": "Koti", "url": "https://o.example.fi"}]});
        let o: Organization = serde_json::from_value(org).unwrap();
        let body = map::organization(&o, "parent").body;
        let back = item(&remote(ItemKind::Organization, None, body));
        let again: Organization = serde_json::from_value(with_id(back.document)).unwrap();
        assert_eq!(again, o);
    }

    #[test]
    fn what_the_source_format_cannot_carry_is_listed() {
        let body = json!({"type": "Service", "fundingType": "PubliclyFunded", "languages": ["fi"],
            "serviceNames": [{"language": "fi", "type": "Name", "value": "P"}],
            "serviceDescriptions": [{"language": "fi", "type": "DeadLine", "value": "Viikko"}],
            "legislation": [{"names": [{"language": "fi", "value": "Laki"}]}],
            "serviceProducers": [{"provisionType": "PurchaseServices", "organizations": ["o2"]}],
            "mainResponsibleOrganization": "o1", "deleteAllKeywords": true, "sourceId": null});
        let back = item(&remote(ItemKind::Service, None, body));
        assert_eq!(back.not_expressible.len(), 3, "{:?}", back.not_expressible);
        assert!(
            back.not_expressible
                .iter()
                .any(|e| e.starts_with("serviceDescriptions of type DeadLine"))
        );
        assert!(
            back.not_expressible
                .iter()
                .any(|e| e.starts_with("legislation:"))
        );
        assert!(
            back.not_expressible
                .iter()
                .any(|e| e.starts_with("serviceProducers (PurchaseServices)"))
        );
    }
}

//! v12 bodies → source documents: the inverse of [`super::map`] on the bodies the v12
//! reads show (see [`crate::ptv::read_back`] for the contract).

use super::super::read::RemoteItem;
use super::super::read_back::{
    ReadBack, has_content, lang_entry, list, named_languages, put, str_of, strip, unread_keys,
};
use crate::model::{ChannelType, ItemKind};
use serde_json::{Map, Value, json};

const INDUSTRIAL_CLASS: &str = "http://uri.suomi.fi/codelist/jhs/toimiala_1_20080101/code/";

/// Keys every v12 entity carries that are not the item's own content.
const BOOKKEEPING: &[&str] = &[
    "contentId",
    "externalId",
    "status",
    "modifiedAt",
    "modifiedBy",
    "publishedAt",
    "createdAt",
    "migratedAt",
    "versionId",
    "organizationContentId",
    "parentOrganizationContentId",
    "serviceChannelType",
    // Written into items seeded or last written through v11 (one catalogue behind both
    // versions); the v12 fields hold the same content.
    "organizationNames",
    "parentOrganizationId",
    "serviceNames",
    "serviceChannelNames",
    "mainResponsibleOrganization",
    "organizationId",
    "areaType",
];

fn area(a: &Value) -> Option<Value> {
    let t = str_of(a, "areaType")?;
    let mut m = Map::new();
    m.insert("type".into(), t.into());
    if t == "LimitedArea" {
        for key in ["municipalities", "regions", "wellbeingServicesCounties"] {
            put(&mut m, key, Value::Array(list(a, key).to_vec()));
        }
    }
    Some(Value::Object(m))
}

fn phone(p: &Value, lang: &str) -> Option<Value> {
    let mut m = Map::new();
    m.insert("language".into(), lang.into());
    if str_of(p, "type") == Some("InternationalPhone")
        && let Some(d) = str_of(p, "dialCode")
    {
        m.insert("prefix".into(), d.into());
    }
    m.insert("number".into(), str_of(p, "number")?.into());
    let charge = match str_of(p, "chargeType") {
        Some("Free") => "FreeOfCharge",
        Some("ExtraCharge") => "Other",
        _ => "Chargeable",
    };
    m.insert("chargeType".into(), charge.into());
    for k in ["chargeDescription", "additionalInformation"] {
        if let Some(v) = str_of(p, k) {
            m.insert(k.into(), v.into());
        }
    }
    Some(Value::Object(m))
}

fn fax(p: &Value, lang: &str) -> Option<Value> {
    let mut v = phone(p, lang)?;
    if let Some(d) = str_of(p, "dialCode") {
        v["prefix"] = d.into();
    }
    v["type"] = "Fax".into();
    Some(v)
}

/// `(language, entry)` of a per-language list in every language version.
fn per_language<'a>(b: &'a Value, key: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
    b.get("languageVersions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(move |(lang, v)| list(v, key).iter().map(move |e| (lang.as_str(), e)))
}

fn emails(b: &Value, key: &str) -> Value {
    per_language(b, key)
        .filter_map(|(l, e)| Some(json!({"language": l, "value": str_of(e, "email")?})))
        .collect()
}

fn phones(b: &Value, key: &str) -> Vec<Value> {
    per_language(b, key)
        .filter_map(|(l, p)| phone(p, l))
        .collect()
}

/// A channel's voice numbers: channel phones carry a type in the source format.
fn voice(b: &Value, key: &str) -> Vec<Value> {
    let mut list = phones(b, key);
    for p in &mut list {
        p["type"] = "Phone".into();
    }
    list
}

/// Keys of a language version the source format has no field for.
fn unread_in_languages(b: &Value, read: &[&str], out: &mut Vec<String>) {
    for (lang, v) in b
        .get("languageVersions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let mut inner = Vec::new();
        unread_keys(v, read, &[], &mut inner);
        out.extend(
            inner
                .into_iter()
                .map(|e| format!("languageVersions.{lang}.{e}")),
        );
    }
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

fn texts(b: &Value, doc: &mut Map<String, Value>, keys: &[(&str, &str)]) {
    for (lang, v) in b
        .get("languageVersions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (from, to) in keys {
            if let Some(t) = str_of(v, from) {
                lang_entry(doc, lang).insert((*to).to_owned(), t.into());
            }
        }
    }
}

fn organization(b: &Value) -> ReadBack {
    let mut out = Vec::new();
    let mut doc = Map::new();
    doc.insert("kind".into(), "organization".into());
    let org_type = str_of(b, "organizationType").unwrap_or("Organization");
    doc.insert("organizationType".into(), org_type.into());
    if let Some(c) = str_of(b, "businessId") {
        doc.insert("businessCode".into(), c.into());
    }
    let a = b.get("area").and_then(area);
    match (org_type, a) {
        // A municipality's area is its municipality, which v12 holds as the area.
        ("Municipality", Some(a)) => match a.get("municipalities").and_then(Value::as_array) {
            Some(m) if m.len() == 1 => {
                doc.insert("municipality".into(), m[0].clone());
            }
            _ => {
                out.push("area: a Municipality organisation's area is its one municipality".into());
            }
        },
        (_, Some(a)) => {
            doc.insert("area".into(), a);
        }
        (_, None) => {}
    }
    texts(
        b,
        &mut doc,
        &[
            ("name", "name"),
            ("alternativeName", "alternativeName"),
            ("summary", "summary"),
            ("description", "description"),
        ],
    );
    put(&mut doc, "emails", emails(b, "contactEmails"));
    put(
        &mut doc,
        "phones",
        Value::Array(phones(b, "contactPhoneNumbers")),
    );
    let pages: Vec<Value> = per_language(b, "contactWebPages")
        .filter_map(|(l, w)| {
            Some(json!({"language": l, "name": str_of(w, "name")?, "url": str_of(w, "url")?}))
        })
        .collect();
    put(&mut doc, "webPages", Value::Array(pages));
    for (_, e) in per_language(b, "contactEmails") {
        if str_of(e, "additionalInformation").is_some() {
            out.push("contactEmails.additionalInformation: no place in the source format".into());
        }
    }
    if b.pointer("/languageVersions")
        .and_then(Value::as_object)
        .is_some_and(|m| {
            m.values()
                .any(|v| v.get("isAlternativeNamePrimary").and_then(Value::as_bool) == Some(true))
        })
    {
        out.push("isAlternativeNamePrimary: no place in the source format".into());
    }
    unread_in_languages(
        b,
        &[
            "name",
            "alternativeName",
            "isAlternativeNamePrimary",
            "summary",
            "description",
            "contactEmails",
            "contactWebPages",
            "contactPhoneNumbers",
        ],
        &mut out,
    );
    unread_keys(
        b,
        &["businessId", "organizationType", "area", "languageVersions"],
        BOOKKEEPING,
        &mut out,
    );
    ReadBack {
        document: doc,
        not_expressible: out,
    }
}

fn codes(b: &Value, key: &str) -> Value {
    list(b, key)
        .iter()
        .filter_map(Value::as_str)
        .map(|s| Value::String(strip(s, INDUSTRIAL_CLASS).to_owned()))
        .collect()
}

fn service(b: &Value) -> ReadBack {
    let mut out = Vec::new();
    let mut doc = Map::new();
    doc.insert("kind".into(), "service".into());
    let service_type = match str_of(b, "serviceType") {
        Some("PermitOrOtherObligation") => "PermitOrObligation",
        Some("ProfessionalQualification") => "ProfessionalQualification",
        _ => "Service",
    };
    doc.insert("serviceType".into(), service_type.into());
    doc.insert(
        "fundingType".into(),
        str_of(b, "fundingType").unwrap_or("PubliclyFunded").into(),
    );
    match str_of(b, "chargeType") {
        Some(c @ ("Free" | "Charged")) => {
            doc.insert("chargeType".into(), c.into());
        }
        Some(other) => out.push(format!("chargeType {other}: no place in the source format")),
        None => {}
    }
    put(
        &mut doc,
        "serviceLanguages",
        Value::Array(list(b, "serviceLanguages").to_vec()),
    );
    if let Some(a) = b.get("area").and_then(area) {
        doc.insert("area".into(), a);
    }
    for key in [
        "targetGroups",
        "serviceClasses",
        "lifeEvents",
        "industrialClasses",
    ] {
        put(&mut doc, key, codes(b, key));
    }
    put(
        &mut doc,
        "ontologyTerms",
        Value::Array(list(b, "ontologyTerms").to_vec()),
    );
    if let Some(g) = str_of(b, "generalDescriptionContentId") {
        doc.insert("generalDescription".into(), g.into());
    }
    texts(
        b,
        &mut doc,
        &[
            ("name", "name"),
            ("alternativeName", "alternativeName"),
            ("summary", "summary"),
            ("description", "description"),
            ("userInstructions", "userInstructions"),
            ("conditions", "conditions"),
        ],
    );
    for (lang, v) in b
        .get("languageVersions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let words = list(v, "freelyAssignedKeywords").to_vec();
        if !words.is_empty() {
            lang_entry(&mut doc, lang).insert("keywords".into(), Value::Array(words));
        }
        if v.pointer("/voucher/voucherType")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "NotUsed")
        {
            out.push(format!(
                "languageVersions.{lang}.voucher: no place in the source format"
            ));
        }
    }
    unread_in_languages(
        b,
        &[
            "name",
            "alternativeName",
            "summary",
            "description",
            "userInstructions",
            "conditions",
            "freelyAssignedKeywords",
            "voucher",
        ],
        &mut out,
    );
    let owner = str_of(b, "organizationContentId");
    let self_only = b
        .pointer("/producers/selfProducedProducers/organizations")
        .and_then(Value::as_array)
        .is_none_or(|o| o.iter().all(|x| x.as_str() == owner))
        && !b
            .pointer("/producers/procuredProducers")
            .is_some_and(has_content)
        && !b
            .pointer("/producers/otherProducers")
            .is_some_and(has_content);
    if !self_only {
        out.push("producers: only the organisation itself, self-produced, has a place in the source format".into());
    }
    unread_keys(
        b,
        &[
            "serviceType",
            "fundingType",
            "chargeType",
            "serviceLanguages",
            "area",
            "targetGroups",
            "serviceClasses",
            "lifeEvents",
            "industrialClasses",
            "ontologyTerms",
            "generalDescriptionContentId",
            "languageVersions",
            "producers",
        ],
        BOOKKEEPING,
        &mut out,
    );
    ReadBack {
        document: doc,
        not_expressible: out,
    }
}

fn form_type(t: &str) -> &'static str {
    match t {
        "doc" | "DOC" => "DOC",
        "excel" | "Excel" => "Excel",
        "rtf" => "rtf",
        "odt" => "odt",
        _ => "PDF",
    }
}

fn street_addresses(list_of: &[Value], t: &str, out: &mut Vec<Value>) {
    for a in list_of {
        let mut m = Map::new();
        m.insert("type".into(), t.into());
        m.insert(
            "street".into(),
            a.get("streetName").cloned().unwrap_or_else(|| json!({})),
        );
        if let Some(n) = str_of(a, "addressDetail") {
            m.insert("streetNumber".into(), n.into());
        }
        if let Some(p) = str_of(a, "postalCode") {
            m.insert("postalCode".into(), p.into());
        }
        if let Some(c) = a.get("municipality").and_then(|m| match m {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("code").and_then(Value::as_str),
            _ => None,
        }) {
            m.insert("municipality".into(), c.into());
        }
        if let Some(c) = a.get("coordinates").filter(|c| c.is_object()) {
            if let Some(n) = c.get("northing").and_then(Value::as_f64) {
                m.insert("latitude".into(), n.into());
            }
            if let Some(e) = c.get("easting").and_then(Value::as_f64) {
                m.insert("longitude".into(), e.into());
            }
        }
        out.push(Value::Object(m));
    }
}

/// v12 street addresses carry no municipality code; the source format requires one. A
/// channel whose area is one municipality has its addresses there.
fn municipalities_from_area(addresses: &mut [Value], area: Option<&Value>, out: &mut Vec<String>) {
    let only = area
        .and_then(|a| a.get("municipalities"))
        .and_then(Value::as_array)
        .filter(|m| m.len() == 1)
        .and_then(|m| m[0].as_str());
    for (i, a) in addresses.iter_mut().enumerate() {
        if a.get("municipality").is_some() {
            continue;
        }
        match only {
            Some(m) => a["municipality"] = m.into(),
            None => out.push(format!(
                "addresses[{i}].municipality: v12 does not show it and the channel's area is not one municipality; add it"
            )),
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
        Value::Array(list(b, "serviceLanguages").to_vec()),
    );
    if let Some(a) = b.get("area").and_then(area) {
        doc.insert("area".into(), a);
    }
    if str_of(b, "allowedConnectionType") == Some("AllOrganizations") {
        doc.insert("visibleForAll".into(), true.into());
    }
    texts(
        b,
        &mut doc,
        &[
            ("name", "name"),
            ("summary", "summary"),
            ("description", "description"),
        ],
    );
    let versions: Vec<(String, Value)> = b
        .get("languageVersions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(l, v)| (l.clone(), v.clone()))
        .collect();
    let mut read_in_lang = vec!["name", "summary", "description"];
    let mut read = vec![
        "serviceLanguages",
        "area",
        "allowedConnectionType",
        "languageVersions",
    ];
    for (lang, v) in &versions {
        let entry = lang_entry(&mut doc, lang);
        let web = match t {
            ChannelType::ServiceLocation => list(v, "contactWebPages").first(),
            _ => v.get("webAddress"),
        };
        if let Some(url) = web.and_then(|w| str_of(w, "url")) {
            entry.insert("webAddress".into(), url.into());
            if let Some(name) = web.and_then(|w| str_of(w, "name")) {
                entry.insert("webAddressName".into(), name.into());
            }
        }
        if matches!(t, ChannelType::EService | ChannelType::WebPage)
            && let Some(level) = str_of(v, "accessibilityClassificationLevel")
            && level != "Unknown"
        {
            entry.insert("accessibility".into(), json!({"level": level}));
        }
        if t == ChannelType::ServiceLocation && list(v, "contactWebPages").len() > 1 {
            out.push(format!(
                "languageVersions.{lang}.contactWebPages: one web address per language has a place in the source format"
            ));
        }
    }
    // A web address named as the channel is what an unnamed one is sent as.
    for lang in named_languages(&doc) {
        let entry = lang_entry(&mut doc, &lang);
        if entry.get("webAddressName") == entry.get("name") {
            entry.remove("webAddressName");
        }
    }
    match t {
        ChannelType::EService | ChannelType::WebPage | ChannelType::PrintableForm => {
            put(&mut doc, "emails", emails(b, "supportEmails"));
            put(
                &mut doc,
                "phones",
                Value::Array(phones(b, "supportPhoneNumbers")),
            );
            read_in_lang.extend([
                "supportEmails",
                "supportPhoneNumbers",
                "webAddress",
                "accessibilityClassificationLevel",
                "attachmentLinks",
                "formIdentifier",
                "formFiles",
            ]);
        }
        ChannelType::Phone => {
            put(&mut doc, "emails", emails(b, "supportEmails"));
            put(&mut doc, "phones", Value::Array(voice(b, "phoneNumbers")));
            read_in_lang.extend(["supportEmails", "phoneNumbers", "webAddress"]);
        }
        ChannelType::ServiceLocation => {
            put(&mut doc, "emails", emails(b, "contactEmails"));
            let mut all = voice(b, "contactPhoneNumbers");
            all.extend(per_language(b, "contactFaxNumbers").filter_map(|(l, p)| fax(p, l)));
            put(&mut doc, "phones", Value::Array(all));
            let mut addresses = Vec::new();
            street_addresses(
                list(b.get("location").unwrap_or(&Value::Null), "streetAddresses"),
                "Location",
                &mut addresses,
            );
            street_addresses(
                list(
                    b.get("contactAddresses").unwrap_or(&Value::Null),
                    "streetAddresses",
                ),
                "Postal",
                &mut addresses,
            );
            municipalities_from_area(&mut addresses, doc.get("area"), &mut out);
            put(&mut doc, "addresses", Value::Array(addresses));
            for (group, keys) in [
                ("location", ["foreignAddresses", "otherAddresses"]),
                (
                    "contactAddresses",
                    ["foreignAddresses", "postOfficeBoxAddresses"],
                ),
            ] {
                for k in keys {
                    if b.get(group)
                        .is_some_and(|g| has_content(list(g, k).first().unwrap_or(&Value::Null)))
                    {
                        out.push(format!("{group}.{k}: no place in the source format"));
                    }
                }
            }
            read.extend(["location", "contactAddresses"]);
            read_in_lang.extend([
                "alternativeName",
                "isAlternativeNamePrimary",
                "contactWebPages",
                "contactFaxNumbers",
                "contactEmails",
                "contactPhoneNumbers",
            ]);
        }
    }
    if t == ChannelType::PrintableForm {
        let forms: Vec<Value> = versions
            .iter()
            .flat_map(|(lang, v)| {
                list(v, "formFiles").iter().filter_map(move |f| {
                    let mut m = Map::new();
                    m.insert("language".into(), lang.as_str().into());
                    m.insert("url".into(), str_of(f, "url")?.into());
                    m.insert(
                        "type".into(),
                        form_type(str_of(f, "type").unwrap_or("pdf")).into(),
                    );
                    let name = str_of(f, "name");
                    let channel_name = str_of(v, "name");
                    if name.is_some() && name != channel_name {
                        m.insert("name".into(), name.into());
                    }
                    Some(Value::Object(m))
                })
            })
            .collect();
        put(&mut doc, "formUrls", Value::Array(forms));
        read.push("deliveryAddresses");
    }
    if t == ChannelType::EService {
        if str_of(b, "electronicIdentification") == Some("Required") {
            doc.insert("requiresAuthentication".into(), true.into());
        }
        if b.pointer("/electronicSignature/type")
            .and_then(Value::as_str)
            == Some("Required")
        {
            doc.insert("requiresSignature".into(), true.into());
            if let Some(n) = b
                .pointer("/electronicSignature/numberOfRequiredSignatures")
                .and_then(Value::as_u64)
            {
                doc.insert("signatureQuantity".into(), n.into());
            }
        }
        read.extend(["electronicIdentification", "electronicSignature"]);
    }
    unread_in_languages(b, &read_in_lang, &mut out);
    unread_keys(b, &read, BOOKKEEPING, &mut out);
    ReadBack {
        document: doc,
        not_expressible: out,
    }
}

/// A `ConnectionResponse` as an entry of the source's `connections`, without `channel`.
#[must_use]
pub fn connection(c: &Value) -> ReadBack {
    let mut out = Vec::new();
    let mut doc = Map::new();
    match str_of(c, "chargeType") {
        Some(t @ ("Free" | "Charged")) => {
            doc.insert("chargeType".into(), t.into());
        }
        Some(other) => out.push(format!(
            "connections.chargeType {other}: no place in the source format"
        )),
        None => {}
    }
    let descriptions: Map<String, Value> = c
        .get("languageVersions")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(l, v)| {
            Some((
                l.clone(),
                Value::String(str_of(v, "description")?.to_owned()),
            ))
        })
        .collect();
    put(&mut doc, "description", Value::Object(descriptions));
    for key in ["serviceHours", "contactAddresses"] {
        if c.get(key).is_some_and(has_content) {
            out.push(format!("connections.{key}: not read from v12 yet"));
        }
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
    fn mapped_items_read_back_as_their_documents() {
        let s: Service =
            serde_json::from_value(json!({"id": "x", "serviceType": "PermitOrObligation",
            "fundingType": "PubliclyFunded", "chargeType": "Free", "serviceLanguages": ["fi"],
            "area": {"type": "LimitedArea", "municipalities": ["049"]},
            "targetGroups": ["KR1"], "serviceClasses": ["P3.1"], "industrialClasses": ["41200"],
            "ontologyTerms": ["http://www.yso.fi/onto/koko/p1"],
            "languageVersions": {"fi": {"name": "Lupa", "summary": "S.", "description": "D.",
                "conditions": "C.", "keywords": ["a"]}}}))
            .unwrap();
        let back = item(&remote(
            ItemKind::Service,
            None,
            map::service(&s, "org").body,
        ));
        assert_eq!(back.not_expressible, Vec::<String>::new());
        assert_eq!(
            serde_json::from_value::<Service>(with_id(back.document)).unwrap(),
            s
        );

        let o: Organization = serde_json::from_value(json!({"id": "x", "organizationType": "Municipality",
            "businessCode": "1234567-8", "municipality": "049",
            "languageVersions": {"fi": {"name": "O", "summary": "S."}},
            "emails": [{"language": "fi", "value": "o@example.fi"}],
            "phones": [{"language": "fi", "prefix": "+358", "number": "91234567", "chargeType": "Other", "chargeDescription": "Hinta"}]}))
        .unwrap();
        let back = item(&remote(
            ItemKind::Organization,
            None,
            map::organization(&o, "parent").unwrap().body,
        ));
        assert_eq!(back.not_expressible, Vec::<String>::new());
        assert_eq!(
            serde_json::from_value::<Organization>(with_id(back.document)).unwrap(),
            o
        );

        for c in [
            json!({"id": "x", "channelType": "EService", "serviceLanguages": ["fi"], "area": {"type": "WholeCountry"},
                "requiresAuthentication": true, "requiresSignature": true, "signatureQuantity": 3,
                "languageVersions": {"fi": {"name": "E", "summary": "S.", "description": "D.",
                    "webAddress": "https://e.example.fi", "webAddressName": "Asiointi",
                    "accessibility": {"level": "FullyCompliant"}}}}),
            json!({"id": "x", "channelType": "PrintableForm", "serviceLanguages": ["fi"], "area": {"type": "WholeCountry"},
                "languageVersions": {"fi": {"name": "L", "summary": "S.", "description": "D."}},
                "formUrls": [{"language": "fi", "url": "https://l.example.fi/l.pdf", "type": "PDF"}]}),
            json!({"id": "x", "channelType": "ServiceLocation", "serviceLanguages": ["fi"], "area": {"type": "WholeCountry"},
                "languageVersions": {"fi": {"name": "T", "summary": "S.", "description": "D."}},
                "phones": [{"language": "fi", "type": "Phone", "number": "0800123456", "chargeType": "FreeOfCharge"}]}),
        ] {
            let c: Channel = serde_json::from_value(c).unwrap();
            let body = map::channel(&c, "org", None).unwrap().body;
            let back = item(&remote(ItemKind::Channel, Some(c.channel_type), body));
            assert_eq!(
                back.not_expressible,
                Vec::<String>::new(),
                "{}",
                c.channel_type
            );
            assert_eq!(
                serde_json::from_value::<Channel>(with_id(back.document)).unwrap(),
                c
            );
        }
    }
}

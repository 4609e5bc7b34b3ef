//! Version-neutral model → v11 in-model bodies (reference §6-§7).
//!
//! Every body is the *full* desired state: localized lists are sent complete (a list
//! that is sent replaces the stored one), and a collection the source left empty is
//! cleared with its delete flag, because PTV ignores omitted and empty lists on PUT.
//! Delete flags exist only on the PUT models; PTV ignores them on POST. The adapter
//! adds `sourceId` and `publishingStatus`.

use crate::model::{
    Accessibility, Address, AddressType, Area, AreaType, Channel, ChannelType, Connection, Email,
    Lang, LangMap, Organization, OrganizationType, Phone, PhoneChargeType, PhoneType, Service,
    ServiceChargeType, ServiceHours, ServiceHoursType, ServiceType, Text, WebPage,
};
use serde_json::{Map, Value, json};

use super::super::Mapped;

const TARGET_GROUP: &str = "http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/";
const SERVICE_CLASS: &str = "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/";
const LIFE_EVENT: &str = "http://uri.suomi.fi/codelist/ptv/ptvelti/code/";
const INDUSTRIAL_CLASS: &str = "http://uri.suomi.fi/codelist/jhs/toimiala_1_20080101/code/";

/// A code as its URI; a value that already is a URI passes unchanged.
fn uri(base: &str, code: &Text) -> Value {
    let c = code.as_str();
    if c.starts_with("http://") || c.starts_with("https://") {
        Value::String(c.to_owned())
    } else {
        Value::String(format!("{base}{c}"))
    }
}

fn uris(base: &str, codes: &[Text]) -> Value {
    Value::Array(codes.iter().map(|c| uri(base, c)).collect())
}

fn texts(values: &[Text]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|t| Value::String(t.to_string()))
            .collect(),
    )
}

fn localized(lang: Lang, kind: &str, value: &Text) -> Value {
    json!({"language": lang.code(), "type": kind, "value": value.as_str()})
}

fn language_item(lang: Lang, value: &str) -> Value {
    json!({"language": lang.code(), "value": value})
}

/// Puts `list` under `key`, or sets `flag` when it is empty (clearing it in PTV).
fn list_or_clear(body: &mut Map<String, Value>, key: &str, flag: &str, list: Vec<Value>) {
    if list.is_empty() {
        body.insert(flag.into(), Value::Bool(true));
    } else {
        body.insert(key.into(), Value::Array(list));
    }
}

/// `(areaType, areas)` for services and channels.
#[must_use]
pub fn area(a: &Area) -> (&'static str, Vec<Value>) {
    match a.area_type {
        AreaType::WholeCountry => ("Nationwide", Vec::new()),
        AreaType::WholeCountryExceptAland => ("NationwideExceptAlandIslands", Vec::new()),
        AreaType::LimitedArea => {
            let groups = [
                ("Municipality", &a.municipalities),
                ("Region", &a.regions),
                ("WellbeingServiceCounties", &a.wellbeing_services_counties),
            ];
            let areas = groups
                .iter()
                .filter(|(_, codes)| !codes.is_empty())
                .map(|(t, codes)| json!({"type": t, "areaCodes": texts(codes)}))
                .collect();
            ("LimitedType", areas)
        }
    }
}

fn put_area(body: &mut Map<String, Value>, a: &Area) {
    let (area_type, areas) = area(a);
    body.insert("areaType".into(), area_type.into());
    if !areas.is_empty() {
        body.insert("areas".into(), Value::Array(areas));
    }
}

fn phone_charge(c: PhoneChargeType) -> &'static str {
    match c {
        PhoneChargeType::FreeOfCharge => "FreeOfCharge",
        PhoneChargeType::Chargeable => "Chargeable",
        PhoneChargeType::Other => "Other",
    }
}

fn phone(p: &Phone, with_type: bool) -> Value {
    let mut m = Map::new();
    if with_type {
        let t = match p.phone_type.unwrap_or(PhoneType::Phone) {
            PhoneType::Phone => "Phone",
            PhoneType::Sms => "Sms",
            PhoneType::Fax => "Fax",
        };
        m.insert("type".into(), t.into());
    }
    m.insert("number".into(), p.number.as_str().into());
    match &p.prefix {
        Some(prefix) => {
            m.insert("prefixNumber".into(), prefix.as_str().into());
            m.insert("isFinnishServiceNumber".into(), false.into());
        }
        None => {
            m.insert("isFinnishServiceNumber".into(), true.into());
        }
    }
    m.insert(
        "serviceChargeType".into(),
        phone_charge(p.charge_type).into(),
    );
    if let Some(d) = &p.charge_description {
        m.insert("chargeDescription".into(), d.as_str().into());
    }
    if let Some(i) = &p.additional_information {
        m.insert("additionalInformation".into(), i.as_str().into());
    }
    m.insert("language".into(), p.language.code().into());
    Value::Object(m)
}

fn emails(list: &[Email]) -> Vec<Value> {
    list.iter()
        .map(|e| language_item(e.language, e.value.as_str()))
        .collect()
}

fn web_pages(list: &[WebPage]) -> Vec<Value> {
    list.iter()
        .map(|w| json!({"url": w.url.as_str(), "value": w.name.as_str(), "language": w.language.code()}))
        .collect()
}

fn weekday(d: crate::model::Weekday) -> String {
    format!("{d:?}")
}

/// v11 service hours (`V11VmOpenApiServiceHour`).
#[must_use]
pub fn service_hours(hours: &[ServiceHours]) -> Vec<Value> {
    hours
        .iter()
        .map(|h| {
            let mut m = Map::new();
            let kind = match h.hours_type {
                ServiceHoursType::Standard => "DaysOfTheWeek",
                ServiceHoursType::Exception => "Exceptional",
            };
            m.insert("serviceHourType".into(), kind.into());
            if let Some(d) = h.valid_from {
                m.insert("validFrom".into(), format!("{d}T00:00:00").into());
            }
            if let Some(d) = h.valid_to {
                m.insert("validTo".into(), format!("{d}T00:00:00").into());
            }
            m.insert("isClosed".into(), h.closed.into());
            m.insert("isAlwaysOpen".into(), false.into());
            m.insert("isReservation".into(), false.into());
            let opening: Vec<Value> = h
                .opening_hours
                .iter()
                .map(|o| {
                    let mut oh = Map::new();
                    oh.insert("dayFrom".into(), weekday(o.day_from).into());
                    if let Some(to) = o.day_to {
                        oh.insert("dayTo".into(), weekday(to).into());
                    }
                    oh.insert("from".into(), o.from.as_str().into());
                    oh.insert("to".into(), o.to.as_str().into());
                    Value::Object(oh)
                })
                .collect();
            m.insert("openingHour".into(), Value::Array(opening));
            let info: Vec<Value> = h
                .additional_information
                .iter()
                .map(|(l, v)| language_item(*l, v.as_str()))
                .collect();
            if !info.is_empty() {
                m.insert("additionalInformation".into(), Value::Array(info));
            }
            Value::Object(m)
        })
        .collect()
}

fn per_lang<T>(map: &LangMap<T>, mut f: impl FnMut(Lang, &T) -> Vec<Value>) -> Vec<Value> {
    map.iter().flat_map(|(l, v)| f(*l, v)).collect()
}

fn service_type(t: ServiceType) -> &'static str {
    match t {
        ServiceType::Service => "Service",
        ServiceType::PermitOrObligation => "PermitOrObligation",
        ServiceType::ProfessionalQualification => "ProfessionalQualification",
    }
}

/// A service (`V9VmOpenApiServiceIn(Base)`); `organization` is the responsible
/// organisation's PTV id.
#[must_use]
pub fn service(s: &Service, organization: &str) -> Mapped {
    let mut b = Map::new();
    b.insert("type".into(), service_type(s.service_type).into());
    b.insert("fundingType".into(), format!("{:?}", s.funding_type).into());
    match s.charge_type {
        Some(ServiceChargeType::Free) => {
            b.insert("serviceChargeType".into(), "FreeOfCharge".into());
        }
        Some(ServiceChargeType::Charged) => {
            b.insert("serviceChargeType".into(), "Chargeable".into());
        }
        None => {
            b.insert("deleteServiceChargeType".into(), true.into());
        }
    }
    let names = per_lang(&s.language_versions, |l, v| {
        let mut out = vec![localized(l, "Name", &v.name)];
        if let Some(alt) = &v.alternative_name {
            out.push(localized(l, "AlternativeName", alt));
        }
        out
    });
    b.insert("serviceNames".into(), Value::Array(names));
    let descriptions = per_lang(&s.language_versions, |l, v| {
        let mut out = vec![
            localized(l, "Summary", &v.summary),
            localized(l, "Description", &v.description),
        ];
        if let Some(u) = &v.user_instructions {
            out.push(localized(l, "UserInstruction", u));
        }
        out
    });
    b.insert("serviceDescriptions".into(), Value::Array(descriptions));
    let requirements = per_lang(&s.language_versions, |l, v| {
        v.conditions
            .iter()
            .map(|c| language_item(l, c.as_str()))
            .collect()
    });
    // v11 has no flag to clear requirements: an emptied `conditions` stays in PTV
    // until a person removes it (documented limitation of the v11 in-model).
    if !requirements.is_empty() {
        b.insert("requirements".into(), Value::Array(requirements));
    }
    let keywords = per_lang(&s.language_versions, |l, v| {
        v.keywords
            .iter()
            .map(|k| language_item(l, k.as_str()))
            .collect()
    });
    list_or_clear(&mut b, "keywords", "deleteAllKeywords", keywords);
    b.insert("languages".into(), texts(&s.service_languages));
    put_area(&mut b, &s.area);
    b.insert("targetGroups".into(), uris(TARGET_GROUP, &s.target_groups));
    b.insert(
        "serviceClasses".into(),
        uris(SERVICE_CLASS, &s.service_classes),
    );
    b.insert("ontologyTerms".into(), texts(&s.ontology_terms));
    let life_events = s.life_events.iter().map(|c| uri(LIFE_EVENT, c)).collect();
    list_or_clear(&mut b, "lifeEvents", "deleteAllLifeEvents", life_events);
    let industrial = s
        .industrial_classes
        .iter()
        .map(|c| uri(INDUSTRIAL_CLASS, c))
        .collect();
    list_or_clear(
        &mut b,
        "industrialClasses",
        "deleteAllIndustrialClasses",
        industrial,
    );
    match &s.general_description {
        Some(id) => {
            b.insert("generalDescriptionId".into(), id.as_str().into());
        }
        None => {
            b.insert("deleteGeneralDescriptionId".into(), true.into());
        }
    }
    b.insert(
        "serviceProducers".into(),
        json!([{"provisionType": "SelfProducedServices", "organizations": [organization]}]),
    );
    b.insert("mainResponsibleOrganization".into(), organization.into());
    Mapped {
        body: Value::Object(b),
        not_sent: Vec::new(),
    }
}

fn organization_type(t: OrganizationType) -> &'static str {
    match t {
        OrganizationType::State => "State",
        OrganizationType::Municipality => "Municipality",
        OrganizationType::RegionalOrganization => "RegionalOrganization",
        OrganizationType::Organization => "Organization",
        OrganizationType::Company => "Company",
    }
}

/// A sub-organisation (`V9VmOpenApiOrganizationIn(Base)`); `parent` is the parent's PTV id.
#[must_use]
pub fn organization(o: &Organization, parent: &str) -> Mapped {
    let mut b = Map::new();
    let mut not_sent = Vec::new();
    b.insert("parentOrganizationId".into(), parent.into());
    b.insert(
        "organizationType".into(),
        organization_type(o.organization_type).into(),
    );
    if let Some(code) = &o.business_code {
        b.insert("businessCode".into(), code.as_str().into());
    }
    if o.organization_type == OrganizationType::Municipality
        && let Some(m) = &o.municipality
    {
        b.insert("municipality".into(), m.as_str().into());
    }
    let names = per_lang(&o.language_versions, |l, v| {
        let mut out = vec![localized(l, "Name", &v.name)];
        if let Some(alt) = &v.alternative_name {
            out.push(localized(l, "AlternativeName", alt));
        }
        out
    });
    b.insert("organizationNames".into(), Value::Array(names));
    let display: Vec<Value> = o
        .language_versions
        .keys()
        .map(|l| json!({"type": "Name", "language": l.code()}))
        .collect();
    b.insert("displayNameType".into(), Value::Array(display));
    let descriptions = per_lang(&o.language_versions, |l, v| {
        let mut out = vec![localized(l, "Summary", &v.summary)];
        if let Some(d) = &v.description {
            out.push(localized(l, "Description", d));
        }
        out
    });
    b.insert(
        "organizationDescriptions".into(),
        Value::Array(descriptions),
    );
    match (&o.area, o.organization_type) {
        // A municipality's area is its municipality: only Nationwide may be written.
        (Some(a), OrganizationType::Municipality) => {
            if a.area_type == AreaType::WholeCountry {
                b.insert("areaType".into(), "Nationwide".into());
            }
        }
        (Some(a), _) => organization_area(&mut b, a, &mut not_sent),
        (None, _) => {}
    }
    list_or_clear(&mut b, "emails", "deleteAllEmails", emails(&o.emails));
    let phones = o.phones.iter().map(|p| phone(p, false)).collect();
    list_or_clear(&mut b, "phoneNumbers", "deleteAllPhones", phones);
    list_or_clear(
        &mut b,
        "webPages",
        "deleteAllWebPages",
        web_pages(&o.web_pages),
    );
    Mapped {
        body: Value::Object(b),
        not_sent,
    }
}

/// Organisations take one `subAreaType` with plain codes.
fn organization_area(b: &mut Map<String, Value>, a: &Area, not_sent: &mut Vec<String>) {
    match a.area_type {
        AreaType::WholeCountry => {
            b.insert("areaType".into(), "Nationwide".into());
        }
        AreaType::WholeCountryExceptAland => {
            b.insert("areaType".into(), "NationwideExceptAlandIslands".into());
        }
        AreaType::LimitedArea => {
            let groups = [
                ("Municipality", &a.municipalities),
                ("Region", &a.regions),
                ("WellbeingServiceCounties", &a.wellbeing_services_counties),
            ];
            let mut non_empty = groups.iter().filter(|(_, c)| !c.is_empty());
            b.insert("areaType".into(), "LimitedType".into());
            if let Some((sub, codes)) = non_empty.next() {
                b.insert("subAreaType".into(), (*sub).into());
                b.insert("areas".into(), texts(codes));
            }
            for (sub, _) in non_empty {
                not_sent.push(format!(
                    "area: v11 organisations take one kind of area; the {sub} codes were not sent"
                ));
            }
        }
    }
}

fn accessibility(lang: Lang, a: Option<&Accessibility>) -> Value {
    let mut m = Map::new();
    m.insert("language".into(), lang.code().into());
    match a {
        None => {
            m.insert("accessibilityClassificationLevel".into(), "Unknown".into());
        }
        Some(a) => {
            m.insert(
                "accessibilityClassificationLevel".into(),
                format!("{:?}", a.level).into(),
            );
            if let Some(w) = a.wcag_level {
                m.insert("wcagLevel".into(), format!("{w:?}").into());
            }
            if let Some(u) = &a.statement_url {
                m.insert("accessibilityStatementWebPage".into(), u.as_str().into());
            }
            if let Some(n) = &a.statement_name {
                m.insert(
                    "accessibilityStatementWebPageName".into(),
                    n.as_str().into(),
                );
            }
        }
    }
    Value::Object(m)
}

/// EPSG:3067 coordinates as v11 wants them: a decimal string (`^\d+\.?\d*$`).
fn coordinate(v: f64) -> String {
    format!("{v}")
}

fn address(a: &Address) -> Value {
    let street: Vec<Value> = a
        .street
        .iter()
        .map(|(l, v)| language_item(*l, v.as_str()))
        .collect();
    let mut sa = Map::new();
    sa.insert("street".into(), Value::Array(street));
    sa.insert("streetNumber".into(), a.street_number.as_str().into());
    sa.insert("postalCode".into(), a.postal_code.as_str().into());
    sa.insert("municipality".into(), a.municipality.as_str().into());
    if let Some(lat) = a.latitude {
        sa.insert("latitude".into(), coordinate(lat).into());
    }
    if let Some(lon) = a.longitude {
        sa.insert("longitude".into(), coordinate(lon).into());
    }
    let (t, sub) = match a.address_type {
        AddressType::Location => ("Location", "Single"),
        AddressType::Postal => ("Postal", "Street"),
    };
    json!({"type": t, "subType": sub, "streetAddress": Value::Object(sa)})
}

/// A channel (`V11VmOpenApi<Type>ChannelIn(Base)`); `organization` is the owner's PTV
/// id, `area` the channel's area resolved (its own, else its organisation's).
#[must_use]
pub fn channel(c: &Channel, organization: &str, area: Option<&Area>) -> Mapped {
    let mut b = Map::new();
    b.insert("organizationId".into(), organization.into());
    let location = c.channel_type == ChannelType::ServiceLocation;
    let names: Vec<Value> = c
        .language_versions
        .iter()
        .map(|(l, v)| {
            if location {
                localized(*l, "Name", &v.name)
            } else {
                language_item(*l, v.name.as_str())
            }
        })
        .collect();
    b.insert("serviceChannelNames".into(), Value::Array(names));
    let descriptions = per_lang(&c.language_versions, |l, v| {
        vec![
            localized(l, "Summary", &v.summary),
            localized(l, "Description", &v.description),
        ]
    });
    b.insert(
        "serviceChannelDescriptions".into(),
        Value::Array(descriptions),
    );
    b.insert("languages".into(), texts(&c.service_languages));
    if let Some(a) = c.area.as_ref().or(area) {
        put_area(&mut b, a);
    }
    b.insert("isVisibleForAll".into(), c.visible_for_all.into());
    channel_type_fields(&mut b, c);
    Mapped {
        body: Value::Object(b),
        not_sent: Vec::new(),
    }
}

/// The fields only some channel types have.
fn channel_type_fields(b: &mut Map<String, Value>, c: &Channel) {
    let web_pages: Vec<Value> = c
        .language_versions
        .iter()
        .filter_map(|(l, v)| {
            v.web_address
                .as_ref()
                .map(|u| language_item(*l, u.as_str()))
        })
        .collect();
    let accessibility_list = || -> Value {
        Value::Array(
            c.language_versions
                .iter()
                .map(|(l, v)| accessibility(*l, v.accessibility.as_ref()))
                .collect(),
        )
    };
    let hours = service_hours(&c.service_hours);
    match c.channel_type {
        ChannelType::EService => {
            b.insert("webPage".into(), Value::Array(web_pages));
            b.insert("accessibilityClassification".into(), accessibility_list());
            b.insert(
                "requiresAuthentication".into(),
                c.requires_authentication.unwrap_or(false).into(),
            );
            let signed = c.requires_signature.unwrap_or(false);
            b.insert("requiresSignature".into(), signed.into());
            if let Some(q) = c.signature_quantity.filter(|_| signed) {
                b.insert("signatureQuantity".into(), q.to_string().into());
            }
            support(b, c);
            list_or_clear(b, "serviceHours", "deleteAllServiceHours", hours);
        }
        ChannelType::WebPage => {
            b.insert("webPage".into(), Value::Array(web_pages));
            b.insert("accessibilityClassification".into(), accessibility_list());
            support(b, c);
        }
        ChannelType::Phone => {
            let phones = c.phones.iter().map(|p| phone(p, true)).collect();
            b.insert("phoneNumbers".into(), Value::Array(phones));
            list_or_clear(b, "webPage", "deleteAllWebPages", web_pages);
            list_or_clear(
                b,
                "supportEmails",
                "deleteAllSupportEmails",
                emails(&c.emails),
            );
            list_or_clear(b, "serviceHours", "deleteAllServiceHours", hours);
        }
        ChannelType::PrintableForm => {
            let urls: Vec<Value> = c
                .form_urls
                .iter()
                .map(|f| {
                    let t = serde_json::to_value(f.form_type).unwrap_or(Value::Null);
                    json!({"type": t, "value": f.url.as_str(), "language": f.language.code()})
                })
                .collect();
            b.insert("channelUrls".into(), Value::Array(urls));
            support(b, c);
        }
        ChannelType::ServiceLocation => service_location_fields(b, c, hours),
    }
}

fn service_location_fields(b: &mut Map<String, Value>, c: &Channel, hours: Vec<Value>) {
    let display: Vec<Value> = c
        .language_versions
        .keys()
        .map(|l| json!({"type": "Name", "language": l.code()}))
        .collect();
    b.insert("displayNameType".into(), Value::Array(display));
    b.insert(
        "addresses".into(),
        Value::Array(c.addresses.iter().map(address).collect()),
    );
    let (fax, phones): (Vec<&Phone>, Vec<&Phone>) = c
        .phones
        .iter()
        .partition(|p| p.phone_type == Some(PhoneType::Fax));
    let fax = fax.into_iter().map(|p| phone(p, false)).collect();
    let phones = phones.into_iter().map(|p| phone(p, true)).collect();
    list_or_clear(b, "phoneNumbers", "deleteAllPhoneNumbers", phones);
    list_or_clear(b, "faxNumbers", "deleteAllFaxNumbers", fax);
    list_or_clear(b, "emails", "deleteAllEmails", emails(&c.emails));
    let pages: Vec<Value> = c
        .language_versions
        .iter()
        .filter_map(|(l, v)| {
            v.web_address.as_ref().map(|u| {
                let name = v.web_address_name.as_ref().unwrap_or(&v.name);
                json!({"url": u.as_str(), "value": name.as_str(), "language": l.code()})
            })
        })
        .collect();
    list_or_clear(b, "webPages", "deleteAllWebPages", pages);
    list_or_clear(b, "serviceHours", "deleteAllServiceHours", hours);
}

/// Support e-mails and phones (`EChannel`, `WebPage`, `PrintableForm`).
fn support(b: &mut Map<String, Value>, c: &Channel) {
    list_or_clear(
        b,
        "supportEmails",
        "deleteAllSupportEmails",
        emails(&c.emails),
    );
    let phones = c.phones.iter().map(|p| phone(p, false)).collect();
    list_or_clear(b, "supportPhones", "deleteAllSupportPhones", phones);
}

/// One relation of `PUT /Connection/serviceId/{id}`; `channel` is the channel's PTV id.
#[must_use]
pub fn connection(c: &Connection, channel: &str) -> Value {
    let mut m = Map::new();
    m.insert("serviceChannelId".into(), channel.into());
    match c.charge_type {
        Some(ServiceChargeType::Free) => {
            m.insert("serviceChargeType".into(), "FreeOfCharge".into());
        }
        Some(ServiceChargeType::Charged) => {
            m.insert("serviceChargeType".into(), "Chargeable".into());
        }
        None => {
            m.insert("deleteServiceChargeType".into(), true.into());
        }
    }
    let descriptions: Vec<Value> = c
        .description
        .iter()
        .map(|(l, v)| localized(*l, "Description", v))
        .collect();
    list_or_clear(&mut m, "description", "deleteAllDescriptions", descriptions);
    list_or_clear(
        &mut m,
        "serviceHours",
        "deleteAllServiceHours",
        service_hours(&c.service_hours),
    );
    Value::Object(m)
}

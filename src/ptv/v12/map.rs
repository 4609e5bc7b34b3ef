//! Version-neutral model → v12 request bodies, per the official beta schemas
//! (`components.schemas.*Request` of `openapi-beta.json`; names in [`super::routes::body_schema`]).
//!
//! The schemas list every key as required (`null` where allowed) and forbid unknown
//! keys, so every body carries every key. What v12 cannot carry (service hours, SMS
//! and fax numbers on telephone channels, a connection's charge type and description,
//! accessibility details beyond the level) is listed in [`Mapped::not_sent`]. The
//! adapter adds `externalId` to service and organisation creates.

use super::super::Mapped;
use crate::model::{
    Address, AddressType, Area, AreaType, Channel, ChannelLang, ChannelType, Connection, Email,
    FormType, Lang, LangMap, Organization, OrganizationType, Phone, PhoneChargeType, PhoneType,
    Service, ServiceChargeType, ServiceType, Text,
};
use serde_json::{Map, Value, json};

const INDUSTRIAL_CLASS: &str = "http://uri.suomi.fi/codelist/jhs/toimiala_1_20080101/code/";

/// The model cannot be expressed in v12 (a field v12 requires is missing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct MapError {
    /// Our source field path.
    pub field: String,
    pub message: String,
}

fn texts(values: &[Text]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|t| Value::String(t.to_string()))
            .collect(),
    )
}

fn opt(t: Option<&Text>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// v12 takes classification *codes*; a URI given in the source is cut to its code.
fn code(t: &Text) -> Value {
    let s = t.as_str();
    let c = if s.contains("/code/") {
        s.rsplit('/').next().unwrap_or(s)
    } else {
        s
    };
    Value::String(c.to_owned())
}

fn codes(values: &[Text]) -> Value {
    Value::Array(values.iter().map(code).collect())
}

/// Industrial classes are URIs in v12 as in v11.
fn industrial(values: &[Text]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|t| {
                let s = t.as_str();
                if s.starts_with("http://") || s.starts_with("https://") {
                    Value::String(s.to_owned())
                } else {
                    Value::String(format!("{INDUSTRIAL_CLASS}{s}"))
                }
            })
            .collect(),
    )
}

#[must_use]
pub fn area(a: &Area) -> Value {
    match a.area_type {
        AreaType::WholeCountry => json!({"areaType": "WholeCountry"}),
        AreaType::WholeCountryExceptAland => json!({"areaType": "WholeCountryExceptAland"}),
        AreaType::LimitedArea => json!({
            "areaType": "LimitedArea",
            "municipalities": texts(&a.municipalities),
            "regions": texts(&a.regions),
            "wellbeingServicesCounties": texts(&a.wellbeing_services_counties),
        }),
    }
}

fn charge(c: PhoneChargeType) -> &'static str {
    match c {
        PhoneChargeType::FreeOfCharge => "Free",
        PhoneChargeType::Chargeable => "Charged",
        PhoneChargeType::Other => "ExtraCharge",
    }
}

/// A `TelephoneNumberRequest`: international with a prefix, else a domestic service number.
fn telephone(p: &Phone) -> Value {
    let mut m = Map::new();
    m.insert(
        "additionalInformation".into(),
        opt(p.additional_information.as_ref()),
    );
    m.insert(
        "chargeDescription".into(),
        opt(p.charge_description.as_ref()),
    );
    m.insert("chargeType".into(), charge(p.charge_type).into());
    m.insert("number".into(), p.number.as_str().into());
    match &p.prefix {
        Some(prefix) => {
            m.insert("dialCode".into(), prefix.as_str().into());
            m.insert("type".into(), "InternationalPhone".into());
        }
        None => {
            m.insert("type".into(), "DomesticPhone".into());
        }
    }
    Value::Object(m)
}

/// A `FaxNumberRequest` (service locations only).
fn fax(p: &Phone) -> Value {
    json!({
        "additionalInformation": opt(p.additional_information.as_ref()),
        "chargeDescription": opt(p.charge_description.as_ref()),
        "chargeType": charge(p.charge_type),
        "number": p.number.as_str(),
        "dialCode": p.prefix.as_ref().map_or("+358", Text::as_str),
        "type": "Fax",
    })
}

fn phones_in(phones: &[Phone], lang: Lang, keep: impl Fn(&Phone) -> bool) -> Vec<&Phone> {
    phones
        .iter()
        .filter(|p| p.language == lang && keep(p))
        .collect()
}

fn emails_in(emails: &[Email], lang: Lang) -> Value {
    Value::Array(
        emails
            .iter()
            .filter(|e| e.language == lang)
            .map(|e| json!({"email": e.value.as_str()}))
            .collect(),
    )
}

fn lang_object<T>(map: &LangMap<T>, mut f: impl FnMut(Lang, &T) -> Value) -> Value {
    Value::Object(
        map.iter()
            .map(|(l, v)| (l.code().to_owned(), f(*l, v)))
            .collect(),
    )
}

/// A service (`ServiceExternalIdRequest` without `externalId` / `PutServiceRequest`).
#[must_use]
pub fn service(s: &Service, organization: &str) -> Mapped {
    let (service_type, extra_texts) = match s.service_type {
        ServiceType::Service => ("Service", false),
        ServiceType::PermitOrObligation => ("PermitOrOtherObligation", true),
        ServiceType::ProfessionalQualification => ("ProfessionalQualification", true),
    };
    let language_versions = lang_object(&s.language_versions, |_, v| {
        let mut m = Map::new();
        m.insert("name".into(), v.name.as_str().into());
        m.insert("alternativeName".into(), opt(v.alternative_name.as_ref()));
        m.insert("summary".into(), v.summary.as_str().into());
        m.insert("description".into(), v.description.as_str().into());
        m.insert("userInstructions".into(), opt(v.user_instructions.as_ref()));
        m.insert("conditions".into(), opt(v.conditions.as_ref()));
        m.insert("legislationLinks".into(), json!([]));
        m.insert("freelyAssignedKeywords".into(), texts(&v.keywords));
        m.insert("voucher".into(), json!({"voucherType": "NotUsed"}));
        m.insert("chargeTypeAdditionalInformation".into(), Value::Null);
        if extra_texts {
            m.insert("processingTimeAdditionalInformation".into(), Value::Null);
            m.insert("deadlineAdditionalInformation".into(), Value::Null);
            m.insert("validityTimeAdditionalInformation".into(), Value::Null);
        }
        Value::Object(m)
    });
    let no_producers = json!({"organizations": [], "other": []});
    let body = json!({
        "serviceType": service_type,
        "organizationContentId": organization,
        "targetGroups": codes(&s.target_groups),
        "industrialClasses": industrial(&s.industrial_classes),
        "lifeEvents": codes(&s.life_events),
        "ontologyTerms": texts(&s.ontology_terms),
        "serviceClasses": codes(&s.service_classes),
        "otherResponsibleOrganizations": [],
        "producers": {
            "selfProducedProducers": {"organizations": [organization]},
            "procuredProducers": no_producers.clone(),
            "otherProducers": no_producers,
        },
        "area": area(&s.area),
        "chargeType": match s.charge_type {
            Some(ServiceChargeType::Free) => Value::from("Free"),
            Some(ServiceChargeType::Charged) => Value::from("Charged"),
            None => Value::Null,
        },
        "fundingType": format!("{:?}", s.funding_type),
        "serviceLanguages": texts(&s.service_languages),
        "generalDescriptionContentId": opt(s.general_description.as_ref()),
        "languageVersions": language_versions,
    });
    Mapped {
        body,
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

/// A sub-organisation (`PostSubOrganizationExternalIdReques` without `externalId` /
/// `PutSubOrganizationRequest`); `parent` is the parent's PTV id.
pub fn organization(o: &Organization, parent: &str) -> Result<Mapped, MapError> {
    let business_id = o.business_code.as_ref().ok_or_else(|| MapError {
        field: "businessCode".into(),
        message: "v12 requires a business id for every organisation".into(),
    })?;
    let org_area = match (o.organization_type, o.effective_area()) {
        (OrganizationType::Municipality, _) => {
            let m = o.municipality.as_ref().ok_or_else(|| MapError {
                field: "municipality".into(),
                message: "a Municipality organisation needs its municipality code".into(),
            })?;
            json!({"areaType": "LimitedArea", "municipalities": [m.as_str()]})
        }
        (OrganizationType::RegionalOrganization, Some(a))
            if a.area_type != AreaType::LimitedArea =>
        {
            return Err(MapError {
                field: "area".into(),
                message: "v12 requires a LimitedArea for a RegionalOrganization".into(),
            });
        }
        (_, Some(a)) => area(&a),
        (_, None) => {
            return Err(MapError {
                field: "area".into(),
                message: "v12 requires an area for this organisation type".into(),
            });
        }
    };
    let language_versions = lang_object(&o.language_versions, |l, v| {
        json!({
            "name": v.name.as_str(),
            "alternativeName": opt(v.alternative_name.as_ref()),
            "isAlternativeNamePrimary": false,
            "description": opt(v.description.as_ref()),
            "summary": v.summary.as_str(),
            "contactEmails": o.emails.iter().filter(|e| e.language == l)
                .map(|e| json!({"email": e.value.as_str(), "additionalInformation": null}))
                .collect::<Vec<_>>(),
            "contactWebPages": o.web_pages.iter().filter(|w| w.language == l)
                .map(|w| json!({"name": w.name.as_str(), "url": w.url.as_str()}))
                .collect::<Vec<_>>(),
            "contactPhoneNumbers": phones_in(&o.phones, l, |_| true).into_iter().map(telephone).collect::<Vec<_>>(),
        })
    });
    let body = json!({
        "businessId": business_id.as_str(),
        "eInvoiceAddresses": [],
        "contactAddresses": {"foreignAddresses": [], "postOfficeBoxAddresses": [], "streetAddresses": []},
        "location": {"foreignAddresses": [], "streetAddresses": [], "otherAddresses": []},
        "languageVersions": language_versions,
        "oid": null,
        "organizationType": organization_type(o.organization_type),
        "area": org_area,
        "parentOrganizationContentId": parent,
    });
    Ok(Mapped {
        body,
        not_sent: Vec::new(),
    })
}

fn street_address(a: &Address) -> Value {
    let coordinates = match (a.latitude, a.longitude) {
        (Some(n), Some(e)) => json!({"system": "EPSG:3067", "easting": e, "northing": n}),
        _ => Value::Null,
    };
    json!({
        "streetName": lang_object(&a.street, |_, s| Value::String(s.to_string())),
        "addressDetail": a.street_number.as_str(),
        "postalCode": a.postal_code.as_str(),
        "coordinates": coordinates,
        "additionalInformation": {},
    })
}

fn form_type(t: FormType) -> &'static str {
    match t {
        FormType::Pdf => "pdf",
        FormType::Doc => "doc",
        FormType::Excel => "excel",
        FormType::Rtf => "rtf",
        FormType::Odt => "odt",
    }
}

fn is_voice(p: &Phone) -> bool {
    p.phone_type.is_none_or(|t| t == PhoneType::Phone)
}

/// `languageVersions.<lang>` of a channel, per its type's schema.
fn channel_language(
    c: &Channel,
    lang: Lang,
    v: &ChannelLang,
    not_sent: &mut Vec<String>,
) -> Result<Value, MapError> {
    let mut m = Map::new();
    m.insert("name".into(), v.name.as_str().into());
    m.insert("summary".into(), v.summary.as_str().into());
    m.insert("description".into(), v.description.as_str().into());
    let web_name = v.web_address_name.as_ref().unwrap_or(&v.name);
    let voice = Value::Array(
        phones_in(&c.phones, lang, is_voice)
            .into_iter()
            .map(telephone)
            .collect(),
    );
    let required_web = || -> Result<Value, MapError> {
        let url = v.web_address.as_ref().ok_or_else(|| MapError {
            field: format!("languageVersions.{lang}.webAddress"),
            message: "v12 requires a web address in every language of this channel type".into(),
        })?;
        Ok(json!({"url": url.as_str(), "name": web_name.as_str()}))
    };
    let level = v
        .accessibility
        .as_ref()
        .map_or_else(|| "Unknown".to_owned(), |a| format!("{:?}", a.level));
    match c.channel_type {
        ChannelType::EService | ChannelType::WebPage => {
            m.insert("accessibilityClassificationLevel".into(), level.into());
            m.insert("webAddress".into(), required_web()?);
            if c.channel_type == ChannelType::EService {
                m.insert("attachmentLinks".into(), json!([]));
            }
            m.insert("supportEmails".into(), emails_in(&c.emails, lang));
            m.insert("supportPhoneNumbers".into(), voice);
        }
        ChannelType::Phone => {
            let name = v.web_address.as_ref().map(|_| web_name);
            m.insert(
                "webAddress".into(),
                json!({"url": opt(v.web_address.as_ref()), "name": opt(name)}),
            );
            m.insert("supportEmails".into(), emails_in(&c.emails, lang));
            m.insert("phoneNumbers".into(), voice);
        }
        ChannelType::PrintableForm => {
            m.insert("attachmentLinks".into(), json!([]));
            m.insert("supportEmails".into(), emails_in(&c.emails, lang));
            m.insert("supportPhoneNumbers".into(), voice);
            m.insert("formIdentifier".into(), Value::Null);
            let files: Vec<Value> = c
                .form_urls
                .iter()
                .filter(|f| f.language == lang)
                .map(|f| {
                    json!({
                        "name": f.name.as_ref().unwrap_or(&v.name).as_str(),
                        "url": f.url.as_str(),
                        "type": form_type(f.form_type),
                    })
                })
                .collect();
            m.insert("formFiles".into(), Value::Array(files));
        }
        ChannelType::ServiceLocation => {
            m.insert("alternativeName".into(), Value::Null);
            m.insert("isAlternativeNamePrimary".into(), false.into());
            let pages: Vec<Value> = v
                .web_address
                .iter()
                .map(|u| json!({"name": web_name.as_str(), "url": u.as_str()}))
                .collect();
            m.insert("contactWebPages".into(), Value::Array(pages));
            let faxes = phones_in(&c.phones, lang, |p| p.phone_type == Some(PhoneType::Fax));
            m.insert(
                "contactFaxNumbers".into(),
                Value::Array(faxes.into_iter().map(fax).collect()),
            );
            m.insert("contactEmails".into(), emails_in(&c.emails, lang));
            m.insert("contactPhoneNumbers".into(), voice);
            if !phones_in(&c.phones, lang, |p| p.phone_type == Some(PhoneType::Sms)).is_empty() {
                not_sent.push(format!(
                    "phones ({lang}): v12 service locations take no SMS numbers"
                ));
            }
        }
    }
    Ok(Value::Object(m))
}

/// The keys only one channel type has, outside the language versions.
fn channel_extras(c: &Channel, b: &mut Map<String, Value>) {
    match c.channel_type {
        ChannelType::EService => {
            let signature = if c.requires_signature.unwrap_or(false) {
                json!({"type": "Required", "numberOfRequiredSignatures": c.signature_quantity.unwrap_or(1)})
            } else {
                json!({"type": "NotRequired"})
            };
            b.insert("electronicSignature".into(), signature);
            let id = if c.requires_authentication.unwrap_or(false) {
                "Required"
            } else {
                "NotRequired"
            };
            b.insert("electronicIdentification".into(), id.into());
        }
        ChannelType::PrintableForm => {
            b.insert("deliveryAddresses".into(), json!([]));
        }
        ChannelType::ServiceLocation => {
            let of = |t: AddressType| -> Value {
                Value::Array(
                    c.addresses
                        .iter()
                        .filter(|a| a.address_type == t)
                        .map(street_address)
                        .collect(),
                )
            };
            b.insert(
                "contactAddresses".into(),
                json!({"foreignAddresses": [], "postOfficeBoxAddresses": [], "streetAddresses": of(AddressType::Postal)}),
            );
            b.insert(
                "location".into(),
                json!({"foreignAddresses": [], "streetAddresses": of(AddressType::Location), "otherAddresses": []}),
            );
        }
        ChannelType::WebPage | ChannelType::Phone => {}
    }
}

/// A channel (`Post<Type>ChannelRequest` / `Put<Type>ChannelRequest[Schema]`);
/// `organization` is the owner's PTV id, `area_fallback` the area to use when the
/// channel has none of its own (its organisation's).
pub fn channel(
    c: &Channel,
    organization: &str,
    area_fallback: Option<&Area>,
) -> Result<Mapped, MapError> {
    let mut not_sent = Vec::new();
    let resolved = c.area.as_ref().or(area_fallback).ok_or_else(|| MapError {
        field: "area".into(),
        message: "v12 requires an area on every channel and none could be resolved: give the channel an area, or an organisation that has one, or set main_area for the organisation in the configuration".into(),
    })?;
    if !c.service_hours.is_empty() {
        not_sent.push("serviceHours: v12 has no request schema for service hours yet".into());
    }
    if c.channel_type != ChannelType::ServiceLocation && c.phones.iter().any(|p| !is_voice(p)) {
        not_sent.push(
            "phones: v12 channels other than service locations take no SMS or fax numbers".into(),
        );
    }
    let mut languages = Map::new();
    for (lang, v) in &c.language_versions {
        languages.insert(
            lang.code().to_owned(),
            channel_language(c, *lang, v, &mut not_sent)?,
        );
    }
    let mut body = Map::new();
    body.insert("organizationContentId".into(), organization.into());
    let connection_type = if c.visible_for_all {
        "AllOrganizations"
    } else {
        "OwnOrganizations"
    };
    body.insert("allowedConnectionType".into(), connection_type.into());
    body.insert("serviceLanguages".into(), texts(&c.service_languages));
    body.insert("area".into(), area(resolved));
    body.insert("languageVersions".into(), Value::Object(languages));
    channel_extras(c, &mut body);
    Ok(Mapped {
        body: Value::Object(body),
        not_sent,
    })
}

/// A `ConnectionRequest`; the connection's charge type, description and hours have no
/// place in v12's schema and are reported as not sent.
#[must_use]
pub fn connection(c: &Connection, service: &str, channel: &str) -> Mapped {
    let mut not_sent = Vec::new();
    if c.charge_type.is_some() {
        not_sent.push(format!(
            "connections[{}].chargeType: no place in v12",
            c.channel
        ));
    }
    if !c.description.is_empty() {
        not_sent.push(format!(
            "connections[{}].description: no place in v12",
            c.channel
        ));
    }
    if !c.service_hours.is_empty() {
        not_sent.push(format!(
            "connections[{}].serviceHours: no place in v12",
            c.channel
        ));
    }
    Mapped {
        body: json!({"serviceContentId": service, "channelContentId": channel}),
        not_sent,
    }
}

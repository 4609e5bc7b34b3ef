//! The five v11 service-channel in-models (reference §7.4, rule 15 of §12).

use super::check::{Check, ListSpec, non_null};
use super::extract::{Ctx, Extract, names_of, required_languages};
use super::fields;
use super::service::summary_differs;
use crate::model::ChannelType;
use crate::sim::store::PublishingStatus;
use serde_json::Value;
use std::collections::BTreeSet;

pub(crate) const FLAGS: &[(&str, &str)] = &[
    ("deleteAllServiceHours", "serviceHours"),
    ("deleteAllWebPages", "webPages"),
    ("deleteAllSupportEmails", "supportEmails"),
    ("deleteAllSupportPhones", "supportPhones"),
    ("deleteAllEmails", "emails"),
    ("deleteAllPhoneNumbers", "phoneNumbers"),
    ("deleteAllFaxNumbers", "faxNumbers"),
    ("deleteAllAttachments", "attachments"),
    ("deleteAllDeliveryAddresses", "deliveryAddresses"),
    ("deleteAllFormIdentifiers", "formIdentifier"),
    ("deleteAllAreas", "areas"),
];

const TYPED_NAMES: ListSpec = ListSpec {
    typed: true,
    types: &["Name", "AlternativeName"],
    max: |_| 100,
    unique: true,
};

const NAMES: ListSpec = ListSpec {
    typed: false,
    types: &[],
    max: |_| 100,
    unique: true,
};

const DESCRIPTIONS: ListSpec = ListSpec {
    typed: true,
    types: &["Description", "Summary"],
    max: |kind| if kind == Some("Summary") { 150 } else { 2500 },
    unique: true,
};

pub(crate) fn validate(check: &mut Check, body: &Value, ctx: &Ctx, kind: ChannelType) -> Extract {
    let org = check.guid(body, "organizationId", "organizationId");
    if non_null(body, "organizationId").is_none() {
        check.required("organizationId");
    }
    let typed = kind == ChannelType::ServiceLocation;
    let mut names = check.localized(
        body,
        "serviceChannelNames",
        if typed { &TYPED_NAMES } else { &NAMES },
    );
    if !typed {
        for n in &mut names {
            n.kind = Some("Name".to_owned());
        }
    }
    let descriptions = check.localized(body, "serviceChannelDescriptions", &DESCRIPTIONS);
    if names.is_empty() {
        check.required("serviceChannelNames");
    }
    if descriptions.is_empty() {
        check.required("serviceChannelDescriptions");
    }
    if check.strings(body, "languages", "languages").is_empty() {
        check.required("languages");
    }
    let area_type = fields::area(check, body, false);
    let visible = check
        .boolean(body, "isVisibleForAll", "isVisibleForAll")
        .unwrap_or(true);
    fields::emails(check, body, "supportEmails");
    fields::phones(check, body, "supportPhones", None);
    fields::service_hours(check, body, "serviceHours");

    let languages = required_languages(&[&names, &descriptions]);
    check.each_language("serviceChannelNames", &names, Some("Name"), &languages);
    check.each_language(
        "serviceChannelDescriptions",
        &descriptions,
        Some("Summary"),
        &languages,
    );
    check.each_language(
        "serviceChannelDescriptions",
        &descriptions,
        Some("Description"),
        &languages,
    );
    if ctx.status == PublishingStatus::Published {
        let before = check.errors.len();
        summary_differs(check, &names, &descriptions);
        if check.errors.len() > before
            && let Some(messages) = check.errors.remove("ServiceDescriptions")
        {
            check
                .errors
                .entry("ServiceChannelDescriptions".to_owned())
                .or_default()
                .extend(messages);
        }
    }
    type_specific(check, body, kind, &languages);

    Extract {
        names: names_of(&names),
        languages: languages.into_iter().collect(),
        area_type,
        visible_for_all: visible,
        org,
        connections: ctx
            .post
            .then(|| check.guids(body, "services", "services"))
            .filter(|c| !c.is_empty()),
    }
}

fn require_each(check: &mut Check, key: &str, found: &[String], languages: &BTreeSet<String>) {
    if found.is_empty() {
        check.required(key);
        return;
    }
    for language in languages {
        if !found.contains(language) {
            check.add(
                super::check::pascal(key),
                format!("Required value with type '{key}' was not found with language code '{language}'!"),
            );
        }
    }
}

fn type_specific(check: &mut Check, body: &Value, kind: ChannelType, languages: &BTreeSet<String>) {
    match kind {
        ChannelType::EService => echannel(check, body, languages),
        ChannelType::WebPage => {
            let pages = fields::web_pages(check, body, "webPage", true);
            require_each(check, "webPage", &pages, languages);
            let access = fields::accessibility(check, body, "accessibilityClassification");
            require_each(check, "accessibilityClassification", &access, languages);
        }
        ChannelType::Phone => {
            let phones =
                fields::phones(check, body, "phoneNumbers", Some(&["Phone", "Sms", "Fax"]));
            require_each(check, "phoneNumbers", &phones, languages);
            fields::web_pages(check, body, "webPage", true);
        }
        ChannelType::PrintableForm => printable_form(check, body, languages),
        ChannelType::ServiceLocation => service_location(check, body),
    }
}

fn echannel(check: &mut Check, body: &Value, languages: &BTreeSet<String>) {
    let pages = fields::web_pages(check, body, "webPage", true);
    require_each(check, "webPage", &pages, languages);
    let access = fields::accessibility(check, body, "accessibilityClassification");
    require_each(check, "accessibilityClassification", &access, languages);
    if check
        .boolean(body, "requiresAuthentication", "requiresAuthentication")
        .is_none()
    {
        check.required("requiresAuthentication");
    }
    let signed = check.boolean(body, "requiresSignature", "requiresSignature") == Some(true);
    let quantity = match non_null(body, "signatureQuantity") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match quantity {
        None if signed => {
            check.add(
                "SignatureQuantity",
                "The field is required when 'RequiresSignature' has value 'True'.",
            );
        }
        Some(q) => {
            let ok = q
                .strip_prefix(|c: char| ('1'..='9').contains(&c))
                .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()));
            check.pattern("signatureQuantity", &q, ok, r"^[1-9]\d*$");
        }
        None => {}
    }
    fields::objects_ok(check, body, "attachments");
}

fn printable_form(check: &mut Check, body: &Value, languages: &BTreeSet<String>) {
    let mut found = Vec::new();
    for (path, item) in check.objects(body, "channelUrls", "channelUrls") {
        check.enumeration(
            item,
            "type",
            &format!("{path}.type"),
            &["PDF", "DOC", "Excel", "rtf", "odt"],
            true,
        );
        if let Some(url) = check.required_string(item, "value", &format!("{path}.value")) {
            check.url(&format!("{path}.value"), url);
        }
        if let Some(l) = check.required_string(item, "language", &format!("{path}.language")) {
            check.language(&format!("{path}.language"), l);
            found.push(l.to_owned());
        }
    }
    require_each(check, "channelUrls", &found, languages);
    for (path, item) in check.objects(body, "formIdentifier", "formIdentifier") {
        if let Some(v) = check.string(item, "value", &format!("{path}.value")) {
            check.max_len(&format!("{path}.value"), v, 100, "FormIdentifier");
        }
    }
    for (path, item) in check.objects(body, "deliveryAddresses", "deliveryAddresses") {
        check.enumeration(
            item,
            "subType",
            &format!("{path}.subType"),
            &["Street", "PostOfficeBox", "NoAddress"],
            true,
        );
        for (rpath, r) in check.objects(item, "formReceiver", &format!("{path}.formReceiver")) {
            if let Some(v) = check.string(r, "value", &format!("{rpath}.value")) {
                check.max_len(&format!("{rpath}.value"), v, 100, "FormReceiver");
            }
        }
    }
}

fn service_location(check: &mut Check, body: &Value) {
    let display = check.objects(body, "displayNameType", "displayNameType");
    if display.is_empty() {
        check.required("displayNameType");
    }
    for (path, item) in display {
        check.enumeration(
            item,
            "type",
            &format!("{path}.type"),
            &["Name", "AlternativeName"],
            true,
        );
        check.required_string(item, "language", &format!("{path}.language"));
    }
    let kinds = fields::addresses(
        check,
        body,
        "addresses",
        &[
            ("Location", &["Single", "Other", "Abroad"]),
            ("Postal", &["Street", "PostOfficeBox", "Abroad"]),
        ],
    );
    if !kinds.iter().any(|k| k == "Location") {
        check.add(
            "Addresses",
            "Addresses - Required value 'Location' was not found!",
        );
    }
    fields::phones(check, body, "phoneNumbers", None);
    fields::phones(check, body, "faxNumbers", None);
    fields::emails(check, body, "emails");
    fields::web_pages(check, body, "webPages", false);
}

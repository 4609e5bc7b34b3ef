//! The v11 service in-model (reference §7.2, rules 7, 8, 9, 10, 11, 12 of §12).

use super::check::{Check, ListSpec, Loc, non_null};
use super::extract::{Ctx, Extract, names_of, required_languages};
use super::fields::{self, LIFE_EVENT_PREFIXES, TARGET_GROUP_PREFIXES};
use crate::sim::store::PublishingStatus;
use serde_json::Value;

pub(crate) const FLAGS: &[(&str, &str)] = &[
    ("deleteAllLifeEvents", "lifeEvents"),
    ("deleteAllIndustrialClasses", "industrialClasses"),
    ("deleteAllLaws", "legislation"),
    ("deleteAllKeywords", "keywords"),
    ("deleteServiceChargeType", "serviceChargeType"),
    ("deleteGeneralDescriptionId", "generalDescriptionId"),
    ("deleteAllServiceVouchers", "serviceVouchers"),
];

const NAMES: ListSpec = ListSpec {
    typed: true,
    types: &["Name", "AlternativeName"],
    max: |_| 100,
    unique: true,
};

const DESCRIPTIONS: ListSpec = ListSpec {
    typed: true,
    types: &[
        "Description",
        "Summary",
        "UserInstruction",
        "ProcessingTime",
        "DeadLine",
        "ChargeTypeAdditionalInfo",
        "ValidityTime",
        "ServiceType",
    ],
    max: |kind| match kind {
        Some("Summary") => 150,
        Some("Description" | "UserInstruction") => 2500,
        _ => 500,
    },
    unique: true,
};

const KEYWORDS: ListSpec = ListSpec {
    typed: false,
    types: &[],
    max: |_| 150,
    unique: false,
};

const REQUIREMENTS: ListSpec = ListSpec {
    typed: false,
    types: &[],
    max: |_| 2500,
    unique: true,
};

pub(crate) fn validate(check: &mut Check, body: &Value, ctx: &Ctx) -> Extract {
    let general = check.guid(body, "generalDescriptionId", "generalDescriptionId");
    let has_general = non_null(body, "generalDescriptionId").is_some();
    check.enumeration(
        body,
        "type",
        "type",
        &["Service", "PermitOrObligation", "ProfessionalQualification"],
        !has_general,
    );
    check.enumeration(
        body,
        "fundingType",
        "fundingType",
        &["PubliclyFunded", "MarketFunded"],
        true,
    );
    check.enumeration(
        body,
        "serviceChargeType",
        "serviceChargeType",
        &["Chargeable", "FreeOfCharge"],
        false,
    );

    let names = check.localized(body, "serviceNames", &NAMES);
    let descriptions = check.localized(body, "serviceDescriptions", &DESCRIPTIONS);
    let keywords = check.localized(body, "keywords", &KEYWORDS);
    let requirements = check.localized(body, "requirements", &REQUIREMENTS);
    if names.is_empty() && !has_general {
        check.required("serviceNames");
    } else if !names.is_empty() && !names.iter().any(|n| n.kind.as_deref() == Some("Name")) {
        check.add(
            "ServiceNames",
            "Type - Required value 'Name' was not found!",
        );
    }
    if descriptions.is_empty() {
        check.required("serviceDescriptions");
    }
    let languages = required_languages(&[&names, &descriptions, &keywords, &requirements]);
    check.each_language("serviceNames", &names, Some("Name"), &languages);
    check.each_language(
        "serviceDescriptions",
        &descriptions,
        Some("Summary"),
        &languages,
    );
    if !has_general {
        check.each_language(
            "serviceDescriptions",
            &descriptions,
            Some("Description"),
            &languages,
        );
    }
    if ctx.status == PublishingStatus::Published {
        summary_differs(check, &names, &descriptions);
    }

    if check.strings(body, "languages", "languages").is_empty() {
        check.required("languages");
    }
    let area_type = fields::area(check, body, true);
    producers(check, body);
    let main = check.guid(
        body,
        "mainResponsibleOrganization",
        "mainResponsibleOrganization",
    );
    if non_null(body, "mainResponsibleOrganization").is_none() {
        check.required("mainResponsibleOrganization");
    }
    let others = check.guids(
        body,
        "otherResponsibleOrganizations",
        "otherResponsibleOrganizations",
    );
    if main.is_some_and(|m| others.contains(&m)) {
        check.add(
            "OtherResponsibleOrganizations",
            "The main responsible organization cannot be an other responsible organization.",
        );
    }
    classifications(check, body, ctx, general.is_some() || has_general);
    let connections = ctx
        .post
        .then(|| check.guids(body, "serviceChannels", "serviceChannels"))
        .filter(|c| !c.is_empty());

    Extract {
        names: names_of(&names),
        languages: languages.into_iter().collect(),
        area_type,
        visible_for_all: true,
        org: main,
        connections,
    }
}

/// When publishing, a summary may not repeat the name (rule 12).
pub(crate) fn summary_differs(check: &mut Check, names: &[Loc], descriptions: &[Loc]) {
    for name in names.iter().filter(|n| n.kind.as_deref() == Some("Name")) {
        let same = descriptions.iter().any(|d| {
            d.kind.as_deref() == Some("Summary")
                && d.language == name.language
                && d.value == name.value
        });
        if same {
            check.add(
                "ServiceDescriptions",
                format!(
                    "Summary must differ from the name (language '{}') when publishing.",
                    name.language
                ),
            );
        }
    }
}

fn producers(check: &mut Check, body: &Value) {
    let producers = check.objects(body, "serviceProducers", "serviceProducers");
    if producers.is_empty() {
        check.required("serviceProducers");
    }
    for (path, item) in producers {
        check.enumeration(
            item,
            "provisionType",
            &format!("{path}.provisionType"),
            &["SelfProducedServices", "ProcuredServices", "Other"],
            true,
        );
        check.guids(item, "organizations", &format!("{path}.organizations"));
        for (ipath, info) in check.objects(
            item,
            "additionalInformation",
            &format!("{path}.additionalInformation"),
        ) {
            if let Some(v) = check.string(info, "value", &format!("{ipath}.value")) {
                check.max_len(&format!("{ipath}.value"), v, 150, "AdditionalInformation");
            }
        }
    }
}

/// Service classes, ontology terms, target groups, life events and industrial classes
/// (rule 8).
fn classifications(check: &mut Check, body: &Value, ctx: &Ctx, has_general: bool) {
    let classes = check.strings(body, "serviceClasses", "serviceClasses");
    let terms = check.strings(body, "ontologyTerms", "ontologyTerms");
    let groups = check.strings(body, "targetGroups", "targetGroups");
    let events = check.strings(body, "lifeEvents", "lifeEvents");
    let industries = check.strings(body, "industrialClasses", "industrialClasses");
    if ctx.status == PublishingStatus::Published && !has_general {
        for (key, list) in [
            ("ServiceClasses", &classes),
            ("OntologyTerms", &terms),
            ("TargetGroups", &groups),
        ] {
            if list.is_empty() {
                check.add(
                    key,
                    "The field is required when 'PublishingStatus' has value 'Published'.",
                );
            }
        }
    }
    if classes.len() > 4 {
        check.add("ServiceClasses", "Maximum count of items is 4.");
    }
    let mut codes = Vec::new();
    for (i, uri) in classes.iter().enumerate() {
        match fields::service_class(uri) {
            Some(code) => codes.push(code),
            None => check.add(
                format!("ServiceClasses[{i}]"),
                format!("'{uri}' is not a valid service class URI."),
            ),
        }
    }
    if !codes.is_empty() && codes.iter().all(|c| c.starts_with('P') && !c.contains('.')) {
        check.add(
            "ServiceClasses",
            "All the service classes are main service classes. Not allowed!",
        );
    }
    if terms.len() > 10 {
        check.add("OntologyTerms", "Maximum count of items is 10.");
    }
    for (i, uri) in terms.iter().enumerate() {
        if !fields::is_ontology_term(uri) {
            check.add(
                format!("OntologyTerms[{i}]"),
                "The field OntologyTerms must match the regular expression '^http://www.yso.fi/onto/[a-z]*/p[0-9]{1,5}$'.",
            );
        }
    }
    let mut group_codes = Vec::new();
    for (i, uri) in groups.iter().enumerate() {
        match super::check::code_after(uri, &TARGET_GROUP_PREFIXES, "KR") {
            Some(code) => group_codes.push(code),
            None => check.add(
                format!("TargetGroups[{i}]"),
                format!("'{uri}' is not a valid target group URI."),
            ),
        }
    }
    if group_codes.contains(&"KR2") && !group_codes.iter().any(|c| c.starts_with("KR2.")) {
        check.add(
            "TargetGroups",
            "Target group 'KR2' requires at least one of its sub target groups.",
        );
    }
    for (i, uri) in events.iter().enumerate() {
        if super::check::code_after(uri, &LIFE_EVENT_PREFIXES, "KE").is_none() {
            check.add(
                format!("LifeEvents[{i}]"),
                format!("'{uri}' is not a valid life event URI."),
            );
        }
    }
    if !events.is_empty() && !group_codes.iter().any(|c| c.starts_with("KR1")) {
        check.add("LifeEvents", "Life events require target group 'KR1'.");
    }
    for (i, uri) in industries.iter().enumerate() {
        if !fields::is_industrial_class(uri) {
            check.add(
                format!("IndustrialClasses[{i}]"),
                format!("'{uri}' is not a valid industrial class URI."),
            );
        }
    }
    if !industries.is_empty() && !group_codes.iter().any(|c| c.starts_with("KR2")) {
        check.add(
            "IndustrialClasses",
            "Industrial classes require target group 'KR2'.",
        );
    }
}

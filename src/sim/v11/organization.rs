//! The v11 organisation in-model (reference §7.3, rule 14 of §12).

use super::check::{Check, ListSpec, Loc, digits, is_business_code, is_source_id, non_null};
use super::extract::{Ctx, Extract, names_of, required_languages};
use super::fields;
use serde_json::Value;

pub(crate) const FLAGS: &[(&str, &str)] = &[
    ("deleteAllEmails", "emails"),
    ("deleteAllPhones", "phoneNumbers"),
    ("deleteAllWebPages", "webPages"),
    ("deleteAllAddresses", "addresses"),
    ("deleteAllElectronicInvoicings", "electronicInvoicings"),
];

const TYPES: [&str; 5] = [
    "State",
    "Municipality",
    "RegionalOrganization",
    "Organization",
    "Company",
];

const NAMES: ListSpec = ListSpec {
    typed: true,
    types: &["Name", "AlternativeName"],
    max: |_| 100,
    unique: true,
};

const DESCRIPTIONS: ListSpec = ListSpec {
    typed: true,
    types: &["Description", "Summary"],
    max: |kind| if kind == Some("Summary") { 150 } else { 2500 },
    unique: true,
};

/// Organisation names over 100 characters are cut, not refused (reference §6).
pub(crate) fn truncate_names(request: &mut Value) {
    if let Some(Value::Array(names)) = request.get_mut("organizationNames") {
        for name in names {
            if let Some(Value::String(value)) = name.get_mut("value")
                && value.chars().count() > 100
            {
                *value = value.chars().take(100).collect();
            }
        }
    }
}

pub(crate) fn validate(check: &mut Check, body: &Value, ctx: &Ctx) -> Extract {
    if ctx.post && non_null(body, "parentOrganizationId").is_none() {
        check.add("Organization", "User has no rights to create this entity!");
    }
    let parent = check.guid(body, "parentOrganizationId", "parentOrganizationId");
    let kind = check.enumeration(body, "organizationType", "organizationType", &TYPES, true);
    if let Some(code) = check.string(body, "businessCode", "businessCode") {
        check.pattern(
            "businessCode",
            code,
            is_business_code(code),
            "^[0-9]{7}-[0-9]{1}$",
        );
    }
    if let Some(oid) = check.string(body, "oid", "oid") {
        check.max_len("oid", oid, 100, "Oid");
        check.pattern("oid", oid, is_source_id(oid), "^[A-Za-z0-9.-]*$");
    }
    match (kind, check.string(body, "municipality", "municipality")) {
        (Some("Municipality"), None) => {
            check.add(
                "Municipality",
                "The field is required when 'OrganizationType' has value 'Municipality'.",
            );
        }
        (Some("Municipality"), Some(m)) => {
            check.pattern("municipality", m, digits(m, 1, 3), "^[0-9]{1,3}$");
        }
        (Some(other), Some(_)) => check.add(
            "Municipality",
            format!("The field is not allowed when 'OrganizationType' has value '{other}'."),
        ),
        _ => {}
    }
    let names = check.localized(body, "organizationNames", &NAMES);
    let descriptions = check.localized(body, "organizationDescriptions", &DESCRIPTIONS);
    if names.is_empty() {
        check.required("organizationNames");
    }
    if descriptions.is_empty() {
        check.required("organizationDescriptions");
    }
    display_names(check, body, &names);
    let email_langs = fields::emails(check, body, "emails");
    let phone_langs = fields::phones(check, body, "phoneNumbers", None);
    let page_langs = fields::web_pages(check, body, "webPages", false);
    fields::addresses(
        check,
        body,
        "addresses",
        &[
            ("Visiting", &["Street", "PostOfficeBox", "Foreign", "Other"]),
            ("Postal", &["Street", "PostOfficeBox", "Foreign", "Other"]),
        ],
    );
    let languages = required_languages(&[&names, &descriptions]);
    check.each_language("organizationNames", &names, Some("Name"), &languages);
    check.each_language(
        "organizationDescriptions",
        &descriptions,
        Some("Summary"),
        &languages,
    );
    for lang in email_langs.iter().chain(&phone_langs).chain(&page_langs) {
        if !languages.contains(lang) {
            check.add(
                "Model",
                format!("You have added new language version(s): {lang}. Either add required values for the language(s) or remove the language(s)."),
            );
        }
    }

    let area_type = area(check, body, kind);

    Extract {
        names: names_of(&names),
        languages: languages.into_iter().collect(),
        area_type: area_type.map(str::to_owned),
        visible_for_all: true,
        org: parent,
        connections: None,
    }
}

/// Area rules per organisation type (reference §7.3).
fn area<'a>(check: &mut Check, body: &'a Value, kind: Option<&str>) -> Option<&'a str> {
    let area_type = check.enumeration(body, "areaType", "areaType", &fields::AREA_TYPES, false);
    match (kind, area_type) {
        (Some("Municipality"), Some(a)) if a != "Nationwide" => {
            check.add(
                "AreaType",
                "Only 'Nationwide' is allowed when 'OrganizationType' has value 'Municipality'.",
            );
        }
        (Some("RegionalOrganization"), a) if a != Some("LimitedType") => {
            check.add("AreaType", "'LimitedType' is required when 'OrganizationType' has value 'RegionalOrganization'.");
        }
        (Some(k), None) if k != "Municipality" => check.required("areaType"),
        _ => {}
    }
    if area_type == Some("LimitedType") {
        check.enumeration(
            body,
            "subAreaType",
            "subAreaType",
            &[
                "Municipality",
                "Region",
                "BusinessSubRegion",
                "HospitalDistrict",
                "WellbeingServiceCounties",
            ],
            true,
        );
        if check.array(body, "areas", "areas").is_empty() {
            check.add(
                "Areas",
                "The field is required when 'AreaType' has value 'LimitedType'.",
            );
        }
    } else if !check.array(body, "areas", "areas").is_empty() {
        check.add(
            "Areas",
            "Areas are allowed only when 'AreaType' has value 'LimitedType'.",
        );
    }
    area_type
}

/// Each display-name choice must name an existing name (reference §7.3).
fn display_names(check: &mut Check, body: &Value, names: &[Loc]) {
    let display = check.objects(body, "displayNameType", "displayNameType");
    if display.is_empty() {
        check.required("displayNameType");
    }
    for (path, item) in display {
        let t = check.enumeration(
            item,
            "type",
            &format!("{path}.type"),
            &["Name", "AlternativeName"],
            true,
        );
        let l = check.required_string(item, "language", &format!("{path}.language"));
        if let (Some(t), Some(l)) = (t, l)
            && !names
                .iter()
                .any(|n| n.language == l && n.kind.as_deref() == Some(t))
        {
            check.add(
                super::check::pascal(&path),
                format!("Required value with type '{t}' was not found with language code '{l}'!"),
            );
        }
    }
}

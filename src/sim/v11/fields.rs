//! Checks of the structures several v11 in-models share (reference §7.1): areas,
//! phones, addresses, service hours, accessibility classifications, web pages, emails.

use super::check::{
    Check, code_after, digits, is_coordinate, is_prefix, is_quarter_hour, non_null,
};
use serde_json::Value;

pub(crate) const AREA_TYPES: [&str; 3] =
    ["Nationwide", "NationwideExceptAlandIslands", "LimitedType"];
const AREA_KINDS: [&str; 5] = [
    "Municipality",
    "Region",
    "BusinessSubRegion",
    "HospitalDistrict",
    "WellbeingServiceCounties",
];

/// `areaType` and `areas`: `LimitedType` needs areas with codes, the nationwide types
/// allow none. Answers the area type.
pub(crate) fn area(check: &mut Check, body: &Value, required: bool) -> Option<String> {
    let area_type = check.enumeration(body, "areaType", "areaType", &AREA_TYPES, required);
    let areas = check.objects(body, "areas", "areas");
    match area_type {
        Some("LimitedType") if areas.is_empty() => {
            check.add(
                "Areas",
                "The field is required when 'AreaType' has value 'LimitedType'.",
            );
        }
        Some(nationwide @ ("Nationwide" | "NationwideExceptAlandIslands")) if !areas.is_empty() => {
            check.add(
                "Areas",
                format!("Areas are not allowed when 'AreaType' has value '{nationwide}'."),
            );
        }
        _ => {}
    }
    for (path, item) in areas {
        let kind = check.enumeration(item, "type", &format!("{path}.type"), &AREA_KINDS, true);
        let codes = check.strings(item, "areaCodes", &format!("{path}.areaCodes"));
        if codes.is_empty() {
            check.required(&format!("{path}.areaCodes"));
        }
        for (i, code) in codes.iter().enumerate() {
            let ok = match kind {
                Some("Municipality") => digits(code, 1, 3),
                _ => digits(code, 1, 5),
            };
            check.pattern(&format!("{path}.areaCodes[{i}]"), code, ok, "^[0-9]{1,5}$");
        }
    }
    area_type.map(str::to_owned)
}

/// Phone numbers: digits-only number, dial prefix unless a Finnish service number,
/// charge type with its description, lengths.
pub(crate) fn phones(
    check: &mut Check,
    body: &Value,
    key: &str,
    types: Option<&[&str]>,
) -> Vec<String> {
    let mut languages = Vec::new();
    for (path, item) in check.objects(body, key, key) {
        if let Some(types) = types {
            check.enumeration(item, "type", &format!("{path}.type"), types, true);
        }
        if let Some(number) = check.required_string(item, "number", &format!("{path}.number")) {
            check.pattern(
                &format!("{path}.number"),
                number,
                digits(number, 1, 20),
                r"^\d{1,20}$",
            );
        }
        let finnish = check
            .boolean(
                item,
                "isFinnishServiceNumber",
                &format!("{path}.isFinnishServiceNumber"),
            )
            .unwrap_or(false);
        match check.string(item, "prefixNumber", &format!("{path}.prefixNumber")) {
            Some(prefix) => check.pattern(
                &format!("{path}.prefixNumber"),
                prefix,
                is_prefix(prefix),
                r"^\+[0-9]{1,4}$",
            ),
            None if !finnish => check.add(
                super::check::pascal(&format!("{path}.prefixNumber")),
                "The field is required when 'IsFinnishServiceNumber' has value 'False'.",
            ),
            None => {}
        }
        let charge = check.enumeration(
            item,
            "serviceChargeType",
            &format!("{path}.serviceChargeType"),
            &["Chargeable", "FreeOfCharge", "Other"],
            false,
        );
        let description = check.string(
            item,
            "chargeDescription",
            &format!("{path}.chargeDescription"),
        );
        if let Some(d) = description {
            check.max_len(
                &format!("{path}.chargeDescription"),
                d,
                150,
                "ChargeDescription",
            );
        }
        if charge == Some("Other") && description.is_none() {
            check.add(
                super::check::pascal(&format!("{path}.chargeDescription")),
                "The field is required when 'ServiceChargeType' has value 'Other'.",
            );
        }
        if let Some(info) = check.string(
            item,
            "additionalInformation",
            &format!("{path}.additionalInformation"),
        ) {
            check.max_len(
                &format!("{path}.additionalInformation"),
                info,
                150,
                "AdditionalInformation",
            );
        }
        if let Some(language) = check.required_string(item, "language", &format!("{path}.language"))
        {
            check.language(&format!("{path}.language"), language);
            languages.push(language.to_owned());
        }
    }
    languages
}

/// `{language, value}` emails.
pub(crate) fn emails(check: &mut Check, body: &Value, key: &str) -> Vec<String> {
    let mut languages = Vec::new();
    for (path, item) in check.objects(body, key, key) {
        if let Some(value) = check.required_string(item, "value", &format!("{path}.value")) {
            check.email(&format!("{path}.value"), value);
        }
        if let Some(language) = check.required_string(item, "language", &format!("{path}.language"))
        {
            check.language(&format!("{path}.language"), language);
            languages.push(language.to_owned());
        }
    }
    languages
}

/// Web pages: `{url, value?, language}` (organisations, service locations) or
/// `{value: url, language}` (EChannel/WebPage/Phone `webPage`).
pub(crate) fn web_pages(
    check: &mut Check,
    body: &Value,
    key: &str,
    url_in_value: bool,
) -> Vec<String> {
    let mut languages = Vec::new();
    for (path, item) in check.objects(body, key, key) {
        if url_in_value {
            if let Some(url) = check.required_string(item, "value", &format!("{path}.value")) {
                check.url(&format!("{path}.value"), url);
            }
        } else {
            if let Some(url) = check.required_string(item, "url", &format!("{path}.url")) {
                check.url(&format!("{path}.url"), url);
            }
            if let Some(name) = check.string(item, "value", &format!("{path}.value")) {
                check.max_len(&format!("{path}.value"), name, 100, "Value");
            }
        }
        if let Some(language) = check.required_string(item, "language", &format!("{path}.language"))
        {
            check.language(&format!("{path}.language"), language);
            languages.push(language.to_owned());
        }
    }
    languages
}

/// Accessibility classification and its WCAG combination rules (reference §7.4).
pub(crate) fn accessibility(check: &mut Check, body: &Value, key: &str) -> Vec<String> {
    let mut languages = Vec::new();
    for (path, item) in check.objects(body, key, key) {
        let level = check.enumeration(
            item,
            "accessibilityClassificationLevel",
            &format!("{path}.accessibilityClassificationLevel"),
            &[
                "FullyCompliant",
                "PartiallyCompliant",
                "NonCompliant",
                "Unknown",
            ],
            true,
        );
        let wcag = check.enumeration(
            item,
            "wcagLevel",
            &format!("{path}.wcagLevel"),
            &["LevelA", "LevelAA", "LevelAAA"],
            false,
        );
        let wcag_ok = match level {
            Some("FullyCompliant") => matches!(wcag, Some("LevelAA" | "LevelAAA")),
            Some("PartiallyCompliant") => wcag == Some("LevelA"),
            Some(_) => wcag.is_none(),
            None => true,
        };
        if !wcag_ok {
            check.add(
                super::check::pascal(&format!("{path}.wcagLevel")),
                format!(
                    "'{}' is not allowed value of 'WcagLevel' when 'AccessibilityClassificationLevel' has value '{}'.",
                    wcag.unwrap_or("null"),
                    level.unwrap_or_default()
                ),
            );
        }
        let page = check.string(
            item,
            "accessibilityStatementWebPage",
            &format!("{path}.accessibilityStatementWebPage"),
        );
        let name = check.string(
            item,
            "accessibilityStatementWebPageName",
            &format!("{path}.accessibilityStatementWebPageName"),
        );
        if let Some(page) = page {
            check.url(&format!("{path}.accessibilityStatementWebPage"), page);
        }
        if let Some(name) = name {
            check.max_len(
                &format!("{path}.accessibilityStatementWebPageName"),
                name,
                100,
                "Name",
            );
        }
        match level {
            Some("Unknown") if page.is_some() || name.is_some() => check.add(
                super::check::pascal(&format!("{path}.accessibilityStatementWebPage")),
                "The field is not allowed when 'AccessibilityClassificationLevel' has value 'Unknown'.",
            ),
            Some(l) if l != "Unknown" && (page.is_none() || name.is_none()) => check.add(
                super::check::pascal(&format!("{path}.accessibilityStatementWebPage")),
                format!("The field is required when 'AccessibilityClassificationLevel' has value '{l}'."),
            ),
            _ => {}
        }
        if let Some(language) = check.required_string(item, "language", &format!("{path}.language"))
        {
            check.language(&format!("{path}.language"), language);
            languages.push(language.to_owned());
        }
    }
    languages
}

/// Service hours: type, quarter-hour times, one opening hour for Exceptional and
/// `OverMidnight`, exclusive flags, lengths.
pub(crate) fn service_hours(check: &mut Check, body: &Value, key: &str) {
    for (path, item) in check.objects(body, key, key) {
        let kind = check.enumeration(
            item,
            "serviceHourType",
            &format!("{path}.serviceHourType"),
            &["DaysOfTheWeek", "Exceptional", "OverMidnight"],
            true,
        );
        let flags = ["isClosed", "isAlwaysOpen", "isReservation"]
            .iter()
            .filter(|f| check.boolean(item, f, &format!("{path}.{f}")) == Some(true))
            .count();
        if flags > 1 {
            check.add(
                super::check::pascal(&path),
                "IsClosed, IsAlwaysOpen and IsReservation cannot be set at the same time.",
            );
        }
        let hours = check.objects(item, "openingHour", &format!("{path}.openingHour"));
        if matches!(kind, Some("Exceptional" | "OverMidnight")) && hours.len() > 1 {
            check.add(
                super::check::pascal(&format!("{path}.openingHour")),
                "Only one opening hour is allowed for this service hour type.",
            );
        }
        for (hpath, hour) in hours {
            for field in ["from", "to"] {
                if let Some(t) = check.string(hour, field, &format!("{hpath}.{field}")) {
                    check.pattern(
                        &format!("{hpath}.{field}"),
                        t,
                        is_quarter_hour(t),
                        "^([0-1][0-9]|2[0-3]):(00|15|30|45)(:00)?$",
                    );
                }
            }
            for field in ["dayFrom", "dayTo"] {
                check.enumeration(
                    hour,
                    field,
                    &format!("{hpath}.{field}"),
                    &[
                        "Monday",
                        "Tuesday",
                        "Wednesday",
                        "Thursday",
                        "Friday",
                        "Saturday",
                        "Sunday",
                    ],
                    false,
                );
            }
        }
        if let (Some(from), Some(to)) = (
            non_null(item, "validFrom").and_then(Value::as_str),
            non_null(item, "validTo").and_then(Value::as_str),
        ) && to <= from
        {
            check.add(
                super::check::pascal(&format!("{path}.validTo")),
                "ValidTo must be later than ValidFrom.",
            );
        }
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

/// Addresses with a `streetAddress`: postal code, municipality, coordinates, lengths.
/// Answers the address types present.
pub(crate) fn addresses(
    check: &mut Check,
    body: &Value,
    key: &str,
    types: &[(&str, &[&str])],
) -> Vec<String> {
    let all_types: Vec<&str> = types.iter().map(|(t, _)| *t).collect();
    let mut found = Vec::new();
    for (path, item) in check.objects(body, key, key) {
        let kind = check.enumeration(item, "type", &format!("{path}.type"), &all_types, true);
        if let Some(kind) = kind {
            found.push(kind.to_owned());
            let sub_types = types
                .iter()
                .find(|(t, _)| *t == kind)
                .map_or(&[][..], |(_, s)| *s);
            check.enumeration(item, "subType", &format!("{path}.subType"), sub_types, true);
        }
        let Some(street) = non_null(item, "streetAddress") else {
            continue;
        };
        let spath = format!("{path}.streetAddress");
        for (p, s) in check.objects(street, "street", &format!("{spath}.street")) {
            if let Some(v) = check.required_string(s, "value", &format!("{p}.value")) {
                check.max_len(&format!("{p}.value"), v, 100, "Street");
            }
        }
        if let Some(n) = check.string(street, "streetNumber", &format!("{spath}.streetNumber")) {
            check.max_len(&format!("{spath}.streetNumber"), n, 30, "StreetNumber");
        }
        if let Some(code) =
            check.required_string(street, "postalCode", &format!("{spath}.postalCode"))
        {
            check.pattern(
                &format!("{spath}.postalCode"),
                code,
                digits(code, 5, 5),
                "^[0-9]{5}$",
            );
        }
        if let Some(m) = check.string(street, "municipality", &format!("{spath}.municipality")) {
            check.pattern(
                &format!("{spath}.municipality"),
                m,
                digits(m, 1, 3),
                "^[0-9]{1,3}$",
            );
        }
        for field in ["latitude", "longitude"] {
            if let Some(c) = check.string(street, field, &format!("{spath}.{field}")) {
                check.pattern(
                    &format!("{spath}.{field}"),
                    c,
                    is_coordinate(c),
                    r"^\d+\.?\d*$",
                );
            }
        }
    }
    found
}

/// Finto/PTV classification URIs: formats only (see the module note on code lists).
pub(crate) const SERVICE_CLASS_PREFIXES: [&str; 2] = [
    "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/",
    "http://uri.suomi.fi/codelist/ptv/ptvserclass/code/",
];
pub(crate) const TARGET_GROUP_PREFIXES: [&str; 1] =
    ["http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/"];
pub(crate) const LIFE_EVENT_PREFIXES: [&str; 1] =
    ["http://uri.suomi.fi/codelist/ptv/ptvelti/code/"];

/// `^http://www.yso.fi/onto/[a-z]*/p[0-9]{1,5}$`.
pub(crate) fn is_ontology_term(uri: &str) -> bool {
    uri.strip_prefix("http://www.yso.fi/onto/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(onto, p)| {
            onto.bytes().all(|b| b.is_ascii_lowercase())
                && p.strip_prefix('p').is_some_and(|d| digits(d, 1, 5))
        })
}

pub(crate) fn is_industrial_class(uri: &str) -> bool {
    [
        "http://www.stat.fi/meta/luokitukset/toimiala/001-2008/",
        "http://uri.suomi.fi/codelist/jhs/toimiala_1_20080101/code/",
    ]
    .iter()
    .any(|p| uri.strip_prefix(p).is_some_and(|code| !code.is_empty()))
}

pub(crate) fn service_class(uri: &str) -> Option<&str> {
    code_after(uri, &SERVICE_CLASS_PREFIXES, "P").or_else(|| {
        uri.strip_prefix("http://urn.fi/URN:NBN:fi:au:ptvl:v")
            .map(|_| "v")
    })
}

/// A list that must hold objects; its content is stored, not checked.
pub(crate) fn objects_ok(check: &mut Check, body: &Value, key: &str) {
    check.objects(body, key, key);
}

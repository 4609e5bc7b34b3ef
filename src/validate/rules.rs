//! Rules checkable on one item alone: PTV's in-model rules (reference.md §7, §12) and
//! the source format's.

use super::{Finding, FindingKind as K, Severity};
use crate::model::{
    AccessibilityLevel, AddressType, ApiVersion, Area, AreaType, Channel, ChannelType, Email,
    ItemKind, Lang, LangMap, Organization, OrganizationType, Phone, PhoneChargeType, PhoneType,
    Service, ServiceHours, SourceId, Text, WcagLevel, WebPage,
};

pub(super) struct Ck<'a> {
    pub item_kind: ItemKind,
    pub id: &'a SourceId,
    /// Formatted only when a finding is made: most items have none.
    pub file: &'a dyn std::fmt::Display,
    pub out: &'a mut Vec<Finding>,
}

impl Ck<'_> {
    pub fn push(
        &mut self,
        severity: Severity,
        kind: K,
        path: impl Into<String>,
        msg: impl Into<String>,
    ) {
        self.out.push(Finding {
            severity,
            kind,
            item_kind: self.item_kind,
            id: self.id.clone(),
            file: self.file.to_string(),
            path: path.into(),
            message: msg.into(),
        });
    }
    pub fn err(&mut self, kind: K, path: impl Into<String>, msg: impl Into<String>) {
        self.push(Severity::Error, kind, path, msg);
    }
    pub fn warn(&mut self, kind: K, path: impl Into<String>, msg: impl Into<String>) {
        self.push(Severity::Warning, kind, path, msg);
    }
    fn max(&mut self, path: &str, t: &Text, limit: usize) {
        let n = t.chars();
        if n > limit {
            self.err(
                K::TooLong,
                path,
                format!("{n} characters, PTV allows at most {limit}; shorten it"),
            );
        }
    }
    fn max_opt(&mut self, path: &str, t: Option<&Text>, limit: usize) {
        if let Some(t) = t {
            self.max(path, t, limit);
        }
    }
    fn required(&mut self, path: &str, t: &Text, limit: usize) {
        if t.is_empty() {
            self.err(K::Required, path, "must not be empty");
        } else {
            self.max(path, t, limit);
        }
    }
    fn url(&mut self, path: &str, t: &Text) {
        self.max(path, t, 500);
        let ok = url::Url::parse(t.as_str())
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !ok {
            self.err(K::Format, path, format!("'{t}' is not an http(s) URL"));
        }
    }
    fn lang_listed<T>(&mut self, path: &str, lang: Lang, versions: &LangMap<T>) {
        if !versions.contains_key(&lang) {
            self.err(
                K::LanguageMissing,
                path,
                format!("language '{lang}' has no entry in languageVersions; PTV refuses a language that appears only in optional lists: add languageVersions.{lang} or drop this entry"),
            );
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn municipality_code(ck: &mut Ck<'_>, path: &str, code: &Text) {
    if !(all_digits(code.as_str()) && (1..=3).contains(&code.as_str().len())) {
        ck.err(
            K::Format,
            path,
            format!("'{code}' is not a municipality code (1-3 digits, e.g. \"091\")"),
        );
    }
}

pub(super) fn area(ck: &mut Ck<'_>, path: &str, a: &Area) {
    match a.area_type {
        AreaType::LimitedArea => {
            if a.code_count() == 0 {
                ck.err(K::Required, path, "LimitedArea needs at least one municipality, region or wellbeing services county code");
            }
            for (i, m) in a.municipalities.iter().enumerate() {
                municipality_code(ck, &format!("{path}.municipalities[{i}]"), m);
            }
            for (i, r) in a.regions.iter().enumerate() {
                if !(all_digits(r.as_str()) && r.as_str().len() <= 2) {
                    ck.err(
                        K::Format,
                        format!("{path}.regions[{i}]"),
                        format!("'{r}' is not a region code (two digits, e.g. \"01\")"),
                    );
                }
            }
            for (i, w) in a.wellbeing_services_counties.iter().enumerate() {
                if !all_digits(w.as_str()) {
                    ck.err(
                        K::Format,
                        format!("{path}.wellbeingServicesCounties[{i}]"),
                        format!("'{w}' is not a wellbeing services county code (digits)"),
                    );
                }
            }
        }
        AreaType::WholeCountry | AreaType::WholeCountryExceptAland => {
            if a.code_count() > 0 {
                ck.err(
                    K::NotAllowed,
                    path,
                    format!(
                        "{:?} takes no area codes; remove them or use LimitedArea",
                        a.area_type
                    ),
                );
            }
        }
    }
}

pub(super) fn phone(ck: &mut Ck<'_>, path: &str, p: &Phone, channel: bool, api: ApiVersion) {
    let number = p.number.as_str();
    if !(all_digits(number) && number.len() <= 20) {
        ck.err(
            K::Format,
            format!("{path}.number"),
            format!("'{number}' must be 1-20 digits with no spaces, '+' or '-'"),
        );
    } else if let Some(prefix) = &p.prefix {
        let pre = prefix.as_str();
        if !(pre.starts_with('+') && all_digits(&pre[1..]) && (2..=5).contains(&pre.len())) {
            ck.err(
                K::Format,
                format!("{path}.prefix"),
                format!("'{pre}' must be '+' and 1-4 digits, e.g. \"+358\""),
            );
        }
        if number.starts_with('0') {
            ck.err(K::Format, format!("{path}.number"), "with a prefix the number is the national number without its leading 0 (e.g. \"912345678\")");
        }
    } else if !number.starts_with('0') {
        ck.err(K::Format, format!("{path}.prefix"), "a number without prefix must be a Finnish service number starting with 0 (e.g. \"0800123456\"); otherwise add prefix \"+358\"");
    }
    match (p.charge_type, &p.charge_description) {
        (PhoneChargeType::Other, None) => ck.err(
            K::Required,
            format!("{path}.chargeDescription"),
            "required when chargeType is Other",
        ),
        (_, Some(d)) => ck.max(&format!("{path}.chargeDescription"), d, 150),
        _ => {}
    }
    ck.max_opt(
        &format!("{path}.additionalInformation"),
        p.additional_information.as_ref(),
        150,
    );
    if !channel && p.phone_type.is_some() {
        ck.err(
            K::NotAllowed,
            format!("{path}.type"),
            "phone type is for channels only; remove it",
        );
    }
    if channel
        && api == ApiVersion::V12
        && matches!(p.phone_type, Some(PhoneType::Sms | PhoneType::Fax))
    {
        ck.warn(
            K::NotSent,
            format!("{path}.type"),
            "PTV v12 has no place for SMS and fax numbers; this number is not sent",
        );
    }
}

fn email(ck: &mut Ck<'_>, path: &str, e: &Email) {
    ck.max(&format!("{path}.value"), &e.value, 100);
    let v = e.value.as_str();
    let ok = v
        .split_once('@')
        .is_some_and(|(a, d)| !a.is_empty() && d.contains('.') && !v.contains(' '));
    if !ok {
        ck.err(
            K::Format,
            format!("{path}.value"),
            format!("'{v}' is not an email address"),
        );
    }
}

fn web_page(ck: &mut Ck<'_>, path: &str, w: &WebPage) {
    ck.required(&format!("{path}.name"), &w.name, 100);
    ck.url(&format!("{path}.url"), &w.url);
}

fn contact_lists<T>(
    ck: &mut Ck<'_>,
    versions: &LangMap<T>,
    emails: &[Email],
    phones: &[Phone],
    channel: bool,
    api: ApiVersion,
) {
    for (i, e) in emails.iter().enumerate() {
        let p = format!("emails[{i}]");
        email(ck, &p, e);
        ck.lang_listed(&format!("{p}.language"), e.language, versions);
    }
    for (i, ph) in phones.iter().enumerate() {
        let p = format!("phones[{i}]");
        phone(ck, &p, ph, channel, api);
        ck.lang_listed(&format!("{p}.language"), ph.language, versions);
    }
}

fn service_languages(ck: &mut Ck<'_>, langs: &[Text]) {
    if langs.is_empty() {
        ck.err(
            K::Required,
            "serviceLanguages",
            "list at least one language the item is provided in",
        );
    }
    for (i, l) in langs.iter().enumerate() {
        let s = l.as_str();
        if !((2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase())) {
            ck.err(
                K::Format,
                format!("serviceLanguages[{i}]"),
                format!("'{s}' is not a language code such as \"fi\""),
            );
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, l) in langs.iter().enumerate() {
        if !seen.insert(l) {
            ck.err(
                K::NotAllowed,
                format!("serviceLanguages[{i}]"),
                format!("'{l}' is listed twice"),
            );
        }
    }
}

fn hours(ck: &mut Ck<'_>, path: &str, list: &[ServiceHours], api: ApiVersion) {
    for (i, h) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        if let (Some(f), Some(t)) = (h.valid_from, h.valid_to)
            && t <= f
        {
            ck.err(
                K::NotAllowed,
                format!("{p}.validTo"),
                "validTo must be later than validFrom",
            );
        }
        if h.closed && !h.opening_hours.is_empty() {
            ck.err(
                K::NotAllowed,
                format!("{p}.openingHours"),
                "a closed period has no opening hours",
            );
        }
        for (j, o) in h.opening_hours.iter().enumerate() {
            for (name, t) in [("from", &o.from), ("to", &o.to)] {
                if !quarter_hour(t.as_str()) {
                    ck.err(
                        K::Format,
                        format!("{p}.openingHours[{j}].{name}"),
                        format!("'{t}' must be HH:MM on a quarter hour (00, 15, 30, 45)"),
                    );
                }
            }
        }
        for (lang, t) in &h.additional_information {
            ck.max(&format!("{p}.additionalInformation.{lang}"), t, 150);
        }
    }
    if api == ApiVersion::V12 && !list.is_empty() {
        ck.warn(
            K::NotSent,
            path,
            "PTV v12's beta schemas have no place for service hours; they are not sent",
        );
    }
}

fn quarter_hour(t: &str) -> bool {
    let Some((h, m)) = t.split_once(':') else {
        return false;
    };
    h.len() == 2
        && all_digits(h)
        && h.parse::<u8>().is_ok_and(|h| h < 24)
        && matches!(m, "00" | "15" | "30" | "45")
}

fn lang_versions_present<T>(ck: &mut Ck<'_>, versions: &LangMap<T>) {
    if versions.is_empty() {
        ck.err(
            K::Required,
            "languageVersions",
            "at least one language version (fi, sv, en, se, smn, sms) is required",
        );
    }
}

pub(super) fn organization(ck: &mut Ck<'_>, o: &Organization, api: ApiVersion) {
    lang_versions_present(ck, &o.language_versions);
    for (lang, v) in &o.language_versions {
        let p = format!("languageVersions.{lang}");
        ck.required(&format!("{p}.name"), &v.name, 100);
        ck.max_opt(
            &format!("{p}.alternativeName"),
            v.alternative_name.as_ref(),
            100,
        );
        ck.required(&format!("{p}.summary"), &v.summary, 150);
        ck.max_opt(&format!("{p}.description"), v.description.as_ref(), 2500);
    }
    let is_muni = o.organization_type == OrganizationType::Municipality;
    match (&o.municipality, is_muni) {
        (None, true) => ck.err(
            K::Required,
            "municipality",
            "a Municipality organisation needs its municipality code",
        ),
        (Some(_), false) => ck.err(
            K::NotAllowed,
            "municipality",
            "municipality is only for organisations of type Municipality; remove it",
        ),
        (Some(m), true) => municipality_code(ck, "municipality", m),
        (None, false) => {}
    }
    match &o.area {
        None if !is_muni => ck.err(
            K::Required,
            "area",
            "required for every organisation type but Municipality",
        ),
        Some(a) => {
            area(ck, "area", a);
            if o.organization_type == OrganizationType::RegionalOrganization
                && a.area_type != AreaType::LimitedArea
            {
                ck.err(
                    K::NotAllowed,
                    "area.type",
                    "a RegionalOrganization must have a LimitedArea",
                );
            }
        }
        None => {}
    }
    match &o.business_code {
        Some(b) if !business_code_format(b.as_str()) => {
            ck.err(
                K::Format,
                "businessCode",
                format!("'{b}' is not a business code NNNNNNN-N"),
            );
        }
        None if api == ApiVersion::V12 => {
            ck.err(
                K::Required,
                "businessCode",
                "PTV v12 requires a business code for organisations; add businessCode",
            );
        }
        _ => {}
    }
    contact_lists(ck, &o.language_versions, &o.emails, &o.phones, false, api);
    for (i, w) in o.web_pages.iter().enumerate() {
        let p = format!("webPages[{i}]");
        web_page(ck, &p, w);
        ck.lang_listed(&format!("{p}.language"), w.language, &o.language_versions);
    }
}

fn business_code_format(b: &str) -> bool {
    let bytes = b.as_bytes();
    bytes.len() == 9 && bytes[7] == b'-' && all_digits(&b[..7]) && all_digits(&b[8..])
}

fn code(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && !s.ends_with('.')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
}

fn is_main_class(c: &str) -> bool {
    c.starts_with('P') && !c.contains('.')
}

fn ontology_uri(u: &str) -> bool {
    let Some(rest) = u.strip_prefix("http://www.yso.fi/onto/") else {
        return false;
    };
    let Some((onto, p)) = rest.split_once("/p") else {
        return false;
    };
    onto.bytes().all(|b| b.is_ascii_lowercase()) && (1..=5).contains(&p.len()) && all_digits(p)
}

pub(super) fn service(ck: &mut Ck<'_>, s: &Service, api: ApiVersion) {
    lang_versions_present(ck, &s.language_versions);
    for (lang, v) in &s.language_versions {
        let p = format!("languageVersions.{lang}");
        ck.required(&format!("{p}.name"), &v.name, 100);
        ck.max_opt(
            &format!("{p}.alternativeName"),
            v.alternative_name.as_ref(),
            100,
        );
        ck.required(&format!("{p}.summary"), &v.summary, 150);
        if !v.summary.is_empty() && v.summary == v.name {
            ck.err(
                K::SummaryEqualsName,
                format!("{p}.summary"),
                "PTV refuses a summary equal to the name; describe the service in one sentence",
            );
        }
        ck.required(&format!("{p}.description"), &v.description, 2500);
        ck.max_opt(
            &format!("{p}.userInstructions"),
            v.user_instructions.as_ref(),
            2500,
        );
        ck.max_opt(&format!("{p}.conditions"), v.conditions.as_ref(), 2500);
        for (i, k) in v.keywords.iter().enumerate() {
            ck.required(&format!("{p}.keywords[{i}]"), k, 100);
        }
    }
    service_languages(ck, &s.service_languages);
    area(ck, "area", &s.area);
    if s.target_groups.is_empty() {
        ck.err(
            K::Required,
            "targetGroups",
            "at least one target group (e.g. KR1) is required",
        );
    }
    for (i, t) in s.target_groups.iter().enumerate() {
        if !(code(t.as_str()) && t.as_str().starts_with("KR")) {
            ck.err(
                K::Format,
                format!("targetGroups[{i}]"),
                format!("'{t}' is not a target group code such as KR1 or KR2.1"),
            );
        }
    }
    let has = |prefix: &str| {
        s.target_groups
            .iter()
            .any(|t| t.as_str() == prefix || t.as_str().starts_with(&format!("{prefix}.")))
    };
    let kr2_sub = s
        .target_groups
        .iter()
        .any(|t| t.as_str().starts_with("KR2."));
    if s.target_groups.iter().any(|t| t.as_str() == "KR2") && !kr2_sub {
        ck.err(
            K::Required,
            "targetGroups",
            "KR2 (businesses) needs at least one KR2.x sub-group beside it",
        );
    }
    match s.service_classes.len() {
        0 => ck.err(
            K::Required,
            "serviceClasses",
            "at least one service class (e.g. P3.1) is required",
        ),
        n if n > 4 => ck.err(
            K::Count,
            "serviceClasses",
            format!("{n} service classes; PTV allows at most 4"),
        ),
        _ => {}
    }
    for (i, c) in s.service_classes.iter().enumerate() {
        if !(code(c.as_str()) && c.as_str().starts_with('P')) {
            ck.err(
                K::Format,
                format!("serviceClasses[{i}]"),
                format!("'{c}' is not a service class code such as P3.1"),
            );
        }
    }
    if !s.service_classes.is_empty() && s.service_classes.iter().all(|c| is_main_class(c.as_str()))
    {
        ck.err(
            K::NotAllowed,
            "serviceClasses",
            "all service classes are main classes; PTV requires at least one sub-class (e.g. P3.1)",
        );
    }
    match s.ontology_terms.len() {
        0 => ck.err(
            K::Required,
            "ontologyTerms",
            "at least one ontology term URI is required",
        ),
        n if n > 10 => ck.err(
            K::Count,
            "ontologyTerms",
            format!("{n} ontology terms; PTV allows at most 10"),
        ),
        _ => {}
    }
    for (i, o) in s.ontology_terms.iter().enumerate() {
        if !ontology_uri(o.as_str()) {
            ck.err(
                K::Format,
                format!("ontologyTerms[{i}]"),
                format!("'{o}' is not a term URI like http://www.yso.fi/onto/koko/p12345"),
            );
        }
    }
    if !s.life_events.is_empty() && !has("KR1") {
        ck.err(
            K::NotAllowed,
            "lifeEvents",
            "life events need a citizens' target group (KR1 or KR1.x)",
        );
    }
    for (i, e) in s.life_events.iter().enumerate() {
        if !(code(e.as_str()) && e.as_str().starts_with("KE")) {
            ck.err(
                K::Format,
                format!("lifeEvents[{i}]"),
                format!("'{e}' is not a life event code such as KE1"),
            );
        }
    }
    if !s.industrial_classes.is_empty() && !has("KR2") {
        ck.err(
            K::NotAllowed,
            "industrialClasses",
            "industrial classes need a businesses' target group (KR2.x)",
        );
    }
    for (i, u) in s.industrial_classes.iter().enumerate() {
        if !(u.as_str().starts_with("http://") || u.as_str().starts_with("https://")) {
            ck.err(
                K::Format,
                format!("industrialClasses[{i}]"),
                format!("'{u}' must be a URI (a bare code makes PTV answer 500)"),
            );
        }
    }
    if let Some(g) = &s.general_description
        && uuid::Uuid::parse_str(g.as_str()).is_err()
    {
        ck.err(
            K::Format,
            "generalDescription",
            format!("'{g}' is not a PTV id (UUID)"),
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, c) in s.connections.iter().enumerate() {
        if !seen.insert(&c.channel) {
            ck.err(
                K::NotAllowed,
                format!("connections[{i}].channel"),
                format!(
                    "channel '{}' is connected twice; PTV refuses duplicates",
                    c.channel
                ),
            );
        }
        for (lang, d) in &c.description {
            ck.max(&format!("connections[{i}].description.{lang}"), d, 500);
        }
        hours(
            ck,
            &format!("connections[{i}].serviceHours"),
            &c.service_hours,
            api,
        );
        if api == ApiVersion::V12 && (c.charge_type.is_some() || !c.description.is_empty()) {
            ck.warn(K::NotSent, format!("connections[{i}]"), "PTV v12 has no place for a connection's charge type and description; they are not sent");
        }
    }
}

fn accessibility_ok(level: AccessibilityLevel, wcag: Option<WcagLevel>) -> bool {
    match level {
        AccessibilityLevel::FullyCompliant => {
            matches!(wcag, Some(WcagLevel::LevelAA | WcagLevel::LevelAAA))
        }
        AccessibilityLevel::PartiallyCompliant => wcag == Some(WcagLevel::LevelA),
        AccessibilityLevel::NonCompliant | AccessibilityLevel::Unknown => wcag.is_none(),
    }
}

pub(super) fn channel(ck: &mut Ck<'_>, c: &Channel, api: ApiVersion) {
    use ChannelType as T;
    let web = matches!(c.channel_type, T::EService | T::WebPage);
    lang_versions_present(ck, &c.language_versions);
    for (lang, v) in &c.language_versions {
        let p = format!("languageVersions.{lang}");
        ck.required(&format!("{p}.name"), &v.name, 100);
        ck.required(&format!("{p}.summary"), &v.summary, 150);
        if !v.summary.is_empty() && v.summary == v.name {
            ck.err(
                K::SummaryEqualsName,
                format!("{p}.summary"),
                "PTV refuses a summary equal to the name",
            );
        }
        ck.required(&format!("{p}.description"), &v.description, 2500);
        match (&v.web_address, web) {
            (Some(u), _) => ck.url(&format!("{p}.webAddress"), u),
            (None, true) => ck.err(
                K::Required,
                format!("{p}.webAddress"),
                format!(
                    "{} channels need a web address in every language",
                    c.channel_type
                ),
            ),
            (None, false) => {}
        }
        ck.max_opt(
            &format!("{p}.webAddressName"),
            v.web_address_name.as_ref(),
            100,
        );
        if let Some(a) = &v.accessibility {
            let ap = format!("{p}.accessibility");
            if !web {
                ck.err(
                    K::NotAllowed,
                    &ap,
                    "accessibility is for EService and WebPage channels only",
                );
            }
            if !accessibility_ok(a.level, a.wcag_level) {
                ck.err(K::NotAllowed, format!("{ap}.wcagLevel"), "FullyCompliant needs LevelAA or LevelAAA, PartiallyCompliant needs LevelA, NonCompliant and Unknown take none");
            }
            let unknown = a.level == AccessibilityLevel::Unknown;
            match (&a.statement_url, unknown) {
                (None, false) => ck.err(
                    K::Required,
                    format!("{ap}.statementUrl"),
                    "an accessibility statement URL is required unless the level is Unknown",
                ),
                (Some(_), true) => ck.err(
                    K::NotAllowed,
                    format!("{ap}.statementUrl"),
                    "level Unknown takes no statement",
                ),
                (Some(u), false) => ck.url(&format!("{ap}.statementUrl"), u),
                (None, true) => {}
            }
            match (&a.statement_name, unknown) {
                (None, false) => ck.err(
                    K::Required,
                    format!("{ap}.statementName"),
                    "an accessibility statement name is required unless the level is Unknown",
                ),
                (Some(_), true) => ck.err(
                    K::NotAllowed,
                    format!("{ap}.statementName"),
                    "level Unknown takes no statement",
                ),
                (Some(n), false) => ck.max(&format!("{ap}.statementName"), n, 100),
                (None, true) => {}
            }
        }
    }
    service_languages(ck, &c.service_languages);
    if let Some(a) = &c.area {
        area(ck, "area", a);
    }
    let only = |ck: &mut Ck<'_>, present: bool, field: &str, types: &str| {
        if present {
            ck.err(
                K::NotAllowed,
                field,
                format!("{field} is only for {types} channels; remove it"),
            );
        }
    };
    if c.channel_type != T::EService {
        only(
            ck,
            c.requires_authentication.is_some()
                || c.requires_signature.is_some()
                || c.signature_quantity.is_some(),
            "requiresAuthentication",
            "EService",
        );
    }
    if c.channel_type != T::PrintableForm {
        only(ck, !c.form_urls.is_empty(), "formUrls", "PrintableForm");
    }
    if c.channel_type != T::ServiceLocation {
        only(ck, !c.addresses.is_empty(), "addresses", "ServiceLocation");
    }
    if !matches!(c.channel_type, T::Phone | T::ServiceLocation) {
        only(
            ck,
            !c.phones.is_empty(),
            "phones",
            "Phone and ServiceLocation",
        );
    }
    if c.channel_type == T::EService {
        match (c.requires_signature, c.signature_quantity) {
            (Some(true), None) => ck.err(
                K::Required,
                "signatureQuantity",
                "required (1-9) when requiresSignature is true",
            ),
            (Some(true), Some(q)) if !(1..=9).contains(&q) => {
                ck.err(K::NotAllowed, "signatureQuantity", "must be 1-9");
            }
            (Some(false) | None, Some(_)) => ck.err(
                K::NotAllowed,
                "signatureQuantity",
                "only with requiresSignature: true",
            ),
            _ => {}
        }
    }
    contact_lists(ck, &c.language_versions, &c.emails, &c.phones, true, api);
    if c.channel_type == T::Phone {
        for lang in c.language_versions.keys() {
            if !c.phones.iter().any(|p| p.language == *lang) {
                ck.err(
                    K::Required,
                    "phones",
                    format!(
                        "a Phone channel needs a phone number in each language; none for '{lang}'"
                    ),
                );
            }
        }
        for (i, p) in c.phones.iter().enumerate() {
            if p.phone_type.is_none() {
                ck.err(
                    K::Required,
                    format!("phones[{i}].type"),
                    "channel phones need type Phone, Sms or Fax",
                );
            }
        }
    }
    if c.channel_type == T::PrintableForm {
        for lang in c.language_versions.keys() {
            if !c.form_urls.iter().any(|f| f.language == *lang) {
                ck.err(K::Required, "formUrls", format!("a PrintableForm channel needs a form URL in each language; none for '{lang}'"));
            }
        }
    }
    for (i, f) in c.form_urls.iter().enumerate() {
        let p = format!("formUrls[{i}]");
        ck.url(&format!("{p}.url"), &f.url);
        ck.max_opt(&format!("{p}.name"), f.name.as_ref(), 100);
        ck.lang_listed(&format!("{p}.language"), f.language, &c.language_versions);
    }
    if c.channel_type == T::ServiceLocation
        && !c
            .addresses
            .iter()
            .any(|a| a.address_type == AddressType::Location)
    {
        ck.err(
            K::Required,
            "addresses",
            "a ServiceLocation channel needs at least one address of type Location",
        );
    }
    for (i, a) in c.addresses.iter().enumerate() {
        let p = format!("addresses[{i}]");
        if a.street.is_empty() {
            ck.err(
                K::Required,
                format!("{p}.street"),
                "give the street name in at least one language",
            );
        }
        for (lang, s) in &a.street {
            ck.required(&format!("{p}.street.{lang}"), s, 100);
        }
        ck.required(&format!("{p}.streetNumber"), &a.street_number, 30);
        let pc = a.postal_code.as_str();
        if !(pc.len() == 5 && all_digits(pc)) {
            ck.err(
                K::Format,
                format!("{p}.postalCode"),
                format!("'{pc}' is not a postal code (5 digits)"),
            );
        }
        municipality_code(ck, &format!("{p}.municipality"), &a.municipality);
        if a.latitude.is_some() != a.longitude.is_some() {
            ck.err(
                K::Required,
                format!("{p}.latitude"),
                "give both latitude and longitude (EPSG:3067) or neither",
            );
        }
    }
    hours(ck, "serviceHours", &c.service_hours, api);
}

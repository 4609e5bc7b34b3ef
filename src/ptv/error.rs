//! What can go wrong talking to PTV, sorted into classes the sync engine acts on.
//!
//! Every message names the item (`item`: kind, our sourceId and, where known, the PTV
//! id), says what PTV answered and what to do about it. No variant ever holds a secret:
//! answers from PTV are scrubbed of the current token, API key and password before they
//! are stored here (see `Redactor`), and requests are never echoed.

use crate::model::{ApiVersion, ItemKind};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use crate::model::ErrorClass;

#[derive(Debug, Clone, thiserror::Error)]
pub enum PtvError {
    /// 400: PTV rejected the data. `fields` maps our source field paths (translated
    /// from PTV's where known; PTV's own key otherwise) to PTV's messages.
    #[error("PTV rejected {item} (HTTP {status}): {message}{}; fix the source data and run again", fields_suffix(.fields))]
    Validation {
        status: u16,
        item: String,
        fields: BTreeMap<String, Vec<String>>,
        message: String,
    },
    /// 403: the API user lacks a role or right, or its token is not valid for PTV.
    #[error(
        "PTV refused access to {item} (HTTP 403): {message}; check that the API user has the API write right for this organisation"
    )]
    Forbidden { item: String, message: String },
    /// 404: the item does not exist, or it belongs to an organisation this user may not write.
    #[error(
        "PTV does not know {item} or this user has no rights to it (HTTP 404): {message}; check the PTV id in the state store and the organisation's API user"
    )]
    NotFound { item: String, message: String },
    /// The item has an unpublished edit ("status Modified") made in PTV's user interface.
    #[error(
        "{item} has unpublished changes in PTV (status Modified): {message}; a person must publish or discard the edit in PTV's user interface, then the next run updates it"
    )]
    Modified { item: String, message: String },
    /// The item is open for editing in PTV's user interface.
    #[error(
        "{item} is locked in PTV's user interface by '{by}'; it is retried in the next run, or ask that person to close the item"
    )]
    Locked { item: String, by: String },
    /// 409, or "sourceId already exists" that adoption could not resolve.
    #[error(
        "{item} conflicts with an existing PTV item: {message}; find the item in PTV and link or archive it by hand"
    )]
    Conflict { item: String, message: String },
    /// Logging in failed (wrong credentials, unknown account) or PTV keeps refusing the token.
    #[error("login to PTV failed for organisation {org}{}: {message}; check the API user's name, password and organisation id", status_suffix(*.status))]
    Auth {
        org: String,
        status: Option<u16>,
        message: String,
    },
    /// Timeouts, connection errors, 429 and 5xx that outlasted the retries.
    #[error("PTV did not answer for {item}{} after retries: {message}; it is retried in the next run", status_suffix(*.status))]
    Transient {
        item: String,
        status: Option<u16>,
        message: String,
    },
    /// Our own configuration is unusable (bad URL, unreadable certificate, missing secret).
    #[error("PTV client configuration: {message}")]
    Config { message: String },
    /// The item cannot be put into this API version's body (a field the version requires
    /// is missing): nothing was sent.
    #[error(
        "{item} cannot be sent to PTV {version}: {field}: {message}; fix the source data and run again"
    )]
    Unsendable {
        item: String,
        version: ApiVersion,
        field: String,
        message: String,
    },
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

fn fields_suffix(fields: &BTreeMap<String, Vec<String>>) -> String {
    if fields.is_empty() {
        return String::new();
    }
    let mut out = String::from(" [");
    for (i, (field, messages)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        let _ = write!(out, "{field}: {}", messages.join(" / "));
    }
    out.push(']');
    out
}

impl PtvError {
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        match self {
            PtvError::Validation { .. }
            | PtvError::Forbidden { .. }
            | PtvError::NotFound { .. }
            | PtvError::Auth { .. }
            | PtvError::Config { .. }
            | PtvError::Unsendable { .. } => ErrorClass::Terminal,
            PtvError::Transient { .. } => ErrorClass::Transient,
            PtvError::Modified { .. } | PtvError::Locked { .. } | PtvError::Conflict { .. } => {
                ErrorClass::NeedsPerson
            }
        }
    }

    /// The HTTP status PTV answered with, where one is known.
    #[must_use]
    pub fn http_status(&self) -> Option<u16> {
        match self {
            PtvError::Validation { status, .. } => Some(*status),
            PtvError::Forbidden { .. } => Some(403),
            PtvError::NotFound { .. } | PtvError::Locked { .. } => Some(404),
            PtvError::Conflict { .. }
            | PtvError::Modified { .. }
            | PtvError::Config { .. }
            | PtvError::Unsendable { .. } => None,
            PtvError::Auth { status, .. } | PtvError::Transient { status, .. } => *status,
        }
    }

    /// The field map of a validation error (empty for every other variant).
    #[must_use]
    pub fn fields(&self) -> Option<&BTreeMap<String, Vec<String>>> {
        match self {
            PtvError::Validation { fields, .. } => Some(fields),
            _ => None,
        }
    }

    /// Whether PTV refused a write because the item's name is already taken in the
    /// organisation ("… already exists within organization"). On a create this may be our
    /// own earlier create whose answer was lost, so the adapters look the item up.
    #[must_use]
    pub fn says_name_taken(&self) -> bool {
        let PtvError::Validation {
            message, fields, ..
        } = self
        else {
            return false;
        };
        std::iter::once(message)
            .chain(fields.values().flatten())
            .any(|m| {
                m.to_ascii_lowercase()
                    .contains("already exists within organization")
            })
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        PtvError::Config {
            message: message.into(),
        }
    }
}

/// Longest part of a PTV answer kept in an error message.
const MAX_MESSAGE: usize = 600;

/// Cuts `s` to at most `MAX_MESSAGE` bytes on a character boundary.
pub(crate) fn truncate(s: &str) -> String {
    let s = s.trim();
    if s.len() <= MAX_MESSAGE {
        return s.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The parts of a PTV error answer the classifier needs.
pub(crate) struct Answer<'a> {
    pub status: u16,
    pub body: &'a str,
    pub version: ApiVersion,
    pub kind: ItemKind,
    pub item: &'a str,
}

/// Whether a PTV answer says that the sourceId / externalId is taken.
pub(crate) fn says_already_exists(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("already exists") && !lower.contains("within organization")
}

/// Turns a non-success PTV answer into a typed error. `status` 401 never reaches this
/// (the transport logs in again), and transient statuses are handled by the retry loop;
/// both still classify sensibly if they do.
pub(crate) fn classify(a: &Answer<'_>) -> PtvError {
    let item = a.item.to_owned();
    let parsed: Option<Value> = serde_json::from_str(a.body).ok();
    let message = parsed
        .as_ref()
        .and_then(summary_message)
        .unwrap_or_else(|| truncate(a.body));
    let lower = message.to_ascii_lowercase();
    if lower.contains("status modified") || lower.contains("is modified") {
        return PtvError::Modified { item, message };
    }
    if let Some(by) = locked_by(&message) {
        return PtvError::Locked { item, by };
    }
    match a.status {
        409 => PtvError::Conflict { item, message },
        400 | 422 if says_already_exists(&message) => PtvError::Conflict { item, message },
        500 if says_already_exists(&message) || lower.contains("cannot delete") => {
            PtvError::Conflict { item, message }
        }
        400 | 422 => {
            let fields = parsed
                .as_ref()
                .map(|v| field_map(v, a.version, a.kind))
                .unwrap_or_default();
            PtvError::Validation {
                status: a.status,
                item,
                fields,
                message,
            }
        }
        401 | 403 => PtvError::Forbidden { item, message },
        404 | 410 => PtvError::NotFound { item, message },
        s if (400..500).contains(&s) && s != 408 => PtvError::Validation {
            status: s,
            item,
            fields: BTreeMap::new(),
            message,
        },
        s => PtvError::Transient {
            item,
            status: Some(s),
            message,
        },
    }
}

/// "Service is locked by 'user'." → `user`.
fn locked_by(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("locked by")?;
    let rest = message[at + "locked by".len()..].trim();
    let by = rest
        .trim_start_matches(['\'', '"'])
        .split(['\'', '"'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .trim();
    Some(if by.is_empty() {
        "another user".to_owned()
    } else {
        by.to_owned()
    })
}

/// One line saying what PTV answered: v11 `errorMessage`, a JSON string body, the first
/// field messages, or a problem detail's title and detail.
fn summary_message(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(truncate(s)),
        Value::Object(map) => {
            if let Some(Value::String(m)) = map.get("errorMessage") {
                return Some(truncate(m));
            }
            if map.contains_key("status")
                && (map.contains_key("title") || map.contains_key("detail"))
            {
                let title = map.get("title").and_then(Value::as_str).unwrap_or_default();
                let detail = map
                    .get("detail")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let mut parts: Vec<String> = [title, detail]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(|s| (*s).to_owned())
                    .collect();
                if let Some(Value::Array(errors)) = map.get("errors") {
                    for e in errors {
                        if let Some(m) = e.get("message").and_then(Value::as_str) {
                            parts.push(m.to_owned());
                        }
                    }
                }
                return Some(truncate(&parts.join(": ")));
            }
            let mut parts = Vec::new();
            for (key, val) in map {
                for m in messages_of(val) {
                    parts.push(format!("{key}: {m}"));
                }
            }
            (!parts.is_empty()).then(|| truncate(&parts.join("; ")))
        }
        _ => None,
    }
}

fn messages_of(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The field → messages map of a 400 answer, keyed by our source field paths.
fn field_map(v: &Value, version: ApiVersion, kind: ItemKind) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match (version, v) {
        (_, Value::Object(map)) if map.get("errors").is_some_and(Value::is_array) => {
            for e in map["errors"].as_array().into_iter().flatten() {
                let message = e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let path = e.get("path").and_then(Value::as_str).unwrap_or_default();
                let key = if path.is_empty() {
                    "(item)".to_owned()
                } else {
                    translate_v12_path(path)
                };
                out.entry(key).or_default().push(message);
            }
        }
        (ApiVersion::V11, Value::Object(map)) => {
            for (key, val) in map {
                if key == "errorMessage" {
                    continue;
                }
                let msgs = messages_of(val);
                if msgs.is_empty() {
                    continue;
                }
                out.entry(translate_v11_key(kind, key))
                    .or_default()
                    .extend(msgs);
            }
        }
        _ => {}
    }
    out
}

/// v11 model-state keys (`PascalCase`, e.g. `ServiceNames[0].Type`) → our source field
/// paths. The first segment decides; list indices refer to PTV's wire lists, not to our
/// source, so they are dropped. Keys without a counterpart are kept as PTV wrote them.
#[must_use]
pub fn translate_v11_key(kind: ItemKind, key: &str) -> String {
    let head = key
        .split(['[', '.'])
        .next()
        .unwrap_or(key)
        .to_ascii_lowercase();
    let mapped = match (kind, head.as_str()) {
        (_, "servicenames" | "organizationnames" | "servicechannelnames") => {
            "languageVersions.*.name"
        }
        (_, "servicedescriptions" | "organizationdescriptions" | "servicechanneldescriptions") => {
            "languageVersions.*.summary/description"
        }
        (_, "fundingtype") => "fundingType",
        (ItemKind::Service, "type") => "serviceType",
        (_, "servicechargetype") => "chargeType",
        (ItemKind::Service | ItemKind::Channel, "languages") => "serviceLanguages",
        (_, "areatype" | "areas" | "subareatype") => "area",
        (_, "targetgroups") => "targetGroups",
        (_, "serviceclasses") => "serviceClasses",
        (_, "ontologyterms") => "ontologyTerms",
        (_, "lifeevents") => "lifeEvents",
        (_, "industrialclasses") => "industrialClasses",
        (_, "keywords") => "languageVersions.*.keywords",
        (_, "requirements") => "languageVersions.*.conditions",
        (_, "generaldescriptionid") => "generalDescription",
        (_, "mainresponsibleorganization" | "organizationid") => "organization",
        (_, "parentorganizationid") => "parent",
        (_, "organizationtype") => "organizationType",
        (_, "businesscode") => "businessCode",
        (_, "municipality") => "municipality",
        (_, "emails" | "supportemails") => "emails",
        (_, "phonenumbers" | "supportphones" | "faxnumbers") => "phones",
        (ItemKind::Organization, "webpages") => "webPages",
        (ItemKind::Channel, "webpage" | "webpages") => "languageVersions.*.webAddress",
        (_, "accessibilityclassification") => "languageVersions.*.accessibility",
        (_, "requiresauthentication") => "requiresAuthentication",
        (_, "requiressignature") => "requiresSignature",
        (_, "signaturequantity") => "signatureQuantity",
        (_, "channelurls") => "formUrls",
        (_, "addresses") => "addresses",
        (_, "servicehours") => "serviceHours",
        (_, "isvisibleforall") => "visibleForAll",
        (_, "channelrelations") => "connections",
        _ => return key.to_owned(),
    };
    mapped.to_owned()
}

/// v12 problem-detail paths (JSON pointer `/languageVersions/fi/name`, or dotted) → our
/// source field paths (`languageVersions.fi.name`). v12 names mostly equal ours; the
/// table renames the few that differ.
#[must_use]
pub fn translate_v12_path(path: &str) -> String {
    let trimmed = path
        .trim_start_matches('#')
        .trim_start_matches('$')
        .trim_start_matches(['/', '.']);
    let segments: Vec<&str> = trimmed
        .split(['/', '.'])
        .flat_map(|s| s.split('['))
        .map(|s| s.trim_end_matches(']'))
        .filter(|s| !s.is_empty())
        .collect();
    let renamed: Vec<String> = segments
        .iter()
        .enumerate()
        .map(|(i, seg)| {
            let s = *seg;
            let mapped = match s {
                "organizationContentId" => "organization",
                "parentOrganizationContentId" => "parent",
                "generalDescriptionContentId" => "generalDescription",
                "allowedConnectionType" => "visibleForAll",
                "telephoneNumbers" | "phoneNumbers" => "phones",
                "emailAddresses" => "emails",
                "webAddressName" if i > 0 => "webAddressName",
                "printableFormUrls" | "forms" => "formUrls",
                "businessId" => "businessCode",
                other => other,
            };
            mapped.to_owned()
        })
        .collect();
    if renamed.is_empty() {
        path.to_owned()
    } else {
        renamed.join(".")
    }
}

/// A URL for messages and logs: without user info (`user:password@`) or query.
pub(crate) fn shown(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

/// Scrubs known secret values out of text before it is kept in an error or logged.
#[derive(Default)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub(crate) fn with(mut self, secret: &str) -> Self {
        // Any non-empty secret, however short: a mangled message beats a leaked one.
        // JSON-escaped too: a server echoing the login body quotes `"` and `\`.
        if !secret.is_empty() {
            self.secrets.extend(crate::secret::escaped_forms(secret));
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        self
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "[redacted]");
            }
        }
        out
    }
}

/// A redirect is a configuration error: the URL is not where PTV answers.
pub(crate) fn redirected(method: &reqwest::Method, url: &url::Url, status: u16) -> PtvError {
    PtvError::config(format!(
        "{method} {} answered {status}, a redirect, which is not followed (it would carry the password or API key along); set api_base and token_url to the addresses PTV serves",
        shown(url)
    ))
}

/// A `reqwest` error in words, without the URL's query (never secret here, but long).
pub(crate) fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else if e.is_request() {
        "the request failed"
    } else {
        "transport error"
    };
    let mut msg = what.to_owned();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str, version: ApiVersion) -> PtvError {
        classify(&Answer {
            status,
            body,
            version,
            kind: ItemKind::Service,
            item: "service x",
        })
    }

    #[test]
    fn v11_field_keys_translate_to_source_paths() {
        let cases = [
            (ItemKind::Service, "ServiceNames", "languageVersions.*.name"),
            (
                ItemKind::Service,
                "ServiceNames[0].Type",
                "languageVersions.*.name",
            ),
            (
                ItemKind::Service,
                "ServiceDescriptions",
                "languageVersions.*.summary/description",
            ),
            (ItemKind::Service, "FundingType", "fundingType"),
            (ItemKind::Service, "Type", "serviceType"),
            (ItemKind::Service, "TargetGroups[1]", "targetGroups"),
            (
                ItemKind::Channel,
                "WebPage[0].Url",
                "languageVersions.*.webAddress",
            ),
            (ItemKind::Organization, "WebPages", "webPages"),
            (
                ItemKind::Channel,
                "ServiceChannelNames",
                "languageVersions.*.name",
            ),
            (ItemKind::Service, "PublishingStatus", "PublishingStatus"),
            (ItemKind::Service, "Model", "Model"),
        ];
        for (kind, key, want) in cases {
            assert_eq!(translate_v11_key(kind, key), want, "{key}");
        }
    }

    #[test]
    fn v12_paths_translate_to_source_paths() {
        assert_eq!(
            translate_v12_path("/languageVersions/fi/name"),
            "languageVersions.fi.name"
        );
        assert_eq!(
            translate_v12_path("languageVersions.sv.summary"),
            "languageVersions.sv.summary"
        );
        assert_eq!(translate_v12_path("/organizationContentId"), "organization");
        assert_eq!(translate_v12_path("/targetGroups/0"), "targetGroups.0");
        assert_eq!(
            translate_v12_path("$.serviceClasses[2]"),
            "serviceClasses.2"
        );
    }

    #[test]
    fn v11_400_is_validation_with_translated_fields() {
        let e = answer(
            400,
            r#"{"ServiceNames":["Type - Required value 'Name' was not found!"],"FundingType":["The FundingType field is required."]}"#,
            ApiVersion::V11,
        );
        assert_eq!(e.class(), ErrorClass::Terminal);
        assert_eq!(e.http_status(), Some(400));
        let f = e.fields().unwrap();
        assert_eq!(
            f["languageVersions.*.name"],
            vec!["Type - Required value 'Name' was not found!".to_owned()]
        );
        assert!(f.contains_key("fundingType"));
        assert!(e.to_string().contains("service x"));
    }

    #[test]
    fn v12_problem_details_are_validation_with_paths() {
        let e = answer(
            400,
            r#"{"type":"about:blank","title":"Bad Request","status":400,"detail":"Validation failed","instance":"/api/v12/service","requestId":"r1","errors":[{"path":"/languageVersions/fi/name","message":"too long"}]}"#,
            ApiVersion::V12,
        );
        assert_eq!(
            e.fields().unwrap()["languageVersions.fi.name"],
            vec!["too long".to_owned()]
        );
    }

    #[test]
    fn modified_locked_conflict_and_not_found_are_recognised() {
        let modified = answer(
            400,
            r#"{"PublishingStatus":["You cannot update entity with status Modified."]}"#,
            ApiVersion::V11,
        );
        assert!(matches!(modified, PtvError::Modified { .. }));
        assert_eq!(modified.class(), ErrorClass::NeedsPerson);
        let locked = answer(
            404,
            r#"{"errorMessage":"Service is locked by 'maija@espoo.fi'."}"#,
            ApiVersion::V11,
        );
        assert!(
            matches!(&locked, PtvError::Locked { by, .. } if by == "maija@espoo.fi"),
            "{locked:?}"
        );
        let conflict = answer(
            500,
            r#"{"errorMessage":"The external source 'x' already exists. Please use update endpoint!"}"#,
            ApiVersion::V11,
        );
        assert!(matches!(conflict, PtvError::Conflict { .. }));
        let not_found = answer(
            404,
            r#"{"errorMessage":"User has no rights to update this entity!"}"#,
            ApiVersion::V11,
        );
        assert!(matches!(not_found, PtvError::NotFound { .. }));
        assert_eq!(not_found.class(), ErrorClass::Terminal);
        let transient = answer(503, "Service Unavailable", ApiVersion::V11);
        assert_eq!(transient.class(), ErrorClass::Transient);
        // A duplicate *name* is a data error, not a sourceId clash.
        let duplicate_name = answer(
            400,
            r#"{"ServiceNames":["Value 'X' of language code 'fi' already exists within organization. The name must be unique."]}"#,
            ApiVersion::V11,
        );
        assert!(matches!(duplicate_name, PtvError::Validation { .. }));
        assert!(duplicate_name.says_name_taken());
        assert!(!conflict.says_name_taken());
        let v12_duplicate_name = answer(
            400,
            r#"{"type":"about:blank","title":"Bad Request","status":400,"errors":[{"path":"/languageVersions/fi/name","message":"Value 'X' already exists within organization. The name must be unique."}]}"#,
            ApiVersion::V12,
        );
        assert!(
            v12_duplicate_name.says_name_taken(),
            "{v12_duplicate_name:?}"
        );
        let other = answer(400, r#"{"ServiceNames":["too long"]}"#, ApiVersion::V11);
        assert!(!other.says_name_taken());
    }

    #[test]
    fn shown_urls_drop_credentials_and_query() {
        let u = url::Url::parse("https://user:pw@example.fi/api/auth/api-login?key=k").unwrap();
        assert_eq!(shown(&u), "https://example.fi/api/auth/api-login");
    }

    #[test]
    fn redactor_scrubs_every_occurrence() {
        let r = Redactor::default()
            .with("s3cr3t-token")
            .with("xyz")
            .with("");
        assert_eq!(
            r.scrub("a s3cr3t-token b s3cr3t-token xyz"),
            "a [redacted] b [redacted] [redacted]"
        );
    }
}

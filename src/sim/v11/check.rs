//! Model-state validation in ASP.NET's manner: every problem is collected under a
//! `PascalCase` path (`ServiceDescriptions[1].Value`) and the request answers one 400
//! with all of them (reference §8). Formats are checked, code existence is not: the
//! simulator cannot hold PTV's code lists (municipalities, postal codes, Finto URIs),
//! so any well-formed code is accepted.

use crate::sim::error::{ApiError, FieldErrors, GUID_MESSAGE};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use uuid::Uuid;

pub(crate) const DATA_LANGUAGES: [&str; 6] = ["fi", "sv", "en", "se", "smn", "sms"];

/// Input property names bind case-insensitively; the simulator stores them camelCase.
pub(crate) fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (lower_first(&k), camel_keys(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

/// `serviceNames[0].value` → `ServiceNames[0].Value`, as ASP.NET model-state keys.
pub(crate) fn pascal(path: &str) -> String {
    path.split('.')
        .map(|segment| {
            let mut chars = segment.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().chain(chars).collect::<String>()
            })
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// One entry of a localized list.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub language: String,
    pub kind: Option<String>,
    pub value: String,
}

/// How a localized list is checked.
pub(crate) struct ListSpec {
    pub typed: bool,
    pub types: &'static [&'static str],
    pub max: fn(Option<&str>) -> usize,
    /// Whether a (language, type) pair may appear once only.
    pub unique: bool,
}

#[derive(Default)]
pub(crate) struct Check {
    pub errors: FieldErrors,
}

pub(crate) fn non_null<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

impl Check {
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors
            .entry(path.into())
            .or_default()
            .push(message.into());
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }

    pub fn required(&mut self, path: &str) {
        let p = pascal(path);
        let message = format!(
            "The {} field is required.",
            p.rsplit('.').next().unwrap_or(&p)
        );
        self.add(p, message);
    }

    fn wrong_type(&mut self, path: &str, value: &Value, ty: &str) {
        self.add(
            pascal(path),
            format!("Error converting value {value} to type '{ty}'. Path '{path}'."),
        );
    }

    pub fn string<'a>(&mut self, body: &'a Value, key: &str, path: &str) -> Option<&'a str> {
        match non_null(body, key) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.wrong_type(path, other, "System.String");
                None
            }
        }
    }

    pub fn required_string<'a>(
        &mut self,
        body: &'a Value,
        key: &str,
        path: &str,
    ) -> Option<&'a str> {
        if non_null(body, key).is_none() {
            self.required(path);
        }
        self.string(body, key, path).filter(|s| !s.is_empty())
    }

    pub fn enumeration<'a>(
        &mut self,
        body: &'a Value,
        key: &str,
        path: &str,
        allowed: &[&str],
        required: bool,
    ) -> Option<&'a str> {
        let value = if required {
            self.required_string(body, key, path)
        } else {
            self.string(body, key, path)
        }?;
        if allowed.contains(&value) {
            Some(value)
        } else {
            self.add(
                pascal(path),
                format!(
                    "'{value}' is not allowed value of '{}'! Please use one of these: '{}'.",
                    pascal(key),
                    allowed.join(", ")
                ),
            );
            None
        }
    }

    pub fn boolean(&mut self, body: &Value, key: &str, path: &str) -> Option<bool> {
        match non_null(body, key) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.wrong_type(path, other, "System.Boolean");
                None
            }
        }
    }

    pub fn array<'a>(&mut self, body: &'a Value, key: &str, path: &str) -> &'a [Value] {
        match non_null(body, key) {
            None => &[],
            Some(Value::Array(items)) => items,
            Some(other) => {
                self.wrong_type(path, other, "System.Collections.Generic.IList");
                &[]
            }
        }
    }

    pub fn objects<'a>(
        &mut self,
        body: &'a Value,
        key: &str,
        path: &str,
    ) -> Vec<(String, &'a Value)> {
        let mut out = Vec::new();
        for (i, item) in self.array(body, key, path).iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            if item.is_object() {
                out.push((item_path, item));
            } else {
                self.wrong_type(&item_path, item, "Object");
            }
        }
        out
    }

    pub fn strings<'a>(&mut self, body: &'a Value, key: &str, path: &str) -> Vec<&'a str> {
        let mut out = Vec::new();
        for (i, item) in self.array(body, key, path).iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.as_str()),
                other => self.wrong_type(&format!("{path}[{i}]"), other, "System.String"),
            }
        }
        out
    }

    pub fn guid(&mut self, body: &Value, key: &str, path: &str) -> Option<Uuid> {
        let s = self.string(body, key, path)?;
        parse_guid(s).or_else(|| {
            self.add(pascal(path), GUID_MESSAGE);
            None
        })
    }

    pub fn guids(&mut self, body: &Value, key: &str, path: &str) -> Vec<Uuid> {
        let mut out = Vec::new();
        for (i, s) in self.strings(body, key, path).into_iter().enumerate() {
            match parse_guid(s) {
                Some(id) => out.push(id),
                None => self.add(pascal(&format!("{path}[{i}]")), GUID_MESSAGE),
            }
        }
        out
    }

    pub fn max_len(&mut self, path: &str, value: &str, max: usize, what: &str) {
        if value.chars().count() > max {
            self.add(
                pascal(path),
                format!("Maximum length of property 'Value' for '{what}' must be '{max}'."),
            );
        }
    }

    pub fn language(&mut self, path: &str, language: &str) {
        if !DATA_LANGUAGES.contains(&language) {
            self.add(
                pascal(path),
                format!(
                    "'{language}' is not allowed value of 'Language'! Please use one of these: '{}'.",
                    DATA_LANGUAGES.join(", ")
                ),
            );
        }
    }

    /// A `{type?, language, value}` list: item shape, data languages, lengths, no
    /// empty values and no duplicate (language, type) pairs.
    pub fn localized(&mut self, body: &Value, key: &str, spec: &ListSpec) -> Vec<Loc> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for (path, item) in self.objects(body, key, key) {
            let language = self.required_string(item, "language", &format!("{path}.language"));
            let value = self.required_string(item, "value", &format!("{path}.value"));
            let kind = if spec.typed {
                let k = self.enumeration(item, "type", &format!("{path}.type"), spec.types, true);
                if k.is_none() {
                    continue;
                }
                k
            } else {
                None
            };
            let (Some(language), Some(value)) = (language, value) else {
                continue;
            };
            self.language(&format!("{path}.language"), language);
            let what = kind.unwrap_or(key);
            self.max_len(&format!("{path}.value"), value, (spec.max)(kind), what);
            if spec.unique && !seen.insert((language.to_owned(), kind.map(str::to_owned))) {
                self.add(
                    pascal(key),
                    if spec.typed {
                        "Localized duplicates of 'Type' are not allowed!"
                    } else {
                        "Localized duplicates of 'Language' are not allowed!"
                    },
                );
            }
            out.push(Loc {
                language: language.to_owned(),
                kind: kind.map(str::to_owned),
                value: value.to_owned(),
            });
        }
        out
    }

    /// Every language in `languages` has an entry of `kind` (or any entry when `None`).
    pub fn each_language(
        &mut self,
        key: &str,
        list: &[Loc],
        kind: Option<&str>,
        languages: &BTreeSet<String>,
    ) {
        for language in languages {
            let found = list
                .iter()
                .any(|l| &l.language == language && (kind.is_none() || l.kind.as_deref() == kind));
            if !found {
                self.add(
                    pascal(key),
                    format!(
                        "Required value with type '{}' was not found with language code '{language}'!",
                        kind.unwrap_or("Value")
                    ),
                );
            }
        }
    }

    pub fn url(&mut self, path: &str, value: &str) {
        self.max_len(path, value, 500, "Url");
        let ok = url::Url::parse(value)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            self.add(pascal(path), format!("'{value}' is not a valid url."));
        }
    }

    pub fn email(&mut self, path: &str, value: &str) {
        self.max_len(path, value, 100, "Email");
        let valid = value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.contains(char::is_whitespace)
        });
        if !valid {
            self.add(
                pascal(path),
                format!("'{value}' is not a valid e-mail address."),
            );
        }
    }

    pub fn pattern(&mut self, path: &str, value: &str, ok: bool, pattern: &str) {
        if !ok {
            self.add(
                pascal(path),
                format!(
                    "'{value}' is not valid: the field {} must match the regular expression '{pattern}'.",
                    pascal(path)
                ),
            );
        }
    }
}

pub(crate) fn parse_guid(s: &str) -> Option<Uuid> {
    // ASP.NET binds only the hyphenated 8-4-4-4-12 form.
    (s.len() == 36).then(|| Uuid::parse_str(s).ok()).flatten()
}

pub(crate) fn digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^[A-Za-z0-9-.]*$` (reference §4).
pub(crate) fn is_source_id(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `^\+[0-9]{1,4}$`.
pub(crate) fn is_prefix(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| digits(d, 1, 4))
}

/// `^[0-9]{7}-[0-9]$`.
pub(crate) fn is_business_code(s: &str) -> bool {
    s.split_once('-')
        .is_some_and(|(a, b)| digits(a, 7, 7) && digits(b, 1, 1))
}

/// `^([0-1][0-9]|2[0-3]):(00|15|30|45)(:00)?$`: quarter hours only.
pub(crate) fn is_quarter_hour(s: &str) -> bool {
    let s = s.strip_suffix(":00").filter(|r| r.len() == 5).unwrap_or(s);
    let Some((h, m)) = s.split_once(':') else {
        return false;
    };
    digits(h, 2, 2)
        && h.parse::<u8>().is_ok_and(|h| h < 24)
        && matches!(m, "00" | "15" | "30" | "45")
}

/// `^\d+\.?\d*$`.
pub(crate) fn is_coordinate(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    digits(int, 1, usize::MAX) && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Dotted code after a URI prefix, e.g. `P3.1` or `KR2.1`.
pub(crate) fn code_after<'a>(uri: &'a str, prefixes: &[&str], letters: &str) -> Option<&'a str> {
    let code = prefixes.iter().find_map(|p| uri.strip_prefix(p))?;
    let rest = code.strip_prefix(letters)?;
    (!rest.is_empty() && rest.split('.').all(|part| digits(part, 1, 4))).then_some(code)
}

//! Texts and identifiers, parsed (and normalised) once at the edge.

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A plain text, trimmed with runs of blanks collapsed, as PTV does on save. Normalising
/// on parse means hashing, diffing and sending all see the same string.
///
/// Texts up to 24 bytes (codes, ids, most names) live inline: a large snapshot holds
/// millions of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(transparent)]
pub struct Text(CompactString);

impl Text {
    #[must_use]
    pub fn new(raw: &str) -> Self {
        if is_normal(raw) {
            Text(CompactString::from(raw))
        } else {
            Text(normalise_slow(raw).into())
        }
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Length in characters (PTV's limits count characters, not bytes).
    #[must_use]
    pub fn chars(&self) -> usize {
        self.0.chars().count()
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(Text::new(&raw))
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Trims the text, collapses runs of blanks to one space and drops blanks around line
/// breaks; keeps single line breaks (descriptions may have paragraphs).
fn normalise_slow(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let mut lines: Vec<String> = Vec::new();
    for line in raw.split('\n') {
        let collapsed = line.split_whitespace().collect::<Vec<_>>().join(" ");
        lines.push(collapsed);
    }
    // Collapse runs of empty lines into one paragraph break.
    let mut out = String::with_capacity(raw.len());
    let mut blank_run = 0;
    for line in lines {
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(&line);
    }
    out
}

/// Whether `normalise` would return the text unchanged: no blank other than single
/// spaces between words, and no empty line other than one paragraph break. Most texts
/// are, and a snapshot of 100,000 items holds about a million of them.
fn is_normal(raw: &str) -> bool {
    let b = raw.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return true;
    };
    if first.is_ascii_whitespace() || last.is_ascii_whitespace() {
        return false;
    }
    let mut prev = 0u8;
    let mut newlines = 0;
    for &c in b {
        match c {
            b' ' if prev == b' ' || prev == b'\n' => return false,
            b'\n' if prev == b' ' => return false,
            b'\n' => {
                newlines += 1;
                if newlines > 2 {
                    return false;
                }
            }
            b'\t' | b'\r' | 0x0b | 0x0c => return false,
            _ => newlines = 0,
        }
        prev = c;
    }
    // Unicode blanks (no-break space and the like) go the slow way.
    raw.is_ascii() || !raw.chars().any(|c| !c.is_ascii() && c.is_whitespace())
}

/// An item's id in the source system: 1-64 characters of `[A-Za-z0-9-]`, starting with
/// a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SourceId(CompactString);

impl SourceId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_len = (1..=64).contains(&raw.len());
        let ok_chars = raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let ok_start = raw
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if ok_len && ok_chars && ok_start {
            Ok(SourceId(CompactString::from(raw)))
        } else {
            Err(format!(
                "invalid id '{raw}': use 1-64 characters of A-Z, a-z, 0-9 and '-', starting with a letter or digit"
            ))
        }
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::parsed_str::parsed_str!(SourceId);

/// A PTV item's id (a GUID): how a source document may name the PTV item it describes
/// (`ptvId`). Written in its canonical form, lower case with hyphens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PtvId(uuid::Uuid);

impl PtvId {
    /// A GUID in its 36-character form (`0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10`), as PTV
    /// shows it; braces, URNs and the nil GUID are refused.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let parsed = (raw.len() == 36)
            .then(|| uuid::Uuid::try_parse(raw).ok())
            .flatten()
            .filter(|u| !u.is_nil());
        parsed.map(PtvId).ok_or_else(|| {
            format!(
                "invalid PTV id '{raw}': use the item's GUID as PTV shows it, e.g. 0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10"
            )
        })
    }
}

/// A GUID read another way (the configuration reads any form of UUID, as it always has).
impl From<uuid::Uuid> for PtvId {
    fn from(u: uuid::Uuid) -> Self {
        PtvId(u)
    }
}

impl fmt::Display for PtvId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl Serialize for PtvId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PtvId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        PtvId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_collapsed() {
        assert_eq!(Text::new("  a   b\t c  ").as_str(), "a b c");
        assert_eq!(Text::new("p1 \r\n\r\n\n  p2\nl3 ").as_str(), "p1\n\np2\nl3");
    }

    proptest::proptest! {
        #[test]
        fn the_shortcut_agrees_with_normalising(raw in "[a \t\r\n\u{a0}\u{2003}é]{0,12}") {
            if is_normal(&raw) {
                proptest::prop_assert_eq!(normalise_slow(&raw), raw.clone());
            }
            let once = normalise_slow(&raw);
            proptest::prop_assert!(is_normal(&once), "normalised text {:?} takes the slow way", once);
        }
    }

    #[test]
    fn source_id_rules() {
        assert!(SourceId::parse("building-permit-1").is_ok());
        assert!(SourceId::parse("-x").is_err());
        assert!(SourceId::parse("a_b").is_err());
        assert!(SourceId::parse("").is_err());
        assert!(SourceId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn ptv_ids_are_guids_in_their_canonical_form() {
        let id = PtvId::parse("0C6A8D38-2F0C-4C55-8D4C-0F6B7A3C9D10").unwrap();
        assert_eq!(id.to_string(), "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10");
        for bad in [
            "0c6a8d382f0c4c558d4c0f6b7a3c9d10",
            "{0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10}",
            "00000000-0000-0000-0000-000000000000",
            "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d1x",
            "building-permit",
        ] {
            let e = PtvId::parse(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("GUID"), "{e}");
        }
    }
}

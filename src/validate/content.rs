//! Content quality: DVV's content checklist (reference.md §11.6) as warnings that never
//! block a sync. A service description is about the service; channel data (phone numbers,
//! e-mail and web addresses, street addresses) belongs in channels, where PTV shows and
//! updates it in one place. A summary that only repeats the description's first sentence
//! wastes the one line search results show, and a general description's text is linked,
//! not copied: PTV shows it beside the service's own text.
//!
//! The checks run for `ptv-sync validate` only ([`super::ValidateOptions::content`]): a plan
//! or a run has no use for advice it never acts on, and a 100,000-item plan should not pay
//! for it.

use super::FindingKind as K;
use super::rules::Ck;
use crate::model::{Lang, Service};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Texts of general descriptions ("pohjakuvaukset"), by PTV id and language, for the
/// copy check. PTV's general descriptions are public; an organisation exports the ones it
/// links (see [`GeneralDescriptions::from_json`]).
#[derive(Debug, Clone, Default)]
pub struct GeneralDescriptions {
    texts: HashMap<String, Vec<(Lang, String)>>,
}

/// A general-description file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "general descriptions file: {0}; expected {{\"<PTV id>\": {{\"fi\": \"text\", …}}}} or a \
     list of PTV general descriptions with `id` and `descriptions`"
)]
pub struct GeneralDescriptionsError(String);

impl GeneralDescriptions {
    /// Reads `{"<id>": {"fi": "…", "sv": "…"}}` or a JSON list of PTV general descriptions
    /// (`[{"id": "…", "descriptions": [{"type": "Description", "language": "fi",
    /// "value": "…"}]}]`, as PTV's `GeneralDescription` reads return them; `Description`
    /// and `BackgroundDescription` texts are kept).
    pub fn from_json(text: &str) -> Result<Self, GeneralDescriptionsError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| GeneralDescriptionsError(e.to_string()))?;
        let mut texts: HashMap<String, Vec<(Lang, String)>> = HashMap::new();
        match value {
            serde_json::Value::Object(map) => {
                for (id, langs) in map {
                    let langs = langs.as_object().ok_or_else(|| {
                        GeneralDescriptionsError(format!("{id}: not an object of languages"))
                    })?;
                    for (lang, v) in langs {
                        let lang = parse_lang(lang).ok_or_else(|| {
                            GeneralDescriptionsError(format!("{id}.{lang}: unknown language"))
                        })?;
                        let v = v.as_str().ok_or_else(|| {
                            GeneralDescriptionsError(format!("{id}.{lang}: not a text"))
                        })?;
                        texts
                            .entry(id.to_lowercase())
                            .or_default()
                            .push((lang, v.to_owned()));
                    }
                }
            }
            serde_json::Value::Array(list) => {
                for (i, gd) in list.iter().enumerate() {
                    let id = gd
                        .get("id")
                        .and_then(serde_json::Value::as_str)
                        .ok_or_else(|| GeneralDescriptionsError(format!("entry [{i}]: no `id`")))?;
                    let descriptions = gd
                        .get("descriptions")
                        .and_then(serde_json::Value::as_array)
                        .map_or(&[][..], Vec::as_slice);
                    for d in descriptions {
                        let kind = d.get("type").and_then(serde_json::Value::as_str);
                        if !matches!(kind, Some("Description" | "BackgroundDescription")) {
                            continue;
                        }
                        let (Some(lang), Some(v)) = (
                            d.get("language")
                                .and_then(serde_json::Value::as_str)
                                .and_then(parse_lang),
                            d.get("value").and_then(serde_json::Value::as_str),
                        ) else {
                            continue;
                        };
                        texts
                            .entry(id.to_lowercase())
                            .or_default()
                            .push((lang, v.to_owned()));
                    }
                }
            }
            _ => {
                return Err(GeneralDescriptionsError(
                    "neither an object nor a list".into(),
                ));
            }
        }
        Ok(GeneralDescriptions { texts })
    }

    /// Reads [`from_json`](Self::from_json) from a file.
    pub fn read(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the general descriptions file {}: {e}; check the path",
                path.display()
            )
        })?;
        Self::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    fn text(&self, id: &str, lang: Lang) -> Option<&str> {
        self.texts
            .get(&id.to_lowercase())?
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, t)| t.as_str())
    }
}

fn parse_lang(s: &str) -> Option<Lang> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).expect("content patterns are constants")
}

// Finnish numbers: +358 or a leading 0 with an area or operator code, then at least five
// more digits in groups ("09 816 21", "040 123 4567", "+358 9 8162 1000").
static PHONE: LazyLock<regex::Regex> =
    LazyLock::new(|| re(r"(?:\+358|\b0\d{1,3})(?:[ \-]?\(?0?\)?[ \-]?\d){5,10}\b"));
static EMAIL: LazyLock<regex::Regex> =
    LazyLock::new(|| re(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}"));
static URL: LazyLock<regex::Regex> = LazyLock::new(|| re(r"(?i)\b(?:https?://|www\.)[^\s,;)]+"));
// A street name with its number ("Mannerheimintie 12", "Stora Robertsgatan 3 B") or a
// postal code before a town ("02100 Espoo").
static ADDRESS: LazyLock<regex::Regex> = LazyLock::new(|| {
    re(concat!(
        r"\b\p{Lu}\p{Ll}*(?:katu|tie|kuja|polku|väylä|raitti|kaari|rinne|puistikko|tori|",
        r"aukio|ranta|gatan|vägen|gränd|stigen|torget|kajen)\s+\d+[A-Za-z]?\b",
        r"|\b\d{5}\s+\p{Lu}\p{Ll}{2,}",
    ))
});

/// The checks of one service's texts.
pub(super) fn service(ck: &mut Ck<'_>, s: &Service, general: Option<&GeneralDescriptions>) {
    for (lang, v) in &s.language_versions {
        let p = format!("languageVersions.{lang}");
        let description = v.description.as_str();
        channel_data(ck, &format!("{p}.description"), description);
        channel_data(ck, &format!("{p}.summary"), v.summary.as_str());
        if let Some(first) = first_sentence(description)
            && !v.summary.is_empty()
            && normalise(first) == normalise(v.summary.as_str())
            && normalise(first) != normalise(description)
        {
            ck.warn(
                K::SummaryRepeatsDescription,
                format!("{p}.summary"),
                "the summary repeats the description's first sentence; say in one line what \
                 the service gives, and let the description go on from there",
            );
        }
        if let (Some(gd_id), Some(general)) = (&s.general_description, general)
            && let Some(gd) = general.text(gd_id.as_str(), *lang)
            && let Some(copied) = copied_sentences(description, gd)
        {
            ck.warn(
                K::CopiesGeneralDescription,
                format!("{p}.description"),
                format!(
                    "copies {copied} of general description {gd_id}; PTV shows the general \
                     description beside the service, so describe only what is particular \
                     to this service"
                ),
            );
        }
    }
}

/// Phone numbers, e-mail and web addresses and street addresses in a text about a
/// service: one warning per kind found, naming what was found.
fn channel_data(ck: &mut Ck<'_>, path: &str, text: &str) {
    // Cheap tests first: most texts hold no digit, `@` nor `www`/`://`.
    let has_digit = text.bytes().any(|b| b.is_ascii_digit());
    let checks: [(&str, bool, &LazyLock<regex::Regex>, &str); 4] = [
        ("a phone number", has_digit, &PHONE, "a phone channel"),
        (
            "an e-mail address",
            text.contains('@'),
            &EMAIL,
            "an e-channel or a phone channel's e-mail",
        ),
        (
            "a web address",
            text.contains("://") || text.contains("www.") || text.contains("WWW."),
            &URL,
            "a web page channel",
        ),
        (
            "a street address",
            has_digit,
            &ADDRESS,
            "a service location channel",
        ),
    ];
    for (what, maybe, pattern, channel) in checks {
        if !maybe {
            continue;
        }
        if let Some(m) = pattern.find(text) {
            ck.warn(
                K::ChannelDataInDescription,
                path,
                format!(
                    "holds {what} (\"{}\"); DVV's content checklist keeps channel data out of \
                     service texts: put it in {channel} connected to the service",
                    m.as_str().trim()
                ),
            );
        }
    }
}

/// The first sentence: up to the first `.`, `!` or `?` followed by white space or the end.
fn first_sentence(text: &str) -> Option<&str> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|(_, n)| n.is_whitespace()) {
            return Some(&text[..=i]);
        }
    }
    Some(text)
}

/// Lower case, words only: a copy with other punctuation or spacing is still a copy.
fn normalise(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The part of the general description's text found word for word in the service's
/// description ("3 of its 4 sentences"), when it is a real copy: a whole sentence of at
/// least six words, not a shared phrase.
fn copied_sentences(description: &str, general: &str) -> Option<String> {
    let haystack = normalise(description);
    let sentences: Vec<String> = sentences(general)
        .map(normalise)
        .filter(|s| s.split(' ').count() >= 6)
        .collect();
    let copied = sentences
        .iter()
        .filter(|s| haystack.contains(s.as_str()))
        .count();
    (copied > 0).then(|| {
        if copied == sentences.len() {
            "every sentence".to_owned()
        } else {
            format!("{copied} of the {} sentences", sentences.len())
        }
    })
}

fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text.trim();
    std::iter::from_fn(move || {
        let s = first_sentence(rest)?;
        rest = rest[s.len()..].trim_start();
        Some(s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let file = "services.yaml";
        let mut ck = Ck {
            item_kind: crate::model::ItemKind::Service,
            id: &crate::model::SourceId::parse("s1").unwrap(),
            file: &file,
            out: &mut out,
        };
        channel_data(&mut ck, "languageVersions.fi.description", text);
        out.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn finds_channel_data_in_service_texts() {
        for (text, what) in [
            ("Soita numeroon 09 816 21 arkisin.", "a phone number"),
            ("Puhelin +358 40 123 4567.", "a phone number"),
            ("Neuvonta 040-1234567 klo 9-12.", "a phone number"),
            (
                "Lähetä hakemus osoitteeseen kirjaamo@espoo.fi.",
                "an e-mail address",
            ),
            (
                "Lisätietoa https://www.espoo.fi/rakentaminen sivulta.",
                "a web address",
            ),
            ("Katso www.espoo.fi.", "a web address"),
            (
                "Asioi palvelupisteessä Kamreerintie 3 A.",
                "a street address",
            ),
            ("Postita lomake: PL 43, 02070 Espoo.", "a street address"),
            ("Besök oss på Stora Robertsgatan 3.", "a street address"),
        ] {
            let got = found(text);
            assert!(
                got.iter().any(|m| m.starts_with(&format!("holds {what}"))),
                "{text}: {got:?}"
            );
        }
    }

    #[test]
    fn quiet_on_ordinary_service_texts() {
        for text in [
            "Rakennuslupa tarvitaan uuden rakennuksen rakentamiseen ja laajentamiseen.",
            "Palvelu on tarkoitettu yli 65-vuotiaille; käsittely kestää 2-4 viikkoa.",
            "Lupa on voimassa 3 vuotta, ja sitä voi hakea 1.1.2027 alkaen.",
            "Avustusta myönnetään enintään 1500 euroa vuodessa.",
            "Vuonna 2026 hakemuksia käsiteltiin 12000.",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn first_sentence_ends_at_punctuation_before_space() {
        assert_eq!(
            first_sentence("Lupa 1.1.2027 alkaen. Toinen lause."),
            Some("Lupa 1.1.2027 alkaen.")
        );
        assert_eq!(first_sentence("Ei pistettä"), Some("Ei pistettä"));
        assert_eq!(first_sentence("  "), None);
    }

    #[test]
    fn copies_are_whole_sentences_of_six_words() {
        let gd = "Rakennuslupa tarvitaan aina uuden rakennuksen rakentamiseen. Lupaa haetaan \
                  kunnan rakennusvalvonnasta ennen töiden aloittamista. Lyhyt lause.";
        assert_eq!(
            copied_sentences(
                "Espoossa: lupaa haetaan kunnan rakennusvalvonnasta ennen töiden \
                 aloittamista! Muuta.",
                gd
            )
            .as_deref(),
            Some("1 of the 2 sentences")
        );
        assert_eq!(copied_sentences("Oma kuvaus vain.", gd), None);
    }

    #[test]
    fn reads_both_general_description_shapes() {
        let map =
            GeneralDescriptions::from_json(r#"{"ABC": {"fi": "Teksti.", "sv": "Text."}}"#).unwrap();
        assert_eq!(map.text("abc", Lang::Sv), Some("Text."));
        let list = GeneralDescriptions::from_json(
            r#"[{"id": "g1", "descriptions": [
                {"type": "Summary", "language": "fi", "value": "Ei tämä."},
                {"type": "Description", "language": "fi", "value": "Tämä."}]}]"#,
        )
        .unwrap();
        assert_eq!(list.text("g1", Lang::Fi), Some("Tämä."));
        let err = GeneralDescriptions::from_json("[1]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("entry [0]: no `id`"), "{err}");
    }
}

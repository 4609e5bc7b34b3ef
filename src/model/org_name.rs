//! A configured organisation's name, and the state store key derived from it.
//!
//! The name is checked once, where it enters (the configuration file, the CLI's `--org`,
//! the admin endpoint's JSON), so metrics labels, locks, environment overrides and state
//! keys built from it never meet a character they cannot carry.

use serde::Serialize;
use std::fmt;

/// The name of a configured organisation (`[[organization]] name`): one or more ASCII
/// letters, digits, '-' or '_'.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OrgName(String);

impl OrgName {
    /// Checks `raw` against the rule; the error says what the name must be (the caller
    /// adds where it came from).
    pub fn parse(raw: &str) -> Result<Self, String> {
        if !raw.is_empty()
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            Ok(OrgName(raw.to_owned()))
        } else {
            Err(format!("'{raw}' must be letters, digits, '-' or '_'"))
        }
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::parsed_str::parsed_str!(OrgName);

/// Where an organisation's rows live in the state store (the store's `org` column): its
/// name, or a label derived from it for a run that must never touch the organisation's
/// own rows (readiness's `<org>#readiness-<run id>`). A derived key is deliberately not
/// an [`OrgName`]: the `#` keeps it from ever being taken for a configured organisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StateKey(String);

impl StateKey {
    /// The key of `org`'s own rows.
    #[must_use]
    pub fn of(org: &OrgName) -> Self {
        StateKey(org.0.clone())
    }
    /// A key apart from `org`'s own rows: `<org>#<scope>`.
    #[must_use]
    pub fn scoped(org: &OrgName, scope: &str) -> Self {
        StateKey(format!("{org}#{scope}"))
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{OrgName, StateKey};

    #[test]
    fn the_rule_and_its_wording() {
        for ok in ["espoo", "Org_2", "a-b", "9"] {
            assert_eq!(OrgName::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "a b", "a#b", "ä", "a.b"] {
            assert_eq!(
                OrgName::parse(bad).unwrap_err(),
                format!("'{bad}' must be letters, digits, '-' or '_'")
            );
        }
    }

    #[test]
    fn serde_is_the_bare_string_and_checks_the_rule() {
        let n: OrgName = serde_json::from_str("\"espoo\"").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"espoo\"");
        let e = serde_json::from_str::<OrgName>("\"no spaces\"").unwrap_err();
        assert!(e.to_string().contains("must be letters, digits"), "{e}");
    }

    #[test]
    fn state_keys() {
        let n = OrgName::parse("espoo").unwrap();
        assert_eq!(StateKey::of(&n).as_str(), "espoo");
        assert_eq!(
            StateKey::scoped(&n, "readiness-1").as_str(),
            "espoo#readiness-1"
        );
    }
}

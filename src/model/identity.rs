//! PTV `sourceId` (v11) / `externalId` (v12) derivation: `<prefix>-<kind>-<id>`, only
//! `[A-Za-z0-9.-]`, at most 100 characters. An archived item keeps its sourceId in PTV
//! forever, so an item that must be created afresh takes the next generation: `….g2`.

use super::{ItemKind, SourceId};
use serde::Serialize;

/// A PTV sourceId / externalId that ptv-sync writes: 1-100 characters of `[A-Za-z0-9.-]`
/// (PTV's rule). The sourceIds another API user wrote are foreign data and stay strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PtvSourceId(String);

impl PtvSourceId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if Self::fits(raw) {
            Ok(PtvSourceId(raw.to_owned()))
        } else {
            Err(format!(
                "invalid PTV sourceId '{raw}': PTV takes 1-100 characters of A-Z, a-z, 0-9, '.' and '-'"
            ))
        }
    }

    fn fits(raw: &str) -> bool {
        (1..=100).contains(&raw.len())
            && raw
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::parsed_str::parsed_str!(PtvSourceId);

/// A source id as it is: its characters and length always fit PTV's rule (a state row's
/// base before its sourceId is derived).
impl From<&SourceId> for PtvSourceId {
    fn from(id: &SourceId) -> Self {
        PtvSourceId(id.to_string())
    }
}

/// The sourceId of `id` under `prefix` (the configuration checks it: at most 20
/// characters of the same set). It fits PTV's rule: a service's or channel's longest is
/// 20 + 9 + 64 + `.g99999` ≤ 100; a connection set (13 for its kind) is never given a
/// generation.
#[must_use]
pub fn ptv_source_id(prefix: &str, kind: ItemKind, id: &SourceId, generation: i32) -> PtvSourceId {
    let short = match kind {
        ItemKind::Organization => "org",
        ItemKind::Service => "service",
        ItemKind::Channel => "channel",
        ItemKind::Connections => "connections",
    };
    let s = if generation > 0 {
        format!("{prefix}-{short}-{id}.g{generation}")
    } else {
        format!("{prefix}-{short}-{id}")
    };
    debug_assert!(PtvSourceId::fits(&s), "{s}");
    PtvSourceId(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_ids_fit_ptv_limits() {
        let id = SourceId::parse(&"a".repeat(64)).unwrap();
        let s = ptv_source_id(&"p".repeat(20), ItemKind::Service, &id, 99_999);
        assert!(s.as_str().len() <= 100, "{}", s.as_str().len());
        assert!(
            s.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        );
        assert_eq!(PtvSourceId::parse(s.as_str()), Ok(s));
        let set = ptv_source_id(&"p".repeat(20), ItemKind::Connections, &id, 0);
        assert_eq!(PtvSourceId::parse(set.as_str()), Ok(set));
        let permit = SourceId::parse("building-permit").unwrap();
        assert_eq!(
            ptv_source_id("espoo", ItemKind::Service, &permit, 0).as_str(),
            "espoo-service-building-permit"
        );
        assert_eq!(
            ptv_source_id("espoo", ItemKind::Service, &permit, 2).as_str(),
            "espoo-service-building-permit.g2"
        );
    }

    #[test]
    fn ptv_source_ids_keep_to_ptvs_rule() {
        assert!(PtvSourceId::parse("espoo-service-x.g2").is_ok());
        for bad in ["", "a_b", "a b", "ä", &"a".repeat(101)] {
            let e = PtvSourceId::parse(bad).unwrap_err();
            assert!(e.contains("sourceId") && e.contains("1-100"), "{e}");
        }
    }
}

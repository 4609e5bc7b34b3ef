//! PTV `sourceId` (v11) / `externalId` (v12) derivation: `<prefix>-<kind>-<id>`, only
//! `[A-Za-z0-9.-]`, at most 100 characters. An archived item keeps its sourceId in PTV
//! forever, so an item that must be created afresh takes the next generation: `….g2`.

use super::ItemKind;

#[must_use]
pub fn ptv_source_id(prefix: &str, kind: ItemKind, id: &str, generation: i32) -> String {
    let short = match kind {
        ItemKind::Organization => "org",
        ItemKind::Service => "service",
        ItemKind::Channel => "channel",
        ItemKind::Connections => "connections",
    };
    if generation > 0 {
        format!("{prefix}-{short}-{id}.g{generation}")
    } else {
        format!("{prefix}-{short}-{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_ids_fit_ptv_limits() {
        let id = "a".repeat(64);
        let s = ptv_source_id(&"p".repeat(20), ItemKind::Organization, &id, 99);
        assert!(s.len() <= 100, "{}", s.len());
        assert!(
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        );
        assert_eq!(
            ptv_source_id("espoo", ItemKind::Service, "building-permit", 0),
            "espoo-service-building-permit"
        );
        assert_eq!(
            ptv_source_id("espoo", ItemKind::Service, "building-permit", 2),
            "espoo-service-building-permit.g2"
        );
    }
}

//! The readiness test's own data: a small sample of the organisation's valid source
//! (sub-organisations with their parents, a few services, one channel of each type, their
//! connections), completed from [`super::templates`] where the source lacks a kind, with
//! every id and every name suffixed with the run id so that none was entered in the test
//! environment before. Held as source documents (JSON), written as a `dir` source for
//! each stage of the checklist, and edited between stages.

use super::templates;
use crate::model::{ChannelType, ItemKind};
use crate::validate::Validated;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const MAX_ORGANIZATIONS: usize = 3;
const MAX_SERVICES: usize = 4;
/// PTV's name limit (reference §12 rule 9) and our id limit.
const MAX_NAME: usize = 100;
const MAX_SUMMARY: usize = 150;
const MAX_ID: usize = 64;
/// A well-formed business code for a template sub-organisation when the source has none.
const FALLBACK_BUSINESS_CODE: &str = "0101263-6";

/// What one stage of the checklist puts in the source: every organisation always, the
/// rest as the stage says.
#[derive(Debug, Clone, Default)]
pub struct Stage {
    pub services: bool,
    pub connections: bool,
    pub channel_types: Vec<ChannelType>,
    /// Documents only this stage holds (the field-correctness check's).
    pub extra: Vec<Value>,
}

/// An item taken out of the test set, to be found archived in PTV.
#[derive(Debug, Clone)]
pub struct Removed {
    pub kind: ItemKind,
    pub id: String,
    pub channel_type: Option<ChannelType>,
    pub name_fi: Option<String>,
    /// Our id of its organisation (a sub-organisation's parent); `None`: the main one.
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TestSet {
    /// `rdy-<yyyymmddHHMM>-<4 hex>`: on every id and name.
    pub suffix: String,
    pub organizations: Vec<Value>,
    pub services: Vec<Value>,
    pub channels: Vec<Value>,
    /// What had to be added from templates, for the report.
    pub synthesised: Vec<String>,
}

fn sid(v: &Value) -> &str {
    v["id"].as_str().unwrap_or_default()
}

/// A document of `kind` from a model item.
fn doc<T: serde::Serialize>(kind: &str, item: &T) -> Value {
    let mut v = serde_json::to_value(item).expect("model types always serialise");
    v["kind"] = json!(kind);
    v
}

pub fn channel_type(v: &Value) -> Option<ChannelType> {
    v["channelType"].as_str().and_then(ChannelType::parse)
}

/// The Finnish name (or the first language's) of a document.
#[must_use]
pub fn name_fi(v: &Value) -> Option<String> {
    let lv = v["languageVersions"].as_object()?;
    lv.get("fi")
        .or_else(|| lv.values().next())
        .and_then(|l| l["name"].as_str())
        .map(str::to_owned)
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl TestSet {
    /// A fresh test set from the organisation's valid items.
    #[must_use]
    pub fn from_source(v: &Validated, suffix: &str) -> Self {
        let mut set = TestSet {
            suffix: suffix.to_owned(),
            ..TestSet::default()
        };
        // Organisations: the first few, with every ancestor so that parents resolve.
        let mut orgs: BTreeSet<String> = BTreeSet::new();
        for id in v.organizations.keys().take(MAX_ORGANIZATIONS) {
            let mut next = Some(id.clone());
            while let Some(id) = next.take() {
                if orgs.insert(id.to_string()) {
                    next = v.organizations.get(&id).and_then(|o| o.parent.clone());
                }
            }
        }
        set.organizations = orgs
            .iter()
            .filter_map(|id| v.organizations.iter().find(|(k, _)| k.as_str() == id))
            .map(|(_, o)| doc("organization", &**o))
            .collect();
        let owned =
            |o: Option<&crate::model::SourceId>| o.is_none_or(|o| orgs.contains(o.as_str()));
        let services: Vec<_> = v
            .services
            .iter()
            .filter(|(_, s)| owned(s.organization.as_ref()))
            .take(MAX_SERVICES)
            .collect();
        let wanted: BTreeSet<&str> = services
            .iter()
            .filter_map(|(id, _)| v.connections.get(*id))
            .flatten()
            .map(|c| c.channel.as_str())
            .collect();
        for t in ChannelType::ALL {
            let mut of_type: Vec<_> = v
                .channels
                .values()
                .filter(|c| c.channel_type == t && owned(c.organization.as_ref()))
                .collect();
            of_type.sort_by_key(|c| !wanted.contains(c.id.as_str()));
            if let Some(c) = of_type.first() {
                set.channels.push(doc("channel", &**c));
            } else {
                set.channels.push(templates::channel(
                    &format!("readiness-{}", t.as_str().to_lowercase()),
                    t,
                ));
                set.synthesised
                    .push(format!("a {t} channel (the source has none)"));
            }
        }
        let chosen: BTreeSet<String> = set.channels.iter().map(|c| sid(c).to_owned()).collect();
        for (id, s) in services {
            let mut d = doc("service", &**s);
            let conns: Vec<Value> = v
                .connections
                .get(id)
                .into_iter()
                .flatten()
                .filter(|c| chosen.contains(c.channel.as_str()))
                .map(|c| serde_json::to_value(c).expect("model types always serialise"))
                .collect();
            d["connections"] = Value::Array(conns);
            set.services.push(d);
        }
        if set.services.is_empty() {
            set.services
                .push(templates::service("readiness-service", None));
            set.synthesised
                .push("a service (the source has none the sample could take)".into());
        }
        // Always one sub-organisation of our own that owns nothing: archiving it (item 18)
        // needs none of the organisation's real structure.
        // Under the organisation's own business code where the source names one.
        let business_code = v
            .organizations
            .values()
            .find_map(|o| o.business_code.as_ref().map(ToString::to_string))
            .unwrap_or_else(|| FALLBACK_BUSINESS_CODE.to_owned());
        set.organizations.push(templates::organization(
            "readiness-organization",
            &business_code,
        ));
        set.synthesised
            .push("a sub-organisation that owns nothing, to archive in item 18".into());
        if set.services.iter().all(|s| connections(s).is_empty()) {
            set.connect_what_may();
        }
        set.apply_suffix();
        set
    }

    /// Connects every service to each channel it may use (same owner or visible to all).
    fn connect_what_may(&mut self) {
        for s in &mut self.services {
            let owner = s["organization"].clone();
            let conns: Vec<Value> = self
                .channels
                .iter()
                .filter(|c| c["organization"] == owner || c["visibleForAll"] == json!(true))
                .map(|c| json!({"channel": sid(c)}))
                .collect();
            s["connections"] = Value::Array(conns);
        }
        self.synthesised
            .push("connections (the sampled services had none)".into());
    }

    fn apply_suffix(&mut self) {
        let suffix = self.suffix.clone();
        for v in self
            .organizations
            .iter_mut()
            .chain(&mut self.services)
            .chain(&mut self.channels)
        {
            with_suffix(v, &suffix);
        }
    }

    /// The id a template document of this run gets.
    #[must_use]
    pub fn id(&self, base: &str) -> String {
        suffixed(&self.suffix, base)
    }

    /// The source documents of one stage.
    #[must_use]
    pub fn docs(&self, stage: &Stage) -> Vec<Value> {
        let mut out = self.organizations.clone();
        out.extend(
            self.channels
                .iter()
                .filter(|c| channel_type(c).is_some_and(|t| stage.channel_types.contains(&t)))
                .cloned(),
        );
        if stage.services {
            out.extend(self.services.iter().map(|s| {
                let mut s = s.clone();
                if !stage.connections {
                    s["connections"] = json!([]);
                }
                s
            }));
        }
        out.extend(stage.extra.iter().cloned());
        out
    }

    /// Edits the Finnish summary (or the first language's) of the documents `pick` selects.
    pub fn edit_summaries(&mut self, kind: ItemKind, channel: Option<ChannelType>) {
        let note = format!(" (muokattu {})", self.suffix);
        let list = match kind {
            ItemKind::Organization => &mut self.organizations,
            ItemKind::Service => &mut self.services,
            _ => &mut self.channels,
        };
        for v in list
            .iter_mut()
            .filter(|v| channel.is_none() || channel_type(v) == channel)
        {
            let Some(lv) = v["languageVersions"].as_object_mut() else {
                continue;
            };
            let lang = if lv.contains_key("fi") {
                "fi".to_owned()
            } else {
                lv.keys().next().cloned().unwrap_or_default()
            };
            if let Some(l) = lv.get_mut(&lang)
                && let Some(s) = l["summary"].as_str()
            {
                let room = MAX_SUMMARY - note.chars().count();
                l["summary"] = json!(format!("{}{note}", cut(s, room).trim_end()));
            }
        }
    }

    /// Gives every connection its additional information: a charge type, a description in
    /// the service's first language, and service hours where the channel is a service
    /// location (DVV's item 15).
    pub fn enrich_connections(&mut self) {
        let locations: BTreeSet<String> = self
            .channels
            .iter()
            .filter(|c| channel_type(c) == Some(ChannelType::ServiceLocation))
            .map(|c| sid(c).to_owned())
            .collect();
        let text = format!("Yhteyden lisätieto ({})", self.suffix);
        for s in &mut self.services {
            let lang = service_language(s);
            if let Some(conns) = s["connections"].as_array_mut() {
                for c in conns {
                    if c["chargeType"].is_null() {
                        c["chargeType"] = json!("Free");
                    }
                    if c["description"]
                        .as_object()
                        .is_none_or(serde_json::Map::is_empty)
                    {
                        c["description"] = json!({ lang.clone(): text.clone() });
                    }
                    let at_location = c["channel"]
                        .as_str()
                        .is_some_and(|id| locations.contains(id));
                    if at_location && c["serviceHours"].as_array().is_none_or(Vec::is_empty) {
                        c["serviceHours"] = json!([{"type": "Standard", "openingHours": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "09:00", "to": "15:00"}]}]);
                    }
                }
            }
        }
    }

    /// Edits every connection's additional information (charge type and description), and
    /// changes one service's set of channels (DVV's item 16).
    pub fn edit_connections(&mut self) {
        let text = format!("Yhteyden lisätieto muokattu ({})", self.suffix);
        for s in &mut self.services {
            let lang = service_language(s);
            if let Some(conns) = s["connections"].as_array_mut() {
                for c in conns {
                    c["chargeType"] = json!(if c["chargeType"] == json!("Charged") {
                        "Free"
                    } else {
                        "Charged"
                    });
                    c["description"] = json!({ lang.clone(): text.clone() });
                }
            }
        }
        // One set changes too: a channel joins the first service that may take one, or the
        // first service with two or more loses its last.
        for s in &mut self.services {
            let connected: BTreeSet<String> = connections(s)
                .iter()
                .filter_map(|c| c["channel"].as_str().map(str::to_owned))
                .collect();
            let owner = s["organization"].clone();
            let extra = self.channels.iter().find(|c| {
                !connected.contains(sid(c))
                    && (c["organization"] == owner || c["visibleForAll"] == json!(true))
            });
            if let Some(c) = extra {
                let add = json!({"channel": sid(c), "chargeType": "Free", "description": {service_language(s): text.clone()}});
                if let Some(conns) = s["connections"].as_array_mut() {
                    conns.push(add);
                }
                return;
            }
        }
        if let Some(s) = self.services.iter_mut().find(|s| connections(s).len() >= 2)
            && let Some(conns) = s["connections"].as_array_mut()
        {
            conns.pop();
        }
    }

    /// Takes one service, one channel (and every connection to it) and the sub-organisation
    /// that owns nothing out of the set (DVV's item 18).
    pub fn remove_some(&mut self) -> Vec<Removed> {
        let mut out = Vec::new();
        if let Some(s) = self.services.pop() {
            out.push(removed(ItemKind::Service, &s));
        }
        let owners: BTreeSet<String> = self
            .services
            .iter()
            .chain(&self.channels)
            .chain(&self.organizations)
            .flat_map(|v| [v["organization"].as_str(), v["parent"].as_str()])
            .flatten()
            .map(str::to_owned)
            .collect();
        if let Some(i) = self
            .organizations
            .iter()
            .rposition(|o| !owners.contains(sid(o)))
        {
            out.push(removed(
                ItemKind::Organization,
                &self.organizations.remove(i),
            ));
        }
        if let Some(c) = self.channels.pop() {
            let id = sid(&c).to_owned();
            for s in &mut self.services {
                if let Some(conns) = s["connections"].as_array_mut() {
                    conns.retain(|x| x["channel"].as_str() != Some(id.as_str()));
                }
            }
            out.push(removed(ItemKind::Channel, &c));
        }
        out
    }

    /// Every service's connections: (service id, channel id) pairs.
    #[must_use]
    pub fn connection_pairs(&self) -> Vec<(String, String)> {
        self.services
            .iter()
            .flat_map(|s| {
                connections(s)
                    .iter()
                    .filter_map(|c| c["channel"].as_str())
                    .map(|c| (sid(s).to_owned(), c.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

#[must_use]
pub fn removed(kind: ItemKind, v: &Value) -> Removed {
    Removed {
        kind,
        id: sid(v).to_owned(),
        channel_type: channel_type(v),
        name_fi: name_fi(v),
        owner: v["organization"]
            .as_str()
            .or_else(|| v["parent"].as_str())
            .map(str::to_owned),
    }
}

/// Our id with the suffix, within the 64 characters of an id.
fn suffixed(suffix: &str, id: &str) -> String {
    let room = MAX_ID - suffix.len() - 1;
    if id.len() <= room {
        format!("{id}-{suffix}")
    } else {
        let hash = crate::fingerprint::sha256_hex(id.as_bytes());
        let head = id[..room - 5].trim_end_matches('-');
        format!("{head}-{}-{suffix}", &hash[..4])
    }
}

/// Suffixes a document's id, its references and its names.
fn with_suffix(v: &mut Value, suffix: &str) {
    for key in ["id", "parent", "organization"] {
        if let Some(id) = v[key].as_str() {
            v[key] = json!(suffixed(suffix, id));
        }
    }
    // `get_mut`: indexing would add the key (as null) to documents without it.
    if let Some(conns) = v.get_mut("connections").and_then(Value::as_array_mut) {
        for c in conns {
            if let Some(id) = c["channel"].as_str() {
                c["channel"] = json!(suffixed(suffix, id));
            }
        }
    }
    let name_room = MAX_NAME - suffix.len() - 1;
    if let Some(lv) = v.get_mut("languageVersions").and_then(Value::as_object_mut) {
        for l in lv.values_mut() {
            if let Some(n) = l["name"].as_str() {
                l["name"] = json!(format!("{} {suffix}", cut(n, name_room).trim_end()));
            }
        }
    }
}

#[must_use]
pub fn connections(s: &Value) -> &[Value] {
    s["connections"].as_array().map_or(&[], Vec::as_slice)
}

fn service_language(s: &Value) -> String {
    match s["languageVersions"].as_object() {
        Some(lv) if lv.contains_key("fi") => "fi".into(),
        Some(lv) => lv.keys().next().cloned().unwrap_or_else(|| "fi".into()),
        None => "fi".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_set() -> TestSet {
        TestSet::from_source(&Validated::default(), "rdy-202612060130-ab12")
    }

    #[test]
    fn an_empty_source_gets_every_kind_from_templates_all_suffixed() {
        let set = empty_set();
        assert_eq!(set.channels.len(), 5);
        assert_eq!(set.services.len(), 1);
        assert_eq!(set.organizations.len(), 1);
        for v in set
            .organizations
            .iter()
            .chain(&set.services)
            .chain(&set.channels)
        {
            assert!(sid(v).ends_with("-rdy-202612060130-ab12"), "{v}");
            assert!(
                name_fi(v).unwrap().ends_with(" rdy-202612060130-ab12"),
                "{v}"
            );
        }
        assert!(
            !set.connection_pairs().is_empty(),
            "the service is connected"
        );
    }

    #[test]
    fn long_ids_and_names_stay_within_limits() {
        let set = empty_set();
        let id = set.id(&"x".repeat(64));
        assert!(id.len() <= 64, "{id}");
        assert!(id.ends_with(&set.suffix));
        assert_ne!(
            set.id(&"x".repeat(64)),
            set.id(&format!("{}y", "x".repeat(63)))
        );
    }

    #[test]
    fn edits_change_summaries_and_connections() {
        let mut set = empty_set();
        let before = set.clone();
        set.edit_summaries(ItemKind::Channel, Some(ChannelType::Phone));
        let changed: Vec<_> = set
            .channels
            .iter()
            .zip(&before.channels)
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.len(), 1);
        set.enrich_connections();
        let enriched = set.clone();
        set.edit_connections();
        assert_ne!(enriched.services, set.services);
        let removed = set.remove_some();
        assert_eq!(removed.len(), 3, "{removed:?}");
    }
}

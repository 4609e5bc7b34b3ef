//! A generator of realistic source snapshots: sub-organisations, all five channel types,
//! services with connections, Finnish and Swedish texts; and churn (edit, delete, add a
//! share of items). Used by tests, benchmarks and the soak. Deterministic per seed.

use serde_json::{Value, json};

const TOPICS: [(&str, &str); 12] = [
    ("Rakennuslupa", "Bygglov"),
    ("Kirjastokortti", "Bibliotekskort"),
    ("Kotihoito", "Hemvård"),
    ("Pysäköintilupa", "Parkeringstillstånd"),
    ("Jätehuolto", "Avfallshantering"),
    ("Uimahalli", "Simhall"),
    ("Nuorisotila", "Ungdomsgård"),
    ("Ympäristölupa", "Miljötillstånd"),
    ("Varhaiskasvatus", "Småbarnspedagogik"),
    ("Liikuntaneuvonta", "Motionsrådgivning"),
    ("Kotoutumispalvelut", "Integrationstjänster"),
    ("Katujen kunnossapito", "Gatuunderhåll"),
];

const CHANNEL_TYPES: [&str; 5] = [
    "EService",
    "WebPage",
    "Phone",
    "PrintableForm",
    "ServiceLocation",
];

/// How a snapshot is shaped.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Total items (organisations + channels + services), approximately.
    pub items: usize,
    pub organizations: usize,
    pub seed: u64,
}

impl Shape {
    #[must_use]
    pub fn new(items: usize, seed: u64) -> Self {
        Shape {
            items,
            organizations: (items / 50).clamp(3, 200),
            seed,
        }
    }
}

fn org(i: usize, revision: u32) -> Value {
    let parent = if i >= 3 {
        Some(format!("org-{}", i % 3))
    } else {
        None
    };
    let mut o = json!({
        "kind": "organization",
        "id": format!("org-{i}"),
        "organizationType": "Municipality",
        "municipality": "049",
        "businessCode": "0101263-6",
        "languageVersions": {
            "fi": {"name": format!("Toimiala {i}"), "summary": format!("Kunnan toimiala numero {i}, versio {revision}.")},
            "sv": {"name": format!("Sektor {i}"), "summary": format!("Kommunens sektor nummer {i}, version {revision}.")}
        }
    });
    if let Some(p) = parent {
        o["parent"] = json!(p);
    }
    o
}

fn channel(i: usize, orgs: usize, revision: u32) -> Value {
    let ty = CHANNEL_TYPES[i % CHANNEL_TYPES.len()];
    let org = format!("org-{}", i % orgs);
    let lv = |lang: &str, name: String, summary: String| {
        let mut v = json!({"name": name, "summary": summary, "description": format!("Asiointikanava {i} ({lang}), versio {revision}. Kanava palvelee kuntalaisia arkisin.")});
        if matches!(ty, "EService" | "WebPage") {
            v["webAddress"] = json!(format!("https://palvelut.esimerkkila.fi/{lang}/kanava-{i}"));
        }
        v
    };
    let mut c = json!({
        "kind": "channel",
        "id": format!("ch-{i}"),
        "channelType": ty,
        "organization": org,
        "serviceLanguages": ["fi", "sv"],
        "languageVersions": {
            "fi": lv("fi", format!("{ty} kanava {i}"), format!("Kanavan {i} tiivistelmä.")),
            "sv": lv("sv", format!("{ty} kanal {i}"), format!("Sammanfattning av kanal {i}."))
        }
    });
    match ty {
        "EService" => c["requiresAuthentication"] = json!(i.is_multiple_of(2)),
        "Phone" => {
            c["phones"] = json!([
                {"language": "fi", "type": "Phone", "prefix": "+358", "number": format!("9{:08}", i % 100_000_000), "chargeType": "FreeOfCharge"},
                {"language": "sv", "type": "Phone", "prefix": "+358", "number": format!("9{:08}", (i + 1) % 100_000_000), "chargeType": "FreeOfCharge"}
            ]);
        }
        "PrintableForm" => {
            c["formUrls"] = json!([
                {"language": "fi", "url": format!("https://www.esimerkkila.fi/lomakkeet/{i}.pdf"), "type": "PDF"},
                {"language": "sv", "url": format!("https://www.esimerkkila.fi/blanketter/{i}.pdf"), "type": "PDF"}
            ]);
        }
        "ServiceLocation" => {
            c["addresses"] = json!([{"type": "Location", "street": {"fi": "Kauppakatu", "sv": "Handelsgatan"}, "streetNumber": format!("{}", i % 200 + 1), "postalCode": "02100", "municipality": "049"}]);
            c["serviceHours"] = json!([{"type": "Standard", "openingHours": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "08:00", "to": "16:00"}]}]);
        }
        _ => {}
    }
    c
}

fn service(i: usize, orgs: usize, channels: usize, revision: u32) -> Value {
    let (fi, sv) = TOPICS[i % TOPICS.len()];
    let org_i = i % orgs;
    // Connect to up to three channels of the same organisation.
    let conns: Vec<Value> = (0..3)
        .map(|k| org_i + orgs * ((i / orgs + k) % (channels / orgs).max(1)))
        .filter(|c| *c < channels)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|c| json!({"channel": format!("ch-{c}")}))
        .collect();
    json!({
        "kind": "service",
        "id": format!("svc-{i}"),
        "organization": format!("org-{org_i}"),
        "serviceType": "Service",
        "fundingType": "PubliclyFunded",
        "serviceLanguages": ["fi", "sv"],
        "area": {"type": "LimitedArea", "municipalities": ["049"]},
        "targetGroups": ["KR1"],
        "serviceClasses": [format!("P{}.1", i % 27 + 1)],
        "ontologyTerms": [format!("http://www.yso.fi/onto/koko/p{}", 10_000 + i % 80_000)],
        "languageVersions": {
            "fi": {"name": format!("{fi} {i}"), "summary": format!("Palvelu {i}: {fi}, versio {revision}."), "description": format!("Tämä on palvelun {i} kuvaus. {fi} on kunnan järjestämä palvelu, jota voi hakea verkossa tai paikan päällä.")},
            "sv": {"name": format!("{sv} {i}"), "summary": format!("Tjänst {i}: {sv}, version {revision}."), "description": format!("Det här är beskrivningen av tjänst {i}. {sv} är en tjänst som kommunen ordnar.")}
        },
        "connections": conns
    })
}

/// A snapshot as source documents (one list per kind).
#[derive(Debug, Clone, Default)]
pub struct Docs {
    pub organizations: Vec<Value>,
    pub channels: Vec<Value>,
    pub services: Vec<Value>,
}

impl Docs {
    #[must_use]
    pub fn len(&self) -> usize {
        self.organizations.len() + self.channels.len() + self.services.len()
    }
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the documents as a `dir` source (one JSON file per kind and 1,000 items).
    pub fn write_dir(&self, dir: &std::path::Path) -> std::io::Result<()> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        for (name, list) in [
            ("organizations", &self.organizations),
            ("channels", &self.channels),
            ("services", &self.services),
        ] {
            for (n, chunk) in list.chunks(1000).enumerate() {
                let text = serde_json::to_string(chunk).map_err(std::io::Error::other)?;
                std::fs::write(dir.join(format!("{name}-{n:04}.json")), text)?;
            }
        }
        Ok(())
    }

    /// All documents as a parsed snapshot, without touching the disk.
    #[must_use]
    pub fn snapshot(&self) -> crate::source::Snapshot {
        let mut documents = Vec::with_capacity(self.len());
        let file: std::sync::Arc<str> = std::sync::Arc::from("generated");
        for (i, v) in self
            .organizations
            .iter()
            .chain(&self.channels)
            .chain(&self.services)
            .enumerate()
        {
            let origin = crate::source::Origin {
                file: file.clone(),
                index: Some(i),
            };
            documents.push(
                crate::source::parse_document(v.clone(), None, origin)
                    .expect("generated documents are well-formed"),
            );
        }
        crate::source::Snapshot {
            documents,
            unreadable: Vec::new(),
        }
    }
}

/// Generates a snapshot of about `shape.items` items: 5 % organisations (at least 3), 35 %
/// channels, 60 % services.
#[must_use]
pub fn generate(shape: Shape) -> Docs {
    let orgs = shape.organizations.min(shape.items / 3).max(3);
    let rest = shape.items.saturating_sub(orgs);
    let channels = (rest * 35 / 95).max(orgs);
    let services = rest.saturating_sub(channels);
    Docs {
        organizations: (0..orgs).map(|i| org(i, 0)).collect(),
        channels: (0..channels).map(|i| channel(i, orgs, 0)).collect(),
        services: (0..services)
            .map(|i| service(i, orgs, channels, 0))
            .collect(),
    }
}

/// What churn did, so tests can count the writes it should cause.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Churned {
    pub edited: usize,
    pub deleted: usize,
    pub added: usize,
}

/// Edits, deletes and adds about `share` of the services (each a third), deterministically.
/// Channels and organisations are left alone so that no connection breaks.
pub fn churn(docs: &mut Docs, share: f64, seed: u64, round: u32) -> Churned {
    let mut rng =
        fastrand::Rng::with_seed(seed ^ u64::from(round).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let n = ((docs.services.len() as f64) * share).round() as usize;
    let per = (n / 3).max(1);
    let mut out = Churned::default();
    // Distinct services: the first `per` are edited, the next `per` deleted.
    let mut order: Vec<usize> = (0..docs.services.len()).collect();
    rng.shuffle(&mut order);
    let per = per.min(order.len() / 2);
    for &i in &order[..per] {
        let s = &mut docs.services[i];
        let id = s["id"].as_str().unwrap_or("").to_owned();
        s["languageVersions"]["fi"]["summary"] =
            json!(format!("Palvelu {id} muuttui kierroksella {round}."));
        out.edited += 1;
    }
    let mut doomed: Vec<usize> = order[per..2 * per].to_vec();
    doomed.sort_unstable_by(|a, b| b.cmp(a));
    for i in doomed {
        docs.services.swap_remove(i);
        out.deleted += 1;
    }
    let orgs = docs.organizations.len();
    let channels = docs.channels.len();
    for k in 0..per {
        let id = 1_000_000 + round as usize * 10_000 + k;
        docs.services.push(service(id, orgs, channels, round));
        out.added += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_snapshots_are_valid() {
        let docs = generate(Shape::new(300, 1));
        assert!(docs.len() >= 290 && docs.len() <= 310, "{}", docs.len());
        let v = crate::validate::validate(
            &docs.snapshot(),
            &crate::validate::ValidateOptions::default(),
        );
        assert_eq!(
            v.errors(),
            0,
            "{:#?}",
            v.findings.iter().take(5).collect::<Vec<_>>()
        );
        assert_eq!(v.valid_count(), docs.len());
    }
}

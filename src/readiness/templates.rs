//! Source documents the readiness test adds when the organisation's source lacks a kind
//! DVV's list asks for (a sub-organisation, a service, a channel type), and the
//! deliberately broken documents of the field-correctness check. Finnish only, so that
//! any test organisation can hold them. Independent of `synth`, which a production build
//! lacks.

use crate::model::ChannelType;
use serde_json::{Value, json};

/// A sub-organisation of the main organisation, under the business code `business_code`
/// (v12 requires one).
#[must_use]
pub fn organization(id: &str, business_code: &str) -> Value {
    json!({
        "kind": "organization",
        "id": id,
        "organizationType": "Organization",
        "businessCode": business_code,
        "area": {"type": "LimitedArea", "municipalities": ["049"]},
        "languageVersions": {
            "fi": {"name": "Testitoimiala", "summary": "Teknisen valmiuden testin alaorganisaatio."}
        }
    })
}

/// A service of `organization` (the main organisation when `None`).
#[must_use]
pub fn service(id: &str, organization: Option<&str>) -> Value {
    let mut s = json!({
        "kind": "service",
        "id": id,
        "serviceType": "Service",
        "fundingType": "PubliclyFunded",
        "serviceLanguages": ["fi"],
        "area": {"type": "LimitedArea", "municipalities": ["049"]},
        "targetGroups": ["KR1"],
        "serviceClasses": ["P1.1"],
        "ontologyTerms": ["http://www.yso.fi/onto/koko/p10000"],
        "languageVersions": {
            "fi": {
                "name": "Testipalvelu",
                "summary": "Teknisen valmiuden testin palvelu.",
                "description": "Tämä palvelu on luotu PTV:n teknisen valmiuden testiä varten. Sitä ei ole tarkoitettu asiakkaille."
            }
        },
        "connections": []
    });
    if let Some(o) = organization {
        s["organization"] = json!(o);
    }
    s
}

/// A channel of type `t`, owned by the main organisation and visible to all, so that any
/// service of the test set may connect to it.
#[must_use]
pub fn channel(id: &str, t: ChannelType) -> Value {
    let mut lv = json!({
        "name": format!("Testikanava {}", t.as_str()),
        "summary": "Teknisen valmiuden testin asiointikanava.",
        "description": "Tämä kanava on luotu PTV:n teknisen valmiuden testiä varten. Kanava palvelee arkisin."
    });
    if matches!(t, ChannelType::EService | ChannelType::WebPage) {
        lv["webAddress"] = json!(format!("https://www.example.fi/testi/{}", t.as_str()));
    }
    let mut c = json!({
        "kind": "channel",
        "id": id,
        "channelType": t.as_str(),
        "serviceLanguages": ["fi"],
        "visibleForAll": true,
        "languageVersions": {"fi": lv}
    });
    match t {
        ChannelType::EService => c["requiresAuthentication"] = json!(false),
        ChannelType::Phone => {
            c["phones"] = json!([{"language": "fi", "type": "Phone", "prefix": "+358", "number": "912345678", "chargeType": "FreeOfCharge"}]);
        }
        ChannelType::PrintableForm => {
            c["formUrls"] = json!([{"language": "fi", "url": "https://www.example.fi/testi/lomake.pdf", "type": "PDF"}]);
        }
        ChannelType::ServiceLocation => {
            c["addresses"] = json!([{"type": "Location", "street": {"fi": "Testikatu"}, "streetNumber": "1", "postalCode": "02100", "municipality": "049"}]);
            c["serviceHours"] = json!([{"type": "Standard", "openingHours": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "08:00", "to": "16:00"}]}]);
        }
        ChannelType::WebPage => {}
    }
    c
}

/// One deliberately broken document: what is wrong with it, in DVV's terms.
pub struct Broken {
    pub what: &'static str,
    pub doc: Value,
}

/// Documents that break PTV's field rules (length, format, required, unknown field),
/// each in one way; `id` gives each its own id.
#[must_use]
pub fn broken(id: impl Fn(&str) -> String) -> Vec<Broken> {
    // Each under its own name, so that no document is also refused as a duplicate.
    let named = |mut doc: Value| {
        let name = doc["id"].clone();
        doc["languageVersions"]["fi"]["name"] = name;
        doc
    };
    let mut too_long = service(&id("too-long-name"), None);
    too_long["languageVersions"]["fi"]["name"] = json!("Liian pitkä nimi ".repeat(7));
    let mut summary_is_name = named(service(&id("summary-is-name"), None));
    summary_is_name["languageVersions"]["fi"]["summary"] =
        summary_is_name["languageVersions"]["fi"]["name"].clone();
    let mut no_classes = named(service(&id("no-service-classes"), None));
    no_classes["serviceClasses"] = json!([]);
    let mut bad_phone = named(channel(&id("bad-phone-number"), ChannelType::Phone));
    bad_phone["phones"][0]["number"] = json!("09-123 ABC");
    let mut bad_postal = named(channel(
        &id("bad-postal-code"),
        ChannelType::ServiceLocation,
    ));
    bad_postal["addresses"][0]["postalCode"] = json!("021");
    let mut unknown = named(service(&id("unknown-field"), None));
    unknown["serviceColour"] = json!("blue");
    vec![
        Broken {
            what: "length: a name over 100 characters",
            doc: too_long,
        },
        Broken {
            what: "rule: summary equal to the name",
            doc: summary_is_name,
        },
        Broken {
            what: "required: no service classes",
            doc: no_classes,
        },
        Broken {
            what: "format: a phone number with letters",
            doc: bad_phone,
        },
        Broken {
            what: "format: a postal code of 3 digits",
            doc: bad_postal,
        },
        Broken {
            what: "schema: a field PTV does not know",
            doc: unknown,
        },
    ]
}

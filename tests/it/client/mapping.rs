//! Model → wire bodies: v11 in-models (URIs, areas, delete flags) and v12 bodies that
//! validate against DVV's official request schemas.

use ptv_sync::model::{Channel, ChannelType, ItemKind, Organization, Service};
use ptv_sync::ptv::v12::routes::body_schema;
use ptv_sync::ptv::{v11, v12};
use serde_json::{Value, json};

const ORG: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
const PARENT: &str = "5a1e0000-0000-4000-8000-000000000001";

pub fn service_json() -> Value {
    json!({
        "id": "building-permit",
        "serviceType": "PermitOrObligation",
        "fundingType": "PubliclyFunded",
        "chargeType": "Charged",
        "serviceLanguages": ["fi", "sv"],
        "area": {"type": "LimitedArea", "municipalities": ["049"], "wellbeingServicesCounties": ["05"]},
        "targetGroups": ["KR1", "KR1.2"],
        "serviceClasses": ["P3.1"],
        "ontologyTerms": ["http://www.yso.fi/onto/koko/p37924"],
        "lifeEvents": ["KE1"],
        "industrialClasses": ["41200"],
        "languageVersions": {
            "fi": {
                "name": "Rakennuslupa",
                "summary": "Rakennuslupa tarvitaan uuden rakennuksen rakentamiseen.",
                "description": "Rakennuslupaa haetaan kunnan rakennusvalvonnasta.",
                "userInstructions": "Hae lupaa Lupapisteessä.",
                "conditions": "Rakennuspaikka hallinnassa.",
                "keywords": ["rakentaminen", "lupa"]
            },
            "sv": {
                "name": "Bygglov",
                "alternativeName": "Lov att bygga",
                "summary": "Bygglov behövs för att bygga en ny byggnad.",
                "description": "Bygglov söks hos byggnadstillsynen."
            }
        }
    })
}

fn service(v: Value) -> Service {
    serde_json::from_value(v).unwrap()
}

pub fn channel_json(t: ChannelType) -> Value {
    let mut c = json!({
        "id": format!("ch-{t}"),
        "channelType": t.as_str(),
        "serviceLanguages": ["fi"],
        "visibleForAll": true,
        "languageVersions": {"fi": {
            "name": format!("Kanava {t}"),
            "summary": "Lyhyt kuvaus kanavasta.",
            "description": "Pidempi kuvaus kanavasta ja sen käytöstä."
        }}
    });
    let fi = &mut c["languageVersions"]["fi"];
    match t {
        ChannelType::EService | ChannelType::WebPage => {
            fi["webAddress"] = json!("https://www.lupapiste.fi");
            fi["accessibility"] = json!({"level": "PartiallyCompliant", "wcagLevel": "LevelA",
                "statementUrl": "https://www.lupapiste.fi/saavutettavuus", "statementName": "Saavutettavuusseloste"});
        }
        _ => {}
    }
    match t {
        ChannelType::EService => {
            c["requiresAuthentication"] = json!(true);
            c["requiresSignature"] = json!(true);
            c["signatureQuantity"] = json!(2);
        }
        ChannelType::Phone => {
            c["phones"] = json!([
                {"language": "fi", "type": "Phone", "prefix": "+358", "number": "912345678", "chargeType": "Chargeable"},
                {"language": "fi", "type": "Phone", "number": "0800123456", "chargeType": "FreeOfCharge"}
            ]);
        }
        ChannelType::PrintableForm => {
            c["formUrls"] =
                json!([{"language": "fi", "url": "https://example.fi/lomake.pdf", "type": "PDF"}]);
        }
        ChannelType::ServiceLocation => {
            c["addresses"] = json!([{"type": "Location", "street": {"fi": "Kauppakatu"}, "streetNumber": "1",
                "postalCode": "00100", "municipality": "091", "latitude": 6_672_000.0, "longitude": 385_000.0}]);
            c["phones"] = json!([{"language": "fi", "type": "Fax", "prefix": "+358", "number": "91234567", "chargeType": "Chargeable"}]);
            c["emails"] = json!([{"language": "fi", "value": "neuvonta@example.fi"}]);
            c["serviceHours"] = json!([{"type": "Standard", "openingHours": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "08:00", "to": "16:00"}]}]);
        }
        ChannelType::WebPage => {}
    }
    c
}

fn channel(t: ChannelType) -> Channel {
    serde_json::from_value(channel_json(t)).unwrap()
}

fn organization(v: Value) -> Organization {
    serde_json::from_value(v).unwrap()
}

fn state_org() -> Value {
    json!({
        "id": "agency", "organizationType": "State", "businessCode": "1234567-8",
        "area": {"type": "WholeCountry"},
        "languageVersions": {"fi": {"name": "Virasto", "summary": "Valtion virasto."}},
        "emails": [{"language": "fi", "value": "kirjaamo@example.fi"}],
        "webPages": [{"language": "fi", "name": "Kotisivu", "url": "https://example.fi"}]
    })
}

#[test]
fn v11_service_uses_uris_areas_and_full_localized_lists() {
    let m = v11::map::service(&service(service_json()), ORG);
    let b = &m.body;
    assert_eq!(b["type"], "PermitOrObligation");
    assert_eq!(b["serviceChargeType"], "Chargeable");
    assert_eq!(
        b["targetGroups"],
        json!([
            "http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/KR1",
            "http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/KR1.2"
        ])
    );
    assert_eq!(
        b["serviceClasses"],
        json!(["http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P3.1"])
    );
    assert_eq!(
        b["lifeEvents"],
        json!(["http://uri.suomi.fi/codelist/ptv/ptvelti/code/KE1"])
    );
    assert_eq!(
        b["industrialClasses"],
        json!(["http://uri.suomi.fi/codelist/jhs/toimiala_1_20080101/code/41200"])
    );
    assert_eq!(b["areaType"], "LimitedType");
    assert_eq!(
        b["areas"],
        json!([{"type": "Municipality", "areaCodes": ["049"]}, {"type": "WellbeingServiceCounties", "areaCodes": ["05"]}])
    );
    let names = b["serviceNames"].as_array().unwrap();
    assert!(
        names.contains(
            &json!({"language": "sv", "type": "AlternativeName", "value": "Lov att bygga"})
        )
    );
    assert_eq!(names.len(), 3);
    let descriptions = b["serviceDescriptions"].as_array().unwrap();
    assert_eq!(
        descriptions.len(),
        5,
        "Summary+Description per language, UserInstruction in fi"
    );
    assert_eq!(
        b["requirements"],
        json!([{"language": "fi", "value": "Rakennuspaikka hallinnassa."}])
    );
    assert_eq!(b["keywords"].as_array().unwrap().len(), 2);
    assert_eq!(b["mainResponsibleOrganization"], ORG);
    assert_eq!(b["serviceProducers"][0]["organizations"], json!([ORG]));
    assert_eq!(b["deleteGeneralDescriptionId"], true);
    assert!(
        b.get("publishingStatus").is_none(),
        "the adapter adds the status"
    );
}

#[test]
fn v11_cleared_source_fields_set_delete_flags() {
    let mut v = service_json();
    v.as_object_mut().unwrap().remove("lifeEvents");
    v.as_object_mut().unwrap().remove("industrialClasses");
    v.as_object_mut().unwrap().remove("chargeType");
    v["languageVersions"]["fi"]
        .as_object_mut()
        .unwrap()
        .remove("keywords");
    v["area"] = json!({"type": "WholeCountryExceptAland"});
    let b = v11::map::service(&service(v), ORG).body;
    for flag in [
        "deleteAllLifeEvents",
        "deleteAllIndustrialClasses",
        "deleteServiceChargeType",
        "deleteAllKeywords",
    ] {
        assert_eq!(b[flag], true, "{flag}");
    }
    for gone in [
        "lifeEvents",
        "industrialClasses",
        "serviceChargeType",
        "keywords",
        "areas",
    ] {
        assert!(b.get(gone).is_none(), "{gone}");
    }
    assert_eq!(b["areaType"], "NationwideExceptAlandIslands");

    let mut org = state_org();
    org.as_object_mut().unwrap().remove("emails");
    let o = v11::map::organization(&organization(org), PARENT).body;
    assert_eq!(o["deleteAllEmails"], true);
    assert_eq!(o["deleteAllPhones"], true);
    assert_eq!(
        o["webPages"],
        json!([{"url": "https://example.fi", "value": "Kotisivu", "language": "fi"}])
    );
    assert_eq!(o["areaType"], "Nationwide");
    assert_eq!(o["parentOrganizationId"], PARENT);
}

#[test]
fn v11_channels_carry_their_type_specific_fields() {
    let eservice = v11::map::channel(&channel(ChannelType::EService), ORG, None).body;
    assert_eq!(
        eservice["webPage"],
        json!([{"language": "fi", "value": "https://www.lupapiste.fi"}])
    );
    assert_eq!(eservice["signatureQuantity"], "2");
    assert_eq!(
        eservice["accessibilityClassification"][0]["wcagLevel"],
        "LevelA"
    );
    assert_eq!(eservice["isVisibleForAll"], true);
    assert_eq!(
        eservice["serviceChannelNames"],
        json!([{"language": "fi", "value": "Kanava EService"}])
    );

    let area: ptv_sync::model::Area =
        serde_json::from_value(json!({"type": "WholeCountry"})).unwrap();
    let phone = v11::map::channel(&channel(ChannelType::Phone), ORG, Some(&area)).body;
    assert_eq!(
        phone["areaType"], "Nationwide",
        "the resolved area is used when the channel has none"
    );
    let numbers = phone["phoneNumbers"].as_array().unwrap();
    assert_eq!(numbers[0]["prefixNumber"], "+358");
    assert_eq!(numbers[1]["isFinnishServiceNumber"], true);
    assert_eq!(phone["deleteAllServiceHours"], true);

    let location = v11::map::channel(&channel(ChannelType::ServiceLocation), ORG, None).body;
    assert_eq!(location["serviceChannelNames"][0]["type"], "Name");
    assert_eq!(location["addresses"][0]["type"], "Location");
    assert_eq!(
        location["addresses"][0]["streetAddress"]["municipality"],
        "091"
    );
    assert_eq!(location["faxNumbers"][0]["number"], "91234567");
    assert_eq!(location["deleteAllPhoneNumbers"], true);
    assert_eq!(
        location["serviceHours"][0]["serviceHourType"],
        "DaysOfTheWeek"
    );
    assert_eq!(
        location["serviceHours"][0]["openingHour"][0]["dayTo"],
        "Friday"
    );

    let form = v11::map::channel(&channel(ChannelType::PrintableForm), ORG, None).body;
    assert_eq!(
        form["channelUrls"],
        json!([{"type": "PDF", "value": "https://example.fi/lomake.pdf", "language": "fi"}])
    );

    let conn: ptv_sync::model::Connection =
        serde_json::from_value(json!({"channel": "x", "description": {"fi": "Lisätieto"}}))
            .unwrap();
    let relation = v11::map::connection(&conn, "c-1");
    assert_eq!(relation["serviceChannelId"], "c-1");
    assert_eq!(
        relation["description"],
        json!([{"language": "fi", "type": "Description", "value": "Lisätieto"}])
    );
    assert_eq!(relation["deleteServiceChargeType"], true);
}

fn official() -> Value {
    serde_json::from_str(include_str!("../../../src/ptv/v12/openapi-beta.json")).unwrap()
}

/// Errors of `body` against `components.schemas.<name>` of the official document.
fn schema_errors(doc: &Value, name: &str, body: &Value) -> Vec<String> {
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": doc["components"],
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn assert_valid(doc: &Value, kind: ItemKind, t: Option<ChannelType>, create: bool, body: &Value) {
    let name = body_schema(kind, t, create).unwrap();
    let errors = schema_errors(doc, name, body);
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{body:#}");
}

fn with_external_id(mut body: Value) -> Value {
    body["externalId"] = json!("ptv-sync-service-1");
    body
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let doc = official();
    let mut body = v12::map::service(&service(service_json()), ORG).body;
    body["unknownKey"] = json!(1);
    assert!(!schema_errors(&doc, "PutServiceRequest", &body).is_empty());
    let mut body = v12::map::service(&service(service_json()), ORG).body;
    body["languageVersions"]["fi"]["name"] = json!(" leading blank");
    assert!(!schema_errors(&doc, "PutServiceRequest", &body).is_empty());
}

#[test]
fn v12_service_bodies_validate_against_the_official_schema() {
    let doc = official();
    for t in ["Service", "PermitOrObligation", "ProfessionalQualification"] {
        let mut v = service_json();
        v["serviceType"] = json!(t);
        let body = v12::map::service(&service(v), ORG).body;
        assert_valid(&doc, ItemKind::Service, None, false, &body);
        assert_valid(&doc, ItemKind::Service, None, true, &with_external_id(body));
    }
    let body = v12::map::service(&service(service_json()), ORG).body;
    assert_eq!(body["serviceType"], "PermitOrOtherObligation");
    assert_eq!(
        body["targetGroups"],
        json!(["KR1", "KR1.2"]),
        "v12 takes codes"
    );
    assert_eq!(body["area"]["wellbeingServicesCounties"], json!(["05"]));
}

#[test]
fn v12_organisation_bodies_validate_and_need_a_business_id() {
    let doc = official();
    let state = v12::map::organization(&organization(state_org()), PARENT)
        .unwrap()
        .body;
    assert_valid(&doc, ItemKind::Organization, None, false, &state);
    assert_valid(
        &doc,
        ItemKind::Organization,
        None,
        true,
        &with_external_id(state),
    );

    let municipality = json!({
        "id": "building-control", "organizationType": "Municipality", "municipality": "049",
        "businessCode": "0101263-6",
        "languageVersions": {"fi": {"name": "Rakennusvalvonta", "summary": "Rakennuslupien käsittely."}},
        "phones": [{"language": "fi", "prefix": "+358", "number": "981621", "chargeType": "Chargeable"}]
    });
    let m = v12::map::organization(&organization(municipality.clone()), PARENT)
        .unwrap()
        .body;
    assert_eq!(
        m["area"],
        json!({"areaType": "LimitedArea", "municipalities": ["049"]})
    );
    assert_valid(&doc, ItemKind::Organization, None, false, &m);

    let mut no_code = municipality;
    no_code.as_object_mut().unwrap().remove("businessCode");
    let err = v12::map::organization(&organization(no_code), PARENT).unwrap_err();
    assert_eq!(err.field, "businessCode");
}

#[test]
fn v12_channel_bodies_of_every_type_validate_against_the_official_schema() {
    let doc = official();
    let area: ptv_sync::model::Area =
        serde_json::from_value(json!({"type": "LimitedArea", "municipalities": ["091"]})).unwrap();
    for t in ChannelType::ALL {
        let mapped = v12::map::channel(&channel(t), ORG, Some(&area)).unwrap();
        assert_valid(&doc, ItemKind::Channel, Some(t), true, &mapped.body);
        assert_valid(&doc, ItemKind::Channel, Some(t), false, &mapped.body);
        if t == ChannelType::ServiceLocation {
            assert!(
                mapped.not_sent.iter().any(|n| n.contains("serviceHours")),
                "{:?}",
                mapped.not_sent
            );
            assert_eq!(
                mapped.body["languageVersions"]["fi"]["contactFaxNumbers"][0]["number"],
                "91234567"
            );
        } else {
            assert!(mapped.not_sent.is_empty(), "{t}: {:?}", mapped.not_sent);
        }
    }
    let e = v12::map::channel(&channel(ChannelType::EService), ORG, Some(&area))
        .unwrap()
        .body;
    assert_eq!(
        e["electronicSignature"],
        json!({"type": "Required", "numberOfRequiredSignatures": 2})
    );
    assert_eq!(e["allowedConnectionType"], "AllOrganizations");
    let p = v12::map::channel(&channel(ChannelType::Phone), ORG, Some(&area))
        .unwrap()
        .body;
    let numbers = &p["languageVersions"]["fi"]["phoneNumbers"];
    assert_eq!(numbers[0]["type"], "InternationalPhone");
    assert_eq!(numbers[1]["type"], "DomesticPhone");

    let mut sms = channel_json(ChannelType::Phone);
    sms["phones"] = json!([{"language": "fi", "type": "Sms", "prefix": "+358", "number": "401234567", "chargeType": "Chargeable"}]);
    let mapped =
        v12::map::channel(&serde_json::from_value(sms).unwrap(), ORG, Some(&area)).unwrap();
    assert!(mapped.not_sent.iter().any(|n| n.contains("SMS")));

    let mut no_area = channel(ChannelType::WebPage);
    no_area.area = None;
    assert_eq!(
        v12::map::channel(&no_area, ORG, None).unwrap_err().field,
        "area"
    );
}

#[test]
fn v12_connections_validate_and_report_what_does_not_fit() {
    let doc = official();
    let conn: ptv_sync::model::Connection = serde_json::from_value(
        json!({"channel": "x", "chargeType": "Free", "description": {"fi": "Lisätieto"}}),
    )
    .unwrap();
    let m = v12::map::connection(&conn, ORG, PARENT);
    assert_valid(&doc, ItemKind::Connections, None, true, &m.body);
    assert_eq!(m.not_sent.len(), 2);
}

/// `ptvId` names the PTV item for `adopt`; it is not a PTV field, so neither the stored
/// payload (and so the fingerprint) nor either version's body changes with it.
#[test]
fn a_ptv_id_changes_neither_the_payload_nor_the_fingerprint_nor_a_body() {
    use ptv_sync::fingerprint::fingerprint;
    use ptv_sync::model::{ApiVersion, Item};
    let guid = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10";
    let with_id = |mut v: Value| {
        v["ptvId"] = json!(guid);
        v
    };
    let mut location = channel_json(ChannelType::ServiceLocation);
    location["area"] = json!({"type": "LimitedArea", "municipalities": ["091"]});
    let pairs: Vec<(Item, Item)> = vec![
        (
            Item::Service(service(service_json())),
            Item::Service(service(with_id(service_json()))),
        ),
        (
            Item::Organization(organization(state_org())),
            Item::Organization(organization(with_id(state_org()))),
        ),
        (
            Item::Channel(serde_json::from_value(location.clone()).unwrap()),
            Item::Channel(serde_json::from_value(with_id(location)).unwrap()),
        ),
    ];
    for (plain, named) in &pairs {
        assert_eq!(named.ptv_id().map(|p| p.to_string()).as_deref(), Some(guid));
        let payload = |i: &Item| match i {
            Item::Service(s) => serde_json::to_value(s).unwrap(),
            Item::Organization(o) => serde_json::to_value(o).unwrap(),
            Item::Channel(c) => serde_json::to_value(c).unwrap(),
        };
        assert_eq!(payload(plain), payload(named));
        assert!(!payload(named).to_string().contains(guid));
        for api in [ApiVersion::V11, ApiVersion::V12] {
            assert_eq!(
                fingerprint(api, &payload(plain)),
                fingerprint(api, &payload(named))
            );
        }
        let bodies = |i: &Item| -> (Value, Value) {
            match i {
                Item::Service(s) => (
                    v11::map::service(s, ORG).body,
                    v12::map::service(s, ORG).body,
                ),
                Item::Organization(o) => (
                    v11::map::organization(o, PARENT).body,
                    v12::map::organization(o, PARENT).unwrap().body,
                ),
                Item::Channel(c) => (
                    v11::map::channel(c, ORG, None).body,
                    v12::map::channel(c, ORG, None).unwrap().body,
                ),
            }
        };
        let (a11, a12) = bodies(plain);
        let (b11, b12) = bodies(named);
        assert_eq!(a11, b11);
        assert_eq!(a12, b12);
        assert!(!b11.to_string().contains(guid) && !b12.to_string().contains(guid));
    }
}

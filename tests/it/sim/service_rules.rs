//! Rules 7–13, 16 and 19 on services (reference §7.2).

use super::support::{Sim, assert_400_key, id, keys, service, sub_org};
use serde_json::{Value, json};

async fn post(sim: &Sim, body: &Value) -> super::support::Answer {
    sim.post("/api/v11/Service", body).await
}

#[tokio::test]
async fn rule_07_service_post_lists_every_missing_required_field() {
    let sim = Sim::start().await;
    let a = post(&sim, &json!({"publishingStatus": "Draft"})).await;
    assert_eq!(a.status, 400);
    for key in [
        "Type",
        "FundingType",
        "ServiceNames",
        "ServiceDescriptions",
        "Languages",
        "AreaType",
        "ServiceProducers",
        "MainResponsibleOrganization",
    ] {
        assert!(
            keys(&a.body).contains(&key.to_owned()),
            "{key} missing in {}",
            a.text
        );
    }
}

#[tokio::test]
async fn rule_07_summary_and_description_are_required_for_each_language() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["serviceNames"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "Name", "language": "sv", "value": "A sv"}));
    let a = post(&sim, &body).await;
    assert_eq!(a.status, 400);
    let messages = a.body["ServiceDescriptions"].to_string();
    assert!(
        messages.contains("'Summary' was not found with language code 'sv'"),
        "{messages}"
    );
    assert!(
        messages.contains("'Description' was not found with language code 'sv'"),
        "{messages}"
    );
}

#[tokio::test]
async fn rule_08_publishing_without_general_description_needs_classifications() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body.as_object_mut().unwrap().remove("ontologyTerms");
    body["serviceClasses"] = json!([]);
    let a = post(&sim, &body).await;
    assert_400_key(&a, "ServiceClasses");
    assert_400_key(&a, "OntologyTerms");
    body["publishingStatus"] = json!("Draft");
    assert_eq!(post(&sim, &body).await.status, 200);
}

#[tokio::test]
async fn rule_08_at_most_four_service_classes_and_not_all_main_classes() {
    let sim = Sim::start().await;
    let class = |c: &str| format!("http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/{c}");
    let mut body = service(sim.org, "A", "a");
    body["serviceClasses"] = json!([
        class("P1.1"),
        class("P1.2"),
        class("P1.3"),
        class("P1.4"),
        class("P1.5")
    ]);
    assert_400_key(&post(&sim, &body).await, "ServiceClasses");
    body["serviceClasses"] = json!([class("P1"), class("P2")]);
    let a = post(&sim, &body).await;
    assert_eq!(
        a.body["ServiceClasses"],
        json!(["All the service classes are main service classes. Not allowed!"])
    );
    body["serviceClasses"] = json!([class("P1"), class("P2.1")]);
    assert_eq!(post(&sim, &body).await.status, 200);
}

#[tokio::test]
async fn rule_08_at_most_ten_ontology_terms_in_koko_format() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["ontologyTerms"] = (1..=11)
        .map(|i| format!("http://www.yso.fi/onto/koko/p{i}"))
        .collect();
    assert_400_key(&post(&sim, &body).await, "OntologyTerms");
    body["ontologyTerms"] = json!(["http://example.com/term"]);
    assert_400_key(&post(&sim, &body).await, "OntologyTerms[0]");
}

#[tokio::test]
async fn rule_08_target_group_kr2_needs_a_sub_group_and_industrial_classes_need_kr2() {
    let sim = Sim::start().await;
    let group = |c: &str| format!("http://uri.suomi.fi/codelist/ptv/ptvkohderyhmat/code/{c}");
    let mut body = service(sim.org, "A", "a");
    body["targetGroups"] = json!([group("KR2")]);
    assert_400_key(&post(&sim, &body).await, "TargetGroups");
    body["targetGroups"] = json!([group("KR1")]);
    body["industrialClasses"] =
        json!(["http://www.stat.fi/meta/luokitukset/toimiala/001-2008/01110"]);
    assert_400_key(&post(&sim, &body).await, "IndustrialClasses");
    body["targetGroups"] = json!([group("KR2"), group("KR2.1")]);
    assert_eq!(post(&sim, &body).await.status, 200);
}

#[tokio::test]
async fn rule_09_length_limits_reject_long_names_and_summaries() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, &"n".repeat(101), "a");
    let a = post(&sim, &body).await;
    assert_eq!(
        a.body["ServiceNames[0].Value"],
        json!(["Maximum length of property 'Value' for 'Name' must be '100'."])
    );
    body = service(sim.org, "A", "a");
    body["serviceDescriptions"][0]["value"] = json!("s".repeat(151));
    body["serviceDescriptions"][1]["value"] = json!("d".repeat(2501));
    let a = post(&sim, &body).await;
    assert_400_key(&a, "ServiceDescriptions[0].Value");
    assert_400_key(&a, "ServiceDescriptions[1].Value");
    body["keywords"] = json!([{"language": "fi", "value": "k".repeat(151)}]);
    assert_400_key(&post(&sim, &body).await, "Keywords[0].Value");
}

#[tokio::test]
async fn rule_10_only_data_languages_and_every_language_needs_required_lists() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["serviceNames"][0]["language"] = json!("ru");
    assert_400_key(&post(&sim, &body).await, "ServiceNames[0].Language");
    let mut body = service(sim.org, "A", "a");
    body["keywords"] = json!([{"language": "sv", "value": "nyckel"}]);
    let a = post(&sim, &body).await;
    assert_400_key(&a, "ServiceNames");
    assert_400_key(&a, "ServiceDescriptions");
}

#[tokio::test]
async fn rule_11_duplicate_language_type_pairs_are_400() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["serviceNames"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "Name", "language": "fi", "value": "B"}));
    let a = post(&sim, &body).await;
    assert!(
        a.body["ServiceNames"]
            .to_string()
            .contains("Localized duplicates"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn rule_11_service_name_is_unique_within_the_organisation() {
    let sim = Sim::start().await;
    sim.service("Sama nimi", "a").await;
    let a = post(&sim, &service(sim.org, "Sama nimi", "b")).await;
    assert_eq!(
        a.body["ServiceNames"],
        json!([
            "Value 'Sama nimi' of language code 'fi' already exists within organization. The name must be unique."
        ])
    );
    // An archived service frees its name.
    sim.put(
        "/api/v11/Service/sourceId/a",
        &json!({"publishingStatus": "Deleted"}),
    )
    .await;
    assert_eq!(
        post(&sim, &service(sim.org, "Sama nimi", "b")).await.status,
        200
    );
}

#[tokio::test]
async fn rule_12_summary_must_differ_from_name_when_publishing() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["serviceDescriptions"][0]["value"] = json!("A");
    assert_400_key(&post(&sim, &body).await, "ServiceDescriptions");
    body["publishingStatus"] = json!("Draft");
    assert_eq!(post(&sim, &body).await.status, 200);
}

#[tokio::test]
async fn rule_12_organisation_must_have_every_language_of_a_published_service() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["serviceNames"] = json!([{"type": "Name", "language": "se", "value": "A"}]);
    body["serviceDescriptions"] = json!([
        {"type": "Summary", "language": "se", "value": "S"},
        {"type": "Description", "language": "se", "value": "D"}]);
    let a = post(&sim, &body).await;
    assert!(
        a.body["MainResponsibleOrganization"]
            .to_string()
            .contains("'se' missing"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn rule_13_area_type_rules() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["areaType"] = json!("LimitedType");
    assert_400_key(&post(&sim, &body).await, "Areas");
    body["areaType"] = json!("Nationwide");
    body["areas"] = json!([{"type": "Municipality", "areaCodes": ["091"]}]);
    assert_400_key(&post(&sim, &body).await, "Areas");
    body["areaType"] = json!("LimitedType");
    assert_eq!(post(&sim, &body).await.status, 200);
}

#[tokio::test]
async fn rule_13_service_area_may_not_be_wider_than_its_organisations() {
    let sim = Sim::start().await;
    let mut org = sub_org(sim.org, "Paikallinen", "o");
    org["areaType"] = json!("LimitedType");
    org["subAreaType"] = json!("Municipality");
    org["areas"] = json!(["091"]);
    let o = sim.post("/api/v11/Organization", &org).await;
    assert_eq!(o.status, 200, "{}", o.text);
    let a = post(&sim, &service(id(&o.body), "A", "a")).await;
    assert_eq!(
        a.body["AreaType"],
        json!(["Area information type Nationwide is too wide."])
    );
}

#[tokio::test]
async fn rule_16_guid_path_parameter_is_400() {
    let sim = Sim::start().await;
    let a = sim
        .put(
            "/api/v11/Service/not-a-guid",
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_eq!(
        a.body,
        json!({"id": ["Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."]})
    );
    assert_eq!(sim.get("/api/v11/Service/123").await.status, 400);
}

#[tokio::test]
async fn rule_19_wrong_types_are_400_and_unknown_fields_are_ignored() {
    let sim = Sim::start().await;
    let mut body = service(sim.org, "A", "a");
    body["languages"] = json!("fi");
    assert_400_key(&post(&sim, &body).await, "Languages");
    let mut body = service(sim.org, "A", "a");
    body["somethingNew"] = json!({"x": 1});
    assert_eq!(post(&sim, &body).await.status, 200);
}

#[tokio::test]
async fn rule_19_writes_answer_200_with_the_full_v11_entity() {
    let sim = Sim::start().await;
    let a = post(&sim, &service(sim.org, "A", "a")).await;
    assert_eq!(a.status, 200);
    assert!(a.body["id"].is_string());
    assert_eq!(a.body["sourceId"], "a");
    assert_eq!(a.body["publishingStatus"], "Published");
    assert!(a.body["serviceChannels"].is_null());
    assert_eq!(a.body["serviceNames"][0]["value"], "A");
}

#[tokio::test]
async fn pascal_case_input_and_case_insensitive_routes_are_accepted() {
    let sim = Sim::start().await;
    sim.service("A", "a").await;
    let a = sim
        .put(
            "/api/v11/service/SourceId/a",
            &json!({"PublishingStatus": "Published", "FundingType": "MarketFunded"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["fundingType"], "MarketFunded");
    assert_eq!(
        sim.handle
            .stats()
            .count("PUT", "/api/v11/Service/sourceId/{sourceId}"),
        1
    );
}

#[tokio::test]
async fn list_by_organisation_pages_published_services_by_100() {
    let sim = Sim::start().await;
    for i in 0..101 {
        sim.service(&format!("Palvelu {i}"), &format!("s{i}")).await;
    }
    let mut draft = service(sim.org, "Luonnos", "draft");
    draft["publishingStatus"] = json!("Draft");
    post(&sim, &draft).await;
    let path = format!(
        "/api/v11/Service/list/organization?organizationId={}",
        sim.org
    );
    let first = sim.get(&path).await;
    assert_eq!(first.body["pageCount"], 2);
    assert_eq!(first.body["pageSize"], 100);
    assert_eq!(first.body["itemList"].as_array().unwrap().len(), 100);
    let second = sim.get(&format!("{path}&page=2")).await;
    assert_eq!(second.body["itemList"].as_array().unwrap().len(), 1);
    assert_eq!(sim.get(&format!("{path}&page=-1")).await.status, 400);
}

//! The v12 API per `v12-write-contract.md`, bodies checked against DVV's schemas.

use super::support::Sim;
use ptv_sync::sim::{PublishingStatus, SimKind};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

pub(super) fn v12_service(org: Uuid, name: &str, external_id: &str) -> Value {
    json!({
        "externalId": external_id,
        "organizationContentId": org,
        "targetGroups": ["KR1"],
        "industrialClasses": [],
        "lifeEvents": [],
        "ontologyTerms": ["http://www.yso.fi/onto/koko/p1234"],
        "serviceClasses": ["P3.1"],
        "otherResponsibleOrganizations": [],
        "producers": {
            "selfProducedProducers": {"organizations": [org]},
            "procuredProducers": {"organizations": [], "other": []},
            "otherProducers": {"organizations": [], "other": []}
        },
        "area": {"areaType": "WholeCountry"},
        "chargeType": null,
        "fundingType": "PubliclyFunded",
        "serviceLanguages": ["fi"],
        "generalDescriptionContentId": null,
        "serviceType": "Service",
        "languageVersions": {"fi": {
            "name": name,
            "alternativeName": null,
            "summary": "Lyhyt kuvaus",
            "description": "Pitkä kuvaus.",
            "userInstructions": null,
            "conditions": null,
            "legislationLinks": [],
            "freelyAssignedKeywords": [],
            "voucher": {"voucherType": "NotUsed"},
            "chargeTypeAdditionalInformation": null
        }}
    })
}

pub(super) fn put_body(create: &Value) -> Value {
    let mut body = create.clone();
    body.as_object_mut().unwrap().remove("externalId");
    body
}

pub(super) async fn create(sim: &Sim, name: &str, external_id: &str) -> Uuid {
    let a = sim
        .post("/api/v12/service", &v12_service(sim.org, name, external_id))
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    Uuid::parse_str(a.body["contentId"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn v12_every_call_needs_a_known_api_key() {
    let sim = Sim::start().await;
    for key in [None, Some("wrong")] {
        let mut request = sim
            .client
            .get(sim.url(&format!("/api/v12/organization/{}", sim.org)));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 401);
        assert!(body["title"].is_string() && body["requestId"].is_string());
    }
    assert_eq!(
        sim.get(&format!("/api/v12/organization/{}", sim.org))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn v12_writes_need_a_bearer_token() {
    let sim = Sim::start().await;
    let a = sim
        .call(
            Method::POST,
            "/api/v12/service",
            None,
            Some(&v12_service(sim.org, "A", "a")),
        )
        .await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
}

#[tokio::test]
async fn v12_valid_service_is_created_201_and_shares_the_v11_catalogue() {
    let sim = Sim::start().await;
    let id = create(&sim, "Uusi palvelu", "ext-1").await;
    let e = sim.handle.entity(id).unwrap();
    assert_eq!(e.kind, SimKind::Service);
    assert_eq!(e.api, "v12");
    assert_eq!(e.external_id.as_deref(), Some("ext-1"));
    assert_eq!(e.name_fi.as_deref(), Some("Uusi palvelu"));
    assert_eq!(sim.get(&format!("/api/v12/service/{id}")).await.status, 200);
    assert_eq!(sim.get(&format!("/api/v11/Service/{id}")).await.status, 200);
}

#[tokio::test]
async fn v12_invalid_body_is_400_with_error_paths() {
    let sim = Sim::start().await;
    let mut body = v12_service(sim.org, "A", "a");
    body["languageVersions"]["fi"]["summary"] = json!("s".repeat(151));
    body["unknownField"] = json!(1);
    let a = sim.post("/api/v12/service", &body).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.body["status"], 400);
    let errors = a.body["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(
        errors
            .iter()
            .all(|e| e["path"].is_string() && e["message"].is_string())
    );
    assert!(
        sim.handle
            .catalogue()
            .iter()
            .all(|e| e.kind != SimKind::Service)
    );
}

#[tokio::test]
async fn v12_duplicate_external_id_is_409() {
    let sim = Sim::start().await;
    create(&sim, "A", "same").await;
    let a = sim
        .post("/api/v12/service", &v12_service(sim.org, "B", "same"))
        .await;
    assert_eq!(a.status, 409, "{}", a.text);
    assert_eq!(a.body["status"], 409);
}

#[tokio::test]
async fn v12_name_is_unique_within_the_organisation() {
    let sim = Sim::start().await;
    create(&sim, "Sama", "a").await;
    let a = sim
        .post("/api/v12/service", &v12_service(sim.org, "Sama", "b"))
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body["errors"][0]["path"], "/languageVersions/fi/name");
}

#[tokio::test]
async fn v12_archive_restore_and_archived_list() {
    let sim = Sim::start().await;
    let id = create(&sim, "A", "a").await;
    let path = format!("/api/v12/service/{id}");
    let del = sim
        .call(Method::DELETE, &path, Some(&sim.token), None)
        .await;
    assert_eq!(del.status, 204);
    let gone = sim.get(&path).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["reason"], "Unknown");
    let archived = sim
        .get("/api/v12/service/archived?archivedAtOrAfter=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(archived.body["totalItems"], 1);
    let restore = sim
        .put(&path, &put_body(&v12_service(sim.org, "A", "a")))
        .await;
    assert_eq!(restore.status, 200, "{}", restore.text);
    assert_eq!(
        sim.handle.entity(id).unwrap().status,
        PublishingStatus::Published
    );
}

#[tokio::test]
async fn v12_update_is_200_and_blocked_while_modified() {
    let sim = Sim::start().await;
    let id = create(&sim, "A", "a").await;
    let path = format!("/api/v12/service/{id}");
    let body = put_body(&v12_service(sim.org, "A muutettu", "a"));
    assert_eq!(sim.put(&path, &body).await.status, 200);
    assert_eq!(sim.handle.entity(id).unwrap().versions, 2);
    sim.handle.set_modified(id);
    assert_eq!(sim.put(&path, &body).await.status, 409);
}

#[tokio::test]
async fn v12_search_by_external_id_and_organisation() {
    let sim = Sim::start().await;
    let id = create(&sim, "A", "find-me").await;
    create(&sim, "B", "other").await;
    let a = sim.get("/api/v12/service/search?externalId=find-me").await;
    assert_eq!(a.body["totalItems"], 1);
    assert_eq!(a.body["items"][0]["contentId"], id.to_string());
    let a = sim
        .get(&format!(
            "/api/v12/service/search?organizationContentId={}&pageSize=1&page=2",
            sim.org
        ))
        .await;
    assert_eq!(a.body["totalItems"], 2);
    assert_eq!(a.body["totalPages"], 2);
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        sim.get("/api/v12/service/search?pageSize=101").await.status,
        400
    );
}

#[tokio::test]
async fn v12_connect_and_disconnect() {
    let sim = Sim::start().await;
    let s = create(&sim, "A", "a").await;
    let c = sim.echannel("C", "c").await;
    let a = sim
        .post(
            "/api/v12/connection",
            &json!({"serviceContentId": s, "channelContentId": c}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(
        sim.get(&format!("/api/v12/connection/{s}/{c}"))
            .await
            .status,
        200
    );
    let d = sim
        .call(
            Method::DELETE,
            &format!("/api/v12/connection/{s}/{c}"),
            Some(&sim.token),
            None,
        )
        .await;
    assert_eq!(d.status, 204);
    assert!(sim.handle.entity(s).unwrap().connections.is_empty());
}

#[tokio::test]
async fn v12_channel_list_by_organisation() {
    let sim = Sim::start().await;
    sim.echannel("C1", "c1").await;
    sim.echannel("C2", "c2").await;
    let a = sim
        .get(&format!(
            "/api/v12/service-channel/search?organizationContentId={}&page=1&pageSize=10",
            sim.org
        ))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["totalItems"], 2);
    assert_eq!(a.body["page"], 1);
}

fn v12_sub_org(parent: Uuid, name: &str, external_id: &str) -> Value {
    json!({
        "externalId": external_id,
        "parentOrganizationContentId": parent,
        "organizationType": "State",
        "businessId": "1234567-8",
        "eInvoiceAddresses": [],
        "contactAddresses": {"foreignAddresses": [], "postOfficeBoxAddresses": [], "streetAddresses": []},
        "location": {"foreignAddresses": [], "streetAddresses": [], "otherAddresses": []},
        "oid": null,
        "area": {"areaType": "WholeCountry"},
        "languageVersions": {"fi": {
            "name": name,
            "alternativeName": null,
            "isAlternativeNamePrimary": false,
            "description": null,
            "summary": "Alaorganisaatio",
            "contactEmails": [],
            "contactWebPages": [],
            "contactPhoneNumbers": []
        }}
    })
}

pub(super) fn v12_eservice(org: Uuid, name: &str) -> Value {
    json!({
        "organizationContentId": org,
        "allowedConnectionType": "AllOrganizations",
        "serviceLanguages": ["fi"],
        "area": {"areaType": "WholeCountry"},
        "electronicSignature": {"type": "NotRequired"},
        "electronicIdentification": "Required",
        "languageVersions": {"fi": {
            "name": name,
            "summary": "Asioi verkossa",
            "description": "Verkkoasiointi.",
            "accessibilityClassificationLevel": "Unknown",
            "webAddress": {"url": "https://asiointi.example.fi/", "name": "Asiointi"},
            "attachmentLinks": [],
            "supportEmails": [],
            "supportPhoneNumbers": []
        }}
    })
}

#[tokio::test]
async fn v12_sub_organisation_create_and_archive_order() {
    let sim = Sim::start().await;
    let a = sim
        .post(
            "/api/v12/organization",
            &v12_sub_org(sim.org, "Virasto", "org-1"),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let org = Uuid::parse_str(a.body["contentId"].as_str().unwrap()).unwrap();
    assert_eq!(
        sim.handle.entity(org).unwrap().organization_id,
        Some(sim.org)
    );
    let svc = sim
        .post(
            "/api/v12/service",
            &v12_service(org, "Viraston palvelu", "s"),
        )
        .await;
    assert_eq!(svc.status, 201, "{}", svc.text);
    let org_path = format!("/api/v12/organization/{org}");
    let refused = sim
        .call(Method::DELETE, &org_path, Some(&sim.token), None)
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    let svc_path = format!(
        "/api/v12/service/{}",
        svc.body["contentId"].as_str().unwrap()
    );
    assert_eq!(
        sim.call(Method::DELETE, &svc_path, Some(&sim.token), None)
            .await
            .status,
        204
    );
    assert_eq!(
        sim.call(Method::DELETE, &org_path, Some(&sim.token), None)
            .await
            .status,
        204
    );
    let found = sim
        .get("/api/v12/organization/search?externalId=org-1")
        .await;
    assert_eq!(found.body["totalItems"], 0);
    let archived = sim
        .get("/api/v12/organization/archived?archivedAtOrAfter=2000-01-01T00:00:00Z")
        .await;
    assert_eq!(archived.body["totalItems"], 1);
}

#[tokio::test]
async fn v12_e_service_channel_create_update_and_type_path() {
    let sim = Sim::start().await;
    let a = sim
        .post(
            "/api/v12/service-channel/e-service",
            &v12_eservice(sim.org, "Verkkoasiointi"),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let id = Uuid::parse_str(a.body["contentId"].as_str().unwrap()).unwrap();
    assert_eq!(
        sim.handle.entity(id).unwrap().kind,
        SimKind::Channel(ptv_sync::model::ChannelType::EService)
    );
    let dup = sim
        .post(
            "/api/v12/service-channel/e-service",
            &v12_eservice(sim.org, "Verkkoasiointi"),
        )
        .await;
    assert_eq!(dup.status, 400, "{}", dup.text);
    let put = sim
        .put(
            &format!("/api/v12/service-channel/e-service/{id}"),
            &v12_eservice(sim.org, "Uusi nimi"),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.text);
    let wrong_type = sim
        .put(
            &format!("/api/v12/service-channel/web-page/{id}"),
            &v12_eservice(sim.org, "X"),
        )
        .await;
    assert_eq!(
        wrong_type.status, 400,
        "the body is not a web-page body: {}",
        wrong_type.text
    );
    assert_eq!(
        sim.get(&format!("/api/v11/ServiceChannel/{id}"))
            .await
            .status,
        200
    );
}

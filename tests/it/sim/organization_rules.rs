//! Rules 14 and 16 on organisations (reference §7.3).

use super::support::{Sim, assert_400_key, id, sub_org};
use serde_json::json;

#[tokio::test]
async fn rule_14_api_user_can_post_only_sub_organisations() {
    let sim = Sim::start().await;
    let mut body = sub_org(sim.org, "Ala", "o");
    body.as_object_mut().unwrap().remove("parentOrganizationId");
    let a = sim.post("/api/v11/Organization", &body).await;
    assert_eq!(
        a.body["Organization"],
        json!(["User has no rights to create this entity!"])
    );
    let mut body = sub_org(uuid::Uuid::new_v4(), "Ala", "o");
    body["organizationType"] = json!("Company");
    assert_400_key(
        &sim.post("/api/v11/Organization", &body).await,
        "ParentOrganizationId",
    );
}

#[tokio::test]
async fn rule_14_municipality_code_iff_type_municipality() {
    let sim = Sim::start().await;
    let mut body = sub_org(sim.org, "Ala", "o");
    body["organizationType"] = json!("Municipality");
    assert_400_key(
        &sim.post("/api/v11/Organization", &body).await,
        "Municipality",
    );
    body["municipality"] = json!("091");
    assert_eq!(sim.post("/api/v11/Organization", &body).await.status, 200);
    let mut body = sub_org(sim.org, "Toinen", "o2");
    body["municipality"] = json!("091");
    assert_400_key(
        &sim.post("/api/v11/Organization", &body).await,
        "Municipality",
    );
}

#[tokio::test]
async fn rule_14_regional_organisation_needs_limited_type_with_areas() {
    let sim = Sim::start().await;
    let mut body = sub_org(sim.org, "Alue", "o");
    body["organizationType"] = json!("RegionalOrganization");
    assert_400_key(&sim.post("/api/v11/Organization", &body).await, "AreaType");
    body["areaType"] = json!("LimitedType");
    body["subAreaType"] = json!("Region");
    assert_400_key(&sim.post("/api/v11/Organization", &body).await, "Areas");
    body["areas"] = json!(["01"]);
    assert_eq!(sim.post("/api/v11/Organization", &body).await.status, 200);
}

#[tokio::test]
async fn rule_14_summary_required_for_each_language() {
    let sim = Sim::start().await;
    let mut body = sub_org(sim.org, "Ala", "o");
    body["organizationNames"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "Name", "language": "sv", "value": "Under"}));
    assert_400_key(
        &sim.post("/api/v11/Organization", &body).await,
        "OrganizationDescriptions",
    );
}

#[tokio::test]
async fn rule_09_organisation_names_are_truncated_not_refused() {
    let sim = Sim::start().await;
    let a = sim
        .post(
            "/api/v11/Organization",
            &sub_org(sim.org, &"x".repeat(130), "o"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let e = sim.handle.entity(id(&a.body)).unwrap();
    assert_eq!(e.name_fi.unwrap().len(), 100);
}

#[tokio::test]
async fn rule_16_business_code_format() {
    let sim = Sim::start().await;
    let mut body = sub_org(sim.org, "Ala", "o");
    body["businessCode"] = json!("1234567-89");
    assert_400_key(
        &sim.post("/api/v11/Organization", &body).await,
        "BusinessCode",
    );
    body["businessCode"] = json!("1234567-8");
    assert_eq!(sim.post("/api/v11/Organization", &body).await.status, 200);
}

#[tokio::test]
async fn organisation_get_shows_published_only() {
    let sim = Sim::start().await;
    assert_eq!(
        sim.get(&format!("/api/v11/Organization/{}", sim.org))
            .await
            .status,
        200
    );
    let mut body = sub_org(sim.org, "Ala", "o");
    body["publishingStatus"] = json!("Draft");
    let draft = id(&sim.post("/api/v11/Organization", &body).await.body);
    assert_eq!(
        sim.get(&format!("/api/v11/Organization/{draft}"))
            .await
            .status,
        404
    );
}

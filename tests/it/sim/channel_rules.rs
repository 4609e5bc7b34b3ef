//! Rules 11, 15 and 16 on service channels (reference §7.4).

use super::support::{Sim, assert_400_key, echannel, phone_channel, service_location};
use serde_json::json;

#[tokio::test]
async fn rule_15_echannel_requires_web_page_accessibility_and_authentication() {
    let sim = Sim::start().await;
    let mut body = echannel(sim.org, "E", "e");
    let obj = body.as_object_mut().unwrap();
    obj.remove("webPage");
    obj.remove("accessibilityClassification");
    obj.remove("requiresAuthentication");
    let a = sim.post("/api/v11/ServiceChannel/EChannel", &body).await;
    for key in [
        "WebPage",
        "AccessibilityClassification",
        "RequiresAuthentication",
    ] {
        assert_400_key(&a, key);
    }
}

#[tokio::test]
async fn rule_15_signature_quantity_required_when_signed() {
    let sim = Sim::start().await;
    let mut body = echannel(sim.org, "E", "e");
    body["requiresSignature"] = json!(true);
    assert_400_key(
        &sim.post("/api/v11/ServiceChannel/EChannel", &body).await,
        "SignatureQuantity",
    );
    body["signatureQuantity"] = json!("2");
    assert_eq!(
        sim.post("/api/v11/ServiceChannel/EChannel", &body)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn rule_15_accessibility_wcag_combinations() {
    let sim = Sim::start().await;
    let mut body = echannel(sim.org, "E", "e");
    body["accessibilityClassification"] = json!([{
        "accessibilityClassificationLevel": "FullyCompliant", "wcagLevel": "LevelA",
        "accessibilityStatementWebPageName": "Saavutettavuusseloste",
        "accessibilityStatementWebPage": "https://kunta.fi/saavutettavuus", "language": "fi"}]);
    let a = sim.post("/api/v11/ServiceChannel/EChannel", &body).await;
    assert_400_key(&a, "AccessibilityClassification[0].WcagLevel");
    body["accessibilityClassification"][0]["wcagLevel"] = json!("LevelAA");
    assert_eq!(
        sim.post("/api/v11/ServiceChannel/EChannel", &body)
            .await
            .status,
        200
    );
    let mut body = echannel(sim.org, "E2", "e2");
    body["accessibilityClassification"][0]["accessibilityStatementWebPage"] =
        json!("https://kunta.fi/s");
    assert_400_key(
        &sim.post("/api/v11/ServiceChannel/EChannel", &body).await,
        "AccessibilityClassification[0].AccessibilityStatementWebPage",
    );
}

#[tokio::test]
async fn rule_15_service_location_needs_a_location_address_and_display_name_type() {
    let sim = Sim::start().await;
    let mut body = service_location(sim.org, "Toimipiste", "l");
    body["addresses"][0]["type"] = json!("Postal");
    body["addresses"][0]["subType"] = json!("Street");
    body.as_object_mut().unwrap().remove("displayNameType");
    let a = sim
        .post("/api/v11/ServiceChannel/ServiceLocation", &body)
        .await;
    assert_400_key(&a, "Addresses");
    assert_400_key(&a, "DisplayNameType");
    let ok = service_location(sim.org, "Toimipiste", "l");
    assert_eq!(
        sim.post("/api/v11/ServiceChannel/ServiceLocation", &ok)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn rule_15_phone_channel_needs_phone_numbers_for_each_language() {
    let sim = Sim::start().await;
    let mut body = phone_channel(sim.org, "P", "p");
    body.as_object_mut().unwrap().remove("phoneNumbers");
    assert_400_key(
        &sim.post("/api/v11/ServiceChannel/Phone", &body).await,
        "PhoneNumbers",
    );
}

#[tokio::test]
async fn rule_15_printable_form_needs_channel_urls() {
    let sim = Sim::start().await;
    let mut body = super::support::channel_base(sim.org, "Lomake", "f");
    assert_400_key(
        &sim.post("/api/v11/ServiceChannel/PrintableForm", &body)
            .await,
        "ChannelUrls",
    );
    body["channelUrls"] =
        json!([{"type": "PDF", "value": "https://kunta.fi/lomake.pdf", "language": "fi"}]);
    assert_eq!(
        sim.post("/api/v11/ServiceChannel/PrintableForm", &body)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn rule_16_phone_number_and_prefix_formats() {
    let sim = Sim::start().await;
    let mut body = phone_channel(sim.org, "P", "p");
    body["phoneNumbers"][0]["number"] = json!("09 123 45");
    body["phoneNumbers"][0]["prefixNumber"] = json!("358");
    let a = sim.post("/api/v11/ServiceChannel/Phone", &body).await;
    assert_400_key(&a, "PhoneNumbers[0].Number");
    assert_400_key(&a, "PhoneNumbers[0].PrefixNumber");
    body["phoneNumbers"][0]["additionalInformation"] = json!("i".repeat(151));
    assert_400_key(
        &sim.post("/api/v11/ServiceChannel/Phone", &body).await,
        "PhoneNumbers[0].AdditionalInformation",
    );
}

#[tokio::test]
async fn rule_16_postal_code_and_municipality_formats() {
    let sim = Sim::start().await;
    let mut body = service_location(sim.org, "Toimipiste", "l");
    body["addresses"][0]["streetAddress"]["postalCode"] = json!("0010");
    body["addresses"][0]["streetAddress"]["municipality"] = json!("Helsinki");
    let a = sim
        .post("/api/v11/ServiceChannel/ServiceLocation", &body)
        .await;
    assert_400_key(&a, "Addresses[0].StreetAddress.PostalCode");
    assert_400_key(&a, "Addresses[0].StreetAddress.Municipality");
}

#[tokio::test]
async fn rule_16_opening_hours_in_quarter_hours() {
    let sim = Sim::start().await;
    let mut body = service_location(sim.org, "Toimipiste", "l");
    body["serviceHours"] = json!([{
        "serviceHourType": "DaysOfTheWeek",
        "openingHour": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "08:10", "to": "16:00"}]
    }]);
    let a = sim
        .post("/api/v11/ServiceChannel/ServiceLocation", &body)
        .await;
    assert_400_key(&a, "ServiceHours[0].OpeningHour[0].From");
    body["serviceHours"][0]["openingHour"][0]["from"] = json!("08:15");
    assert_eq!(
        sim.post("/api/v11/ServiceChannel/ServiceLocation", &body)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn rule_11_channel_names_are_unique_per_organisation_and_type() {
    let sim = Sim::start().await;
    sim.echannel("Asiointi", "e1").await;
    let a = sim
        .post(
            "/api/v11/ServiceChannel/EChannel",
            &echannel(sim.org, "Asiointi", "e2"),
        )
        .await;
    assert_400_key(&a, "ServiceChannelNames");
    let other_type = sim
        .post(
            "/api/v11/ServiceChannel/Phone",
            &phone_channel(sim.org, "Asiointi", "p1"),
        )
        .await;
    assert_eq!(other_type.status, 200, "{}", other_type.text);
}

#[tokio::test]
async fn channel_put_through_another_type_path_is_404() {
    let sim = Sim::start().await;
    let id = sim.echannel("E", "e").await;
    let a = sim
        .put(
            &format!("/api/v11/ServiceChannel/Phone/{id}"),
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_eq!(a.status, 404);
    let a = sim
        .put(
            &format!("/api/v11/ServiceChannel/EChannel/{id}"),
            &json!({"publishingStatus": "Published"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

//! PTV ids in PTV's read answers that are not GUIDs: an odd entry of a list is left out
//! (the rest is read), an odd id in a single read or in the hierarchy fails the read with
//! an error naming the request and the field. Each body carries both versions' shapes.

use super::{ORG, config, connect, jwt, mount_login, pid};
use ptv_sync::model::{ApiVersion, ItemKind};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const GOOD: &str = "0c6a8d38-2f0c-4c55-8d4c-0f6b7a3c9d10";

async fn answering(body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    server
}

async fn an_odd_entry_of_a_list_is_left_out(version: ApiVersion) {
    let server = answering(serde_json::json!({
        "pageCount": 1, "totalPages": 1,
        "itemList": [{"id": GOOD}, {"id": "not-a-guid"}],
        "items": [{"contentId": GOOD}, {"contentId": "not-a-guid"}],
    }))
    .await;
    let api = connect(config(&server.uri(), version));
    let list = api
        .list_by_organization(&pid(ORG), ItemKind::Service)
        .await
        .unwrap();
    let ids: Vec<_> = list.value.iter().map(|r| r.ptv_id).collect();
    assert_eq!(ids, vec![pid(GOOD)]);
}

#[tokio::test]
async fn v11_an_odd_entry_of_a_list_is_left_out() {
    an_odd_entry_of_a_list_is_left_out(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_an_odd_entry_of_a_list_is_left_out() {
    an_odd_entry_of_a_list_is_left_out(ApiVersion::V12).await;
}

async fn an_odd_id_fails_a_single_read_and_the_hierarchy(version: ApiVersion) {
    let server = answering(serde_json::json!({
        "id": "not-a-guid", "contentId": "not-a-guid",
        "subOrganizations": [{"id": "odd-org"}],
        "edges": [{"parentContentId": ORG, "childContentId": "odd-org"}],
    }))
    .await;
    let api = connect(config(&server.uri(), version));
    let field = match version {
        ApiVersion::V11 => "`id`",
        ApiVersion::V12 => "`contentId`",
    };
    let e = api
        .read_latest(ItemKind::Service, &pid(GOOD))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not-a-guid") && e.contains(field), "{e}");
    let e = api
        .sub_organizations(&pid(ORG))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("odd-org") && e.contains("the organisation hierarchy"),
        "{e}"
    );
}

#[tokio::test]
async fn v11_an_odd_id_fails_a_single_read_and_the_hierarchy() {
    an_odd_id_fails_a_single_read_and_the_hierarchy(ApiVersion::V11).await;
}

#[tokio::test]
async fn v12_an_odd_id_fails_a_single_read_and_the_hierarchy() {
    an_odd_id_fails_a_single_read_and_the_hierarchy(ApiVersion::V12).await;
}

//! Safe creates (never a blind second POST), lookups, archive/restore and connections.

use super::{ORG, channel_write, config, connect, jwt, mount_login, pid, received, service_write};
use ptv_sync::model::{ApiVersion, ChannelType, ItemKind, PtvSourceId};
use ptv_sync::ptv::wire::ConnectionsWrite;
use ptv_sync::ptv::{Found, Lookup, PtvError};
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NEW_ID: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const SID: &str = "t-service-building-permit";
const GONE: &str = "00000000-0000-4000-8000-0000000000a1";
const C_KEEP: &str = "00000000-0000-4000-8000-0000000000c1";
const C_NEW: &str = "00000000-0000-4000-8000-0000000000c2";
const C_OLD: &str = "00000000-0000-4000-8000-0000000000c3";

async fn v11_server(post_answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("POST"))
        .and(path("/api/v11/Service"))
        .respond_with(post_answer)
        .mount(&server)
        .await;
    server
}

async fn mount_source_id_put(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("PUT"))
        .and(path(format!("/api/v11/Service/sourceId/{SID}")))
        .and(body_partial_json(
            serde_json::json!({"publishingStatus": "Published", "sourceId": SID}),
        ))
        .respond_with(answer)
        .mount(server)
        .await;
}

fn found_answer() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": NEW_ID, "sourceId": SID}))
}

async fn assert_adopted_after(post_answer: ResponseTemplate) {
    let server = v11_server(post_answer).await;
    mount_source_id_put(&server, found_answer()).await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let w = api.create(&service_write(SID)).await.unwrap();
    assert!(w.adopted);
    assert_eq!(w.ptv_id, pid(NEW_ID));
    assert_eq!(
        received(&server, "POST", "/api/v11/Service").await.len(),
        1,
        "exactly one POST"
    );
    assert_eq!(w.requests, 2);
}

#[tokio::test]
async fn a_500_after_the_item_was_created_is_adopted_with_one_post() {
    assert_adopted_after(ResponseTemplate::new(500).set_body_json(
        serde_json::json!({"errorMessage": "An unexpected error occurred. Trace id: 0HM"}),
    ))
    .await;
}

#[tokio::test]
async fn source_id_already_exists_is_adopted() {
    assert_adopted_after(ResponseTemplate::new(500).set_body_json(serde_json::json!({
        "errorMessage": format!("The external source '{SID}' already exists. Please use update endpoint!")
    })))
    .await;
    assert_adopted_after(ResponseTemplate::new(400).set_body_json(serde_json::json!({
        "errorMessage": "Cannot create new content with sourceId that already exists"
    })))
    .await;
}

#[tokio::test]
async fn a_timed_out_create_is_looked_up_not_reposted() {
    let server = v11_server(
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"id": NEW_ID}))
            .set_delay(Duration::from_millis(800)),
    )
    .await;
    mount_source_id_put(&server, found_answer()).await;
    let mut cfg = config(&server.uri(), ApiVersion::V11);
    cfg.request_timeout = Duration::from_millis(300);
    let api = connect(cfg);
    let w = api.create(&service_write(SID)).await.unwrap();
    assert!(w.adopted);
    assert_eq!(received(&server, "POST", "/api/v11/Service").await.len(), 1);
}

#[tokio::test]
async fn a_create_that_did_not_happen_is_posted_again_after_the_lookup() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("POST"))
        .and(path("/api/v11/Service"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v11/Service"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": NEW_ID})))
        .mount(&server)
        .await;
    mount_source_id_put(
        &server,
        ResponseTemplate::new(404).set_body_json(
            serde_json::json!({"errorMessage": format!("Service with source id '{SID}' not found.")}),
        ),
    )
    .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let w = api.create(&service_write(SID)).await.unwrap();
    assert!(!w.adopted);
    assert_eq!(w.ptv_id, pid(NEW_ID));
    assert_eq!(received(&server, "POST", "/api/v11/Service").await.len(), 2);
    assert_eq!(w.requests, 3, "POST, lookup, POST");
    let post: serde_json::Value = received(&server, "POST", "/api/v11/Service").await[1]
        .body_json()
        .unwrap();
    assert_eq!(post["publishingStatus"], "Published");
    assert_eq!(post["sourceId"], SID);
}

#[tokio::test]
async fn an_existing_source_id_that_cannot_be_found_is_a_conflict() {
    let server = v11_server(ResponseTemplate::new(500).set_body_json(serde_json::json!({
        "errorMessage": "The external source 'x' already exists. Please use update endpoint!"
    })))
    .await;
    mount_source_id_put(
        &server,
        ResponseTemplate::new(404).set_body_json(
            serde_json::json!({"errorMessage": "Service with source id 'x' not found."}),
        ),
    )
    .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let err = api.create(&service_write(SID)).await.unwrap_err();
    assert!(matches!(err, PtvError::Conflict { .. }), "{err:?}");
    assert_eq!(received(&server, "POST", "/api/v11/Service").await.len(), 1);
}

#[tokio::test]
async fn v11_e_service_channels_use_the_echannel_paths() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("POST"))
        .and(path("/api/v11/ServiceChannel/EChannel"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(
            "/api/v11/ServiceChannel/EChannel/sourceId/t-channel-1",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": NEW_ID})))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let w = api
        .create(&channel_write(
            "t-channel-1",
            ChannelType::EService,
            "Lupapiste",
        ))
        .await
        .unwrap();
    assert!(w.adopted && w.ptv_id == pid(NEW_ID));
}

#[tokio::test]
async fn v11_find_pages_the_organisation_list_then_the_archive() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    for page in 1..=2 {
        Mock::given(method("GET"))
            .and(path("/api/v11/Service/list/organization"))
            .and(query_param("organizationId", ORG))
            .and(query_param("page", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "pageNumber": page, "pageSize": 100, "pageCount": 2,
                "itemList": [{"id": format!("00000000-0000-4000-8000-00000000000{page}"), "sourceId": format!("t-live-{page}")}]
            })))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/api/v11/Service/archived/list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "itemList": [{"id": GONE, "sourceId": "t-gone-1"}]
        })))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let lookup = |sid: &str| Lookup {
        kind: ItemKind::Service,
        channel_type: None,
        source_id: PtvSourceId::parse(sid).unwrap(),
        organization_ptv_id: pid(ORG),
        name_fi: None,
    };
    assert_eq!(
        api.find(&lookup("T-LIVE-2")).await.unwrap(),
        Some(Found {
            ptv_id: pid("00000000-0000-4000-8000-000000000002"),
            archived: false
        })
    );
    assert_eq!(
        api.find(&lookup("t-gone-1")).await.unwrap(),
        Some(Found {
            ptv_id: pid(GONE),
            archived: true
        })
    );
    assert_eq!(api.find(&lookup("t-never")).await.unwrap(), None);
    let lists = received(&server, "GET", "/api/v11/Service/list/organization").await;
    assert!(
        lists
            .iter()
            .all(|r| r.headers.contains_key("authorization")),
        "sourceId shows only with the token"
    );
}

#[tokio::test]
async fn v11_archive_restore_and_connections_send_full_bodies() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": NEW_ID})))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V11));
    let w = service_write(SID);
    api.archive(&pid(NEW_ID), &w).await.unwrap();
    api.restore(&pid(NEW_ID), &w).await.unwrap();
    let puts = received(&server, "PUT", &format!("/api/v11/Service/{NEW_ID}")).await;
    let archived: serde_json::Value = puts[0].body_json().unwrap();
    let restored: serde_json::Value = puts[1].body_json().unwrap();
    assert_eq!(archived["publishingStatus"], "Deleted");
    assert_eq!(
        archived["fundingType"], "PubliclyFunded",
        "the full last body"
    );
    assert_eq!(restored["publishingStatus"], "Published");

    let none = ConnectionsWrite {
        service_ptv_id: pid(NEW_ID),
        service_source_id: PtvSourceId::parse(SID).unwrap(),
        desired: Vec::new(),
        desired_channel_ids: Vec::new(),
        previous_channel_ids: vec![pid(C_KEEP)],
    };
    let written = api.set_connections(&none).await.unwrap();
    let body: serde_json::Value = received(
        &server,
        "PUT",
        &format!("/api/v11/Connection/serviceId/{NEW_ID}"),
    )
    .await[0]
        .body_json()
        .unwrap();
    assert_eq!(
        body,
        serde_json::json!({"deleteAllChannelRelations": true, "channelRelations": []})
    );
    let sent = serde_json::to_vec(&body).unwrap();
    assert_eq!(written.body_sha256, sha_hex(&sent));
}

fn sha_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn v12_conflict_is_resolved_by_organisation_type_and_name() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("POST"))
        .and(path("/api/v12/service-channel/telephone"))
        .respond_with(ResponseTemplate::new(409).set_body_json(serde_json::json!({
            "type": "about:blank", "title": "Conflict", "status": 409,
            "detail": "A channel with this name exists", "instance": "/api/v12/service-channel/telephone", "requestId": "r"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v12/service-channel/search"))
        .and(query_param("organizationContentIds", ORG))
        .and(query_param("channelTypes", "TelephoneService"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "page": 1, "pageSize": 100, "totalItems": 2, "totalPages": 1,
            "items": [
                {"contentId": "other", "serviceChannelType": "TelephoneService", "languageVersions": {"fi": {"name": "Vaihde"}}},
                {"contentId": NEW_ID, "serviceChannelType": "TelephoneService", "languageVersions": {"fi": {"name": "Neuvonta"}}}
            ]
        })))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V12));
    let w = api
        .create(&channel_write(
            "t-channel-phone",
            ChannelType::Phone,
            "Neuvonta",
        ))
        .await
        .unwrap();
    assert!(w.adopted);
    assert_eq!(w.ptv_id, pid(NEW_ID));
    assert_eq!(
        received(&server, "POST", "/api/v12/service-channel/telephone")
            .await
            .len(),
        1
    );
}

/// PTV's answer to a second create of a v12 channel (which has no externalId).
fn v12_name_taken() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(serde_json::json!({
        "type": "about:blank", "title": "One or more validation errors occurred.", "status": 400,
        "instance": "/api/v12/service-channel/telephone", "requestId": "r",
        "errors": [{"path": "/languageVersions/fi/name",
                    "message": "Value 'Neuvonta' already exists within organization. The name must be unique."}]
    }))
}

async fn mount_v12_phone_search(server: &MockServer, items: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/api/v12/service-channel/search"))
        .and(query_param("organizationContentIds", ORG))
        .and(query_param("channelTypes", "TelephoneService"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "page": 1, "pageSize": 100, "totalItems": 1, "totalPages": 1, "items": items
        })))
        .mount(server)
        .await;
}

/// Issue 16 item 3: a channel PTV created but we never recorded is posted again; PTV's
/// duplicate-name 400 leads to the lookup, and the channel is adopted with our body.
#[tokio::test]
async fn v12_duplicate_name_on_a_channel_create_is_adopted_with_our_body() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("POST"))
        .and(path("/api/v12/service-channel/telephone"))
        .respond_with(v12_name_taken())
        .mount(&server)
        .await;
    mount_v12_phone_search(
        &server,
        serde_json::json!([{"contentId": NEW_ID, "serviceChannelType": "TelephoneService",
                            "languageVersions": {"fi": {"name": "Neuvonta"}}}]),
    )
    .await;
    let put_path = format!("/api/v12/service-channel/telephone/{NEW_ID}");
    Mock::given(method("PUT"))
        .and(path(put_path.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"contentId": NEW_ID})),
        )
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V12));
    let w = api
        .create(&channel_write(
            "t-channel-phone",
            ChannelType::Phone,
            "Neuvonta",
        ))
        .await
        .unwrap();
    assert!(w.adopted);
    assert_eq!(w.ptv_id, pid(NEW_ID));
    assert_eq!(
        received(&server, "POST", "/api/v12/service-channel/telephone")
            .await
            .len(),
        1,
        "never posted blindly again"
    );
    assert_eq!(received(&server, "PUT", &put_path).await.len(), 1);
}

/// A taken name that the lookup cannot explain (another channel holds it) stays the data
/// error it is.
#[tokio::test]
async fn v12_duplicate_name_held_by_another_item_is_a_validation_error() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("POST"))
        .and(path("/api/v12/service-channel/telephone"))
        .respond_with(v12_name_taken())
        .mount(&server)
        .await;
    mount_v12_phone_search(&server, serde_json::json!([])).await;
    let api = connect(config(&server.uri(), ApiVersion::V12));
    let e = api
        .create(&channel_write(
            "t-channel-phone",
            ChannelType::Phone,
            "Neuvonta",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(e, PtvError::Validation { .. }) && e.says_name_taken(),
        "{e:?}"
    );
    assert_eq!(
        received(&server, "POST", "/api/v12/service-channel/telephone")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn v12_creates_carry_the_external_id_and_answer_201() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("POST"))
        .and(path("/api/v12/service"))
        .and(body_partial_json(serde_json::json!({"externalId": SID})))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(serde_json::json!({"contentId": NEW_ID})),
        )
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V12));
    let w = api.create(&service_write(SID)).await.unwrap();
    assert_eq!(
        (w.ptv_id.to_string().as_str(), w.http_status, w.adopted),
        (NEW_ID, 201, false)
    );
}

#[tokio::test]
async fn v12_connections_post_new_pairs_and_delete_removed_ones() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("POST"))
        .and(path("/api/v12/connection"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v12/connection/{NEW_ID}/{C_OLD}")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V12));
    let c = ConnectionsWrite {
        service_ptv_id: pid(NEW_ID),
        service_source_id: PtvSourceId::parse(SID).unwrap(),
        desired: vec![
            serde_json::json!({"serviceContentId": NEW_ID, "channelContentId": C_KEEP}),
            serde_json::json!({"serviceContentId": NEW_ID, "channelContentId": C_NEW}),
        ],
        desired_channel_ids: vec![pid(C_KEEP), pid(C_NEW)],
        previous_channel_ids: vec![pid(C_KEEP), pid(C_OLD)],
    };
    let w = api.set_connections(&c).await.unwrap();
    assert_eq!((w.requests, w.http_status), (2, 204));
    let posts = received(&server, "POST", "/api/v12/connection").await;
    assert_eq!(posts.len(), 1);
    let body: serde_json::Value = posts[0].body_json().unwrap();
    assert_eq!(body["channelContentId"], C_NEW);
}

#[tokio::test]
async fn v12_archive_is_a_delete_and_repeating_it_is_harmless() {
    let server = MockServer::start().await;
    mount_login(&server, vec![jwt(3600, "t")]).await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v12/service/{NEW_ID}")))
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v12/service/{NEW_ID}")))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
            "type": "about:blank", "title": "Not Found", "status": 404, "detail": "gone",
            "instance": "/", "requestId": "r", "reason": "Unknown"
        })))
        .mount(&server)
        .await;
    let api = connect(config(&server.uri(), ApiVersion::V12));
    let w = service_write(SID);
    assert_eq!(
        api.archive(&pid(NEW_ID), &w).await.unwrap().http_status,
        204
    );
    assert_eq!(
        api.archive(&pid(NEW_ID), &w).await.unwrap().http_status,
        404
    );
}

/// An answer naming the new item by something that is no GUID is not what PTV's API
/// promises: the create fails with an error naming the request and the field, and
/// nothing is taken from the answer.
#[tokio::test]
async fn a_create_answered_with_an_id_that_is_no_guid_is_an_unexpected_answer() {
    for (version, route, field) in [
        (ApiVersion::V11, "/api/v11/Service", "id"),
        (ApiVersion::V12, "/api/v12/service", "contentId"),
    ] {
        let server = MockServer::start().await;
        mount_login(&server, vec![jwt(3600, "t")]).await;
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(serde_json::json!({ field: "service-17" })),
            )
            .mount(&server)
            .await;
        let api = connect(config(&server.uri(), version));
        let err = api.create(&service_write(SID)).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, PtvError::Transient { .. }),
            "{version}: {text}"
        );
        assert!(
            text.contains(SID)
                && text.contains("the create")
                && text.contains(&format!("`{field}`"))
                && text.contains("not a GUID")
                && text.contains("service-17"),
            "{version}: {text}"
        );
        assert_eq!(received(&server, "POST", route).await.len(), 1, "{version}");
    }
}

//! The implicit organization of the peer's 0.17 API.

use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn one_organization_with_a_stable_id_named_after_the_first_network() {
    let app = spawn_app();
    let r = app.get("/api/v1/organizations");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data().as_array().unwrap().len(), 1);
    assert_eq!(r.body["meta"]["pagination"]["total_count"], json!(1));
    let org = r.data()[0]["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&org).is_ok(), "{org}");
    assert_eq!(r.data()[0]["name"], json!("Portolan"));

    let net = app.network("homelab");
    app.network("zzz later");
    let r = app.get("/api/v1/organizations");
    assert_eq!(r.data()[0], json!({"id": org, "name": "homelab"}));

    let network = app.get(&format!("/api/v1/networks/{net}"));
    assert_eq!(network.data()["organization_id"], json!(org));
    let tag = app.post(
        "/api/v1/tags",
        json!({"name": "prod", "organization_id": org}),
    );
    assert_eq!(
        tag.status, 201,
        "the read-only value may be sent back: {}",
        tag.body
    );
    assert_eq!(tag.data()["organization_id"], json!(org));
    assert_eq!(
        app.get("/api/v1/tags").data()[0]["organization_id"],
        json!(org)
    );

    // Sending back what was read is accepted; another organization is refused.
    let mut body = network.data().clone();
    body["description"] = json!("the lab");
    let r = app.put(&format!("/api/v1/networks/{net}"), body.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    let before = app.snapshot();
    body["organization_id"] = json!(uuid::Uuid::new_v4().to_string());
    let r = app.put(&format!("/api/v1/networks/{net}"), body);
    assert_error(&r, 400, "VALIDATION_ERROR", Some("organization_id"));
    assert_same(&before, &app.snapshot());

    // The id belongs to the database: a restart keeps it.
    let stored: String = app
        .db()
        .query_row(
            "SELECT value FROM settings WHERE key = 'organization_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, org);
}

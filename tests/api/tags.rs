use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn crud_list_and_validation() {
    let app = spawn_app();
    let r = app.post("/api/v1/tags", json!({"name": "prod"}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["color"], "Gray");
    let id = r.id();
    let red = app.post(
        "/api/v1/tags",
        json!({"name": "alert", "color": "Red", "description": "pager"}),
    );
    assert_eq!(red.status, 201);

    let before = app.snapshot();
    assert_error(
        &app.post("/api/v1/tags", json!({"name": "x", "color": "Magenta"})),
        400,
        "VALIDATION_ERROR",
        Some("color"),
    );
    assert_error(
        &app.post("/api/v1/tags", json!({"name": "prod"})),
        409,
        "CONFLICT",
        Some("name"),
    );
    assert_same(&before, &app.snapshot());

    let list = app.get("/api/v1/tags?color=Red");
    assert_eq!(list.body["meta"]["pagination"]["total_count"], json!(1));
    assert_eq!(list.data()[0]["name"], "alert");

    let put = app.put(
        &format!("/api/v1/tags/{id}"),
        json!({"name": "production", "color": "Green"}),
    );
    assert_eq!(put.data()["color"], "Green");
    assert_eq!(
        app.get(&format!("/api/v1/tags/{id}")).data()["name"],
        "production"
    );

    let bulk = app.post("/api/v1/tags/bulk-delete", json!([id, red.id()]));
    assert_eq!(bulk.data()["deleted_count"], json!(2));
    assert_eq!(app.count("tags"), 0);
}

#[test]
fn a_tag_in_use_is_taken_off_what_carries_it_when_deleted() {
    let app = spawn_app();
    let tag = app.tag("prod");
    let net = app
        .post("/api/v1/networks", json!({"name": "home", "tags": [tag]}))
        .id();
    app.post(
        "/api/v1/hosts",
        json!({"network_id": net, "name": "h", "tags": [tag, tag]}),
    );
    // The 0.17 clients delete assigned tags; `cascade` is no longer needed (and still accepted).
    let r = app.delete(&format!("/api/v1/tags/{tag}"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.count("tags"), 0);
    assert_eq!(
        app.get(&format!("/api/v1/networks/{net}")).data()["tags"],
        json!([])
    );
    assert_eq!(app.count("host_tags"), 0);
}

use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn create_get_update_delete() {
    let app = spawn_app();
    let tag = app.tag("core");
    let r = app.post(
        "/api/v1/networks",
        json!({"name": "home", "description": "the LAN", "tags": [tag], "id": "ignored", "created_at": "ignored"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/networks/{id}").as_str())
    );
    assert_eq!(r.data()["name"], "home");
    assert_eq!(r.data()["tags"], json!([tag]));
    assert_eq!(r.body["meta"]["server_version"], env!("CARGO_PKG_VERSION"));

    let got = app.get(&format!("/api/v1/networks/{id}"));
    assert_eq!(got.status, 200);
    assert_eq!(got.data(), r.data());

    let put = app.put(
        &format!("/api/v1/networks/{id}"),
        json!({"name": "house", "description": null}),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.data()["name"], "house");
    assert_eq!(put.data()["description"], json!(null));
    assert_eq!(
        put.data()["tags"],
        json!([]),
        "PUT replaces every writable field"
    );
    assert!(put.data()["updated_at"].as_str() > r.data()["updated_at"].as_str());
    let stored: String = app
        .db()
        .query_row("SELECT name FROM networks WHERE id = ?", [&id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, "house");

    let del = app.delete(&format!("/api/v1/networks/{id}"));
    assert_eq!(del.status, 200);
    assert_eq!(del.body["success"], json!(true));
    assert_eq!(del.body["data"], json!(null));
    assert_eq!(app.count("networks"), 0);
    assert_error(
        &app.get(&format!("/api/v1/networks/{id}")),
        404,
        "NOT_FOUND",
        None,
    );
}

#[test]
fn list_paginates_filters_and_orders() {
    let app = spawn_app();
    let tag = app.tag("lab");
    let ids: Vec<String> = ["charlie", "alpha", "bravo"]
        .iter()
        .map(|n| app.network(n))
        .collect();
    app.put(
        &format!("/api/v1/networks/{}", ids[1]),
        json!({"name": "alpha", "tags": [tag]}),
    );

    let page = app.get("/api/v1/networks?limit=2");
    assert_eq!(page.status, 200);
    assert_eq!(page.data().as_array().unwrap().len(), 2);
    assert_eq!(
        page.data()[0]["id"],
        json!(ids[0]),
        "default order is created_at"
    );
    assert_eq!(
        page.body["meta"]["pagination"],
        json!({"total_count": 3, "limit": 2, "offset": 0, "has_more": true})
    );
    let rest = app.get("/api/v1/networks?limit=2&offset=2");
    assert_eq!(rest.data().as_array().unwrap().len(), 1);
    assert_eq!(rest.body["meta"]["pagination"]["has_more"], json!(false));

    let all = app.get("/api/v1/networks?limit=0");
    assert_eq!(all.data().as_array().unwrap().len(), 3);
    assert_eq!(all.body["meta"]["pagination"]["limit"], json!(0));
    let clamped = app.get("/api/v1/networks?limit=5000");
    assert_eq!(clamped.body["meta"]["pagination"]["limit"], json!(1000));

    let by_name = app.get("/api/v1/networks?order_by=name&order_direction=desc");
    let names: Vec<&str> = by_name
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["charlie", "bravo", "alpha"]);

    let tagged = app.get(&format!("/api/v1/networks?tag_ids={tag}"));
    assert_eq!(tagged.data().as_array().unwrap().len(), 1);
    assert_eq!(tagged.data()[0]["id"], json!(ids[1]));
    let searched = app.get("/api/v1/networks?q=RAV");
    assert_eq!(searched.data()[0]["name"], "bravo");
    let chosen = app.get(&format!("/api/v1/networks?ids={}&ids={}", ids[0], ids[2]));
    assert_eq!(chosen.body["meta"]["pagination"]["total_count"], json!(2));

    for bad in [
        "limit=-1",
        "limit=abc",
        "offset=-5",
        "order_by=color",
        "order_direction=up",
        "ids=nope",
    ] {
        let r = app.get(&format!("/api/v1/networks?{bad}"));
        let field = bad.split('=').next().unwrap();
        assert_error(&r, 400, "VALIDATION_ERROR", Some(field));
    }
}

#[test]
fn validation_and_uniqueness_change_nothing() {
    let app = spawn_app();
    app.network("home");
    let before = app.snapshot();
    let cases = [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": null}), "name"),
        (json!({"name": 7}), "name"),
        (json!({}), "name"),
        (
            json!({"name": "ok", "description": "d".repeat(501)}),
            "description",
        ),
        (json!({"name": "ok", "colour": "red"}), "colour"),
        (json!({"name": "ok", "tags": ["not-a-uuid"]}), "tags[0]"),
        (
            json!({"name": "ok", "tags": ["2b1c1a47-8f7e-4a55-9a4e-6d0f9d6f0c11"]}),
            "tags[0]",
        ),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/networks", body.clone());
        assert_error(&r, 400, "VALIDATION_ERROR", Some(field));
    }
    let dup = app.post("/api/v1/networks", json!({"name": "home"}));
    assert_error(&dup, 409, "CONFLICT", Some("name"));
    assert_same(&before, &app.snapshot());
}

#[test]
fn delete_with_contents_needs_cascade() {
    let app = spawn_app();
    let net = app.network("home");
    let host = app.host(&net, "nas");
    app.ip(&host, "10.0.0.2");
    app.subnet(&net, "10.0.0.0/24");
    let before = app.snapshot();

    let r = app.delete(&format!("/api/v1/networks/{net}"));
    assert_error(&r, 409, "CONFLICT", None);
    assert_eq!(r.body["params"]["hosts"], json!(1));
    assert_eq!(r.body["params"]["subnets"], json!(1));
    assert_same(&before, &app.snapshot());

    let r = app.delete(&format!("/api/v1/networks/{net}?cascade=true"));
    assert_eq!(r.status, 200, "{}", r.body);
    for table in ["networks", "hosts", "subnets", "ip_addresses"] {
        assert_eq!(app.count(table), 0, "{table}");
    }
}

#[test]
fn bulk_delete_is_all_or_nothing() {
    let app = spawn_app();
    let a = app.network("a");
    let b = app.network("b");
    let busy = app.network("busy");
    app.host(&busy, "h");
    let missing = "7d4e1f9a-3c2b-4a1d-9e8f-0a1b2c3d4e5f";

    let before = app.snapshot();
    let r = app.post("/api/v1/networks/bulk-delete", json!([a, busy]));
    assert_error(&r, 409, "CONFLICT", None);
    assert_eq!(r.body["params"]["id"], json!(busy));
    // Nothing is deleted when one id is protected.
    assert_same(&before, &app.snapshot());

    assert_error(
        &app.post("/api/v1/networks/bulk-delete", json!([])),
        400,
        "VALIDATION_ERROR",
        Some("body"),
    );
    assert_error(
        &app.post("/api/v1/networks/bulk-delete", json!(["x"])),
        400,
        "VALIDATION_ERROR",
        Some("[0]"),
    );

    let r = app.post("/api/v1/networks/bulk-delete", json!([a, b, missing]));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data(), &json!({"deleted_count": 2, "requested_count": 3}));
    assert_eq!(app.count("networks"), 1);
}

#[test]
fn network_writes_need_admin_and_an_unscoped_key() {
    let app = spawn_app();
    let net = app.network("home");
    let member = app.key_with("Member", &[]);
    let r = app.call(
        "POST",
        "/api/v1/networks",
        &member,
        Some(&json!({"name": "new"})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    assert_eq!(r.body["required_role"], json!("Admin"));

    let scoped_admin = {
        let r = app.post(
            "/api/v1/auth/keys",
            json!({"name": "scoped", "permissions": "Admin", "network_ids": [net]}),
        );
        r.data()["key"].as_str().unwrap().to_string()
    };
    let r = app.call(
        "PUT",
        &format!("/api/v1/networks/{net}"),
        &scoped_admin,
        Some(&json!({"name": "x"})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(app.count("networks"), 1);
}

#[test]
fn an_offset_past_the_end_of_sqlite_integers_is_an_empty_page() {
    let app = spawn_app();
    app.network("home");
    let r = app.get("/api/v1/networks?offset=10000000000000000000");
    assert_eq!(r.status, 200);
    assert_eq!(r.data(), &json!([]));
    assert_eq!(r.body["meta"]["pagination"]["total_count"], 1);
    assert_eq!(r.body["meta"]["pagination"]["has_more"], false);
}

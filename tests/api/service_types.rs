use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn the_builtin_catalogue_is_served_and_read_only() {
    let app = spawn_app();
    let all = app.get("/api/v1/service-types?limit=0&builtin=true");
    assert_eq!(all.body["meta"]["pagination"]["total_count"], json!(235));
    let rd = app.get("/api/v1/service-types/Remote%20Desktop");
    assert_eq!(rd.status, 200, "{}", rd.body);
    assert_eq!(rd.data()["id"], "Remote Desktop");
    assert_eq!(rd.data()["name"], "Remote Desktop");
    assert_eq!(rd.data()["builtin"], json!(true));
    let adguard = app.get("/api/v1/service-types/Adguard%20Home");
    assert_eq!(
        adguard.data()["default_ports"][0],
        json!({"number": 53, "protocol": "Udp"})
    );

    let media = app.get("/api/v1/service-types?category=Media&limit=0");
    assert!(media
        .data()
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["category"] == "Media"));
    assert!(
        media.body["meta"]["pagination"]["total_count"]
            .as_u64()
            .unwrap()
            > 5
    );
    let custom = app.get("/api/v1/service-types/Custom");
    assert_eq!(custom.data()["category"], json!("Custom"));
    assert_eq!(custom.data()["default_ports"], json!([]));
    let w = app.world();
    let r = app.post(
        "/api/v1/services",
        json!({"host_id": w.host, "name": "odd one", "service_definition": "Custom"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let q = app.get("/api/v1/service-types?q=jelly");
    assert_eq!(q.data()[0]["id"], "Jellyfin");

    let before = app.snapshot();
    let r = app.put(
        "/api/v1/service-types/Jellyfin",
        json!({"name": "Jellyfin", "category": "Media"}),
    );
    assert_error(&r, 409, "CONFLICT", None);
    assert_error(
        &app.delete("/api/v1/service-types/Jellyfin"),
        409,
        "CONFLICT",
        None,
    );
    assert_same(&before, &app.snapshot());
    assert_error(
        &app.get("/api/v1/service-types/Nope"),
        404,
        "NOT_FOUND",
        None,
    );
}

#[test]
fn custom_types_crud_and_protection() {
    let app = spawn_app();
    let r = app.post(
        "/api/v1/service-types",
        json!({"name": "Home Lab Thing", "category": "Development", "default_ports": [{"number": 9999, "protocol": "Tcp"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/api/v1/service-types/Home%20Lab%20Thing")
    );
    assert_eq!(r.data()["builtin"], json!(false));

    let before = app.snapshot();
    assert_error(
        &app.post(
            "/api/v1/service-types",
            json!({"name": "Home Lab Thing", "category": "X"}),
        ),
        409,
        "CONFLICT",
        Some("name"),
    );
    assert_error(
        &app.post(
            "/api/v1/service-types",
            json!({"name": "Jellyfin", "category": "X"}),
        ),
        409,
        "CONFLICT",
        Some("name"),
    );
    assert_error(
        &app.post(
            "/api/v1/service-types",
            json!({"name": "x".repeat(61), "category": "X"}),
        ),
        400,
        "VALIDATION_ERROR",
        Some("name"),
    );
    assert_error(
        &app.post("/api/v1/service-types", json!({"name": "Y", "category": "X", "default_ports": [{"number": 0, "protocol": "Tcp"}]})),
        400,
        "VALIDATION_ERROR",
        Some("default_ports[0].number"),
    );
    assert_same(&before, &app.snapshot());

    let put = app.put(
        "/api/v1/service-types/Home%20Lab%20Thing",
        json!({"name": "Home Lab Thing", "category": "Media", "generic": true}),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.data()["category"], "Media");

    let net = app.network("n");
    let host = app.host(&net, "h");
    let svc = app.post(
        "/api/v1/services",
        json!({"host_id": host, "name": "s", "service_definition": "Home Lab Thing"}),
    );
    assert_eq!(svc.status, 201, "{}", svc.body);
    let before = app.snapshot();
    let r = app.delete("/api/v1/service-types/Home%20Lab%20Thing");
    assert_error(&r, 409, "CONFLICT", None);
    assert_eq!(r.body["params"]["service_ids"], json!([svc.id()]));
    assert_same(&before, &app.snapshot());
    assert_eq!(
        app.delete("/api/v1/service-types/Home%20Lab%20Thing?cascade=true")
            .status,
        200
    );
    assert_eq!(app.count("services"), 0);
}

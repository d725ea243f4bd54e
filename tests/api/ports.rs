use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn type_is_derived_and_read_only() {
    let app = spawn_app();
    let net = app.network("home");
    let host = app.host(&net, "dns");
    let r = app.post(
        "/api/v1/ports",
        json!({"host_id": host, "number": 53, "protocol": "Udp", "type": "Http"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["type"], "DnsUdp");
    let id = r.id();

    let custom = app.post(
        "/api/v1/ports",
        json!({"host_id": host, "number": 12345, "protocol": "Tcp"}),
    );
    assert_eq!(custom.data()["type"], "Custom");

    let put = app.put(
        &format!("/api/v1/ports/{id}"),
        json!({"host_id": host, "number": 80, "protocol": "Tcp"}),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.data()["type"], "Http");
    assert_eq!(
        app.get(&format!("/api/v1/ports/{id}")).data()["type"],
        "Http"
    );
}

#[test]
fn validation_and_uniqueness() {
    let app = spawn_app();
    let net = app.network("home");
    let host = app.host(&net, "web");
    app.port(&host, 443, "Tcp");
    let before = app.snapshot();
    for (body, field) in [
        (
            json!({"host_id": host, "number": 0, "protocol": "Tcp"}),
            "number",
        ),
        (
            json!({"host_id": host, "number": 65536, "protocol": "Tcp"}),
            "number",
        ),
        (
            json!({"host_id": host, "number": "80", "protocol": "Tcp"}),
            "number",
        ),
        (
            json!({"host_id": host, "number": 80, "protocol": "tcp"}),
            "protocol",
        ),
        (json!({"host_id": host, "number": 80}), "protocol"),
    ] {
        assert_error(
            &app.post("/api/v1/ports", body),
            400,
            "VALIDATION_ERROR",
            Some(field),
        );
    }
    let dup = app.post(
        "/api/v1/ports",
        json!({"host_id": host, "number": 443, "protocol": "Tcp"}),
    );
    assert_error(&dup, 409, "CONFLICT", Some("number"));
    assert_same(&before, &app.snapshot());
    let udp = app.post(
        "/api/v1/ports",
        json!({"host_id": host, "number": 443, "protocol": "Udp"}),
    );
    assert_eq!(udp.status, 201, "same number, other protocol");
}

#[test]
fn list_filters_delete_and_bulk_delete() {
    let app = spawn_app();
    let net = app.network("home");
    let h1 = app.host(&net, "one");
    let h2 = app.host(&net, "two");
    let p1 = app.port(&h1, 22, "Tcp");
    let p2 = app.port(&h1, 53, "Udp");
    let p3 = app.port(&h2, 22, "Tcp");

    let r = app.get("/api/v1/ports?number=22");
    assert_eq!(r.body["meta"]["pagination"]["total_count"], json!(2));
    let r = app.get(&format!("/api/v1/ports?host_id={h1}&protocol=Udp"));
    assert_eq!(r.data()[0]["id"], json!(p2));
    assert_error(
        &app.get("/api/v1/ports?number=70000"),
        400,
        "VALIDATION_ERROR",
        Some("number"),
    );
    assert_error(
        &app.get("/api/v1/ports?protocol=ICMP"),
        400,
        "VALIDATION_ERROR",
        Some("protocol"),
    );

    assert_eq!(app.delete(&format!("/api/v1/ports/{p1}")).status, 200);
    let r = app.post("/api/v1/ports/bulk-delete", json!([p2, p3]));
    assert_eq!(r.data()["deleted_count"], json!(2));
    assert_eq!(app.count("ports"), 0);
}

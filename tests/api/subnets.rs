use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn create_list_update_delete() {
    let app = spawn_app();
    let net = app.network("home");
    let other = app.network("other");
    let r = app.post(
        "/api/v1/subnets",
        json!({"network_id": net, "cidr": "10.0.0.0/24", "name": "lan", "subnet_type": "Lan"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert_eq!(r.data()["subnet_type"], "Lan");
    let v6 = app.post(
        "/api/v1/subnets",
        json!({"network_id": other, "cidr": "fd00::/64", "name": "v6"}),
    );
    assert_eq!(v6.data()["subnet_type"], "None", "default type");

    let in_net = app.get(&format!("/api/v1/subnets?network_id={net}"));
    assert_eq!(in_net.body["meta"]["pagination"]["total_count"], json!(1));

    let put = app.put(
        &format!("/api/v1/subnets/{id}"),
        json!({"network_id": net, "cidr": "10.0.0.0/16", "name": "lan16"}),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.data()["cidr"], "10.0.0.0/16");

    assert_eq!(app.delete(&format!("/api/v1/subnets/{id}")).status, 200);
    let bulk = app.post("/api/v1/subnets/bulk-delete", json!([v6.id()]));
    assert_eq!(bulk.data()["deleted_count"], json!(1));
    assert_eq!(app.count("subnets"), 0);
}

#[test]
fn cidr_rules() {
    let app = spawn_app();
    let net = app.network("home");
    app.subnet(&net, "10.0.0.0/24");
    let before = app.snapshot();
    for (body, field) in [
        (
            json!({"network_id": net, "cidr": "10.0.0.5/24", "name": "x"}),
            "cidr",
        ),
        (
            json!({"network_id": net, "cidr": "10.0.0.0/33", "name": "x"}),
            "cidr",
        ),
        (
            json!({"network_id": net, "cidr": "banana", "name": "x"}),
            "cidr",
        ),
        (
            json!({"network_id": net, "cidr": "10.1.0.0/24", "name": "x", "subnet_type": "Office"}),
            "subnet_type",
        ),
    ] {
        assert_error(
            &app.post("/api/v1/subnets", body),
            400,
            "VALIDATION_ERROR",
            Some(field),
        );
    }
    let dup = app.post(
        "/api/v1/subnets",
        json!({"network_id": net, "cidr": "10.0.0.0/24", "name": "again"}),
    );
    assert_error(&dup, 409, "CONFLICT", Some("cidr"));
    assert_same(&before, &app.snapshot());
}

#[test]
fn shrinking_past_an_address_is_refused_and_delete_detaches_on_cascade() {
    let app = spawn_app();
    let net = app.network("home");
    let host = app.host(&net, "nas");
    let subnet = app.subnet(&net, "10.0.0.0/16");
    let ip = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": host, "subnet_id": subnet, "ip_address": "10.0.5.1"}),
    );
    assert_eq!(ip.status, 201, "{}", ip.body);

    let before = app.snapshot();
    let r = app.put(
        &format!("/api/v1/subnets/{subnet}"),
        json!({"network_id": net, "cidr": "10.0.0.0/24", "name": "small"}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("cidr"));
    assert_eq!(r.body["params"]["ip_address"], "10.0.5.1");
    assert_same(&before, &app.snapshot());

    let r = app.delete(&format!("/api/v1/subnets/{subnet}"));
    assert_error(&r, 409, "CONFLICT", None);
    assert_eq!(r.body["params"]["ip_address_ids"], json!([ip.id()]));
    assert_same(&before, &app.snapshot());

    assert_eq!(
        app.delete(&format!("/api/v1/subnets/{subnet}?cascade=true"))
            .status,
        200
    );
    let detached: Option<String> = app
        .db()
        .query_row(
            "SELECT subnet_id FROM ip_addresses WHERE id = ?",
            [ip.id()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(detached, None, "the address stays, without its subnet");
}

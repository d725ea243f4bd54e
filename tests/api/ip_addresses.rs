use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn create_normalises_and_checks_the_subnet() {
    let app = spawn_app();
    let net = app.network("home");
    let host = app.host(&net, "nas");
    let subnet = app.subnet(&net, "10.0.0.0/24");
    let r = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": host, "network_id": net, "subnet_id": subnet, "ip_address": "10.0.0.7",
               "mac_address": "aa:bb:cc:dd:ee:0f", "name": "eth0"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["mac_address"], "AA:BB:CC:DD:EE:0F");
    assert_eq!(r.data()["position"], json!(0));
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/ip-addresses/{}", r.id())
    );

    let v6 = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": host, "ip_address": "FD00:0000::0001"}),
    );
    assert_eq!(v6.data()["ip_address"], "fd00::1");
    assert_eq!(
        v6.data()["network_id"],
        json!(net),
        "network_id defaults to the host's"
    );
    assert_eq!(v6.data()["position"], json!(1), "appended");

    let before = app.snapshot();
    let outside = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": host, "subnet_id": subnet, "ip_address": "10.0.1.7"}),
    );
    assert_error(&outside, 400, "VALIDATION_ERROR", Some("ip_address"));
    assert_eq!(outside.body["params"]["ip_address"], "10.0.1.7");
    assert_eq!(outside.body["params"]["subnet"], "10.0.0.0/24");

    let other_net = app.network("other");
    let wrong_net = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": host, "network_id": other_net, "ip_address": "10.0.0.8"}),
    );
    assert_error(&wrong_net, 400, "VALIDATION_ERROR", Some("network_id"));
    let foreign_subnet = app.subnet(&other_net, "10.0.0.0/24");
    let before_foreign = app.snapshot();
    let r = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": host, "subnet_id": foreign_subnet, "ip_address": "10.0.0.8"}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("subnet_id"));
    assert_eq!(r.body["params"]["ip_address"], "10.0.0.8");
    // Nothing of the other network is named (security rule: no cross-network leaks).
    assert!(r.body["params"].get("subnet").is_none(), "{}", r.body);
    assert!(
        r.body["params"].get("subnet_network_id").is_none(),
        "{}",
        r.body
    );
    assert_same(&before_foreign, &app.snapshot());

    let dup = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": host, "ip_address": "10.0.0.7"}),
    );
    assert_error(&dup, 409, "CONFLICT", Some("ip_address"));
    for (body, field) in [
        (
            json!({"host_id": host, "ip_address": "10.0.0.300"}),
            "ip_address",
        ),
        (
            json!({"host_id": host, "ip_address": "10.0.0.9", "mac_address": "aa:bb"}),
            "mac_address",
        ),
        (
            json!({"host_id": host, "ip_address": "10.0.0.9", "position": -1}),
            "position",
        ),
        (
            json!({"host_id": "0d6f6e3e-8a4f-4b8e-9a7c-2c5d1e0f3a4b", "ip_address": "10.0.0.9"}),
            "host_id",
        ),
    ] {
        assert_error(
            &app.post("/api/v1/ip-addresses", body),
            400,
            "VALIDATION_ERROR",
            Some(field),
        );
    }
    let _ = before;
}

#[test]
fn interfaces_alias_lists_filters_updates_and_deletes() {
    let app = spawn_app();
    let net = app.network("home");
    let h1 = app.host(&net, "one");
    let h2 = app.host(&net, "two");
    let a = app.ip(&h1, "10.0.0.1");
    let b = app.ip(&h2, "10.0.0.2");

    let alias = app.get(&format!("/api/v1/interfaces/{a}"));
    assert_eq!(alias.status, 200);
    assert_eq!(alias.data()["ip_address"], "10.0.0.1");
    let listed = app.get(&format!("/api/v1/ip-addresses?host_id={h2}"));
    assert_eq!(listed.body["meta"]["pagination"]["total_count"], json!(1));
    assert_eq!(listed.data()[0]["id"], json!(b));

    let put = app.put(
        &format!("/api/v1/interfaces/{a}"),
        json!({"host_id": h1, "ip_address": "10.0.0.11", "name": "lan"}),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    let stored: String = app
        .db()
        .query_row(
            "SELECT ip_address FROM ip_addresses WHERE id = ?",
            [&a],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, "10.0.0.11");

    assert_eq!(app.delete(&format!("/api/v1/ip-addresses/{a}")).status, 200);
    let bulk = app.post("/api/v1/ip-addresses/bulk-delete", json!([b]));
    assert_eq!(bulk.data()["deleted_count"], json!(1));
    assert_eq!(app.count("ip_addresses"), 0);
}

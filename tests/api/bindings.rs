use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn seed_002_post_example_works_as_written() {
    let app = spawn_app();
    let w = app.world();
    let body = json!({
        "created_at": "2026-06-29T15:15:28.325774Z",
        "first_discovery_id": null,
        "id": "36e21825-a52b-4351-9429-716eb5bf230c",
        "ip_address_id": w.ip1,
        "last_discovery_id": null,
        "last_seen_at": "2026-06-29T15:15:28.325774Z",
        "lineage_id": null,
        "network_id": w.network,
        "port_id": w.port1,
        "service_id": w.service,
        "type": "Port",
        "updated_at": "2026-06-29T15:15:28.325774Z",
        "valid_from": "2026-06-29T15:15:28.325774Z",
        "valid_to": null
    });
    let r = app.post("/api/v1/bindings", body.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    let d = r.data();
    for key in [
        "id",
        "service_id",
        "network_id",
        "type",
        "port_id",
        "ip_address_id",
        "created_at",
        "updated_at",
        "valid_from",
        "valid_to",
        "lineage_id",
        "first_discovery_id",
        "last_discovery_id",
        "last_seen_at",
    ] {
        assert!(d.get(key).is_some(), "missing {key}");
    }
    assert_ne!(d["id"], json!("36e21825-a52b-4351-9429-716eb5bf230c"));
    assert_eq!(d["valid_to"], json!(null));
    assert_eq!(d["valid_from"], d["created_at"]);
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/bindings/{}", r.id())
    );

    // Deduplication: the same POST again returns the live binding, 200, no second row.
    let again = app.post("/api/v1/bindings", body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.id(), r.id());
    assert_eq!(app.count("bindings"), 1);
}

#[test]
fn seed_001_put_example_works_as_written() {
    let app = spawn_app();
    let w = app.world();
    let created = app.post(
        "/api/v1/bindings",
        json!({"service_id": w.service, "type": "Port", "port_id": w.port2}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let r = app.put(
        &format!("/api/v1/bindings/{id}"),
        json!({
            "created_at": "2026-04-20T04:23:43.712215Z",
            "id": "a76d2998-7ed3-4b40-a34d-ccd907a273ef",
            "ip_address_id": w.ip1,
            "network_id": w.network,
            "port_id": w.port1,
            "service_id": w.service,
            "type": "Port",
            "updated_at": "2026-04-20T04:23:43.712215Z"
        }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.id(), id, "the path names the binding");
    assert_eq!(r.data()["port_id"], json!(w.port1));
    assert_eq!(r.data()["ip_address_id"], json!(w.ip1));
    assert!(
        r.data()["valid_from"].as_str() > created.data()["valid_from"].as_str(),
        "a new target starts a new state"
    );
    assert_eq!(
        app.stored_bindings(&w.service),
        vec![(
            "Port".to_string(),
            Some(w.port1.clone()),
            Some(w.ip1.clone())
        )]
    );
}

#[test]
fn aliases_filters_get_delete_and_bulk_delete() {
    let app = spawn_app();
    let w = app.world();
    let a = app.post(
        "/api/v1/bindings",
        json!({"service_id": w.service, "type": "Interface", "interface_id": w.ip2}),
    );
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.data()["type"], "IPAddress");
    assert_eq!(a.data()["ip_address_id"], json!(w.ip2));
    let b = app.post("/api/v1/bindings", json!({"service_id": w.service, "type": "Port", "port_id": w.port2, "ip_address_id": w.ip1}));
    assert_eq!(b.status, 201, "{}", b.body);

    assert_eq!(
        app.get(&format!("/api/v1/bindings/{}", a.id())).data()["id"],
        json!(a.id())
    );
    let by_ip = app.get(&format!("/api/v1/bindings?interface_id={}", w.ip2));
    assert_eq!(by_ip.body["meta"]["pagination"]["total_count"], json!(1));
    let by_type = app.get("/api/v1/bindings?type=Port");
    assert_eq!(by_type.data()[0]["id"], json!(b.id()));
    let by_host = app.get(&format!("/api/v1/bindings?host_id={}", w.host));
    assert_eq!(by_host.body["meta"]["pagination"]["total_count"], json!(2));
    let by_port = app.get(&format!(
        "/api/v1/bindings?port_id={}&service_id={}",
        w.port2, w.service
    ));
    assert_eq!(by_port.body["meta"]["pagination"]["total_count"], json!(1));
    assert_error(
        &app.get("/api/v1/bindings?type=Socket"),
        400,
        "VALIDATION_ERROR",
        Some("type"),
    );

    let other_net = app.network("other");
    let before = app.snapshot();
    let r = app.post("/api/v1/bindings", json!({"service_id": w.service, "network_id": other_net, "type": "Port", "port_id": w.port1}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("network_id"));
    let r = app.post(
        "/api/v1/bindings",
        json!({"type": "Port", "port_id": w.port1}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("service_id"));
    let r = app.post("/api/v1/bindings", json!({"service_id": "7d4e1f9a-3c2b-4a1d-9e8f-0a1b2c3d4e5f", "type": "Port", "port_id": w.port1}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("service_id"));
    assert_same(&before, &app.snapshot());

    assert_eq!(
        app.delete(&format!("/api/v1/bindings/{}", a.id())).status,
        200
    );
    let r = app.post("/api/v1/bindings/bulk-delete", json!([b.id(), a.id()]));
    assert_eq!(r.data(), &json!({"deleted_count": 1, "requested_count": 2}));
    assert_eq!(app.count("bindings"), 0);
}

#[test]
fn bound_ports_and_addresses_are_protected_until_cascade() {
    let app = spawn_app();
    let w = app.world();
    let b1 = app.post("/api/v1/bindings", json!({"service_id": w.service, "type": "Port", "port_id": w.port1, "ip_address_id": w.ip1})).id();
    let b2 = app
        .post(
            "/api/v1/bindings",
            json!({"service_id": w.service, "type": "IPAddress", "ip_address_id": w.ip2}),
        )
        .id();
    let other_host = app.host(&w.network, "other");
    let before = app.snapshot();

    let r = app.delete(&format!("/api/v1/ports/{}", w.port1));
    assert_error(&r, 409, "CONFLICT", None);
    assert_eq!(r.body["params"]["binding_ids"], json!([b1]));
    let r = app.delete(&format!("/api/v1/ip-addresses/{}", w.ip2));
    assert_error(&r, 409, "CONFLICT", None);
    assert_eq!(r.body["params"]["binding_ids"], json!([b2]));
    let r = app.post("/api/v1/ports/bulk-delete", json!([w.port2, w.port1]));
    assert_error(&r, 409, "CONFLICT", None);
    let r = app.put(
        &format!("/api/v1/ports/{}", w.port1),
        json!({"host_id": other_host, "number": 80, "protocol": "Tcp"}),
    );
    assert_error(&r, 409, "CONFLICT", Some("host_id"));
    let r = app.put(
        &format!("/api/v1/ip-addresses/{}", w.ip2),
        json!({"host_id": other_host, "ip_address": "10.0.0.2"}),
    );
    assert_error(&r, 409, "CONFLICT", Some("host_id"));
    assert_eq!(r.body["params"]["binding_ids"], json!([b2]));
    assert_same(&before, &app.snapshot());

    assert_eq!(
        app.delete(&format!("/api/v1/ports/{}?cascade=true", w.port1))
            .status,
        200
    );
    assert_eq!(
        app.delete(&format!("/api/v1/ip-addresses/{}?cascade=true", w.ip2))
            .status,
        200
    );
    assert_eq!(app.count("bindings"), 0);
    assert_eq!(app.count("ports"), 1);
}

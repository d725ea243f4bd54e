use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn create_and_get_embeds_children_in_order() {
    let app = spawn_app();
    let net = app.network("home");
    let r = app.post(
        "/api/v1/hosts",
        json!({
            "network_id": net, "name": "pve1", "hostname": "pve1.lan", "description": "hypervisor",
            "hidden": true,
            "virtualization": {"type": "Proxmox", "details": {"vm_name": "pve", "vm_id": "100"}},
            "source": {"type": "Discovery"}
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert_eq!(
        r.data()["source"],
        json!({"type": "Manual"}),
        "source is server-set"
    );
    assert_eq!(r.data()["hidden"], json!(true));
    assert_eq!(r.data()["virtualization"]["details"]["vm_id"], json!("100"));

    let second = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": id, "ip_address": "10.0.0.9", "position": 5}),
    );
    assert_eq!(second.status, 201);
    let first = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": id, "ip_address": "10.0.0.8", "position": 1}),
    );
    assert_eq!(first.status, 201);
    let port = app.port(&id, 443, "Tcp");

    let got = app.get(&format!("/api/v1/hosts/{id}"));
    assert_eq!(got.status, 200);
    let ips: Vec<&str> = got.data()["ip_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["ip_address"].as_str().unwrap())
        .collect();
    assert_eq!(ips, ["10.0.0.8", "10.0.0.9"], "ordered by position");
    assert_eq!(got.data()["ports"][0]["id"], json!(port));
    assert_eq!(got.data()["ports"][0]["type"], json!("Https"));

    let listed = app.get("/api/v1/hosts?include=ip_addresses");
    assert_eq!(
        listed.data()[0]["ip_addresses"].as_array().unwrap().len(),
        2,
        "lists always embed the addresses clients resolve hosts by"
    );
    assert!(
        listed.data()[0].get("ports").is_none(),
        "the light entry leaves ports and services out"
    );
    let with_children = app.get("/api/v1/hosts?include=children");
    assert_eq!(
        with_children.data()[0]["ip_addresses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_error(
        &app.get("/api/v1/hosts?include=everything"),
        400,
        "VALIDATION_ERROR",
        Some("include"),
    );
}

#[test]
fn list_filters() {
    let app = spawn_app();
    let a = app.network("a");
    let b = app.network("b");
    let tag = app.tag("prod");
    let h1 = app.host(&a, "Alpha");
    let h2 = app.host(&b, "beta");
    let r = app.post(
        "/api/v1/hosts",
        json!({"network_id": a, "name": "gamma", "hostname": "ALPHA-2.lan", "tags": [tag]}),
    );
    let h3 = r.id();

    let in_a = app.get(&format!("/api/v1/hosts?network_id={a}"));
    assert_eq!(in_a.body["meta"]["pagination"]["total_count"], json!(2));
    let q = app.get("/api/v1/hosts?q=alpha");
    let ids: Vec<&str> = q
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [h1.as_str(), h3.as_str()],
        "q matches name or hostname, case-insensitively"
    );
    let tagged = app.get(&format!("/api/v1/hosts?tag_ids={tag}"));
    assert_eq!(tagged.data().as_array().unwrap().len(), 1);
    let chosen = app.get(&format!("/api/v1/hosts?ids={h2}"));
    assert_eq!(chosen.data()[0]["name"], "beta");
    let ordered = app.get("/api/v1/hosts?order_by=name");
    assert_eq!(ordered.data()[0]["name"], "Alpha");
    assert_error(
        &app.get("/api/v1/hosts?network_id=123"),
        400,
        "VALIDATION_ERROR",
        Some("network_id"),
    );
}

#[test]
fn validation_errors_change_nothing() {
    let app = spawn_app();
    let net = app.network("home");
    let before = app.snapshot();
    let missing = "5b0a8e54-77f2-4c1e-8d2f-3b8f1c0e9a77";
    let cases = [
        (
            json!({"network_id": net, "name": "h", "hostname": "bad_name"}),
            "hostname",
        ),
        (
            json!({"network_id": net, "name": "h", "hostname": "-x"}),
            "hostname",
        ),
        (json!({"network_id": net, "name": ""}), "name"),
        (
            json!({"network_id": net, "name": "h", "hidden": "yes"}),
            "hidden",
        ),
        (
            json!({"network_id": net, "name": "h", "virtualization": {"type": "Docker"}}),
            "virtualization.type",
        ),
        (
            json!({"network_id": net, "name": "h", "virtualization": 5}),
            "virtualization",
        ),
        (json!({"network_id": missing, "name": "h"}), "network_id"),
        (json!({"network_id": "nope", "name": "h"}), "network_id"),
        (json!({"name": "h"}), "network_id"),
    ];
    for (body, field) in cases {
        assert_error(
            &app.post("/api/v1/hosts", body),
            400,
            "VALIDATION_ERROR",
            Some(field),
        );
    }
    assert_same(&before, &app.snapshot());
}

#[test]
fn update_and_moving_networks() {
    let app = spawn_app();
    let a = app.network("a");
    let b = app.network("b");
    let empty = app.host(&a, "empty");
    let full = app.host(&a, "full");
    app.port(&full, 22, "Tcp");

    let moved = app.put(
        &format!("/api/v1/hosts/{empty}"),
        json!({"network_id": b, "name": "empty2"}),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.data()["network_id"], json!(b));

    let before = app.snapshot();
    let refused = app.put(
        &format!("/api/v1/hosts/{full}"),
        json!({"network_id": b, "name": "full"}),
    );
    assert_error(&refused, 400, "VALIDATION_ERROR", Some("network_id"));
    assert_same(&before, &app.snapshot());

    let missing = "5b0a8e54-77f2-4c1e-8d2f-3b8f1c0e9a77";
    assert_error(
        &app.put(
            &format!("/api/v1/hosts/{missing}"),
            json!({"network_id": a, "name": "x"}),
        ),
        404,
        "NOT_FOUND",
        None,
    );
}

#[test]
fn delete_takes_children_and_bulk_delete() {
    let app = spawn_app();
    let net = app.network("home");
    let h1 = app.host(&net, "one");
    let h2 = app.host(&net, "two");
    let h3 = app.host(&net, "three");
    app.ip(&h1, "10.0.0.1");
    app.port(&h1, 80, "Tcp");

    let r = app.delete(&format!("/api/v1/hosts/{h1}"));
    assert_eq!(r.status, 200);
    assert_eq!(app.count("ip_addresses"), 0);
    assert_eq!(app.count("ports"), 0);

    let r = app.post("/api/v1/hosts/bulk-delete", json!([h2, h3, h1]));
    assert_eq!(r.data(), &json!({"deleted_count": 2, "requested_count": 3}));
    assert_eq!(app.count("hosts"), 0);
}

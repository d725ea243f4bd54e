use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn seed_000_put_example_works_as_written() {
    let app = spawn_app();
    let w = app.world();
    let body = json!({
        "bindings": [{
            "created_at": "2026-01-12T14:59:13.659334Z",
            "id": "17e02403-98fe-4406-8133-df42a43de7de",
            "interface_id": w.ip1,
            "network_id": w.network,
            "port_id": w.port1,
            "service_id": w.service,
            "type": "Port",
            "updated_at": "2026-01-12T14:59:13.659334Z"
        }],
        "created_at": "2026-01-15T10:30:00Z",
        "host_id": w.host,
        "id": w.service,
        "name": "nginx",
        "network_id": w.network,
        "position": 0,
        "service_definition": "Remote Desktop",
        "source": {"type": "Manual"},
        "tags": [],
        "updated_at": "2026-01-15T10:30:00Z",
        "virtualization": null
    });
    let r = app.put(&format!("/api/v1/services/{}", w.service), body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["success"], json!(true));
    let data = r.data();
    assert_eq!(data["service_definition"], "Remote Desktop");
    assert_eq!(data["source"], json!({"type": "Manual"}));
    let b = &data["bindings"][0];
    assert_eq!(b["type"], "Port");
    assert_eq!(b["port_id"], json!(w.port1));
    assert_eq!(
        b["ip_address_id"],
        json!(w.ip1),
        "output uses the v0.17 name"
    );
    assert!(b.get("interface_id").is_none());
    assert_eq!(b["service_id"], json!(w.service));
    assert_eq!(b["network_id"], json!(w.network));
    assert_eq!(b["valid_to"], json!(null));
    assert_ne!(
        b["id"],
        json!("17e02403-98fe-4406-8133-df42a43de7de"),
        "an unknown id does not become the binding's id"
    );
    assert_eq!(app.stored_bindings(&w.service).len(), 1);
}

#[test]
fn post_assigns_position_source_and_bindings() {
    let app = spawn_app();
    let w = app.world();
    let r = app.post(
        "/api/v1/services",
        json!({
            "host_id": w.host, "name": "dns", "service_definition": "Pi-Hole", "position": 42,
            "source": {"type": "Discovery"},
            "virtualization": {"type": "Docker", "details": {"container_name": "pihole", "container_id": "abc"}},
            "bindings": [
                {"type": "Port", "port_id": w.port1, "ip_address_id": w.ip1, "id": "ignored", "service_id": "ignored"},
                {"type": "Interface", "interface_id": w.ip2}
            ]
        }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.data()["position"],
        json!(1),
        "appended after the world's service"
    );
    assert_eq!(r.data()["source"], json!({"type": "Manual"}));
    assert_eq!(r.data()["network_id"], json!(w.network));
    let bindings = r.data()["bindings"].as_array().unwrap();
    assert_eq!(bindings.len(), 2);
    assert_eq!(bindings[0]["ip_address_id"], json!(w.ip1));
    assert_eq!(bindings[1]["type"], "IPAddress");
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/services/{}", r.id())
    );

    let host = app.get(&format!("/api/v1/hosts/{}", w.host));
    let services = host.data()["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(
        services[1]["bindings"].as_array().unwrap().len(),
        2,
        "host embeds services with bindings"
    );
}

#[test]
fn validation_errors_write_nothing() {
    let app = spawn_app();
    let w = app.world();
    let other_net = app.network("other");
    let before = app.snapshot();
    let cases = [
        (
            json!({"host_id": w.host, "name": "x", "service_definition": "No Such Thing"}),
            "service_definition",
        ),
        (
            json!({"host_id": w.host, "network_id": other_net, "name": "x", "service_definition": "Nginx Proxy Manager"}),
            "network_id",
        ),
        (
            json!({"host_id": w.host, "name": "", "service_definition": "Nginx Proxy Manager"}),
            "name",
        ),
        (
            json!({"host_id": w.host, "name": "x", "service_definition": "Nginx Proxy Manager", "virtualization": {"type": "Proxmox"}}),
            "virtualization.type",
        ),
        (
            json!({"host_id": w.host, "name": "x", "service_definition": "Nginx Proxy Manager", "bindings": [{"type": "Socket", "port_id": w.port1}]}),
            "bindings[0].type",
        ),
        (
            json!({"host_id": w.host, "name": "x", "service_definition": "Nginx Proxy Manager", "bindings": [{"type": "Port"}]}),
            "bindings[0].port_id",
        ),
        (
            json!({"host_id": w.host, "name": "x", "service_definition": "Nginx Proxy Manager", "bindings": [{"type": "IPAddress", "port_id": w.port1, "ip_address_id": w.ip1}]}),
            "bindings[0].port_id",
        ),
        (
            json!({"host_id": w.host, "name": "x", "service_definition": "Nginx Proxy Manager", "bindings": [{"type": "IPAddress"}]}),
            "bindings[0].ip_address_id",
        ),
        (
            json!({"host_id": w.host, "name": "x", "service_definition": "Nginx Proxy Manager", "bindings": [{"type": "Port", "port_id": "zz"}]}),
            "bindings[0].port_id",
        ),
        (
            json!({"host_id": w.host, "name": "x", "service_definition": "Nginx Proxy Manager", "bindings": [{"type": "Port", "port_id": w.port1, "colour": 1}]}),
            "bindings[0].colour",
        ),
    ];
    for (body, field) in cases {
        let r = app.post("/api/v1/services", body);
        assert_error(&r, 400, "VALIDATION_ERROR", Some(field));
    }
    let r = app.post(
        "/api/v1/services",
        json!({"host_id": w.host, "name": "x", "service_definition": "Nope"}),
    );
    assert!(r.body["hint"]
        .as_str()
        .unwrap()
        .contains("/api/v1/service-types"));
    assert_same(&before, &app.snapshot());
}

#[test]
fn put_keeps_position_when_omitted_and_list_filters() {
    let app = spawn_app();
    let w = app.world();
    let tag = app.tag("edge");
    let second = app.service(&w.host, "traefik", json!([])).id();
    let r = app.put(
        &format!("/api/v1/services/{second}"),
        json!({"host_id": w.host, "name": "traefik", "service_definition": "Traefik", "tags": [tag]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["position"], json!(1), "kept");
    let r = app.put(
        &format!("/api/v1/services/{second}"),
        json!({"host_id": w.host, "name": "traefik", "service_definition": "Traefik", "position": 0, "tags": [tag]}),
    );
    assert_eq!(r.data()["position"], json!(0));

    let by_def = app.get("/api/v1/services?service_definition=Traefik");
    assert_eq!(by_def.body["meta"]["pagination"]["total_count"], json!(1));
    let by_tag = app.get(&format!("/api/v1/services?tag_ids={tag}"));
    assert_eq!(by_tag.data()[0]["id"], json!(second));
    let by_host = app.get(&format!(
        "/api/v1/services?host_id={}&order_by=name",
        w.host
    ));
    assert_eq!(by_host.data()[0]["name"], "nginx");
    let q = app.get("/api/v1/services?q=TRAE");
    assert_eq!(q.data().as_array().unwrap().len(), 1);
    assert_error(
        &app.get("/api/v1/services?order_by=port"),
        400,
        "VALIDATION_ERROR",
        Some("order_by"),
    );
}

#[test]
fn delete_takes_bindings_and_bulk_delete() {
    let app = spawn_app();
    let w = app.world();
    let s2 = app
        .service(&w.host, "b", json!([{"type": "Port", "port_id": w.port2}]))
        .id();
    assert_eq!(app.count("bindings"), 1);
    assert_eq!(app.delete(&format!("/api/v1/services/{s2}")).status, 200);
    assert_eq!(app.count("bindings"), 0);
    let r = app.post("/api/v1/services/bulk-delete", json!([w.service, s2]));
    assert_eq!(r.data(), &json!({"deleted_count": 1, "requested_count": 2}));
    assert_eq!(app.count("services"), 0);
}

//! Hosts written with their IP addresses, ports and services in one request (the peer's 0.17
//! wire format): created whole, synced by PUT, all or nothing.

use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_same, spawn_app, TestApp};

const IP1: &str = "0190a000-0000-7000-8000-000000000001";
const IP2: &str = "0190a000-0000-7000-8000-000000000002";
const P22: &str = "0190a000-0000-7000-8000-000000000022";
const P80: &str = "0190a000-0000-7000-8000-000000000080";
const P443: &str = "0190a000-0000-7000-8000-000000000443";
const WEB: &str = "0190a000-0000-7000-8000-00000000000a";
const SSH: &str = "0190a000-0000-7000-8000-00000000000b";

fn whole_host(network: &str) -> Value {
    json!({
        "network_id": network,
        "name": "nas",
        "interfaces": [
            {"id": IP1, "ip_address": "10.0.0.5", "name": "lan"},
            {"id": IP2, "ip_address": "10.0.1.5", "mac_address": "aa:bb:cc:dd:ee:ff"}
        ],
        "ports": [
            {"id": P22, "number": 22, "protocol": "Tcp"},
            {"id": P80, "number": 80, "protocol": "Tcp"},
            {"id": P443, "number": 443, "protocol": "Tcp"}
        ],
        "services": [
            {"id": WEB, "name": "web", "service_definition": "Nginx Proxy Manager",
             "bindings": [{"type": "Port", "port_id": P80},
                          {"type": "Port", "port_id": P443, "ip_address_id": IP1}]},
            {"id": SSH, "name": "ssh", "service_definition": "SSH",
             "bindings": [{"type": "Port", "port_id": P22, "ip_address_id": IP2}]}
        ]
    })
}

fn ids(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn binding_ports(app: &TestApp, service: &str) -> Vec<Option<String>> {
    app.stored_bindings(service)
        .into_iter()
        .map(|(_, port, _)| port)
        .collect()
}

#[test]
fn a_host_created_with_its_children_is_stored_and_read_back_whole() {
    let app = spawn_app();
    let net = app.network("home");
    let r = app.post("/api/v1/hosts", whole_host(&net));
    assert_eq!(r.status, 201, "{}", r.body);
    let host = r.id();
    assert_eq!(ids(&r.data()["ip_addresses"]), [IP1, IP2]);
    assert_eq!(ids(&r.data()["ports"]), [P22, P80, P443]);
    assert_eq!(ids(&r.data()["services"]), [WEB, SSH]);

    let got = app.get(&format!("/api/v1/hosts/{host}"));
    assert_eq!(got.data(), r.data(), "the POST answers what a GET reads");
    let web = &got.data()["services"][0];
    assert_eq!(web["id"], json!(WEB));
    assert_eq!(web["bindings"][0]["port_id"], json!(P80));
    assert_eq!(web["bindings"][0]["ip_address_id"], Value::Null);
    assert_eq!(web["bindings"][1]["ip_address_id"], json!(IP1));
    assert_eq!(
        got.data()["ip_addresses"][1]["mac_address"],
        json!("AA:BB:CC:DD:EE:FF")
    );
    assert_eq!(app.stored_bindings(SSH).len(), 1);
    assert_eq!(app.count("bindings"), 3);

    // One request, one journal entry per object, all under the request's id.
    let journal = app.get(&format!("/api/v1/changes?host_id={host}&limit=100"));
    let requests: std::collections::BTreeSet<&str> = journal
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(requests.len(), 1, "{}", journal.body);
    assert_eq!(journal.data().as_array().unwrap().len(), 1 + 2 + 3 + 2 + 3);
}

#[test]
fn a_rule_breaking_child_writes_nothing_and_is_located_in_the_body() {
    let app = spawn_app();
    let net = app.network("home");
    let other = app.host(&net, "other");
    let foreign_port = app.port(&other, 8080, "Tcp");
    let before = app.snapshot();

    let mut cross_host = whole_host(&net);
    cross_host["services"][1]["bindings"][0]["port_id"] = json!(foreign_port);
    let r = app.post("/api/v1/hosts", cross_host);
    assert_error(
        &r,
        400,
        "VALIDATION_ERROR",
        Some("services[1].bindings[0].port_id"),
    );
    assert_same(&before, &app.snapshot());

    let mut conflicting = whole_host(&net);
    conflicting["services"][1]["bindings"][0] = json!({"type": "Port", "port_id": P80});
    let r = app.post("/api/v1/hosts", conflicting);
    assert_error(&r, 409, "CONFLICT", Some("services[1].bindings[0]"));
    assert_same(&before, &app.snapshot());

    let mut bad_field = whole_host(&net);
    bad_field["ports"][2]["number"] = json!(70000);
    let r = app.post("/api/v1/hosts", bad_field);
    assert_error(&r, 400, "VALIDATION_ERROR", Some("ports[2].number"));

    let mut no_id = whole_host(&net);
    no_id["interfaces"][1].as_object_mut().unwrap().remove("id");
    let r = app.post("/api/v1/hosts", no_id);
    assert_error(&r, 400, "VALIDATION_ERROR", Some("ip_addresses[1].id"));

    let mut twice = whole_host(&net);
    twice["ports"][1]["id"] = json!(P22);
    let r = app.post("/api/v1/hosts", twice);
    assert_error(&r, 400, "VALIDATION_ERROR", Some("ports[1].id"));

    let mut used = whole_host(&net);
    used["ports"][0]["id"] = json!(foreign_port);
    let r = app.post("/api/v1/hosts", used);
    assert_error(&r, 409, "CONFLICT", Some("ports[0].id"));
    assert_same(&before, &app.snapshot());
}

#[test]
fn put_keeps_absent_arrays_syncs_present_ones_and_moves_a_port_between_services() {
    let app = spawn_app();
    let net = app.network("home");
    let host = app.post("/api/v1/hosts", whole_host(&net)).id();
    let path = format!("/api/v1/hosts/{host}");

    // The peer's PUT: no network_id, no arrays. Children stay.
    let r = app.put(&path, json!({"name": "nas2", "hostname": "nas.lan"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["network_id"], json!(net));
    assert_eq!(r.data()["name"], json!("nas2"));
    assert_eq!(ids(&r.data()["services"]), [WEB, SSH]);
    assert_eq!(app.count("bindings"), 3);

    // Port 22 moves from ssh to web in one request; web drops 443.
    let moved = json!({
        "name": "nas2",
        "services": [
            {"id": WEB, "name": "web", "service_definition": "Nginx Proxy Manager",
             "bindings": [{"type": "Port", "port_id": P80}, {"type": "Port", "port_id": P22}]},
            {"id": SSH, "name": "ssh", "service_definition": "SSH", "bindings": []}
        ]
    });
    let r = app.put(&path, moved);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        binding_ports(&app, WEB),
        [Some(P80.to_string()), Some(P22.to_string())]
    );
    assert!(binding_ports(&app, SSH).is_empty());

    // A port missing from a sent array goes, and the binding on it with it (closed in history).
    let r = app.put(
        &path,
        json!({"name": "nas2", "ports": [{"id": P80, "number": 80, "protocol": "Tcp"},
                                          {"id": P443, "number": 8443, "protocol": "Tcp"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.data()["ports"]), [P80, P443]);
    assert_eq!(r.data()["ports"][1]["number"], json!(8443));
    assert_eq!(binding_ports(&app, WEB), [Some(P80.to_string())]);
    let closed: i64 = app
        .db()
        .query_row(
            "SELECT count(*) FROM binding_versions WHERE port_id = ?",
            [P22],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        closed >= 1,
        "the binding on the deleted port is closed in history"
    );

    // services: [] deletes every service with its bindings.
    let r = app.put(&path, json!({"name": "nas2", "services": []}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["services"], json!([]));
    assert_eq!(app.count("services"), 0);
    assert_eq!(app.count("bindings"), 0);
    assert_eq!(
        ids(&r.data()["ip_addresses"]),
        [IP1, IP2],
        "untouched arrays stay"
    );

    // A new service in a PUT, bound to a new port of the same request.
    let r = app.put(
        &path,
        json!({"name": "nas2",
               "ports": [{"id": P80, "number": 80, "protocol": "Tcp"},
                         {"id": P22, "number": 22, "protocol": "Tcp"}],
               "services": [{"id": SSH, "name": "ssh", "service_definition": "SSH",
                             "bindings": [{"type": "Port", "port_id": P22}]}]}),
    );
    assert_error(&r, 409, "CONFLICT", Some("ports[1].id"));
    let fresh = "0190a000-0000-7000-8000-0000000000ff";
    let r = app.put(
        &path,
        json!({"name": "nas2",
               "ports": [{"id": P80, "number": 80, "protocol": "Tcp"},
                         {"id": fresh, "number": 22, "protocol": "Tcp"}],
               "services": [{"id": "0190a000-0000-7000-8000-0000000000fe", "name": "ssh",
                             "service_definition": "SSH",
                             "bindings": [{"type": "Port", "port_id": fresh}]}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data()["services"][0]["bindings"][0]["port_id"],
        json!(fresh)
    );
}

#[test]
fn expected_updated_at_refuses_a_stale_put() {
    let app = spawn_app();
    let net = app.network("home");
    let host = app.post("/api/v1/hosts", whole_host(&net));
    let path = format!("/api/v1/hosts/{}", host.id());
    let read = host.data()["updated_at"].clone();

    let r = app.put(&path, json!({"name": "first", "expected_updated_at": read}));
    assert_eq!(r.status, 200, "{}", r.body);
    let before = app.snapshot();
    let r = app.put(
        &path,
        json!({"name": "second", "expected_updated_at": read}),
    );
    assert_error(&r, 409, "CONFLICT", Some("expected_updated_at"));
    assert_same(&before, &app.snapshot());
    assert_eq!(app.get(&path).data()["name"], json!("first"));

    let service = format!("/api/v1/services/{WEB}");
    let stored = app.get(&service);
    let body = |name: &str, expected: &Value| {
        json!({"host_id": stored.data()["host_id"], "name": name,
               "service_definition": "Nginx Proxy Manager", "expected_updated_at": expected})
    };
    let stale = json!("2000-01-01T00:00:00Z");
    assert_error(
        &app.put(&service, body("x", &stale)),
        409,
        "CONFLICT",
        Some("expected_updated_at"),
    );
    let r = app.put(&service, body("web2", &stored.data()["updated_at"]));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get(&service).data()["name"], json!("web2"));
}

#[test]
fn a_host_read_and_written_back_whole_changes_nothing() {
    let app = spawn_app();
    let net = app.network("home");
    let host = app.post("/api/v1/hosts", whole_host(&net));
    let path = format!("/api/v1/hosts/{}", host.id());
    let read = app.get(&path);
    let journal_before = app.count("changes");
    let etag = read.header("etag").unwrap().to_string();
    let mut body = read.data().clone();
    body["expected_updated_at"] = read.data()["updated_at"].clone();
    let r = app.send("PUT", &path, &body, &[("If-Match", &etag)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data(), read.data(), "every field survives the round trip");
    assert_eq!(
        app.count("changes"),
        journal_before,
        "nothing changed, nothing journaled"
    );
    assert_eq!(r.header("etag"), Some(etag.as_str()));
}

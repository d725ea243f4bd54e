//! The built-in scan against real loopback listeners: what it creates, what a second scan only
//! sees, what `close_missing` closes, and a manual service that is only ever seen.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::listeners::{closed_port, Kind, Listener};

/// Starts a scan and waits for it to finish; returns the finished discovery.
pub fn scan(app: &TestApp, body: Value) -> Value {
    let r = app.post("/api/v1/discoveries", body);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.data()["status"], json!("queued"));
    wait_finished(app, &r.id())
}

pub fn wait_finished(app: &TestApp, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = app.get(&format!("/api/v1/discoveries/{id}"));
        let status = d.data()["status"].as_str().unwrap().to_string();
        if !matches!(status.as_str(), "queued" | "running") {
            return d.data().clone();
        }
        assert!(
            Instant::now() < deadline,
            "the scan did not finish: {}",
            d.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn services_on(app: &TestApp, host: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/services?host_id={host}&limit=0"))
        .data()
        .as_array()
        .unwrap()
        .clone()
}

fn host_at(app: &TestApp, ip: &str) -> Value {
    let ips = app.get("/api/v1/ip-addresses?limit=0");
    let found = ips
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ip_address"] == json!(ip))
        .unwrap_or_else(|| panic!("no address {ip}: {}", ips.body))
        .clone();
    app.get(&format!(
        "/api/v1/hosts/{}",
        found["host_id"].as_str().unwrap()
    ))
    .data()
    .clone()
}

#[test]
fn a_scan_finds_typed_services_a_second_sees_them_and_close_missing_closes_what_went() {
    let app = spawn_app();
    let net = app.network("lab");
    let wide = app.subnet(&net, "127.77.1.0/24");
    let narrow = app.subnet(&net, "127.77.1.0/28");
    let web = Listener::start("127.77.1.1", Kind::Http("Jellyfin"));
    let ssh = Listener::start("127.77.1.2", Kind::SshBanner);
    let silent = Listener::start("127.77.1.3", Kind::Silent);
    let manual = Listener::start("127.77.1.4", Kind::Silent);
    let closed = closed_port("127.77.1.5");
    let ports = json!([web.port(), ssh.port(), silent.port(), manual.port(), closed]);

    // A service entered by hand on .4, bound on all interfaces.
    let mine = app.host(&net, "my box");
    app.ip(&mine, "127.77.1.4");
    let port = app.port(&mine, manual.port(), "Tcp");
    let my_service = app.service(&mine, "my app", json!([{"type": "Port", "port_id": port}]));
    assert_eq!(my_service.status, 201);
    let my_before = my_service.data().clone();

    let body = json!({"network_id": net, "targets": ["127.77.1.0/28"], "ports": ports,
                      "options": {"timeout_ms": 300, "concurrency": 64}});
    let first = scan(&app, body.clone());
    assert_eq!(first["status"], json!("completed"), "{first}");
    assert_eq!(
        first["progress"]["addresses_total"],
        json!(14),
        "/28 without network and broadcast"
    );
    assert_eq!(first["progress"]["probes_done"], json!(14 * 5));
    assert_eq!(first["progress"]["open_found"], json!(4));
    let s = &first["summary"];
    assert_eq!(s["hosts_created"], json!(3), "{s}");
    assert_eq!(s["hosts_seen"], json!(1), "{s}");
    assert_eq!(s["ip_addresses_created"], json!(3));
    assert_eq!(s["ports_created"], json!(3));
    assert_eq!(s["services_created"], json!(3));
    assert_eq!(s["bindings_created"], json!(3));
    assert_eq!(s["bindings_seen"], json!(1));
    let id = first["id"].as_str().unwrap();

    // The HTTP server is Jellyfin by its title, the banner is SSH, the silent port unclaimed.
    let expect = [
        ("127.77.1.1", web.port(), "Jellyfin", "High"),
        ("127.77.1.2", ssh.port(), "SSH", "High"),
        ("127.77.1.3", silent.port(), "Unclaimed Open Ports", "Low"),
    ];
    for (ip, port, kind, confidence) in expect {
        let host = host_at(&app, ip);
        assert_eq!(host["name"], json!(ip));
        assert_eq!(host["source"], json!({"type": "Discovery"}));
        assert_eq!(host["first_discovery_id"], json!(id));
        assert_eq!(
            host["ip_addresses"][0]["subnet_id"],
            json!(narrow),
            "the narrowest subnet"
        );
        assert_ne!(host["ip_addresses"][0]["subnet_id"], json!(wide));
        assert_eq!(host["ports"][0]["number"], json!(port));
        let services = services_on(&app, host["id"].as_str().unwrap());
        assert_eq!(services.len(), 1, "{ip}: {services:?}");
        let svc = &services[0];
        assert_eq!(svc["service_definition"], json!(kind), "{ip}");
        assert_eq!(svc["source"]["type"], json!("Discovery"));
        assert_eq!(
            svc["source"]["details"]["confidence"],
            json!(confidence),
            "{svc}"
        );
        assert_eq!(svc["first_discovery_id"], json!(id));
        assert_eq!(svc["last_discovery_id"], json!(id));
        let b = &svc["bindings"][0];
        assert_eq!(b["type"], json!("Port"));
        assert_eq!(b["ip_address_id"], host["ip_addresses"][0]["id"]);
        assert_eq!(b["first_discovery_id"], json!(id));
    }
    let journal = app.get("/api/v1/changes?limit=1&entity_type=service");
    assert_eq!(journal.data()[0]["actor"]["type"], json!("discovery"));
    assert_eq!(journal.data()[0]["actor"]["id"], json!(id));

    // The manual service was seen, and nothing else about it changed.
    let mine_after = app.get(&format!("/api/v1/services/{}", my_service.id()));
    for field in [
        "name",
        "service_definition",
        "updated_at",
        "valid_from",
        "bindings",
        "source",
    ] {
        if field == "bindings" {
            assert_eq!(
                mine_after.data()["bindings"][0]["id"],
                my_before["bindings"][0]["id"]
            );
            continue;
        }
        assert_eq!(mine_after.data()[field], my_before[field], "{field}");
    }
    assert_eq!(mine_after.data()["last_discovery_id"], json!(id));
    assert_eq!(mine_after.data()["first_discovery_id"], Value::Null);

    // A second scan sees everything and creates nothing, records no version.
    let versions_before = app.count("service_versions") + app.count("binding_versions");
    let changes_before = app.count("changes");
    let second = scan(&app, body.clone());
    let s = &second["summary"];
    for counter in [
        "hosts_created",
        "ip_addresses_created",
        "ports_created",
        "services_created",
        "bindings_created",
    ] {
        assert_eq!(s[counter], json!(0), "{counter}: {s}");
    }
    assert_eq!(s["hosts_seen"], json!(4));
    assert_eq!(s["bindings_seen"], json!(4));
    assert_eq!(
        app.count("service_versions") + app.count("binding_versions"),
        versions_before
    );
    assert_eq!(
        app.count("changes"),
        changes_before,
        "being seen is not a change"
    );
    let ssh_host = host_at(&app, "127.77.1.2");
    let svc = &services_on(&app, ssh_host["id"].as_str().unwrap())[0];
    assert_eq!(svc["last_discovery_id"], second["id"]);
    assert_eq!(svc["first_discovery_id"], json!(id));

    // The SSH server goes away; a scan with close_missing closes its binding, keeps the rest.
    drop(ssh);
    let mut closing = body.clone();
    closing["options"]["close_missing"] = json!(true);
    let third = scan(&app, closing);
    assert_eq!(third["summary"]["bindings_closed"], json!(1), "{third}");
    let svc_now = app.get(&format!("/api/v1/services/{}", svc["id"].as_str().unwrap()));
    assert_eq!(svc_now.data()["bindings"], json!([]));
    let history = app.get(&format!(
        "/api/v1/bindings/{}/history",
        svc["bindings"][0]["id"].as_str().unwrap()
    ));
    assert!(
        history.data()[0]["valid_to"].is_string(),
        "closed in history: {}",
        history.body
    );
    assert_eq!(
        app.get(&format!("/api/v1/services/{}", my_service.id()))
            .data()["bindings"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "manual bindings are never closed"
    );
    drop((web, silent, manual));
}

#[test]
fn web_services_found_on_one_host_get_names_of_their_own() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "127.77.12.0/24");
    let first = Listener::start("127.77.12.1", Kind::Http("Family Photos"));
    let second = Listener::start("127.77.12.1", Kind::Http("Family Photos"));
    let third = Listener::start("127.77.12.1", Kind::Http("Family Photos"));
    let fourth = Listener::start("127.77.12.1", Kind::Http("Family Photos"));
    let ports: Vec<u16> = vec![first.port(), second.port(), third.port(), fourth.port()];
    let done = scan(
        &app,
        json!({"network_id": net, "targets": ["127.77.12.1"], "ports": ports,
               "options": {"timeout_ms": 300}}),
    );
    assert_eq!(done["status"], json!("completed"), "{done}");
    assert_eq!(done["summary"]["services_created"], json!(4), "{done}");
    let host = host_at(&app, "127.77.12.1");
    let services = services_on(&app, host["id"].as_str().unwrap());
    let mut names: Vec<String> = services
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let mut distinct = names.clone();
    distinct.dedup();
    assert_eq!(names, distinct, "no two share a name");
    assert!(names.contains(&"Web Service".to_string()), "{names:?}");
    assert!(names.contains(&"Family Photos".to_string()), "{names:?}");
    // The test listener's `Server` header names the third; the fourth has only its port.
    assert!(names.contains(&"test-server/1.0".to_string()), "{names:?}");
    let by_port = names
        .iter()
        .filter(|n| n.starts_with("Web Service :"))
        .count();
    assert_eq!(by_port, 1, "the fourth is named by its port: {names:?}");
    assert!(services
        .iter()
        .all(|s| s["service_definition"] == json!("Web Service")));
}

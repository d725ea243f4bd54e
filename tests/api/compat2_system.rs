//! The 0.17 clients' system endpoints and unversioned paths: `/api/health` in the peer's exact
//! shape, `/api/config`, the version switch, `/api/hosts` and its siblings.

use serde_json::json;

use crate::helpers::{spawn_app, ServerProcess};

#[test]
fn health_is_the_peers_body_and_config_needs_no_key() {
    let app = spawn_app();
    let r = app.raw("GET", "/api/health", None, None);
    assert_eq!(r.status, 200);
    let body = r.body.as_object().unwrap();
    assert_eq!(body.len(), 3, "{}", r.body);
    assert_eq!(r.body["success"], json!(true));
    assert_eq!(r.body["error"], json!(null));
    // A client reads `data` as the version string.
    let data = r.body["data"].as_str().unwrap();
    assert_eq!(data, format!("Portolan {}", env!("CARGO_PKG_VERSION")));
    let r = app.raw("GET", "/healthz", None, None);
    assert_eq!(r.body, json!({"status": "ok"}), "/healthz is unchanged");

    let r = app.raw("GET", "/api/config", None, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let config = r.data();
    assert_eq!(config["server_port"], json!(port));
    assert_eq!(config["public_url"], json!(null));
    assert_eq!(config["deployment_type"], json!("self-hosted"));
    assert_eq!(config["oidc_providers"], json!([]));
    for flag in [
        "disable_registration",
        "disable_password_login",
        "has_integrated_daemon",
        "billing_enabled",
    ] {
        assert!(config[flag].is_boolean(), "{flag}: {config}");
    }
    let r = app.raw("GET", "/api/version", None, None);
    assert_eq!(
        r.data(),
        &json!({"api_version": 1, "server_version": env!("CARGO_PKG_VERSION")})
    );
}

#[test]
fn the_version_switch_reports_the_peers_version_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let key = "scp_u_abcdefghijklmnopqrstuvwxyz012345";
    let mut server = ServerProcess::start_with(
        dir.path(),
        key,
        &[
            ("PORTOLAN_REPORT_VERSION", "0.17.3"),
            ("PORTOLAN_PUBLIC_URL", "https://portolan.lan"),
        ],
    );
    let agent = ServerProcess::agent();
    let get = |path: &str| -> serde_json::Value {
        let mut res = agent
            .get(format!("{}{path}", server.base))
            .header("Authorization", format!("Bearer {key}"))
            .call()
            .unwrap();
        serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap()
    };
    let version = get("/api/version");
    assert_eq!(version["data"]["server_version"], json!("0.17.3"));
    assert_eq!(version["meta"]["server_version"], json!("0.17.3"));
    assert_eq!(
        get("/api/v1/networks")["meta"]["server_version"],
        json!("0.17.3")
    );
    assert_eq!(get("/api/health")["data"], json!("Portolan 0.17.3"));
    assert_eq!(
        get("/api/config")["data"]["public_url"],
        json!("https://portolan.lan")
    );
    let _ = server.child.kill();
    let _ = server.child.wait();
}

#[test]
fn unversioned_paths_are_served_by_the_same_handlers() {
    let app = spawn_app();
    let net = app.network("lab");
    let r = app.post("/api/hosts", json!({"network_id": net, "name": "nas"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let host = r.id();
    assert_eq!(
        app.get(&format!("/api/hosts/{host}")).body,
        app.get(&format!("/api/v1/hosts/{host}")).body
    );
    let r = app.post(
        "/api/subnets",
        json!({"network_id": net, "cidr": "10.0.0.0/24", "name": "lan"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(app.get("/api/subnets").data().as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/dependencies").status, 200);
    assert_eq!(app.get("/api/discovery").status, 200);
    let missing = app.get("/api/hosts/0193a4c6-0000-7000-8000-000000000000");
    assert_eq!(missing.status, 404, "an unknown id is 404");
    assert_eq!(app.count("hosts"), 1);
    // `/api/services` stays seed 003's service templates.
    assert_eq!(app.get("/api/services").status, 200);
    assert_eq!(
        app.get("/api/services").body["data"],
        app.get("/api/v1/service-templates").body["data"]
    );
}

#[test]
fn host_lists_carry_children_unless_asked_for_the_light_entry() {
    let app = spawn_app();
    let w = app.world();
    let r = app.put(
        &format!("/api/v1/services/{}", w.service),
        json!({"host_id": w.host, "name": "nginx", "service_definition": "Nginx Proxy Manager",
               "bindings": [{"type": "Port", "port_id": w.port1}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let single = app.get(&format!("/api/v1/hosts/{}", w.host));
    for path in [
        "/api/v1/hosts",
        "/api/v1/hosts?include=children",
        "/api/hosts",
    ] {
        let list = app.get(path);
        assert_eq!(list.status, 200, "{path}: {}", list.body);
        assert_eq!(
            list.data()[0],
            *single.data(),
            "{path}: an entry is a single read"
        );
        assert_eq!(
            list.data()[0]["services"][0]["bindings"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    let light = app.get("/api/v1/hosts?include=ip_addresses");
    let entry = &light.data()[0];
    assert_eq!(entry["ip_addresses"].as_array().unwrap().len(), 2);
    assert!(
        entry.get("ports").is_none() && entry.get("services").is_none(),
        "{entry}"
    );
    let bad = app.get("/api/v1/hosts?include=everything");
    crate::helpers::assert_error(&bad, 400, "VALIDATION_ERROR", Some("include"));
}

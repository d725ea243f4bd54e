//! What a scan may not do: leave the network's subnets, exceed the address limit, run twice at
//! once on a network, or be started by a Member or a key scoped to another network.

use serde_json::json;

use crate::helpers::{assert_error, spawn_app, spawn_with};
use crate::listeners::{Kind, Listener};

#[test]
fn scans_stay_inside_the_subnets_and_the_limits() {
    let app = spawn_with(|c| c.discovery_max_addresses = 16);
    let net = app.network("lab");
    app.subnet(&net, "127.77.2.0/24");
    let post = |body| app.post("/api/v1/discoveries", body);
    let r = post(
        json!({"network_id": net, "targets": ["127.77.2.0/28", "127.77.3.1"], "ports": [30001]}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("targets[1]"));
    assert_eq!(r.body["params"]["address"], json!("127.77.3.1"));
    let r = post(json!({"network_id": net, "targets": ["127.77.2.0/24"], "ports": [30001]}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("targets[0]"));
    assert_eq!(r.body["params"]["max_addresses"], json!(16));
    let r = post(json!({"network_id": net, "targets": ["127.77.2.1"], "ports": "30001-29999"}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("ports"));
    let r = post(
        json!({"network_id": net, "targets": ["127.77.2.1"], "ports": [30001],
                        "options": {"timeout_ms": 20}}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("options.timeout_ms"));
    let r = post(
        json!({"network_id": net, "targets": ["127.77.2.1"], "ports": [30001],
                        "options": {"concurrency": 5000}}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("options.concurrency"));
    let r = post(json!({"network_id": net, "targets": ["127.77.2.1"], "mode": "maybe"}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("mode"));
    let r = post(json!({"network_id": net}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("targets"));
    let missing = "0190a000-0000-7000-8000-0000000000aa";
    let r = post(json!({"network_id": missing, "targets": ["127.77.2.1"]}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("network_id"));
    assert_eq!(app.count("discoveries"), 0, "nothing refused was stored");
}

#[test]
fn one_running_scan_per_network_and_only_admins_in_scope_start_them() {
    let app = spawn_app();
    let net = app.network("lab");
    let other = app.network("other");
    app.subnet(&net, "127.77.4.0/24");
    // A probe of a silent port with a long timeout keeps the first scan running.
    let silent = Listener::start("127.77.4.1", Kind::Silent);
    let body = json!({"network_id": net, "targets": ["127.77.4.1"], "ports": [silent.port()],
                      "options": {"timeout_ms": 10000, "concurrency": 1}});
    let first = app.post("/api/v1/discoveries", body.clone());
    assert_eq!(first.status, 202, "{}", first.body);
    let second = app.post("/api/v1/discoveries", body.clone());
    assert_error(&second, 409, "CONFLICT", None);
    assert_eq!(second.body["params"]["discovery_id"], json!(first.id()));

    let member = app.key_with("Member", &[]);
    let r = app.call("POST", "/api/v1/discoveries", &member, Some(&body));
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let elsewhere = app.key_with("Admin", &[&other]);
    let r = app.call("POST", "/api/v1/discoveries", &elsewhere, Some(&body));
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call(
        "GET",
        &format!("/api/v1/discoveries/{}", first.id()),
        &elsewhere,
        None,
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let listed = app.call("GET", "/api/v1/discoveries", &elsewhere, None);
    assert_eq!(
        listed.data(),
        &json!([]),
        "a scoped key lists only its networks' discoveries"
    );

    let r = app.post(
        &format!("/api/v1/discoveries/{}/cancel", first.id()),
        json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["status"], json!("cancelled"));
}

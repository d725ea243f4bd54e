//! `PUT /hosts/{id}/consolidate/{other_id}`: two hosts that are one machine become one.

use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app, TestApp};

struct Pair {
    dest: String,
    other: String,
    /// The destination's 10.0.0.5 and port 443.
    dest_ip: String,
    dest_port: String,
    /// The other's copies of them.
    other_ip: String,
    other_port: String,
    /// Only the other has these.
    other_only_ip: String,
    other_only_port: String,
}

/// Two hosts sharing 10.0.0.5 and 443/tcp; the other also has 10.0.1.5 and 22/tcp.
fn pair(app: &TestApp) -> Pair {
    let network = app.network("home");
    let dest = app.host(&network, "nas");
    let other = app.host(&network, "nas-discovered");
    Pair {
        dest_ip: app.ip(&dest, "10.0.0.5"),
        dest_port: app.port(&dest, 443, "Tcp"),
        other_ip: app.ip(&other, "10.0.0.5"),
        other_port: app.port(&other, 443, "Tcp"),
        other_only_ip: app.ip(&other, "10.0.1.5"),
        other_only_port: app.port(&other, 22, "Tcp"),
        dest,
        other,
    }
}

fn merge(app: &TestApp, p: &Pair) -> crate::helpers::Resp {
    app.put(
        &format!("/api/v1/hosts/{}/consolidate/{}", p.dest, p.other),
        json!({}),
    )
}

#[test]
fn two_hosts_sharing_an_address_and_a_port_merge_with_every_binding_intact() {
    let app = spawn_app();
    let p = pair(&app);
    let web = app.service(
        &p.other,
        "web",
        json!([{"type": "Port", "port_id": p.other_port, "ip_address_id": p.other_ip}]),
    );
    assert_eq!(web.status, 201, "{}", web.body);
    let web_binding = web.data()["bindings"][0]["id"].clone();
    let ssh = app.service(
        &p.other,
        "ssh",
        json!([{"type": "Port", "port_id": p.other_only_port, "ip_address_id": p.other_only_ip}]),
    );
    let dns = app.service(
        &p.dest,
        "dns",
        json!([{"type": "IPAddress", "ip_address_id": p.dest_ip}]),
    );

    let r = merge(&app, &p);
    assert_eq!(r.status, 200, "{}", r.body);
    let host = r.data();
    assert_eq!(host["id"], json!(p.dest));
    let mut ips: Vec<&str> = host["ip_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    ips.sort();
    let mut expected = vec![p.dest_ip.as_str(), p.other_only_ip.as_str()];
    expected.sort();
    assert_eq!(ips, expected, "the shared address is the destination's");
    assert_eq!(host["ports"].as_array().unwrap().len(), 2);
    assert_eq!(host["services"].as_array().unwrap().len(), 3);

    let web_now = app.get(&format!("/api/v1/services/{}", web.id()));
    assert_eq!(web_now.data()["host_id"], json!(p.dest));
    let b = &web_now.data()["bindings"][0];
    assert_eq!(b["id"], web_binding, "the binding keeps its id and history");
    assert_eq!(b["port_id"], json!(p.dest_port));
    assert_eq!(b["ip_address_id"], json!(p.dest_ip));
    let ssh_now = app.get(&format!("/api/v1/services/{}", ssh.id()));
    assert_eq!(
        ssh_now.data()["bindings"][0]["port_id"],
        json!(p.other_only_port)
    );
    assert_eq!(
        app.get(&format!("/api/v1/services/{}", dns.id())).data()["bindings"][0]["ip_address_id"],
        json!(p.dest_ip)
    );
    assert_error(
        &app.get(&format!("/api/v1/hosts/{}", p.other)),
        404,
        "NOT_FOUND",
        None,
    );
    assert_error(
        &app.get(&format!("/api/v1/ports/{}", p.other_port)),
        404,
        "NOT_FOUND",
        None,
    );
    assert_eq!(app.count("hosts"), 1);
    assert_eq!(app.count("bindings"), 3);

    // History remembers the other host and where the binding pointed before.
    let old = app.get(&format!("/api/v1/hosts/{}/history", p.other));
    assert_eq!(old.status, 200, "{}", old.body);
    assert!(old.data()[0]["valid_to"].is_string());
    let binding_history = app.get(&format!(
        "/api/v1/bindings/{}/history",
        web_binding.as_str().unwrap()
    ));
    let versions = binding_history.data().as_array().unwrap();
    assert_eq!(versions.len(), 2, "{}", binding_history.body);
    assert_eq!(versions[1]["port_id"], json!(p.other_port));
}

#[test]
fn a_merge_that_puts_two_services_on_one_port_is_409_and_changes_nothing() {
    let app = spawn_app();
    let p = pair(&app);
    let mine = app.service(
        &p.dest,
        "proxy",
        json!([{"type": "Port", "port_id": p.dest_port}]),
    );
    assert_eq!(mine.status, 201);
    let theirs = app.service(
        &p.other,
        "web",
        json!([{"type": "Port", "port_id": p.other_port}]),
    );
    assert_eq!(theirs.status, 201);
    let before = app.snapshot();
    let r = merge(&app, &p);
    assert_error(&r, 409, "CONFLICT", Some("other_id"));
    assert_eq!(r.body["params"]["moved_service_id"], json!(theirs.id()));
    assert_eq!(
        r.body["params"]["conflicting_binding_id"],
        mine.data()["bindings"][0]["id"]
    );
    assert_same(&before, &app.snapshot());
}

#[test]
fn refusals_other_network_same_host_missing_host_and_scope() {
    let app = spawn_app();
    let p = pair(&app);
    let elsewhere = app.network("elsewhere");
    let far = app.host(&elsewhere, "far");
    let key = app.key_with("Member", &[&elsewhere]);
    let viewer = app.key_with("Viewer", &[]);
    let before = app.snapshot();
    let path = |a: &str, b: &str| format!("/api/v1/hosts/{a}/consolidate/{b}");
    assert_error(
        &app.put(&path(&p.dest, &far), json!({})),
        400,
        "VALIDATION_ERROR",
        Some("other_id"),
    );
    assert_error(
        &app.put(&path(&p.dest, &p.dest), json!({})),
        400,
        "VALIDATION_ERROR",
        Some("other_id"),
    );
    let missing = "0190a000-0000-7000-8000-0000000000aa";
    assert_error(
        &app.put(&path(&p.dest, missing), json!({})),
        404,
        "NOT_FOUND",
        Some("other_id"),
    );
    assert_error(
        &app.put(&path(missing, &p.dest), json!({})),
        404,
        "NOT_FOUND",
        None,
    );
    let r = app.call("PUT", &path(&p.dest, &p.other), &key, Some(&json!({})));
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call("PUT", &path(&p.dest, &p.other), &viewer, Some(&json!({})));
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    assert_same(&before, &app.snapshot());
}

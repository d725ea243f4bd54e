use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn missing_malformed_and_unknown_keys_are_401() {
    let app = spawn_app();
    let before = app.snapshot();
    let r = app.raw("GET", "/api/v1/hosts", None, None);
    assert_error(&r, 401, "UNAUTHORIZED", None);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_error(
        &app.call("GET", "/api/v1/hosts", "not-a-key", None),
        401,
        "UNAUTHORIZED",
        None,
    );
    let unknown = format!("scp_u_{}", "A".repeat(32));
    assert_error(
        &app.call("GET", "/api/v1/hosts", &unknown, None),
        401,
        "UNAUTHORIZED",
        None,
    );
    let r = app.raw(
        "POST",
        "/api/v1/networks",
        None,
        Some(("application/json", br#"{"name":"x"}"#)),
    );
    assert_error(&r, 401, "UNAUTHORIZED", None);
    assert_same(&before, &app.snapshot());
}

#[test]
fn disabled_and_expired_keys_are_401() {
    let app = spawn_app();
    let created = app.post(
        "/api/v1/auth/keys",
        json!({"name": "temp", "permissions": "Viewer"}),
    );
    let (id, key) = (
        created.data()["api_key"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        created.data()["key"].as_str().unwrap().to_string(),
    );
    assert_eq!(app.call("GET", "/api/v1/hosts", &key, None).status, 200);
    let r = app.put(
        &format!("/api/v1/auth/keys/{id}"),
        json!({"name": "temp", "permissions": "Viewer", "is_enabled": false}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_error(
        &app.call("GET", "/api/v1/hosts", &key, None),
        401,
        "UNAUTHORIZED",
        None,
    );

    let expired = app.post(
        "/api/v1/auth/keys",
        json!({"name": "old", "permissions": "Viewer", "expires_at": "2020-01-01T00:00:00Z"}),
    );
    let expired_key = expired.data()["key"].as_str().unwrap();
    assert_error(
        &app.call("GET", "/api/v1/hosts", expired_key, None),
        401,
        "UNAUTHORIZED",
        None,
    );
}

#[test]
fn viewer_cannot_write() {
    let app = spawn_app();
    let net = app.network("home");
    let viewer = app.key_with("Viewer", &[]);
    assert_eq!(
        app.call("GET", "/api/v1/networks", &viewer, None).status,
        200
    );
    let before = app.snapshot();
    let r = app.call(
        "POST",
        "/api/v1/hosts",
        &viewer,
        Some(&json!({"network_id": net, "name": "h"})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    assert_eq!(r.body["required_role"], json!("Member"));
    let r = app.call(
        "POST",
        "/api/v1/auth/keys",
        &viewer,
        Some(&json!({"name": "k"})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    assert_eq!(r.body["required_role"], json!("Admin"));
    assert_same(&before, &app.snapshot());
}

#[test]
fn network_scoped_key_sees_and_touches_only_its_networks() {
    let app = spawn_app();
    let a = app.network("a");
    let b = app.network("b");
    let host_a = app.host(&a, "in-a");
    let host_b = app.host(&b, "in-b");
    let port_b = app.port(&host_b, 22, "Tcp");
    let key = app.key_with("Member", &[&a]);

    let hosts = app.call("GET", "/api/v1/hosts", &key, None);
    assert_eq!(hosts.body["meta"]["pagination"]["total_count"], json!(1));
    assert_eq!(hosts.data()[0]["id"], json!(host_a));
    let filtered = app.call("GET", &format!("/api/v1/hosts?network_id={b}"), &key, None);
    assert_eq!(filtered.status, 200);
    assert_eq!(
        filtered.data(),
        &json!([]),
        "a filter on an invisible network is an empty list"
    );
    let nets = app.call("GET", "/api/v1/networks", &key, None);
    assert_eq!(nets.body["meta"]["pagination"]["total_count"], json!(1));

    let before = app.snapshot();
    assert_error(
        &app.call("GET", &format!("/api/v1/hosts/{host_b}"), &key, None),
        403,
        "FORBIDDEN_SCOPE",
        None,
    );
    assert_error(
        &app.call("GET", &format!("/api/v1/ports/{port_b}"), &key, None),
        403,
        "FORBIDDEN_SCOPE",
        None,
    );
    let r = app.call(
        "PUT",
        &format!("/api/v1/hosts/{host_b}"),
        &key,
        Some(&json!({"network_id": b, "name": "x"})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call(
        "POST",
        "/api/v1/hosts",
        &key,
        Some(&json!({"network_id": b, "name": "x"})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call(
        "PUT",
        &format!("/api/v1/hosts/{host_a}"),
        &key,
        Some(&json!({"network_id": b, "name": "x"})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    assert_error(
        &app.call("DELETE", &format!("/api/v1/hosts/{host_b}"), &key, None),
        403,
        "FORBIDDEN_SCOPE",
        None,
    );
    let r = app.call(
        "POST",
        "/api/v1/hosts/bulk-delete",
        &key,
        Some(&json!([host_a, host_b])),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call("POST", "/api/v1/tags", &key, Some(&json!({"name": "t"})));
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    assert_same(&before, &app.snapshot());

    let ok = app.call(
        "PUT",
        &format!("/api/v1/hosts/{host_a}"),
        &key,
        Some(&json!({"network_id": a, "name": "renamed"})),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn rotation_invalidates_the_old_key_at_once() {
    let app = spawn_app();
    let created = app.post(
        "/api/v1/auth/keys",
        json!({"name": "ci", "permissions": "Member"}),
    );
    let id = created.data()["api_key"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let old = created.data()["key"].as_str().unwrap().to_string();
    assert_eq!(app.call("GET", "/api/v1/hosts", &old, None).status, 200);

    let r = app.post(&format!("/api/v1/auth/keys/{id}/rotate"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let new = r.data().as_str().unwrap().to_string();
    assert!(new.starts_with("scp_u_") && new != old);
    assert_error(
        &app.call("GET", "/api/v1/hosts", &old, None),
        401,
        "UNAUTHORIZED",
        None,
    );
    assert_eq!(app.call("GET", "/api/v1/hosts", &new, None).status, 200);
    // Journaled as a change of the key's secret, which no image shows.
    let entries = app.get(&format!("/api/v1/changes?entity_id={id}&action=update"));
    assert_eq!(entries.data()[0]["changed_fields"], json!(["key"]));
    assert!(!entries.body.to_string().contains(&new));
}

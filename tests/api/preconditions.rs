//! `ETag` on single-object reads, `If-Match` on writes: a stale tag is 412 and writes nothing.

use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_same, spawn_app, Resp, TestApp};

fn etag(app: &TestApp, path: &str) -> String {
    let r = app.get(path);
    assert_eq!(r.status, 200, "{}", r.body);
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag on GET {path}"))
        .to_string()
}

fn write(app: &TestApp, method: &str, path: &str, body: &Value, tag: &str) -> Resp {
    app.send(method, path, body, &[("If-Match", tag)])
}

/// Reads the tag, lets another writer change the object, then writes with the old tag (412,
/// nothing written) and with the new one (2xx, answering the tag a GET then reads).
fn stale_then_fresh(app: &TestApp, method: &str, path: &str, other: Value, mine: Value) {
    let old = etag(app, path);
    let r = app.send(method, path, &other, &[]);
    assert!(r.status < 300, "{}", r.body);
    let before = app.snapshot();
    let r = write(app, method, path, &mine, &old);
    assert_error(&r, 412, "PRECONDITION_FAILED", Some("If-Match"));
    assert_same(&before, &app.snapshot());

    let current = etag(app, path);
    assert_ne!(current, old, "a change changes the tag");
    let r = write(app, method, path, &mine, &current);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("etag"), Some(etag(app, path).as_str()));
}

#[test]
fn host_service_binding_and_template_writes_check_if_match() {
    let app = spawn_app();
    let w = app.world();
    let host = format!("/api/v1/hosts/{}", w.host);
    stale_then_fresh(
        &app,
        "PUT",
        &host,
        json!({"name": "theirs"}),
        json!({"name": "mine"}),
    );
    assert_eq!(app.get(&host).data()["name"], json!("mine"));

    let service = format!("/api/v1/services/{}", w.service);
    let body = |name: &str| {
        json!({"host_id": w.host, "name": name, "service_definition": "Nginx Proxy Manager",
               "bindings": [{"type": "Port", "port_id": w.port1}]})
    };
    stale_then_fresh(&app, "PUT", &service, body("theirs"), body("mine"));
    assert_eq!(app.get(&service).data()["name"], json!("mine"));

    let binding_id = app.get(&service).data()["bindings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let binding = format!("/api/v1/bindings/{binding_id}");
    let to = |port: &str| json!({"service_id": w.service, "type": "Port", "port_id": port});
    stale_then_fresh(&app, "PUT", &binding, to(&w.port2), to(&w.port1));

    let t = app.post(
        "/api/v1/service-templates",
        json!({"name": "jellyfin", "containerImageId": "lscr.io/linuxserver/jellyfin"}),
    );
    let template = format!("/api/v1/service-templates/{}", t.id());
    stale_then_fresh(
        &app,
        "PATCH",
        &template,
        json!({"imageTag": "theirs"}),
        json!({"imageTag": "mine"}),
    );
    assert_eq!(app.get(&template).data()["imageTag"], json!("mine"));
}

#[test]
fn delete_checks_if_match_and_star_means_any_state() {
    let app = spawn_app();
    let w = app.world();
    let path = format!("/api/v1/ports/{}", w.port2);
    let old = etag(&app, &path);
    let r = app.put(
        &path,
        json!({"host_id": w.host, "number": 8443, "protocol": "Tcp"}),
    );
    assert_eq!(r.status, 200);
    let before = app.snapshot();
    let r = app.raw_with("DELETE", &path, Some(&app.key), None, &[("If-Match", &old)]);
    assert_error(&r, 412, "PRECONDITION_FAILED", Some("If-Match"));
    assert_same(&before, &app.snapshot());

    let r = app.raw_with("DELETE", &path, Some(&app.key), None, &[("If-Match", "*")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get(&path).status, 404);
}

#[test]
fn malformed_or_weak_tags_are_refused_and_past_states_carry_no_tag() {
    let app = spawn_app();
    let w = app.world();
    let path = format!("/api/v1/hosts/{}", w.host);
    let tag = etag(&app, &path);
    let body = json!({"name": "x"});
    assert_error(
        &write(&app, "PUT", &path, &body, "no-quotes"),
        400,
        "VALIDATION_ERROR",
        Some("If-Match"),
    );
    assert_error(
        &write(&app, "PUT", &path, &body, &format!("W/{tag}")),
        412,
        "PRECONDITION_FAILED",
        Some("If-Match"),
    );
    let r = write(&app, "PUT", &path, &body, &format!("\"other\", {tag}"));
    assert_eq!(r.status, 200, "any listed tag matches: {}", r.body);

    let past = app.get(&format!("{path}?at=2000-01-01T00:00:00Z"));
    assert!(past.header("etag").is_none() || past.status == 404);
}

#[test]
fn a_scoped_key_learns_nothing_from_if_match_outside_its_networks() {
    let app = spawn_app();
    let w = app.world();
    let elsewhere = app.network("elsewhere");
    let key = app.key_with("Member", &[&elsewhere]);
    let path = format!("/api/v1/hosts/{}", w.host);
    let r = app.raw_with(
        "DELETE",
        &path,
        Some(&key),
        None,
        &[("If-Match", "\"0000\"")],
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
}

#[test]
fn using_an_api_key_does_not_change_its_etag() {
    let app = spawn_app();
    let created = app.post(
        "/api/v1/auth/keys",
        json!({"name": "ci", "permissions": "Viewer"}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.data()["api_key"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = created.data()["key"].as_str().unwrap().to_string();
    let path = format!("/api/v1/auth/keys/{id}");
    let tag = etag(&app, &path);
    assert_eq!(
        app.call("GET", "/api/v1/networks", &secret, None).status,
        200
    );
    // The use is recorded after the answer, off the request's path.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !app.get(&path).data()["last_used"].is_string() {
        assert!(
            std::time::Instant::now() < deadline,
            "the use was never recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(etag(&app, &path), tag);
    let body = json!({"name": "ci-renamed", "permissions": "Viewer"});
    let r = write(&app, "PUT", &path, &body, &tag);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = write(
        &app,
        "PUT",
        &path,
        &json!({"name": "again", "permissions": "Viewer"}),
        &tag,
    );
    assert_error(&r, 412, "PRECONDITION_FAILED", Some("If-Match"));
}

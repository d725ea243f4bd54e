use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn malformed_bodies_are_400_with_field_body() {
    let app = spawn_app();
    let key = app.key.clone();
    let before = app.snapshot();
    let r = app.raw(
        "POST",
        "/api/v1/networks",
        Some(&key),
        Some(("application/json", b"{\"name\": ")),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("body"));
    let r = app.raw(
        "POST",
        "/api/v1/networks",
        Some(&key),
        Some(("application/json", b"[1, 2]")),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("body"));
    let r = app.raw(
        "POST",
        "/api/v1/networks",
        Some(&key),
        Some(("text/plain", br#"{"name":"x"}"#)),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("body"));
    let r = app.raw(
        "POST",
        "/api/v1/networks",
        Some(&key),
        Some(("", br#"{"name":"x"}"#)),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("body"));
    assert_same(&before, &app.snapshot());
}

#[test]
fn oversize_bodies_are_413_validation_errors() {
    let app = spawn_app();
    let big = format!(
        r#"{{"name": "x", "description": "{}"}}"#,
        "a".repeat(1 << 20)
    );
    let r = app.raw(
        "POST",
        "/api/v1/networks",
        Some(&app.key),
        Some(("application/json", big.as_bytes())),
    );
    assert_error(&r, 413, "VALIDATION_ERROR", Some("body"));
    assert_eq!(
        r.body["message"],
        json!("The request body is larger than 1 MiB")
    );
    assert_eq!(app.count("networks"), 0);
}

#[test]
fn bad_path_ids_and_unknown_paths() {
    let app = spawn_app();
    assert_error(
        &app.get("/api/v1/hosts/not-a-uuid"),
        400,
        "VALIDATION_ERROR",
        Some("id"),
    );
    assert_error(
        &app.get("/api/v1/hosts/7d4e1f9a-3c2b-4a1d-9e8f-0a1b2c3d4e5f"),
        404,
        "NOT_FOUND",
        None,
    );
    let r = app.get("/api/v1/gizmos");
    assert_error(&r, 404, "NOT_FOUND", None);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    assert_error(
        &app.raw("GET", "/api/nothing/here", None, None),
        404,
        "NOT_FOUND",
        None,
    );
    assert_error(
        &app.call("PATCH", "/api/v1/hosts", &app.key, Some(&json!({}))),
        404,
        "NOT_FOUND",
        None,
    );
}

#[test]
fn every_response_has_a_monotonic_request_id() {
    let app = spawn_app();
    let ids: Vec<String> = (0..5)
        .map(|_| {
            app.get("/api/v1/networks")
                .header("x-request-id")
                .unwrap()
                .to_string()
        })
        .collect();
    for id in &ids {
        assert!(id.starts_with("req_") && id.len() == 30, "{id}");
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "ids grow within the process");
    assert!(app
        .raw("GET", "/healthz", None, None)
        .header("x-request-id")
        .is_some());
}

#[test]
fn oversize_headers_are_refused() {
    let app = spawn_app();
    let big = "a".repeat(20 * 1024);
    let r = app.raw_with(
        "GET",
        "/api/v1/networks",
        Some(&app.key),
        None,
        &[("X-Padding", big.as_str())],
    );
    assert_error(&r, 431, "VALIDATION_ERROR", Some("headers"));
    let fine = "a".repeat(4 * 1024);
    let r = app.raw_with(
        "GET",
        "/api/v1/networks",
        Some(&app.key),
        None,
        &[("X-Padding", fine.as_str())],
    );
    assert_eq!(r.status, 200);
}

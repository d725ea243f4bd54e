//! Shares: a read-only link to one network's map and hosts, opened without an account; made
//! and revoked by Admins of that network; a password asked for and checked; expired or revoked
//! links are 404 at once; the token stored hashed.

use serde_json::json;

use crate::helpers::{assert_error, spawn_app, TestApp};

pub fn shared_network(app: &TestApp) -> (String, String) {
    let net = app.network("home lab");
    let host = app.host(&net, "nas");
    let port = app.port(&host, 8096, "Tcp");
    let r = app.service(
        &host,
        "jellyfin",
        json!([{"type": "Port", "port_id": port}]),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    (net, host)
}

#[test]
fn a_share_shows_one_network_without_an_account_until_it_is_revoked() {
    let app = spawn_app();
    let (net, _) = shared_network(&app);
    let other = app.network("office");
    app.host(&other, "secret-box");
    let r = app.post(&format!("/api/v1/networks/{net}/shares"), json!({}));
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.data()["token"].as_str().unwrap().to_string();
    assert_eq!(r.data()["link"], format!("/share/{token}"));
    let share_id = r.id();
    let stored: String = app
        .db()
        .query_row("SELECT token_hash FROM shares", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, token);
    let listed = app.get(&format!("/api/v1/networks/{net}/shares"));
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
    assert!(!listed.body.to_string().contains(&token));

    let open = app.raw("GET", &format!("/api/v1/shares/{token}"), None, None);
    assert_eq!(open.status, 200, "{}", open.body);
    assert_eq!(open.data()["network"]["name"], "home lab");
    let hosts = open.data()["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0]["services"][0]["name"], "jellyfin");
    assert!(
        !open.body.to_string().contains("secret-box"),
        "nothing of another network"
    );
    assert!(
        open.data()["map"]["nodes"].is_array(),
        "{}",
        open.data()["map"]
    );
    let svg = app.raw(
        "GET",
        &format!("/api/v1/shares/{token}/map.svg"),
        None,
        None,
    );
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    // It opens nothing else: the same token is no key.
    assert_error(
        &app.call("GET", "/api/v1/hosts", &token, None),
        401,
        "UNAUTHORIZED",
        None,
    );

    // Who may share: an Admin of the network.
    let viewer = app.key_with("Viewer", &[]);
    let r = app.call(
        "POST",
        &format!("/api/v1/networks/{net}/shares"),
        &viewer,
        Some(&json!({})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let elsewhere = app.key_with("Admin", &[&other]);
    let r = app.call(
        "POST",
        &format!("/api/v1/networks/{net}/shares"),
        &elsewhere,
        Some(&json!({})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.post(
        &format!("/api/v1/networks/{net}/shares"),
        json!({"expires_at": "2001-01-01T00:00:00Z"}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("expires_at"));

    // Revoked: 404 at once; an unknown token the same.
    let r = app.delete(&format!("/api/v1/networks/{net}/shares/{share_id}"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_error(
        &app.raw("GET", &format!("/api/v1/shares/{token}"), None, None),
        404,
        "NOT_FOUND",
        None,
    );
    assert_error(
        &app.raw(
            "GET",
            &format!("/api/v1/shares/{}", "0".repeat(64)),
            None,
            None,
        ),
        404,
        "NOT_FOUND",
        None,
    );
}

#[test]
fn a_shares_password_is_asked_for_checked_and_an_expired_share_is_gone() {
    let app = spawn_app();
    let (net, _) = shared_network(&app);
    let r = app.post(
        &format!("/api/v1/networks/{net}/shares"),
        json!({"password": "a shared secret", "expires_at": "2999-01-01T00:00:00Z"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.data()["token"].as_str().unwrap().to_string();
    let path = format!("/api/v1/shares/{token}");
    assert_error(
        &app.raw("GET", &path, None, None),
        401,
        "UNAUTHORIZED",
        Some("password"),
    );
    let wrong = app.raw_with(
        "GET",
        &path,
        None,
        None,
        &[("X-Portolan-Share-Password", "not it at all")],
    );
    assert_error(&wrong, 401, "UNAUTHORIZED", Some("password"));
    let right = app.raw_with(
        "GET",
        &path,
        None,
        None,
        &[("X-Portolan-Share-Password", "a shared secret")],
    );
    assert_eq!(right.status, 200, "{}", right.body);
    assert!(!app
        .get(&format!("/api/v1/networks/{net}/shares"))
        .body
        .to_string()
        .contains("argon2"));

    let db = rusqlite::Connection::open(app.dir.path().join("portolan.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    db.execute("UPDATE shares SET expires_at = '2001-01-01T00:00:00Z'", [])
        .unwrap();
    let gone = app.raw_with(
        "GET",
        &path,
        None,
        None,
        &[("X-Portolan-Share-Password", "a shared secret")],
    );
    assert_error(&gone, 404, "NOT_FOUND", None);
}

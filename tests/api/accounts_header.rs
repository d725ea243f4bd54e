//! Sign-in by a trusted proxy's header (Authelia, Authentik, oauth2-proxy): honoured only from an
//! address in PORTOLAN_TRUSTED_PROXIES, the role read from the groups header at every sign-in,
//! no matching group refused; from another loopback address the header is ignored.

use std::process::Command;

use portolan::domain::account::RoleMap;
use portolan::domain::net::Cidr;
use serde_json::{json, Value};

use crate::helpers::{assert_error, required_tool, spawn_with, system_program};

#[test]
fn a_trusted_proxys_header_signs_in_and_another_address_is_ignored() {
    let app = spawn_with(|c| {
        c.auth_header = Some(("Remote-User".into(), Some("Remote-Groups".into())));
        c.trusted_proxies = vec![Cidr::parse("127.0.0.1/32").unwrap()];
        c.role_map = RoleMap::parse("lab-admins=Admin,lab=Viewer").unwrap();
    });
    let probe = |groups: &str| {
        app.raw_with(
            "GET",
            "/api/v1/auth/session",
            None,
            None,
            &[("Remote-User", "carl"), ("Remote-Groups", groups)],
        )
    };
    let r = probe("lab");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["user"]["username"], "carl");
    assert_eq!(r.data()["user"]["role"], "Viewer");
    assert_eq!(r.data()["user"]["auth"], "header");
    assert_eq!(r.data()["auth"], "header");
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me = app.raw_with("GET", "/api/v1/auth/me", None, None, &[("Cookie", &cookie)]);
    assert_eq!(me.data()["role"], "Viewer");
    // The role is read again at each sign-in; no group with a role is refused.
    let r = probe("lab, lab-admins");
    assert_eq!(r.data()["user"]["role"], "Admin");
    assert_eq!(app.count("users"), 1, "the same person");
    assert_error(&probe("guests"), 403, "FORBIDDEN_ROLE", None);
    let carl = r.data()["user"]["id"].as_str().unwrap().to_string();
    // Disabled, carl is refused too; both refusals are in the audit under his account.
    let disabled = app.put(
        &format!("/api/v1/users/{carl}"),
        json!({"username": "carl", "role": "Admin", "network_ids": [], "enabled": false}),
    );
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_error(&probe("lab-admins"), 401, "UNAUTHORIZED", None);
    assert_eq!(
        app.count("sessions"),
        0,
        "his sessions ended, the refusal made none"
    );
    let failed = app.get("/api/v1/auth/events?type=sign_in_failed");
    let failed = failed.data().as_array().unwrap();
    assert_eq!(failed.len(), 2, "{failed:?}");
    for event in failed {
        assert_eq!(event["username"], "carl");
        assert_eq!(event["user_id"], json!(carl));
    }
    let enabled = app.put(
        &format!("/api/v1/users/{carl}"),
        json!({"username": "carl", "role": "Admin", "network_ids": [], "enabled": true}),
    );
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    // Without the header: no session.
    let none = app.raw("GET", "/api/v1/auth/session", None, None);
    assert_eq!(none.data(), &Value::Null);

    // From 127.0.0.2 the same header is ignored.
    let Some(curl) = required_tool(system_program("curl"), "curl", "apt-get install curl") else {
        return;
    };
    let port = app.base.rsplit(':').next().unwrap();
    let out = Command::new(curl)
        .args([
            "-s",
            "--interface",
            "127.0.0.2",
            "-H",
            "Remote-User: carl",
            "-H",
            "Remote-Groups: lab-admins",
        ])
        .arg(format!("http://127.0.0.1:{port}/api/v1/auth/session"))
        .output()
        .unwrap();
    let body: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(body["data"], Value::Null, "{body}");
    let events = app.get("/api/v1/auth/events?type=sign_in");
    assert_eq!(events.data().as_array().unwrap().len(), 2);
}

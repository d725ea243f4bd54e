//! Second factors: set up with a secret and QR code, confirmed with a code (which then counts as
//! used), required at sign-in, no code accepted twice, recovery codes once each, turned off with
//! the password or by an Admin.

use serde_json::json;

use crate::accounts::{sign_in, Person};
use crate::helpers::{assert_error, spawn_app};

const PASSWORD: &str = "correct horse battery";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn with_code(app: &crate::helpers::TestApp, code: &str) -> crate::helpers::Resp {
    crate::accounts::post_open(
        app,
        "/api/v1/auth/sign-in",
        &json!({"username": "ada", "password": PASSWORD, "totp": code}),
    )
}

#[test]
fn a_second_factor_is_asked_for_accepts_each_code_once_and_can_be_turned_off() {
    let app = spawn_app();
    let r = app.post(
        "/api/v1/users",
        json!({"username": "ada", "password": PASSWORD, "role": "Member"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    let ada = Person::from(&sign_in(&app, "ada", PASSWORD));
    let r = ada.call(&app, "POST", "/api/v1/auth/totp/setup", None, true);
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = r.data()["secret"].as_str().unwrap().to_string();
    assert!(r.data()["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Portolan:ada?"));
    assert!(r.data()["qr_svg"].as_str().unwrap().contains("<svg"));
    let r = ada.call(
        &app,
        "POST",
        "/api/v1/auth/totp/confirm",
        Some(&json!({"code": "000000"})),
        true,
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("code"));
    let first = portolan::domain::totp::code_at(&secret, now());
    let r = ada.call(
        &app,
        "POST",
        "/api/v1/auth/totp/confirm",
        Some(&json!({"code": first})),
        true,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let recovery: Vec<String> = serde_json::from_value(r.data()["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        app.get(&format!("/api/v1/users/{id}")).data()["totp_enabled"],
        true
    );
    let stored: String = app
        .db()
        .query_row("SELECT code_hash FROM recovery_codes LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!recovery.contains(&stored), "stored hashed");

    // The password alone is not enough; the code of confirmation does not work again.
    assert_error(
        &sign_in(&app, "ada", PASSWORD),
        401,
        "UNAUTHORIZED",
        Some("totp"),
    );
    assert_error(&with_code(&app, &first), 401, "UNAUTHORIZED", Some("totp"));
    let next = portolan::domain::totp::code_at(&secret, now() + 30);
    assert_eq!(
        with_code(&app, &next).status,
        200,
        "the next step's code, within the skew"
    );
    assert_error(&with_code(&app, &next), 401, "UNAUTHORIZED", Some("totp"));
    // A recovery code works once, in any case.
    assert_eq!(with_code(&app, &recovery[0].to_uppercase()).status, 200);
    assert_error(
        &with_code(&app, &recovery[0]),
        401,
        "UNAUTHORIZED",
        Some("totp"),
    );

    // Off with the password; an Admin can turn it off too.
    let r = ada.call(
        &app,
        "POST",
        "/api/v1/auth/totp/disable",
        Some(&json!({"password": "wrong wrong wrong"})),
        true,
    );
    assert_error(&r, 401, "UNAUTHORIZED", Some("password"));
    let r = ada.call(
        &app,
        "POST",
        "/api/v1/auth/totp/disable",
        Some(&json!({"password": PASSWORD})),
        true,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sign_in(&app, "ada", PASSWORD).status, 200);
    let again = ada.call(&app, "POST", "/api/v1/auth/totp/setup", None, true);
    let secret = again.data()["secret"].as_str().unwrap().to_string();
    let code = portolan::domain::totp::code_at(&secret, now());
    assert_eq!(
        ada.call(
            &app,
            "POST",
            "/api/v1/auth/totp/confirm",
            Some(&json!({"code": code})),
            true
        )
        .status,
        200
    );
    let r = app.delete(&format!("/api/v1/users/{id}/totp"));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["totp_enabled"], false);
    assert_eq!(sign_in(&app, "ada", PASSWORD).status, 200);
    let events = app.get(&format!("/api/v1/auth/events?user_id={id}&limit=100"));
    let kinds: Vec<&str> = events
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"totp_enabled")
            && kinds.contains(&"totp_disabled")
            && kinds.contains(&"sign_in_failed"),
        "{kinds:?}"
    );
}

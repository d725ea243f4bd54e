//! A second factor in the web UI: set up from the Account page (QR code and secret), confirmed
//! with a code the test computes, recovery codes shown once, then asked for at sign-in.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::ui::{audit, browser};

const PASSWORD: &str = "correct horse battery";

fn code(secret: &str, ahead: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    portolan::domain::totp::code_at(secret, now + ahead)
}

#[test]
fn a_person_turns_on_a_second_factor_and_signs_in_with_it() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let r = app.post(
        "/api/v1/users",
        json!({"username": "ada", "password": PASSWORD, "role": "Admin"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    b.goto(&format!("{}/", app.base));
    b.type_into(&b.css("#username"), "ada");
    b.type_into(&b.css("#password"), PASSWORD);
    b.click(&b.button("Sign in"));
    b.wait_text("#role", "Signed in as ada, Admin");
    b.goto(&format!("{}/#/account", app.base));
    b.click(&b.button("Set up a second factor"));
    let secret = b.wait_text("#totp-secret", "");
    let secret = secret.trim().to_string();
    assert_eq!(secret.len(), 32, "{secret}");
    b.css("#second-factor img[alt='QR code of the authenticator link']");
    audit(&b, "second factor setup");
    b.type_into(
        &b.css("#second-factor [data-field='code'] input"),
        &code(&secret, 0),
    );
    b.click(&b.button("Turn on"));
    let codes = b.wait_text("#recovery-codes", "-");
    assert_eq!(codes.lines().count(), 10, "{codes}");
    audit(&b, "recovery codes");

    b.click(&b.button("Sign out"));
    b.type_into(&b.css("#username"), "ada");
    b.type_into(&b.css("#password"), PASSWORD);
    b.click(&b.button("Sign in"));
    b.wait_text(
        "#password-sign-in-error",
        "Enter the code of your second factor",
    );
    audit(&b, "sign-in, second step");
    b.type_into(&b.css("#totp"), &code(&secret, 30));
    b.click(&b.button("Sign in"));
    b.wait_text("#role", "Signed in as ada, Admin");
    let errors: Vec<String> = b
        .console_errors()
        .into_iter()
        .filter(|e| !(e.contains("/api/v1/auth/sign-in") && e.contains("401")))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}

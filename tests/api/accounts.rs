//! People's accounts over HTTP: the first start's setup code, sign-in with one answer for
//! unknown users and wrong passwords, throttling, session cookies and their flags, CSRF, the
//! journal naming people, sessions renewed at sign-in and ended by sign-out, revocation, a
//! password change and a disabled account; users, roles and the last Owner; invites and
//! password links; `portolan users add`; no secret in any answer.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, Resp, TestApp};

const PASSWORD: &str = "correct horse battery";

/// A browser's view: the session cookie and its CSRF token.
pub struct Person {
    pub cookie: String,
    pub csrf: String,
    pub user: Value,
}

impl Person {
    pub fn from(r: &Resp) -> Person {
        let set = r
            .header("set-cookie")
            .unwrap_or_else(|| panic!("no cookie: {}", r.body));
        let cookie = set.split(';').next().unwrap().to_string();
        Person {
            cookie,
            csrf: r.data()["csrf_token"].as_str().unwrap().to_string(),
            user: r.data()["user"].clone(),
        }
    }

    pub fn call(
        &self,
        app: &TestApp,
        method: &str,
        path: &str,
        body: Option<&Value>,
        csrf: bool,
    ) -> Resp {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        let mut headers = vec![("Cookie", self.cookie.as_str())];
        if csrf {
            headers.push(("X-Portolan-CSRF", self.csrf.as_str()));
        }
        app.raw_with(
            method,
            path,
            None,
            bytes.as_deref().map(|b| ("application/json", b)),
            &headers,
        )
    }
}

pub fn post_open(app: &TestApp, path: &str, body: &Value) -> Resp {
    let bytes = serde_json::to_vec(body).unwrap();
    app.raw("POST", path, None, Some(("application/json", &bytes)))
}

pub fn setup_code(app: &TestApp) -> String {
    std::fs::read_to_string(app.dir.path().join("setup-code"))
        .expect("the first start writes its setup code")
        .trim()
        .to_string()
}

pub fn sign_in(app: &TestApp, username: &str, password: &str) -> Resp {
    post_open(
        app,
        "/api/v1/auth/sign-in",
        &json!({"username": username, "password": password}),
    )
}

/// The Owner made with the setup code, signed in.
pub fn owner(app: &TestApp) -> Person {
    let r = post_open(
        app,
        "/api/v1/auth/setup",
        &json!({"code": setup_code(app), "username": "ada", "password": PASSWORD}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    Person::from(&r)
}

fn user(app: &TestApp, username: &str, role: &str) -> String {
    let r = app.post(
        "/api/v1/users",
        json!({"username": username, "password": PASSWORD, "role": role}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.data()["password_link"].is_null());
    r.id()
}

#[test]
fn the_setup_code_makes_the_owner_once_and_a_session_writes_only_with_its_csrf_token() {
    let app = spawn_app();
    let code = setup_code(&app);
    assert_eq!(code.len(), 32);
    let r = post_open(
        &app,
        "/api/v1/auth/setup",
        &json!({"code": "0".repeat(32), "username": "eve", "password": PASSWORD}),
    );
    assert_error(&r, 404, "NOT_FOUND", Some("code"));
    let r = post_open(
        &app,
        "/api/v1/auth/setup",
        &json!({"code": code, "username": "ada", "password": "short"}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("password"));
    assert_eq!(app.count("users"), 0);

    let r = post_open(
        &app,
        "/api/v1/auth/setup",
        &json!({"code": code, "username": "ada", "password": PASSWORD}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let cookie = r.header("set-cookie").unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let ada = Person::from(&r);
    assert_eq!(ada.user["role"], "Owner");
    assert_eq!(ada.user["auth"], "password");
    assert!(
        !app.dir.path().join("setup-code").exists(),
        "the code is used"
    );
    let again = post_open(
        &app,
        "/api/v1/auth/setup",
        &json!({"code": code, "username": "eve", "password": PASSWORD}),
    );
    assert_error(&again, 409, "CONFLICT", None);

    // The session is who the caller is.
    let me = ada.call(&app, "GET", "/api/v1/auth/me", None, false);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.data()["user"]["username"], "ada");
    assert_eq!(me.data()["auth"], "password");
    assert!(me.data()["key_id"].is_null());
    let session = ada.call(&app, "GET", "/api/v1/auth/session", None, false);
    assert_eq!(session.data()["csrf_token"], ada.csrf.as_str());
    let none = app.get("/api/v1/auth/session");
    assert_eq!(
        (none.status, none.data()),
        (200, &Value::Null),
        "no session with a key"
    );

    // A write with the cookie needs the token; reads do not.
    let body = json!({"name": "home"});
    let r = ada.call(&app, "POST", "/api/v1/networks", Some(&body), false);
    assert_error(&r, 403, "FORBIDDEN_CSRF", None);
    let r = ada.call(&app, "POST", "/api/v1/networks", Some(&body), true);
    assert_eq!(r.status, 201, "{}", r.body);
    let network = r.id();
    assert_eq!(
        ada.call(&app, "GET", "/api/v1/networks", None, false)
            .status,
        200
    );
    let journal = app.get(&format!("/api/v1/changes?entity_id={network}"));
    let actor = &journal.data()[0]["actor"];
    assert_eq!(actor["type"], "user");
    assert_eq!(actor["name"], "ada");
    assert_eq!(actor["id"], ada.user["id"]);
    // A key wins over a cookie, and is not asked for a CSRF token.
    let bytes = serde_json::to_vec(&json!({"name": "lab"})).unwrap();
    let r = app.raw_with(
        "POST",
        "/api/v1/networks",
        Some(&app.key),
        Some(("application/json", &bytes)),
        &[("Cookie", &ada.cookie)],
    );
    assert_eq!(r.status, 201, "{}", r.body);

    // Sign out: the cookie is cleared and the session is over.
    let r = ada.call(&app, "POST", "/api/v1/auth/sign-out", None, false);
    assert_error(&r, 403, "FORBIDDEN_CSRF", None);
    let r = ada.call(&app, "POST", "/api/v1/auth/sign-out", None, true);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_error(
        &ada.call(&app, "GET", "/api/v1/auth/me", None, false),
        401,
        "UNAUTHORIZED",
        None,
    );
}

#[test]
fn sign_in_answers_the_same_for_unknown_users_and_wrong_passwords_and_is_throttled() {
    let app = spawn_app();
    user(&app, "bob", "Member");
    let median = |username: &str, password: &str| {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..3 {
            let started = Instant::now();
            let r = sign_in(&app, username, password);
            times.push(started.elapsed());
            last = Some(r);
        }
        times.sort();
        (times[1], last.unwrap())
    };
    let (wrong_time, wrong) = median("bob", "not the password");
    let (unknown_time, unknown) = median("nobody", "not the password");
    assert_error(&wrong, 401, "UNAUTHORIZED", None);
    assert_error(&unknown, 401, "UNAUTHORIZED", None);
    let strip = |r: &Resp| {
        let mut b = r.body.clone();
        b.as_object_mut().unwrap().remove("requestId");
        b
    };
    assert_eq!(strip(&wrong), strip(&unknown), "one answer");
    assert_eq!(wrong.body["message"], "Wrong username or password.");
    let ratio = wrong_time.as_secs_f64() / unknown_time.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "{wrong_time:?} vs {unknown_time:?}"
    );
    assert!(
        wrong_time > Duration::from_millis(5),
        "a real hash was checked: {wrong_time:?}"
    );

    // Five failures for bob: locked, even with the right password; others are not.
    let r = sign_in(&app, "bob", PASSWORD);
    assert_eq!(r.status, 200, "three failures do not lock: {}", r.body);
    for _ in 0..5 {
        sign_in(&app, "BOB", "still not it");
    }
    let r = sign_in(&app, "bob", PASSWORD);
    assert_error(&r, 429, "RATE_LIMITED", None);
    assert!(r.header("retry-after").is_some());
    user(&app, "carol", "Viewer");
    assert_eq!(sign_in(&app, "carol", PASSWORD).status, 200);
    let events = app.get("/api/v1/auth/events?type=sign_in_failed&limit=100");
    assert!(
        events.data().as_array().unwrap().len() >= 11,
        "{}",
        events.body
    );
    let unknown_event = events
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["username"] == "nobody");
    assert!(unknown_event.is_some_and(|e| e["user_id"].is_null()));
}

#[test]
fn sessions_are_new_at_each_sign_in_revocable_and_end_when_a_person_is_disabled() {
    let app = spawn_app();
    let id = user(&app, "dan", "Admin");
    let first = Person::from(&sign_in(&app, "dan", PASSWORD));
    let second = Person::from(&sign_in(&app, "dan", PASSWORD));
    assert_ne!(first.cookie, second.cookie, "a new id at every sign-in");
    assert_eq!(first.cookie.len(), "portolan_session=".len() + 64);
    let list = second.call(&app, "GET", "/api/v1/auth/sessions", None, false);
    let sessions = list.data().as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    // No secret anywhere: not the id, not its hash, not the password's hash.
    let text = format!(
        "{}{}",
        list.body,
        app.get(&format!("/api/v1/users/{id}")).body
    );
    assert!(
        !text.contains(&first.cookie[17..])
            && !text.contains("argon2")
            && !text.contains("token_hash"),
        "{text}"
    );
    let stored: String = app
        .db()
        .query_row("SELECT token_hash FROM sessions LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert!(!first.cookie.contains(&stored) && !second.cookie.contains(&stored));

    let r = second.call(
        &app,
        "POST",
        "/api/v1/auth/sessions/revoke-others",
        None,
        true,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_error(
        &first.call(&app, "GET", "/api/v1/auth/me", None, false),
        401,
        "UNAUTHORIZED",
        None,
    );
    assert_eq!(
        second
            .call(&app, "GET", "/api/v1/auth/me", None, false)
            .status,
        200
    );

    // A password change needs the current one, and ends every other session.
    let third = Person::from(&sign_in(&app, "dan", PASSWORD));
    let r = second.call(&app, "POST", "/api/v1/auth/password", Some(&json!({"current_password": "wrong wrong wrong", "new_password": "a new long password"})), true);
    assert_error(&r, 401, "UNAUTHORIZED", Some("current_password"));
    let r = second.call(
        &app,
        "POST",
        "/api/v1/auth/password",
        Some(&json!({"current_password": PASSWORD, "new_password": "a new long password"})),
        true,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_error(
        &third.call(&app, "GET", "/api/v1/auth/me", None, false),
        401,
        "UNAUTHORIZED",
        None,
    );
    assert_eq!(sign_in(&app, "dan", PASSWORD).status, 401);
    assert_eq!(sign_in(&app, "dan", "a new long password").status, 200);

    // Disabled: out at once, and no new sign-in.
    let r = app.put(
        &format!("/api/v1/users/{id}"),
        json!({"username": "dan", "role": "Admin", "enabled": false}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_error(
        &second.call(&app, "GET", "/api/v1/hosts", None, false),
        401,
        "UNAUTHORIZED",
        None,
    );
    assert_error(
        &sign_in(&app, "dan", "a new long password"),
        401,
        "UNAUTHORIZED",
        None,
    );
}

#[test]
fn nobody_grants_above_themselves_and_the_last_owner_stays() {
    let app = spawn_app();
    let ada = owner(&app);
    let admin = app.key_with("Admin", &[]);
    let r = app.call(
        "POST",
        "/api/v1/users",
        &admin,
        Some(&json!({"username": "mallory", "password": PASSWORD, "role": "Owner"})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let r = app.call(
        "POST",
        "/api/v1/users",
        &admin,
        Some(&json!({"username": "ADA", "password": PASSWORD, "role": "Viewer"})),
    );
    assert_error(&r, 409, "CONFLICT", Some("username"));
    let viewer = app.key_with("Viewer", &[]);
    assert_error(
        &app.call("GET", "/api/v1/users", &viewer, None),
        403,
        "FORBIDDEN_ROLE",
        None,
    );
    let ada_id = ada.user["id"].as_str().unwrap();
    let r = app.call(
        "PUT",
        &format!("/api/v1/users/{ada_id}"),
        &admin,
        Some(&json!({"username": "ada", "role": "Viewer"})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    // The last enabled Owner cannot be demoted, disabled or deleted.
    let r = app.put(
        &format!("/api/v1/users/{ada_id}"),
        json!({"username": "ada", "role": "Admin"}),
    );
    assert_error(&r, 409, "CONFLICT", None);
    assert_error(
        &app.delete(&format!("/api/v1/users/{ada_id}")),
        409,
        "CONFLICT",
        None,
    );
    let net = app.network("lab");
    let scoped = app.key_with("Admin", &[&net]);
    let r = app.call(
        "POST",
        "/api/v1/users",
        &scoped,
        Some(&json!({"username": "wide", "password": PASSWORD, "role": "Viewer"})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", Some("network_ids"));
    let r = app.call("POST", "/api/v1/users", &scoped, Some(&json!({"username": "narrow", "password": PASSWORD, "role": "Viewer", "network_ids": [net]})));
    assert_eq!(r.status, 201, "{}", r.body);
    // The journal has users, never a secret.
    let journal = app.get("/api/v1/changes?entity_type=user");
    assert!(journal.data().as_array().unwrap().len() >= 2);
    assert!(
        !journal.body.to_string().contains("argon2")
            && !journal.body.to_string().contains(PASSWORD)
    );
    let users = app.get("/api/v1/users?q=narrow");
    assert_eq!(users.data()[0]["network_ids"], json!([net]));
}

#[test]
fn invites_and_password_links_work_once() {
    let app = spawn_app();
    let net = app.network("lab");
    let r = app.post(
        "/api/v1/users/invites",
        json!({"role": "Member", "network_ids": [net], "expires_in_hours": 2}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let code = r.data()["code"].as_str().unwrap().to_string();
    assert_eq!(r.data()["link"], format!("/#/invite/{code}"));
    let r = post_open(
        &app,
        &format!("/api/v1/auth/invites/{code}/accept"),
        &json!({"username": "erin", "password": PASSWORD}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let erin = Person::from(&r);
    assert_eq!(erin.user["role"], "Member");
    assert_eq!(erin.user["network_ids"], json!([net]));
    let r = post_open(
        &app,
        &format!("/api/v1/auth/invites/{code}/accept"),
        &json!({"username": "frank", "password": PASSWORD}),
    );
    assert_error(&r, 404, "NOT_FOUND", None);

    // A user made without a password gets a link to set it.
    let r = app.post(
        "/api/v1/users",
        json!({"username": "gina", "role": "Viewer"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let link = r.data()["password_link"].as_str().unwrap().to_string();
    assert_error(&sign_in(&app, "gina", PASSWORD), 401, "UNAUTHORIZED", None);
    let code = link.rsplit('/').next().unwrap();
    let r = post_open(
        &app,
        &format!("/api/v1/auth/password-links/{code}"),
        &json!({"password": PASSWORD}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(sign_in(&app, "gina", PASSWORD).status, 200);
    let r = post_open(
        &app,
        &format!("/api/v1/auth/password-links/{code}"),
        &json!({"password": "another password"}),
    );
    assert_error(&r, 404, "NOT_FOUND", None);
    // A reset link ends the person's sessions.
    let gina = Person::from(&sign_in(&app, "gina", PASSWORD));
    let r = app.post(
        &format!("/api/v1/users/{}/reset", gina.user["id"].as_str().unwrap()),
        json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_error(
        &gina.call(&app, "GET", "/api/v1/auth/me", None, false),
        401,
        "UNAUTHORIZED",
        None,
    );
}

#[test]
fn the_command_line_adds_a_user_with_the_password_from_standard_input() {
    let app = spawn_app();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["users", "add", "root", "--role", "Owner", "--data-dir"])
        .arg(app.dir.path())
        .env_remove("PORTOLAN_ADMIN_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = sign_in(&app, "root", PASSWORD);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["user"]["role"], "Owner");
    assert!(!app.dir.path().join("setup-code").exists());
    let logged = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!logged.contains(PASSWORD));
}

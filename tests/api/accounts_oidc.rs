//! Single sign-on by OpenID Connect against a real provider: npm's `oidc-provider` (a certified
//! implementation, `tests/oidc/provider.mjs`) on loopback, through Chromium. A person signs in
//! and gets the role of their groups (read again at the next sign-in, the account linked by
//! issuer and subject); a person whose groups map to nothing is refused; a `state` or `nonce`
//! changed on the way is refused. Without the provider: what the sign-in page is offered, and
//! the refusals that need no provider.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use portolan::config::OidcConfig;
use portolan::domain::account::RoleMap;
use serde_json::{json, Value};

use crate::helpers::{assert_error, required_tool, spawn_with, TestApp};
use crate::ui::{audit, browser, screenshots};
use crate::webdriver::Browser;

const CLIENT_ID: &str = "portolan";
const CLIENT_SECRET: &str = "a-client-secret-only-this-test-knows";

fn provider_module() -> Option<PathBuf> {
    let module = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/oidc/node_modules/oidc-provider/lib/index.js");
    let node = crate::helpers::system_program("node");
    let found = (node.is_some() && module.exists()).then(|| module.display().to_string());
    required_tool(
        found,
        "oidc-provider",
        "npm install --prefix target/oidc oidc-provider@9",
    )
    .map(PathBuf::from)
}

/// The provider's process, stopped when the test ends, whatever its outcome.
struct Provider(Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn start_provider(module: &PathBuf, port: u16, app: &TestApp) -> Provider {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc/provider.mjs");
    let mut child = Command::new("/usr/bin/node")
        .arg(script)
        .env("OIDC_PROVIDER_MODULE", module)
        .env("OIDC_PORT", port.to_string())
        .env("OIDC_CLIENT_ID", CLIENT_ID)
        .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env(
            "OIDC_REDIRECT_URI",
            format!("{}/api/v1/auth/oidc/callback", app.base),
        )
        .env(
            "OIDC_GROUPS",
            json!({"ada": ["lab-admins", "lab"], "bob": ["lab"], "eve": ["strangers"]}).to_string(),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().expect("stdout");
    let provider = Provider(child);
    let mut lines = BufReader::new(stdout).lines();
    let line = lines.next().and_then(Result::ok).unwrap_or_default();
    assert!(line.starts_with("listening"), "the provider said {line:?}");
    // Kept read to its end: a provider writing to a closed pipe would die of it.
    std::thread::spawn(move || lines.for_each(drop));
    provider
}

fn app_for(issuer_port: u16) -> TestApp {
    spawn_with(|c| {
        c.oidc = Some(OidcConfig {
            issuer: format!("http://127.0.0.1:{issuer_port}"),
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            scopes: vec![
                "openid".into(),
                "profile".into(),
                "email".into(),
                "groups".into(),
            ],
            name: "Lab ID".into(),
            role_claim: "groups".into(),
        });
        c.role_map = RoleMap::parse("lab-admins=Admin,lab=Viewer").unwrap();
    })
}

/// From the Portolan sign-in page through the provider's own pages (its sign-in, then its
/// consent, each only when it asks) until the browser is back at Portolan.
fn through_provider(b: &Browser, app: &TestApp, login: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let at = b.run(
            "return [location.href, !!document.querySelector(\"input[name='login']\"),
                     [...document.querySelectorAll('button')].some((e) => e.textContent.trim() === 'Continue')];",
            json!([]),
        );
        if at[0]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("{}/", app.base))
        {
            return;
        }
        if at[1] == json!(true) {
            b.type_into(&b.css("input[name='login']"), login);
            b.type_into(&b.css("input[name='password']"), "any password will do");
            b.click(&b.button("Sign-in"));
        } else if at[2] == json!(true) {
            b.click(&b.button("Continue"));
        }
        assert!(
            Instant::now() < deadline,
            "stuck at {}: {}",
            at[0],
            b.run("return document.body.innerText", json!([]))
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The code of the refusal page, with its text (for the failure's message).
fn refusal_code(b: &Browser) -> (Value, String) {
    let page = b.css("#sign-in-refused");
    let code = b.run(
        "return document.querySelector('#sign-in-refused').dataset.code",
        json!([]),
    );
    (code, b.text(&page))
}

/// Starts a sign-in as the browser's button would (the flow's cookie given to the browser),
/// and sends the browser to the provider with the parameter `name` changed, as an attacker on
/// the way would.
fn tampered(b: &Browser, app: &TestApp, name: &str) {
    let started = start_by_hand(app, "");
    let to = started.to.clone();
    let value = started.cookie().strip_prefix("portolan_oidc=").unwrap();
    b.goto(&format!("{}/", app.base));
    b.add_cookie("portolan_oidc", value, "/api/v1/auth/oidc");
    let (base, query) = to.split_once('?').unwrap();
    let changed: Vec<String> = query
        .split('&')
        .map(|part| match part.split_once('=') {
            Some((k, v)) if k == name => format!("{k}={v}x"),
            _ => part.to_string(),
        })
        .collect();
    let url = format!("{base}?{}", changed.join("&"));
    assert_ne!(url, to, "{name} is in the provider's address");
    b.goto(&url);
}

/// A sign-in started as the browser's button would, over HTTP: the provider's address it sends
/// to, the state in it, and the flow cookie (`portolan_oidc=...`) with its attributes.
struct Started {
    to: String,
    state: String,
    set_cookie: String,
}

impl Started {
    /// The cookie as a browser sends it back: `portolan_oidc=<value>`.
    fn cookie(&self) -> &str {
        self.set_cookie.split(';').next().unwrap()
    }
}

fn start_by_hand(app: &TestApp, query: &str) -> Started {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let started = agent
        .get(&format!("{}/api/v1/auth/oidc/start{query}", app.base))
        .call()
        .unwrap();
    assert_eq!(started.status(), 303);
    let to = started.headers()["location"].to_str().unwrap().to_string();
    let state = to
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("state="))
        .unwrap()
        .to_string();
    let set_cookie = started.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    Started {
        to,
        state,
        set_cookie,
    }
}

/// A browser, a server whose issuer is a provider on loopback, and that provider; `None` (the
/// test skipped) where the provider or the browser is missing outside CI.
fn with_provider() -> Option<(Browser, TestApp, Provider)> {
    let module = provider_module()?;
    let b = browser()?;
    let port = free_port();
    let app = app_for(port);
    let provider = start_provider(&module, port, &app);
    Some((b, app, provider))
}

fn people(app: &TestApp) -> Vec<(String, String, String, String)> {
    let db = app.db();
    let mut stmt = db
        .prepare(
            "SELECT username, auth, role, coalesce(oidc_subject, '') FROM users ORDER BY username",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_person_signs_in_with_the_provider_and_gets_the_role_of_their_groups() {
    let Some((b, app, _provider)) = with_provider() else {
        return;
    };

    // The start hands out a PKCE challenge, a state and a nonce, and a cookie for this browser.
    let started = start_by_hand(&app, "?return_to=/networks");
    for part in [
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
        "response_type=code",
    ] {
        assert!(
            started.to.contains(part),
            "{part} missing from {}",
            started.to
        );
    }
    let cookie = &started.set_cookie;
    assert!(
        cookie.starts_with("portolan_oidc=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // Its state, brought back by another browser (without the cookie), is refused and used up.
    let r = app.raw(
        "GET",
        &format!(
            "/api/v1/auth/oidc/callback?code=abc&state={}",
            started.state
        ),
        None,
        None,
    );
    assert_error(&r, 401, "UNAUTHORIZED", Some("state"));
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("another browser"));

    // A return that names another issuer (RFC 9207's mix-up defence) is refused.
    let started = start_by_hand(&app, "");
    let r = app.raw_with(
        "GET",
        &format!(
            "/api/v1/auth/oidc/callback?code=abc&state={}&iss=http%3A%2F%2F127.0.0.1%3A1",
            started.state
        ),
        None,
        None,
        &[("Cookie", started.cookie())],
    );
    assert_error(&r, 401, "UNAUTHORIZED", Some("iss"));

    b.goto(&format!("{}/", app.base));
    b.click(&b.button("Sign in with Lab ID"));
    through_provider(&b, &app, "ada");
    b.wait_text("#role", "Signed in as Ada Example, Admin");
    b.wait_text("#view h2", "Home");
    let issuer_subject = people(&app);
    assert_eq!(
        issuer_subject,
        vec![("ada".into(), "oidc".into(), "Admin".into(), "ada".into())]
    );
    let session = app.db().query_row(
        "SELECT count(*) FROM sessions WHERE auth = 'oidc'",
        [],
        |r| r.get::<_, i64>(0),
    );
    assert_eq!(session.unwrap(), 1);
    b.screenshot(&screenshots().join("oidc-signed-in.png"));

    // The role is the groups' at every sign-in: one changed here is put back by the next.
    let db = rusqlite::Connection::open(app.dir.path().join("portolan.db")).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.execute(
        "UPDATE users SET role = 'Viewer' WHERE username = 'ada'",
        [],
    )
    .unwrap();
    b.click(&b.button("Sign out"));
    b.click(&b.button("Sign in with Lab ID"));
    through_provider(&b, &app, "ada");
    b.wait_text("#role", "Signed in as Ada Example, Admin");
    assert_eq!(
        people(&app).len(),
        1,
        "the same account, found by issuer and subject"
    );
    assert_eq!(people(&app)[0].2, "Admin");

    // A password account named like the provider's person is not theirs: bob's account from
    // the provider takes the next of his names, his email.
    let made = app.post(
        "/api/v1/users",
        json!({"username": "bob", "password": "a password of bob's", "role": "Owner"}),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let other = browser().unwrap();
    other.goto(&format!("{}/", app.base));
    other.click(&other.button("Sign in with Lab ID"));
    through_provider(&other, &app, "bob");
    other.wait_text("#role", "Signed in as Bob Example, Viewer");
    let names: Vec<_> = people(&app).into_iter().map(|p| (p.0, p.1, p.2)).collect();
    assert!(
        names.contains(&("bob".into(), "password".into(), "Owner".into()))
            && names.contains(&("bob@example.test".into(), "oidc".into(), "Viewer".into())),
        "{names:?}"
    );
}

#[test]
fn no_matching_group_a_changed_state_and_a_changed_nonce_are_refused() {
    let Some((b, app, _provider)) = with_provider() else {
        return;
    };

    // Signed in at the provider, but none of eve's groups has a role here.
    b.goto(&format!("{}/", app.base));
    audit(&b, "sign-in page with single sign-on");
    b.click(&b.button("Sign in with Lab ID"));
    through_provider(&b, &app, "eve");
    let (code, text) = refusal_code(&b);
    assert_eq!(code, json!("FORBIDDEN_ROLE"), "{text}");
    b.wait_text("#sign-in-refused", "none of your groups has a role here");
    audit(&b, "refused sign-in page");
    assert!(people(&app).is_empty(), "no account for a refused person");
    let failed = app.get("/api/v1/auth/events?type=sign_in_failed");
    let failed = failed.data().as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["username"], "eve");
    assert_eq!(failed[0]["user_id"], Value::Null);

    // A state this server never handed out comes back: refused, nothing made.
    let b = browser().unwrap();
    tampered(&b, &app, "state");
    through_provider(&b, &app, "ada");
    let (code, text) = refusal_code(&b);
    assert_eq!(code, json!("UNAUTHORIZED"), "{text}");
    b.wait_text("#sign-in-refused", "not started here");

    // The provider signs a different nonce into the ID token: refused.
    let b = browser().unwrap();
    tampered(&b, &app, "nonce");
    through_provider(&b, &app, "ada");
    let (code, text) = refusal_code(&b);
    assert_eq!(code, json!("UNAUTHORIZED"), "{text}");
    b.wait_text("#sign-in-refused", "ID token does not verify");

    assert!(people(&app).is_empty());
    assert_eq!(app.count("sessions"), 0);
}

#[test]
fn the_sign_in_page_is_offered_what_the_server_allows() {
    // Without single sign-on: the password form only; starting one is 404.
    let plain = spawn_with(|_| {});
    let methods = plain.get("/api/v1/auth/methods");
    assert_eq!(methods.status, 200);
    assert_eq!(methods.data(), &json!({"password": true, "oidc": null}));
    let r = plain.raw("GET", "/api/v1/auth/oidc/start", None, None);
    assert_error(&r, 404, "NOT_FOUND", None);

    // With it, and password sign-in off: the button only, and a password is refused.
    let port = free_port();
    let app = spawn_with(|c| {
        c.oidc = Some(OidcConfig {
            issuer: format!("http://127.0.0.1:{port}"),
            client_id: CLIENT_ID.into(),
            client_secret: None,
            scopes: vec!["openid".into()],
            name: "Lab ID".into(),
            role_claim: "groups".into(),
        });
        c.password_sign_in = false;
    });
    let methods = app.get("/api/v1/auth/methods");
    assert_eq!(
        methods.data(),
        &json!({"password": false, "oidc": {"name": "Lab ID", "start": "/api/v1/auth/oidc/start"}})
    );
    let made = app.post(
        "/api/v1/users",
        json!({"username": "ada", "password": "a long enough password", "role": "Viewer"}),
    );
    assert_eq!(made.status, 201);
    let events = app.count("auth_events");
    let body = json!({"username": "ada", "password": "a long enough password"}).to_string();
    let r = app.raw(
        "POST",
        "/api/v1/auth/sign-in",
        None,
        Some(("application/json", body.as_bytes())),
    );
    assert_error(&r, 401, "UNAUTHORIZED", None);
    assert!(r.header("set-cookie").is_none());
    assert_eq!(app.count("sessions"), 0);
    assert_eq!(app.count("auth_events"), events);

    // Nobody answers at the issuer: 503, and no sign-in is left under way.
    let r = app.raw("GET", "/api/v1/auth/oidc/start", None, None);
    assert_error(&r, 503, "SERVICE_UNAVAILABLE", None);

    // A code with a state this server never handed out: refused before the provider is asked.
    let r = app.raw(
        "GET",
        "/api/v1/auth/oidc/callback?code=abc&state=never-handed-out",
        None,
        None,
    );
    assert_error(&r, 401, "UNAUTHORIZED", Some("state"));
    let r = app.raw("GET", "/api/v1/auth/oidc/callback?code=abc", None, None);
    assert_error(&r, 400, "VALIDATION_ERROR", Some("code"));
    let r = app.raw(
        "GET",
        "/api/v1/auth/oidc/callback?error=access_denied&error_description=no",
        None,
        None,
    );
    assert_error(&r, 401, "UNAUTHORIZED", None);
    assert_eq!(app.count("users"), 1);
    assert_eq!(app.count("sessions"), 0);
}

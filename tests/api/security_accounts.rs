//! No secret of people's accounts leaves the server: after passwords, a session, a second
//! factor with its recovery codes, an invite, a password link and a share with a password, none
//! of them (nor a password hash or a session's stored hash) is in any answer, the full export
//! (API and command line, with history), the journal or the server's log at its most verbose.

use std::sync::Mutex;

use serde_json::{json, Value};

use crate::helpers::ServerProcess;

const ADMIN: &str = "scp_u_securityaccountsadminkey00000000";
const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new passphrase";
const SHARE_PASSWORD: &str = "the share's own secret";

struct Client {
    base: String,
    agent: ureq::Agent,
    /// Every answer's headers and body, to search afterwards.
    seen: Mutex<Vec<String>>,
}

impl Client {
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, String, Value) {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        if !bytes.is_empty() {
            req = req.header("Content-Type", "application/json");
        }
        let mut res = self.agent.run(req.body(bytes).unwrap()).unwrap();
        let status = res.status().as_u16();
        let cookie = res
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let all_headers = format!("{:?}", res.headers());
        let text = res.body_mut().read_to_string().unwrap_or_default();
        self.seen
            .lock()
            .unwrap()
            .push(format!("{all_headers}\n{text}"));
        (
            status,
            cookie,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let auth = format!("Bearer {ADMIN}");
        let (status, _, body) = self.call(method, path, &[("Authorization", &auth)], body);
        assert!(status < 300, "{method} {path}: {status} {body}");
        body
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn no_secret_of_an_account_is_in_an_answer_an_export_the_journal_or_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start_with(dir.path(), ADMIN, &[("RUST_LOG", "debug")]);
    let c = Client {
        base: server.base.clone(),
        agent: ServerProcess::agent(),
        seen: Mutex::new(Vec::new()),
    };

    let net = c.admin("POST", "/api/v1/networks", Some(json!({"name": "lab"})))["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    c.admin(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "ada", "password": PASSWORD, "role": "Admin"})),
    );
    let (status, cookie, signed_in) = c.call(
        "POST",
        "/api/v1/auth/sign-in",
        &[],
        Some(json!({"username": "ada", "password": PASSWORD})),
    );
    assert_eq!(status, 200, "{signed_in}");
    let session = cookie.split(';').next().unwrap().to_string();
    let session_id = session.split_once('=').unwrap().1.to_string();
    let csrf = signed_in["data"]["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let person = [
        ("Cookie", session.as_str()),
        ("X-Portolan-CSRF", csrf.as_str()),
    ];
    let write = |path: &str, body: Value| {
        let (status, _, answer) = c.call("POST", path, &person, Some(body));
        assert!(status < 300, "{path}: {status} {answer}");
        answer
    };

    // A write as the person, a second factor with its recovery codes, a new password.
    write("/api/v1/hosts", json!({"name": "nas", "network_id": net}));
    let secret = write("/api/v1/auth/totp/setup", json!({}))["data"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let codes = write(
        "/api/v1/auth/totp/confirm",
        json!({"code": portolan::domain::totp::code_at(&secret, now())}),
    )["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    write(
        "/api/v1/auth/password",
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    );
    // One-time links and a share with a password.
    let invite = write("/api/v1/users/invites", json!({"role": "Viewer"}))["data"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let made = c.admin(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "bea", "role": "Viewer"})),
    );
    let link = made["data"]["password_link"].as_str().unwrap().to_string();
    let share = write(
        &format!("/api/v1/networks/{net}/shares"),
        json!({"password": SHARE_PASSWORD}),
    )["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    // The links used, as their recipients would (their codes are in the paths).
    let (status, _, answer) = c.call(
        "POST",
        &format!("/api/v1/auth/invites/{invite}/accept"),
        &[],
        Some(json!({"username": "cyd", "password": PASSWORD})),
    );
    assert_eq!(status, 201, "{answer}");
    let link_code = link.rsplit('/').next().unwrap().to_string();
    let (status, _, answer) = c.call(
        "POST",
        &format!("/api/v1/auth/password-links/{link_code}"),
        &[],
        Some(json!({"password": PASSWORD})),
    );
    assert_eq!(status, 200, "{answer}");
    let (status, _, answer) = c.call(
        "GET",
        &format!("/api/v1/shares/{share}"),
        &[("X-Portolan-Share-Password", SHARE_PASSWORD)],
        None,
    );
    assert_eq!(status, 200, "{answer}");
    let (status, _, _) = c.call("GET", &format!("/share/{share}"), &[], None);
    assert_eq!(status, 200);
    // A user changed and one deleted, for the journal.
    let bea = made["data"]["id"].as_str().unwrap().to_string();
    c.admin("DELETE", &format!("/api/v1/users/{bea}"), None);

    // What is kept of them, to look for.
    let db = rusqlite::Connection::open(dir.path().join("portolan.db")).unwrap();
    let mut stored: Vec<String> = Vec::new();
    for sql in [
        "SELECT password_hash FROM users WHERE password_hash IS NOT NULL",
        "SELECT token_hash FROM sessions",
        "SELECT code_hash FROM recovery_codes",
        "SELECT password_hash FROM shares WHERE password_hash IS NOT NULL",
    ] {
        let mut stmt = db.prepare(sql).unwrap();
        stored.extend(
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap),
        );
    }
    assert!(stored.len() >= 15, "{stored:?}");
    let kept_secret: String = db
        .query_row(
            "SELECT totp_secret FROM users WHERE username = 'ada'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        kept_secret, secret,
        "the secret shown once at setup is the one kept"
    );

    // The places they must not be.
    let journal = c.admin("GET", "/api/v1/changes?limit=0", None).to_string();
    let export = c
        .admin("GET", "/api/v1/export?with_history=true", None)
        .to_string();
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["export", "--with-history"])
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli = String::from_utf8_lossy(&cli.stdout).into_owned();
    assert!(journal.contains("ada") && export.contains("nas") && cli.contains("nas"));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let log = server.log.lock().unwrap().join("\n");
    assert!(
        log.contains("/api/v1/auth/sign-in"),
        "the log is read: {log}"
    );
    let answers = c.seen.lock().unwrap().join("\n");

    let mut secrets = vec![
        ("a password", PASSWORD.to_string()),
        ("a password", NEW_PASSWORD.to_string()),
        ("the share's password", SHARE_PASSWORD.to_string()),
        ("the session id", session_id.clone()),
        ("the second factor's secret", secret.clone()),
        ("an invite code", invite),
        ("a share token", share),
        ("a password link", link_code),
    ];
    secrets.extend(codes.into_iter().map(|c| ("a recovery code", c)));
    secrets.extend(stored.into_iter().map(|s| ("a stored hash or secret", s)));
    for (what, secret) in &secrets {
        for (place, text) in [
            ("the journal", &journal),
            ("the export", &export),
            ("the command line's export", &cli),
            ("the log", &log),
        ] {
            assert!(!text.contains(secret.as_str()), "{what} is in {place}");
        }
        // Answers show a secret once, to whoever made it; a stored form never.
        if *what == "a stored hash or secret"
            || what.contains("password") && *what != "a password link"
        {
            assert!(!answers.contains(secret.as_str()), "{what} is in an answer");
        }
    }
    assert!(!answers.contains("$argon2"), "a password hash in an answer");
    for text in [&journal, &export, &cli, &log] {
        assert!(!text.contains("$argon2"));
    }
}

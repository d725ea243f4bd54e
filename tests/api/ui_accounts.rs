//! People in the web UI: the setup link of the first start makes the Owner, who is then signed
//! in; the Users page; an invite opened signed out makes an account; sign-out and sign-in with a
//! password; an expired session goes to the sign-in page and back to where the person was; the
//! Account page. Axe audits of each new page.

use serde_json::json;

use crate::accounts::setup_code;
use crate::helpers::spawn_app;
use crate::ui::{audit, browser, screenshots};

const PASSWORD: &str = "correct horse battery";

#[test]
fn a_person_sets_up_signs_in_invites_and_comes_back_after_an_expired_session() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let code = setup_code(&app);

    // Signed out, the setup link shows its form; the sign-in page offers a password and a key.
    b.goto(&format!("{}/", app.base));
    b.css("#username");
    b.css("#key");
    audit(&b, "sign-in page");
    b.goto(&format!("{}/#/setup/{code}", app.base));
    b.wait_text("#view", "Set up Portolan");
    audit(&b, "setup page");
    b.type_into(&b.css("#view [data-field='username'] input"), "ada");
    b.type_into(&b.css("#view [data-field='password'] input"), PASSWORD);
    b.click(&b.button("Make the Owner"));
    b.wait_text("#role", "Signed in as ada, Owner");
    assert_eq!(app.count("users"), 1);
    // A person lands on the home page: the inventory's counts, what changed, what needs a look.
    b.goto(&format!("{}/#/", app.base));
    b.wait_text("#view h2", "Home");
    b.wait_text("section[aria-label='The inventory']", "0 hosts");
    b.wait_text(
        "section[aria-label='Silent agents']",
        "Every agent reports.",
    );
    audit(&b, "home page");

    // The Users page lists her; an Admin's invite opens signed out.
    b.goto(&format!("{}/#/users", app.base));
    b.wait_text("#view tbody", "ada");
    audit(&b, "users page");
    b.goto(&format!("{}/#/account", app.base));
    b.wait_text("section[aria-label='Sessions']", "this one");
    audit(&b, "account page");
    b.screenshot(&screenshots().join("account.png"));
    let invite = app.post("/api/v1/users/invites", json!({"role": "Viewer"}));
    assert_eq!(invite.status, 201, "{}", invite.body);
    b.click(&b.button("Sign out"));
    b.wait_text("#password-sign-in-error", "Signed out.");
    let link = invite.data()["link"].as_str().unwrap().to_string();
    b.goto(&format!("{}/{}", app.base, link.trim_start_matches('/')));
    b.wait_text("#view", "Accept an invite");
    audit(&b, "invite page");
    b.type_into(&b.css("#view [data-field='username'] input"), "bea");
    b.type_into(&b.css("#view [data-field='password'] input"), PASSWORD);
    b.click(&b.button("Make my account"));
    b.wait_text("#role", "Signed in as bea, Viewer");

    // Sign out, then in with a password; a wrong one is one message.
    b.click(&b.button("Sign out"));
    b.type_into(&b.css("#username"), "bea");
    b.type_into(&b.css("#password"), "not the password");
    b.click(&b.button("Sign in"));
    b.wait_text("#password-sign-in-error", "Wrong username or password.");
    b.type_into(&b.css("#password"), PASSWORD);
    b.click(&b.button("Sign in"));
    b.wait_text("#role", "Signed in as bea, Viewer");

    // The session ends while she reads: back to sign-in, then to the same page.
    b.goto(&format!("{}/#/networks", app.base));
    b.wait_text("#view h2", "Networks");
    // Written beside the server, as another process would (the server's own cache trusts a
    // session for at most a second).
    let db = rusqlite::Connection::open(app.dir.path().join("portolan.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    db.execute(
        "UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'",
        [],
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    b.goto(&format!("{}/#/services", app.base));
    b.wait_text("#password-sign-in-error", "Your session has ended");
    b.type_into(&b.css("#username"), "bea");
    b.type_into(&b.css("#password"), PASSWORD);
    b.click(&b.button("Sign in"));
    b.wait_text("#view h2", "Services");
    assert!(b
        .run("return location.hash;", json!([]))
        .as_str()
        .unwrap()
        .starts_with("#/services"));
    // The browser logs every 401 it was answered: the wrong password and the ended session's
    // read, nothing else.
    let errors: Vec<String> = b
        .console_errors()
        .into_iter()
        .filter(|e| {
            !(e.contains("/api/v1/auth/sign-in") || e.contains("/api/v1/services?"))
                || !e.contains("401")
        })
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}

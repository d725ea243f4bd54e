//! A shared network opened in a browser that never signed in: its password asked for, then its
//! map and hosts, read-only; an axe audit of the page.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::shares::shared_network;
use crate::ui::{audit, browser, screenshots};

#[test]
fn a_share_link_opens_without_an_account() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let (net, _) = shared_network(&app);
    let r = app.post(
        &format!("/api/v1/networks/{net}/shares"),
        json!({"password": "a shared secret"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let link = r.data()["link"].as_str().unwrap().to_string();
    b.goto(&format!("{}{link}", app.base));
    b.css("#share-password-input");
    audit(&b, "share password");
    b.type_into(&b.css("#share-password-input"), "a shared secret");
    b.click(&b.button("Open"));
    b.wait_text("#share-hosts", "jellyfin (8096/tcp on all)");
    b.wait_text("#view h2", "home lab");
    assert!(!b.text(&b.css("#view")).contains("null"));
    b.css("#share-map[alt='Map of home lab']");
    audit(&b, "shared network");
    b.screenshot(&screenshots().join("share.png"));
    let errors: Vec<String> = b
        .console_errors()
        .into_iter()
        .filter(|e| !e.contains("401"))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}

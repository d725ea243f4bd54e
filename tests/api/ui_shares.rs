//! A shared network opened in a browser that never signed in: its password asked for, then its
//! map and hosts, read-only; an axe audit of the page. An Admin makes a link on the map page and
//! revokes it there.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::shares::shared_network;
use crate::ui::{audit, browser, fill, screenshots, sign_in};

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

#[test]
fn an_admin_makes_a_link_on_the_map_page_and_revokes_it() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let (net, _) = shared_network(&app);
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/map/{net}", app.base));
    b.wait_text("#shares", "Share this map");
    fill(&b, "password", "a shared secret");
    b.click(&b.button("Make the link"));
    let link = b.css("#new-share a");
    let href = b.text(&link);
    assert!(href.starts_with(&format!("{}/share/", app.base)), "{href}");
    b.wait_text("#shares tbody", "yes");
    audit(&b, "map page with its links");
    let stored: (i64, bool) = app
        .db()
        .query_row(
            "SELECT count(*), max(password_hash IS NOT NULL) FROM shares WHERE network_id = ?",
            [&net],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(stored, (1, true));

    // The link opens in a browser that never signed in, with its password.
    let other = browser().unwrap();
    other.goto(&href);
    other.type_into(&other.css("#share-password-input"), "a shared secret");
    other.click(&other.button("Open"));
    other.wait_text("#share-hosts", "jellyfin (8096/tcp on all)");

    // Revoked, it no longer opens.
    b.click(&b.button("Revoke"));
    b.wait_text("#status", "Link revoked");
    let token = href.rsplit('/').next().unwrap();
    let r = app.raw("GET", &format!("/api/v1/shares/{token}"), None, None);
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(app.count("shares"), 0);
}

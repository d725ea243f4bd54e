//! The header's groups from the keyboard; the services table telling apart two services of one
//! type on one host by where they listen; a person's own keys on the Account page.

use serde_json::json;

use crate::accounts::owner;
use crate::helpers::spawn_app;
use crate::ui::{audit, browser, fill, sign_in};

const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";

#[test]
fn the_header_groups_open_from_the_keyboard_and_services_show_where_they_listen() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let net = app.network("lab");
    let host = app.host(&net, "nas");
    let ip = app.ip(&host, "127.0.0.20");
    let web = app.port(&host, 18080, "Tcp");
    let tls = app.port(&host, 443, "Tcp");
    for (name, binding) in [
        (
            "web-a",
            json!([{"type": "Port", "port_id": web, "ip_address_id": ip}]),
        ),
        ("web-b", json!([{"type": "Port", "port_id": tls}])),
    ] {
        let r = app.post(
            "/api/v1/services",
            json!({"host_id": host, "name": name, "service_definition": "Nginx Proxy Manager", "bindings": binding}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");

    // Enter opens a group, its links are reachable, Escape closes it and returns to its button.
    let inventory = b.button("Inventory");
    b.type_into(&inventory, ENTER);
    b.wait_for(
        "return !document.getElementById('menu-inventory').hidden",
        json!([]),
    );
    assert_eq!(
        b.run(
            "return document.querySelector('[aria-controls=menu-inventory]').getAttribute('aria-expanded')",
            json!([])
        ),
        json!("true")
    );
    audit(&b, "header with a group open");
    b.type_into(&b.css("#menu-inventory a[href='#/services']"), ESCAPE);
    b.wait_for(
        "return document.getElementById('menu-inventory').hidden",
        json!([]),
    );
    assert_eq!(
        b.run(
            "return document.activeElement.getAttribute('aria-controls')",
            json!([])
        ),
        json!("menu-inventory")
    );
    b.type_into(&inventory, ENTER);
    b.click(&b.css("#menu-inventory a[href='#/services']"));
    b.wait_text("#view h2", "Services");
    // The page chosen closes the group; its group button shows where the person is.
    b.wait_for(
        "return document.getElementById('menu-inventory').hidden && document.querySelector('[aria-controls=menu-inventory]').classList.contains('current')",
        json!([]),
    );
    b.wait_text("#view tbody", "18080/tcp on 127.0.0.20");
    b.wait_text("#view tbody", "443/tcp on all");
    audit(&b, "services table");
}

#[test]
fn a_person_makes_and_deletes_their_own_key_on_the_account_page() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let ada = owner(&app);
    // The session of the Owner, in the browser.
    b.goto(&format!("{}/#/account", app.base));
    let value = ada.cookie.split_once('=').unwrap().1.to_string();
    b.add_cookie("portolan_session", &value, "/");
    b.run("location.reload()", json!([]));
    b.wait_text("#my-keys", "No key yet.");
    fill(&b, "name", "backup-script");
    b.choose("form.panel [data-field='permissions'] select", "Viewer");
    b.click(&b.button("Make the key"));
    let secret = b.text(&b.css("#new-key code"));
    assert!(secret.starts_with("scp_u_"), "{secret}");
    b.wait_text("#my-keys tbody", "backup-script");
    audit(&b, "account page with a key");
    let owner_of: String = app
        .db()
        .query_row(
            "SELECT owner_user_id FROM api_keys WHERE name = 'backup-script'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(owner_of, ada.user["id"].as_str().unwrap());
    // The key works, as a Viewer.
    assert_eq!(app.call("GET", "/api/v1/hosts", &secret, None).status, 200);

    b.click(&b.button("Delete backup-script"));
    b.accept_dialog();
    b.wait_text("#my-keys", "No key yet.");
    assert_eq!(
        app.db()
            .query_row(
                "SELECT count(*) FROM api_keys WHERE name = 'backup-script'",
                [],
                |r| r.get::<_, i64>(0)
            )
            .unwrap(),
        0
    );
}

//! History in the browser: a host's timeline, the host and the map as of an earlier instant
//! (a banner, no edit buttons), a service's timeline, and the journal page with its filters.

use serde_json::json;

use crate::helpers::{spawn_app, TestApp, World};
use crate::ui::{audit, browser, screenshots, sign_in};

/// A host whose service was bound on all interfaces, then the host renamed, then the binding
/// moved to one address: three instants worth reading back.
fn past(app: &TestApp) -> (World, String) {
    let w = app.world();
    let svc = format!("/api/v1/services/{}", w.service);
    let put = |bindings| {
        let r = app.put(
            &svc,
            json!({"host_id": w.host, "name": "nginx", "service_definition": "Nginx Proxy Manager",
                   "bindings": bindings}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r
    };
    let first = put(json!([{"type": "Port", "port_id": w.port1}]));
    let binding = first.data()["bindings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let renamed = app.put(
        &format!("/api/v1/hosts/{}", w.host),
        json!({"network_id": w.network, "name": "nas"}),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    put(json!([{"id": binding, "type": "Port", "port_id": w.port1, "ip_address_id": w.ip1}]));
    let before_rename = first.data()["bindings"][0]["valid_from"]
        .as_str()
        .unwrap()
        .to_string();
    (w, before_rename)
}

#[test]
fn a_user_reads_the_past_of_a_host_a_service_and_the_map() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let (w, before_rename) = past(&app);
    let shots = screenshots();
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");

    // The host's timeline, field by field, bindings in words.
    b.goto(&format!("{}/#/host/{}", app.base, w.host));
    b.wait_text("#view h2", "nas");
    let history = b.wait_text("section[aria-label='History']", "name: web → nas");
    assert!(
        history.contains("Binding 80/Tcp on all interfaces created"),
        "{history}"
    );
    assert!(
        history.contains("from 80/Tcp on all interfaces to 80/Tcp on 10.0.0.1"),
        "{history}"
    );
    assert!(history.contains("key initial-admin"), "{history}");
    audit(&b, "host with history");

    // As of the binding's creation: the old name, a banner, nothing to edit.
    b.click(&b.xpath(
        "//li[.//p[contains(., 'Binding 80/Tcp on all interfaces created')]]//a[normalize-space()='View as of this change']",
    ));
    b.wait_text("#view h2", "web");
    let banner = b.wait_text(".banner", "As of");
    assert!(banner.contains("past state"), "{banner}");
    let url = b.run("return location.hash", json!([]));
    assert!(
        url.as_str().unwrap().contains("?at="),
        "the instant is in the address: {url}"
    );
    let editing = b.run(
        "return [...document.querySelectorAll('#view button')].map((x) => x.textContent)
                 .filter((t) => ['Edit host', 'Delete host', 'Add service', 'Edit', 'Delete'].includes(t))",
        json!([]),
    );
    assert_eq!(editing, json!([]), "no edit buttons as of an instant");
    b.wait_text(
        "section[aria-label='Services'] table",
        "80/Tcp on all interfaces",
    );
    audit(&b, "host as of an instant");
    b.screenshot(&shots.join("host-as-of.png"));

    // The control: an instant typed into the field (here: in the future, which reads as now).
    b.run(
        // The UI's helpers are ES modules: the test imports the one it needs.
        "return import('/pages/history.js').then((m) => { document.getElementById('as-of').value = \
         m.toLocalInput(new Date(Date.now() + 3600e3).toISOString()); })",
        json!([]),
    );
    b.click(&b.button("Show"));
    b.wait_text("#view h2", "nas");
    b.wait_text(".banner", "As of");
    b.click(&b.xpath("//main//a[normalize-space()='Back to live']"));
    b.wait_text("#view h2", "nas");
    // The live page replaces the banner's page once its reads are in.
    b.wait_for(
        "return document.querySelector('.banner') === null",
        json!([]),
    );

    // The map as of before the rename: the old host name, a banner; a click opens the host then.
    b.goto(&format!(
        "{}/#/map/{}?at={}",
        app.base,
        w.network,
        urlencode(&before_rename)
    ));
    b.wait_text(".banner", "As of");
    b.wait_text("#map-frame", "web");
    b.run(
        "document.querySelector('[data-kind=host]').dispatchEvent(new PointerEvent('pointerup', {bubbles: true}))",
        json!([]),
    );
    b.wait_text("#view h2", "web");
    b.wait_text(".banner", "As of");

    // The service page: its bindings' history too.
    b.goto(&format!("{}/#/service/{}", app.base, w.service));
    b.wait_text("#view h2", "nginx");
    b.wait_text(
        "section[aria-label='History']",
        "from 80/Tcp on all interfaces to 80/Tcp on 10.0.0.1",
    );

    // The journal: everything, then only hosts, then one actor.
    b.goto(&format!("{}/#/changes", app.base));
    b.wait_text("table tbody", "Host nas changed");
    audit(&b, "journal");
    b.choose("#filter-type", "host");
    // The filtered page replaces the full one once its read is in: then only hosts are listed.
    b.wait_for(
        "const kinds = [...document.querySelectorAll('tbody .what')].map((x) => x.textContent.split(' ')[0]);
         return location.hash.includes('entity_type=host') && kinds.length > 0 && kinds.every((k) => k === 'Host')",
        json!([]),
    );
    b.click(&b.xpath("//tbody//button[normalize-space()='key initial-admin']"));
    b.wait_text(".chip", "Actor: key initial-admin");
    let journal = app.get("/api/v1/changes?entity_type=host");
    let shown = b.run(
        "return document.querySelectorAll('tbody tr').length",
        json!([]),
    );
    assert_eq!(shown, json!(journal.data().as_array().unwrap().len()));
    b.screenshot(&shots.join("journal.png"));
    assert_eq!(b.console_errors(), Vec::<String>::new());
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

//! The Dependencies page (a request path picked in order), the dependency on the map, and the
//! Impact panel of a service.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::ui::{audit, browser, fill, screenshots, sign_in};

#[test]
fn a_user_records_a_request_path_and_reads_its_impact() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let net = app.network("home");
    let edge = app.host(&net, "edge");
    let nas = app.host(&net, "nas");
    let proxy = app.service(&edge, "caddy", json!([])).id();
    let media = app.service(&nas, "jellyfin", json!([])).id();
    let db = app.service(&nas, "postgres", json!([])).id();

    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/dependencies", app.base));
    b.wait_text("#view h2", "Dependencies");
    b.click(&b.button("New dependency"));
    fill(&b, "name", "media path");
    for name in ["caddy", "jellyfin", "postgres"] {
        b.choose("#member-service", name);
        b.click(&b.button("Add member"));
    }
    b.choose("form.panel [data-field='color'] select", "Green");
    audit(&b, "dependencies form");
    b.click(&b.button("Save"));
    let row = b.wait_text("#view tbody", "media path");
    assert!(row.contains("caddy → jellyfin → postgres"), "{row}");
    let stored = app.get("/api/v1/dependencies");
    assert_eq!(
        stored.data()[0]["members"],
        json!([
        {"service_id": proxy, "binding_id": null},
        {"service_id": media, "binding_id": null},
        {"service_id": db, "binding_id": null}])
    );
    assert_eq!(stored.data()[0]["color"], json!("Green"));
    audit(&b, "dependencies");

    b.goto(&format!("{}/#/service/{db}", app.base));
    let impact = b.wait_text("section[aria-label='Impact']", "2 services on 2 hosts");
    assert!(impact.contains("caddy (through jellyfin)"), "{impact}");
    b.goto(&format!("{}/#/service/{proxy}", app.base));
    b.wait_text("section[aria-label='Impact']", "It needs:");
    b.wait_text(
        "section[aria-label='Impact']",
        "postgres (through jellyfin)",
    );

    b.goto(&format!("{}/#/map/{net}", app.base));
    b.css("#map-frame svg [data-kind='dependency']");
    assert_eq!(
        b.run(
            "return document.querySelectorAll(\"#map-frame [data-kind='dependency']\").length",
            json!([])
        ),
        json!(2)
    );
    b.screenshot(&screenshots().join("dependencies-map.png"));
    for export in [
        "Ansible inventory",
        "Homepage services",
        "Bindings CSV",
        "Whole inventory (JSON)",
    ] {
        b.click(&b.button(export));
    }
    assert_eq!(b.console_errors(), Vec::<String>::new());
}

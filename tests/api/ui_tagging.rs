//! Multi-select tagging: check rows of the host and service tables, add or remove one tag.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::ui::{audit, browser, screenshots, sign_in};

#[test]
fn a_user_tags_checked_hosts_and_untags_every_service_on_the_page() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let w = app.world();
    let db = app.host(&w.network, "db");
    let backup = app.host(&w.network, "backup");
    let prod = app.tag("prod");
    app.tag("lab");
    let pg = app.service(&db, "postgres", json!([]));
    for service in [&w.service, &pg.id()] {
        let r = app.post(
            "/api/v1/tags/assign/bulk-add",
            json!({"entity_type": "Service", "entity_ids": [service], "tag_id": prod}),
        );
        assert_eq!(r.status, 200);
    }

    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/hosts", app.base));
    b.wait_text("#view h2", "Hosts");
    b.wait_text(
        "[aria-label='Tag selected hosts']",
        "Select rows to tag them",
    );
    let disabled = "return [...document.querySelectorAll('button')]
        .find((x) => x.textContent === 'Add tag').disabled";
    assert_eq!(
        b.run(disabled, json!([])),
        json!(true),
        "nothing to tag yet"
    );
    for host in [&db, &backup] {
        b.click(&b.css(&format!("tr[data-id='{host}'] input.pick")));
    }
    b.wait_text("[aria-label='Tag selected hosts']", "2 selected");
    b.choose("#bulk-tag", "prod");
    assert_eq!(b.run(disabled, json!([])), json!(false));
    b.click(&b.button("Add tag"));
    b.wait_text("#status", "Tagged 2 hosts with prod.");
    let tags = |id: &str| app.get(&format!("/api/v1/hosts/{id}")).data()["tags"].clone();
    assert_eq!(tags(&db), json!([prod]));
    assert_eq!(tags(&backup), json!([prod]));
    assert_eq!(tags(&w.host), json!([]));
    b.wait_text(&format!("tr[data-id='{db}']"), "prod");

    b.goto(&format!("{}/#/services", app.base));
    b.wait_text("#view h2", "Services");
    b.wait_text(&format!("tr[data-id='{}']", pg.id()), "db");
    audit(&b, "services");
    b.click(&b.css("th input[type='checkbox']"));
    b.wait_text("[aria-label='Tag selected services']", "2 selected");
    b.choose("#bulk-tag", "prod");
    b.click(&b.button("Remove tag"));
    b.wait_text("#status", "Untagged 2 services from prod.");
    b.screenshot(&screenshots().join("services-tagging.png"));
    let service_tags = |id: &str| app.get(&format!("/api/v1/services/{id}")).data()["tags"].clone();
    assert_eq!(service_tags(&w.service), json!([]));
    assert_eq!(service_tags(&pg.id()), json!([]));
}

//! The Webhooks page: create a hook, ping it, see a change delivered in its log.

use std::time::Duration;

use serde_json::json;

use crate::helpers::spawn_app;
use crate::receiver::Receiver;
use crate::ui::{audit, browser, fill, screenshots, sign_in};

#[test]
fn an_admin_creates_a_hook_pings_it_and_reads_its_deliveries() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let rx = Receiver::start();
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/webhooks", app.base));
    b.wait_text("#view h2", "Webhooks");
    b.click(&b.button("New webhook"));
    fill(&b, "name", "lab bot");
    fill(&b, "url", &rx.url);
    fill(&b, "events", "network.*, host.create");
    fill(&b, "secret", "sixteen-or-more-characters");
    audit(&b, "webhooks form");
    b.click(&b.button("Save"));
    b.wait_text("#view tbody", "lab bot");
    let stored = app.get("/api/v1/webhooks");
    assert_eq!(
        stored.data()[0]["events"],
        json!(["network.*", "host.create"])
    );
    assert_eq!(stored.data()[0]["has_secret"], json!(true));

    b.click(&b.button("Test"));
    b.wait_text("#status", "Ping to lab bot: answered 200");
    app.network("home");
    rx.wait_for(2, Duration::from_secs(10));
    b.click(&b.button("Deliveries"));
    b.wait_text(
        "section[aria-label='Deliveries of lab bot']",
        "network.create",
    );
    b.wait_text("section[aria-label='Deliveries of lab bot']", "delivered");
    audit(&b, "webhooks");
    b.screenshot(&screenshots().join("webhooks.png"));
    assert_eq!(b.console_errors(), Vec::<String>::new());
}

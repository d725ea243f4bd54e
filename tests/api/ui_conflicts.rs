//! Two tabs edit one host: the second save is refused (If-Match, 412) and the user is told to
//! reload, instead of silently undoing the first.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::ui::{browser, fill, screenshots, sign_in};

#[test]
fn the_second_of_two_tabs_saving_one_host_is_told_to_reload() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let w = app.world();
    let page = format!("{}/#/host/{}", app.base, w.host);

    let first = b.tab();
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&page);
    b.wait_text("#view h2", "web");
    b.click(&b.button("Edit host"));

    b.new_tab();
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&page);
    b.wait_text("#view h2", "web");
    b.click(&b.button("Edit host"));
    fill(&b, "name", "from-second-tab");
    b.click(&b.button("Save"));
    b.wait_text("#view h2", "from-second-tab");

    b.switch_to(&first);
    fill(&b, "name", "from-first-tab");
    b.click(&b.button("Save"));
    let error = b.wait_text("form.panel .form-error", "Someone else changed this");
    assert!(error.contains("Reload"), "{error}");
    b.screenshot(&screenshots().join("edit-conflict.png"));
    let stored = app.get(&format!("/api/v1/hosts/{}", w.host));
    assert_eq!(
        stored.data()["name"],
        json!("from-second-tab"),
        "nothing overwritten"
    );

    // After a reload the same edit goes through.
    b.goto(&format!("{}/", app.base));
    b.goto(&page);
    b.wait_text("#view h2", "from-second-tab");
    b.click(&b.button("Edit host"));
    fill(&b, "name", "from-first-tab");
    b.click(&b.button("Save"));
    b.wait_text("#view h2", "from-first-tab");
}

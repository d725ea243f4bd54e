//! The Discoveries page: a scan started from the form with a live progress bar and its result,
//! discovered markers on the host page, a plan applied from its table, and a schedule created,
//! paused and deleted.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::listeners::{Kind, Listener};
use crate::ui::{audit, browser, screenshots, sign_in};

#[test]
fn a_user_scans_reads_the_result_applies_a_plan_and_schedules_a_scan() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "127.77.12.0/29");
    let web = Listener::start("127.77.12.1", Kind::Http("Jellyfin"));
    let ssh = Listener::start("127.77.12.2", Kind::SshBanner);
    let ports = format!("{},{}", web.port(), ssh.port());
    let shots = screenshots();

    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/discoveries", app.base));
    b.wait_text("#view h2", "Discoveries");
    audit(&b, "discoveries");

    let start = |mode: &str| {
        b.choose("#scan-network", "lab");
        b.wait_for(
            "return document.getElementById('scan-targets').value === '127.77.12.0/29'",
            json!([]),
        );
        b.choose("#scan-preset", "Custom");
        b.type_into(&b.css("#scan-ports"), &ports);
        b.choose("#scan-mode", mode);
        b.click(&b.button("Start scan"));
    };
    start("Apply");
    b.wait_text("#view h2", "Scan of lab");
    let result = b.wait_text("section[aria-label='Result']", "What it did");
    assert!(result.contains("Services 2"), "{result}");
    let progress = b.wait_text("#scan-progress-text", "completed");
    assert!(progress.contains("2 open ports"), "{progress}");
    b.screenshot(&shots.join("discovery.png"));

    // A slower scan, followed live: the page follows the event stream until it finishes.
    let silent = Listener::start("127.77.12.3", Kind::Silent);
    let slow = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "targets": ["127.77.12.3"], "ports": [silent.port()],
               "options": {"timeout_ms": 2500}}),
    );
    assert_eq!(slow.status, 202);
    b.goto(&format!("{}/#/discovery/{}", app.base, slow.id()));
    b.wait_text("#scan-progress-text", "running: 0 of 1 probes");
    b.button("Cancel");
    b.wait_text("#scan-progress-text", "completed: 1 of 1 probes");
    b.wait_text("section[aria-label='Result']", "What it did");
    drop(silent);

    let hosts = app.get("/api/v1/hosts?q=127.77.12.1");
    let host = hosts.data()[0]["id"].as_str().unwrap().to_string();
    b.goto(&format!("{}/#/host/{host}", app.base));
    b.wait_text("#view h2", "127.77.12.1");
    b.wait_text("#view p.muted", "discovered");
    b.wait_text("section[aria-label='Services']", "discovered · High");

    b.goto(&format!("{}/#/discoveries", app.base));
    b.wait_text("#view h2", "Discoveries");
    app.delete(&format!("/api/v1/hosts/{host}?cascade=true"));
    start("Plan");
    b.wait_text("section[aria-label='Result']", "What an apply would do");
    b.wait_text("#plan", "Jellyfin");
    assert_eq!(app.count("hosts"), 2, "a plan writes nothing");
    b.click(&b.button("Apply"));
    b.wait_text("section[aria-label='Result']", "Applied");
    assert_eq!(app.count("hosts"), 3);

    b.goto(&format!("{}/#/discoveries", app.base));
    b.wait_text("#view h2", "Discoveries");
    b.type_into(&b.css("#schedule-name"), "nightly");
    b.choose("#schedule-network", "lab");
    b.wait_for(
        "return document.getElementById('schedule-targets').value === '127.77.12.0/29'",
        json!([]),
    );
    b.type_into(&b.css("#schedule-interval"), "60");
    b.click(&b.button("Create schedule"));
    b.wait_text("section[aria-label='Schedules'] tbody", "nightly");
    b.click(&b.button("Pause"));
    b.wait_text("section[aria-label='Schedules'] tbody", "paused");
    let stored = app.get("/api/v1/discovery-schedules");
    assert_eq!(stored.data()[0]["enabled"], json!(false));
    b.click(&b.xpath("//section[@aria-label='Schedules']//button[normalize-space()='Delete']"));
    b.accept_dialog();
    b.wait_text("section[aria-label='Schedules'] caption", "0 schedules");
    assert_eq!(b.console_errors(), Vec::<String>::new());
    drop((web, ssh));
}

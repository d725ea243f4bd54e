//! The Agents page: an Admin adds an agent and reads its token once with the command line, a
//! real agent reports with it, the list shows the host, and rotate and disable work.

use std::process::Command;

use crate::helpers::spawn_app;
use crate::ui::{audit, browser, fill, screenshots, sign_in};

#[test]
fn an_admin_adds_an_agent_that_reports_then_rotates_and_disables_it() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    app.network("lab");
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/agents", app.base));
    b.wait_text("#view h2", "Agents");
    b.click(&b.button("New agent"));
    fill(&b, "name", "nas-agent");
    b.choose("form.panel [data-field='network_id'] select", "lab");
    audit(&b, "agents form");
    b.click(&b.button("Save"));
    let note = b.wait_text("section[aria-label='Token of nas-agent']", "SHA-256");
    let token = note
        .split_whitespace()
        .find(|w| w.starts_with("scp_a_"))
        .expect("the token is shown")
        .to_string();
    assert!(note.contains(&format!("--token {token}")), "{note}");
    assert!(note.contains("/download/portolan"), "{note}");
    assert!(
        note.contains("ExecStart=/usr/local/bin/portolan agent"),
        "{note}"
    );
    let stored = app.get("/api/v1/agents");
    assert_eq!(stored.data()[0]["name"], "nas-agent");
    assert!(!stored.body.to_string().contains(&token));

    // The token from the page works for a real agent.
    let out = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args([
            "agent",
            "--once",
            "--docker",
            "none",
            "--machine-id",
            "ui-agents-test",
        ])
        .args(["--server", &app.base, "--token", &token])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    b.goto(&format!("{}/#/hosts", app.base));
    b.goto(&format!("{}/#/agents", app.base));
    b.wait_text("#view tbody", env!("CARGO_PKG_VERSION"));
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    b.wait_text("#view tbody", hostname.trim());
    audit(&b, "agents");
    b.screenshot(&screenshots().join("agents.png"));

    // The host page names its agent; a service an agent reported shows what it runs as.
    let host = app.get("/api/v1/agents").data()[0]["host_id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = serde_json::json!({"host": {"hostname": "ui-host", "machine_id": "ui-agents-test"},
        "containers": [{"id": "c".repeat(64), "name": "media-web-1", "image": "nginx:1.27", "state": "running",
                        "compose_project": "media", "compose_service": "web"}]});
    let bytes = serde_json::to_vec(&report).unwrap();
    let r = app.raw_with(
        "POST",
        "/api/v1/agent/report",
        Some(&token),
        Some(("application/json", &bytes)),
        &[("X-Portolan-Agent-Capabilities", "scan")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    b.goto(&format!("{}/#/host/{host}", app.base));
    b.wait_text("#view", "Agent nas-agent");
    b.wait_text(
        "#view",
        "container media-web-1 (compose media/web), nginx:1.27, running",
    );
    audit(&b, "host with an agent");
    b.goto(&format!("{}/#/agents", app.base));
    b.wait_text("#view tbody", "ui-host");

    // A scan can run from the agent, which announced --scan.
    b.goto(&format!("{}/#/discoveries", app.base));
    b.choose("#scan-network", "lab");
    b.wait_text("#scan-agent", "Agent nas-agent");
    b.goto(&format!("{}/#/agents", app.base));
    b.wait_text("#view tbody", "scan");

    b.click(&b.button("Rotate"));
    b.accept_dialog();
    let rotated = b.wait_text("section[aria-label='Token of nas-agent']", "New token");
    assert!(!rotated.contains(&token));
    b.click(&b.button("Disable"));
    b.wait_text("#view tbody", "disabled");
    assert_eq!(app.get("/api/v1/agents").data()[0]["enabled"], false);
    assert_eq!(b.console_errors(), Vec::<String>::new());
}

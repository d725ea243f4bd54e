//! The web UI in headless Chromium: a user's path through sign-in, editing, a refused binding, the
//! map and a refused template patch. Screenshots go to `target/ui-screenshots/`.

use std::path::PathBuf;

use serde_json::json;

use crate::helpers::spawn_app;
use crate::webdriver::{installed, Browser};

pub fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ui-screenshots")
}

/// CI installs the browser (`.ci/run`); a developer machine without it skips, saying so.
pub fn browser() -> Option<Browser> {
    if installed() {
        return Some(Browser::start());
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have /usr/bin/chromium and /usr/bin/chromedriver"
    );
    eprintln!("skipped: apt-get install chromium chromium-driver to run the browser test");
    None
}

/// axe-core, which `.ci/run` installs from npm into `target/axe`.
fn axe() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/axe/node_modules/axe-core/axe.min.js");
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must have {}",
                path.display()
            );
            eprintln!("no accessibility audit: npm install --prefix target/axe axe-core@4");
            None
        }
    }
}

/// Fails on any WCAG 2 A/AA violation axe-core finds on the page as it is now.
pub fn audit(b: &Browser, page: &str) {
    if let Some(source) = axe() {
        let violations = b.accessibility_violations(&source);
        assert!(violations.is_empty(), "{page}: {violations:#?}");
    }
}

/// Signs in from the sign-in form and waits for the key's role to show.
pub fn sign_in(b: &Browser, key: &str, role: &str) {
    b.type_into(&b.css("#key"), key);
    b.click(&b.button("Sign in with the key"));
    b.wait_text("#role", role);
}

/// Types into the input or text area of the open form's field `name`.
pub fn fill(b: &Browser, name: &str, value: &str) {
    let selector = format!(
        "form.panel [data-field='{name}'] input, form.panel [data-field='{name}'] textarea"
    );
    b.type_into(&b.css(&selector), value);
}

#[test]
fn a_user_builds_a_host_sees_a_conflict_the_map_and_a_read_only_refusal() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let shots = screenshots();

    // Sign in: the key goes to sessionStorage and the role is shown.
    b.goto(&format!("{}/", app.base));
    b.css("#key");
    audit(&b, "sign-in");
    sign_in(&b, &app.key, "Owner");
    assert_eq!(
        b.run("return sessionStorage.getItem('portolan-key')", json!([])),
        json!(app.key)
    );
    assert!(!b
        .run("return location.href", json!([]))
        .as_str()
        .unwrap()
        .contains(&app.key));

    // A network.
    b.goto(&format!("{}/#/networks", app.base));
    b.click(&b.button("New network"));
    fill(&b, "name", "home");
    b.click(&b.button("Save"));
    b.wait_text("table tbody", "home");
    let networks = app.get("/api/v1/networks");
    assert_eq!(networks.data()[0]["name"], json!("home"));

    // A host; saving opens its page.
    b.goto(&format!("{}/#/hosts", app.base));
    b.click(&b.button("New host"));
    b.choose("form.panel [data-field='network_id'] select", "home");
    fill(&b, "name", "nas");
    fill(&b, "hostname", "nas.lan");
    b.click(&b.button("Save"));
    b.wait_text("#view h2", "nas (nas.lan)");
    let hosts = app.get("/api/v1/hosts?include=children");
    let host = &hosts.data()[0];
    let host_id = host["id"].as_str().unwrap().to_string();
    assert_eq!(host["hostname"], json!("nas.lan"));

    // An IP address and two ports.
    b.click(&b.button("Add IP address"));
    fill(&b, "ip_address", "192.168.1.10");
    b.click(&b.button("Save"));
    b.wait_text("section[aria-label='IP addresses'] table", "192.168.1.10");
    for number in ["8096", "443"] {
        b.click(&b.button("Add port"));
        fill(&b, "number", number);
        b.click(&b.button("Save"));
        b.wait_text("section[aria-label='Ports'] table", number);
    }
    let stored = app.get(&format!("/api/v1/hosts/{host_id}"));
    assert_eq!(stored.data()["ip_addresses"].as_array().unwrap().len(), 1);
    assert_eq!(stored.data()["ports"].as_array().unwrap().len(), 2);

    // A service bound to 8096 on all interfaces and to 443 on the one address.
    b.click(&b.button("Add service"));
    fill(&b, "name", "jellyfin");
    fill(&b, "service_definition", "Jellyfin");
    b.click(&b.button("Add binding"));
    b.choose(".binding:nth-of-type(1) select[name='port']", "8096");
    b.click(&b.button("Add binding"));
    b.choose(
        ".binding:nth-of-type(2) select[name='kind']",
        "Port on one IP",
    );
    b.choose(".binding:nth-of-type(2) select[name='port']", "443");
    b.click(&b.button("Save"));
    let listed = b.wait_text("section[aria-label='Services'] table", "jellyfin");
    assert!(listed.contains("8096/Tcp on all interfaces"), "{listed}");
    assert!(listed.contains("443/Tcp on 192.168.1.10"), "{listed}");
    let services = app.get(&format!("/api/v1/services?host_id={host_id}"));
    assert_eq!(services.data()[0]["bindings"].as_array().unwrap().len(), 2);
    let jellyfin_id = services.data()[0]["id"].as_str().unwrap().to_string();

    // A second service on the same port: the refusal shows on that binding and names jellyfin.
    b.click(&b.button("Add service"));
    fill(&b, "name", "emby");
    fill(&b, "service_definition", "Emby");
    b.click(&b.button("Add binding"));
    b.choose(".binding:nth-of-type(1) select[name='port']", "8096");
    b.click(&b.button("Save"));
    let refusal = b.wait_text(".binding.invalid .error", "jellyfin");
    assert!(refusal.contains("already bound"), "{refusal}");
    b.screenshot(&shots.join("host-conflict.png"));
    audit(&b, "host page with a refused binding");
    let after = app.get(&format!("/api/v1/services?host_id={host_id}"));
    assert_eq!(
        after.data().as_array().unwrap().len(),
        1,
        "nothing was written"
    );

    b.click(&b.button("Cancel"));

    // A service type's default ports, created on the way and bound on all interfaces.
    b.click(&b.button("Add service"));
    fill(&b, "name", "plex");
    fill(&b, "service_definition", "Plex Media Server");
    b.wait_text("form.panel .hint[aria-live]", "32400/Tcp");
    b.click(&b.css("#create-default-ports"));
    b.click(&b.button("Save"));
    let listed = b.wait_text("section[aria-label='Services'] table", "plex");
    assert!(listed.contains("32400/Tcp on all interfaces"), "{listed}");
    let stored = app.get(&format!("/api/v1/hosts/{host_id}"));
    let port = stored.data()["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["number"] == 32400)
        .expect("the default port was created")
        .clone();
    let plex = stored.data()["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "plex")
        .unwrap()
        .clone();
    assert_eq!(plex["bindings"][0]["port_id"], port["id"]);
    assert_eq!(plex["bindings"][0]["ip_address_id"], json!(null));

    // The host page and the map, with the host and the service as nodes.
    b.wait_text("section[aria-label='Services'] table", "jellyfin");
    b.run("window.scrollTo(0, 0)", json!([]));
    b.screenshot(&shots.join("host.png"));
    let network_id = networks.data()[0]["id"].as_str().unwrap().to_string();
    b.goto(&format!("{}/#/map/{network_id}", app.base));
    let node = b.css(&format!("svg [data-kind='host'][data-id='{host_id}']"));
    assert!(b.text(&node).contains("nas"));
    b.css(&format!(
        "svg [data-kind='service'][data-id='{jellyfin_id}']"
    ));
    assert_eq!(
        b.run(
            "return document.querySelectorAll(\"svg [data-kind='binding']\").length",
            json!([])
        ),
        json!(3),
        "jellyfin's two bindings and plex's one"
    );
    b.screenshot(&shots.join("map.png"));
    audit(&b, "map");
    let exported = b.run(
        "return PortolanMap.serialize(document.querySelector('#map-frame svg'))",
        json!([]),
    );
    let exported = exported.as_str().unwrap();
    assert!(exported.starts_with("<?xml"));
    assert!(exported.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(exported.contains(">nas  nas.lan<") && exported.contains(">jellyfin<"));
    b.click(&b.button("Export SVG"));
    b.click(&node);
    b.wait_text("#view h2", "nas (nas.lan)");

    // A template: patching a read-only field is refused, on that field, with the hint.
    let created = app.post(
        "/api/v1/service-templates",
        json!({"name": "media", "containerImageId": "lscr.io/linuxserver/jellyfin",
               "composeTemplate": "services:\n  jellyfin:\n    ports:\n      - \"8096:8096\"\n"}),
    );
    assert_eq!(created.status, 201);
    let template_id = created.id();
    b.goto(&format!("{}/#/template/{template_id}", app.base));
    b.wait_text("[data-field='exposedPorts']", "8096");
    fill(&b, "patch", r#"{"exposedPorts": []}"#);
    b.click(
        &b.xpath("//form[@aria-label='Send a raw PATCH body']//button[normalize-space()='Save']"),
    );
    let refusal = b.wait_text("[data-field='exposedPorts'] .error", "read-only");
    assert!(refusal.contains("ports mapping"), "the hint: {refusal}");
    b.wait_text(
        "form[aria-label='Send a raw PATCH body'] .form-error",
        "READONLY_FIELD",
    );
    b.screenshot(&shots.join("template-read-only.png"));
    audit(&b, "template with a read-only refusal");
    let stored = app.get(&format!("/api/v1/service-templates/{template_id}"));
    assert_eq!(stored.data()["exposedPorts"][0]["hostPort"], json!(8096));

    // The remaining main pages render, then the console must be clean.
    for (page, text) in [
        ("hosts", "nas"),
        ("service-types?q=Jelly", "Jellyfin"),
        ("keys", "Owner"),
        ("templates", "media"),
    ] {
        b.goto(&format!("{}/#/{page}", app.base));
        b.wait_text("#view table", text);
        let name = page.split('?').next().unwrap();
        b.screenshot(&shots.join(format!("{name}.png")));
        audit(&b, page);
    }
    // Chromium logs every refused request as an error; the two refusals the test asked for are
    // expected, and nothing else may appear (no script error, no asset or CSP failure).
    let errors = b.console_errors();
    let expected = [
        format!("{}/api/v1/services - Failed to load resource: the server responded with a status of 409 (Conflict)", app.base),
        format!("{}/api/v1/service-templates/{template_id} - Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)", app.base),
    ];
    assert_eq!(errors, expected, "console errors");
}

#[test]
fn an_admin_manages_keys_and_a_viewer_only_reads() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let network = app.network("home");
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");

    // A custom service type, then a change to it; built-in types offer neither edit nor delete.
    b.goto(&format!("{}/#/service-types?q=Lab", app.base));
    b.click(&b.button("New service type"));
    fill(&b, "name", "Lab Console");
    fill(&b, "category", "Development");
    fill(
        &b,
        "default_ports",
        r#"[{"number": 9443, "protocol": "Tcp"}]"#,
    );
    b.click(&b.button("Save"));
    b.wait_text("#view table", "9443/Tcp");
    b.click(
        &b.xpath("//tr[td[normalize-space()='Lab Console']]//button[normalize-space()='Edit']"),
    );
    fill(&b, "description", "The lab's admin console");
    b.click(&b.button("Save"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let stored = app.get("/api/v1/service-types/Lab%20Console");
        if stored.data()["description"] == json!("The lab's admin console") {
            assert_eq!(
                stored.data()["default_ports"],
                json!([{"number": 9443, "protocol": "Tcp"}])
            );
            assert_eq!(stored.data()["builtin"], json!(false));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the change was not stored"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    b.goto(&format!("{}/#/service-types?q=Jellyfin", app.base));
    // The filtered page replaces the full one once its read is in.
    b.wait_for(
        "const rows = [...document.querySelectorAll('#view tbody tr')];
         return rows.length > 0 && rows.every((r) => r.textContent.includes('Jellyfin'))",
        json!([]),
    );
    b.wait_text("#view table", "built-in");
    assert_eq!(
        b.run(
            "return document.querySelectorAll('#view tbody button').length",
            json!([])
        ),
        json!(0)
    );

    // Create a Viewer key for one network: its secret is shown once.
    b.goto(&format!("{}/#/keys", app.base));
    b.click(&b.button("New key"));
    fill(&b, "name", "reader");
    b.choose("form.panel [data-field='permissions'] select", "Viewer");
    b.choose("form.panel [data-field='network_ids'] select", "home");
    b.click(&b.button("Save"));
    let first = b.wait_text("#key-holder .secret", "scp_u_");
    let keys = app.get("/api/v1/auth/keys");
    let reader = keys
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "reader")
        .expect("the key is stored")
        .clone();
    assert_eq!(reader["permissions"], json!("Viewer"));
    assert_eq!(reader["network_ids"], json!([network]));
    let reader_id = reader["id"].as_str().unwrap().to_string();
    assert_eq!(app.call("GET", "/api/v1/hosts", &first, None).status, 200);

    // Rotate: the old secret stops working, the new one works.
    let row = |action: &str| {
        format!("//tr[td[normalize-space()='reader']]//button[normalize-space()='{action}']")
    };
    b.click(&b.xpath(&row("Rotate")));
    b.accept_dialog();
    let second = b.wait_for(
        "const s = document.querySelector('#key-holder .secret');
         return s && s.textContent !== arguments[0] ? s.textContent : null;",
        json!([first]),
    );
    let second = second.as_str().unwrap().to_string();
    assert!(second.starts_with("scp_u_"));
    assert_eq!(app.call("GET", "/api/v1/hosts", &first, None).status, 401);
    assert_eq!(app.call("GET", "/api/v1/hosts", &second, None).status, 200);

    // Disable, then enable again.
    b.click(&b.xpath(&row("Disable")));
    b.wait_text(&format!("tr[data-id='{reader_id}']"), "disabled");
    let stored = app.get(&format!("/api/v1/auth/keys/{reader_id}"));
    assert_eq!(stored.data()["is_enabled"], json!(false));
    b.click(&b.xpath(&row("Enable")));
    b.wait_text(&format!("tr[data-id='{reader_id}']"), "enabled");
    b.screenshot(&screenshots().join("keys-rotated.png"));
    audit(&b, "keys with a new secret");

    // The Viewer sees its role and no way to write.
    b.click(&b.button("Sign out"));
    // From the keyboard: the key, then Enter.
    b.type_into(&b.css("#key"), &format!("{second}\u{E007}"));
    b.wait_text("#role", "Viewer");
    b.wait_text("#view", "needs an Admin");
    b.goto(&format!("{}/#/hosts", app.base));
    b.wait_text("#view h2", "Hosts");
    assert_eq!(
        b.run(
            "return [...document.querySelectorAll('#view button')].filter((x) => /^(New|Edit|Delete)/.test(x.textContent)).length",
            json!([])
        ),
        json!(0)
    );
    assert_eq!(
        b.run(
            "return document.getElementById('keys-link').hidden",
            json!([])
        ),
        json!(true)
    );

    // Back as the Owner, delete the key through its confirmation.
    b.click(&b.button("Sign out"));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/keys", app.base));
    b.click(&b.xpath(&row("Delete")));
    b.accept_dialog();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.get(&format!("/api/v1/auth/keys/{reader_id}")).status != 404 {
        assert!(
            std::time::Instant::now() < deadline,
            "the key was not deleted"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let errors = b.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn the_host_table_pages_sorts_and_searches_a_thousand_hosts() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let network = app.network("big");
    app.network("small");
    {
        // Straight into the database: a thousand API calls would only slow the test down.
        let mut conn = rusqlite::Connection::open(app.dir.path().join("portolan.db")).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..1050 {
            tx.execute(
                "INSERT INTO hosts (id, network_id, name, hostname, hidden, source, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 0, '{\"type\":\"Manual\"}', ?5, ?5)",
                rusqlite::params![
                    uuid::Uuid::new_v4().to_string(),
                    network,
                    format!("host-{i:04}"),
                    format!("host-{i:04}.lan"),
                    format!("2026-01-01T00:{:02}:{:02}.000000Z", i / 60 % 60, i % 60),
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/hosts", app.base));
    b.wait_text("#view table caption", "1050 hosts");
    let rows = "return document.querySelectorAll('#view tbody tr').length";
    assert_eq!(b.run(rows, json!([])), json!(25));
    b.wait_text(".pager", "1–25 of 1050");

    b.click(&b.button("Next"));
    b.wait_text(".pager", "26–50 of 1050");
    let name_header = "//th/button[starts-with(normalize-space(), 'Name')]";
    b.click(&b.xpath(name_header));
    b.wait_text("th[aria-sort='ascending']", "Name");
    b.wait_text("#view tbody tr:first-child", "host-0000");
    b.click(&b.xpath(name_header));
    b.wait_text("th[aria-sort='descending']", "Name");
    b.wait_text("#view tbody tr:first-child", "host-1049");
    b.wait_text(".pager", "1–25 of 1050");

    let search = b.css("#search");
    b.type_into(&search, "host-0042\u{E007}");
    b.wait_text("#view table caption", "1 host");
    b.wait_text("#view tbody", "host-0042.lan");

    b.goto(&format!("{}/#/hosts", app.base));
    b.wait_text("#view table caption", "1050 hosts");
    b.choose("#filter-network", "small");
    b.wait_text(".pager", "Nothing yet");
    assert_eq!(
        b.run(
            "return document.querySelector('#view caption').textContent",
            json!([])
        ),
        json!("0 hosts")
    );
    audit(&b, "an empty page of hosts");
    let errors = b.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[test]
fn the_api_reference_renders_from_the_server_alone() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    b.goto(&format!("{}/api/docs", app.base));
    b.wait_text(".swagger-ui .info", "Portolan");
    b.wait_text(".swagger-ui", "/api/v1/services/{id}");
    let loaded = b.run(
        "return performance.getEntriesByType('resource').map((e) => e.name)",
        json!([]),
    );
    let loaded: Vec<&str> = loaded
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(loaded.iter().any(|u| u.ends_with("/api/openapi.json")));
    let outside: Vec<_> = loaded
        .iter()
        .filter(|u| !u.starts_with(&app.base) && !u.starts_with("data:"))
        .collect();
    assert!(outside.is_empty(), "loaded from outside: {outside:?}");
    b.screenshot(&screenshots().join("api-docs.png"));
    let errors = b.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

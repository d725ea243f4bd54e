//! The map of a network as JSON, SVG and Mermaid: one layout, checked by an XML parser and by
//! the Mermaid CLI itself.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

pub struct Lab {
    pub network: String,
    pub hosts: Vec<(String, &'static str)>,
    pub services: Vec<(String, &'static str)>,
    pub bindings: usize,
}

/// A subnet, a host in it and one outside, four services, five bindings, a dependency of three.
pub fn lab(app: &TestApp) -> Lab {
    let net = app.network("home <lab>");
    app.subnet(&net, "10.0.0.0/24");
    let nas = app.host(&net, "nas");
    let edge = app.host(&net, "edge \"proxy\"");
    let ip1 = app.post(
        "/api/v1/ip-addresses",
        json!({"host_id": nas, "ip_address": "10.0.0.5", "subnet_id": null}),
    );
    let ip1 = ip1.id();
    let ip2 = app.ip(&nas, "10.0.0.6");
    let ip3 = app.ip(&edge, "192.168.9.1");
    let p1 = app.port(&nas, 8096, "Tcp");
    let p2 = app.port(&nas, 5432, "Tcp");
    let p3 = app.port(&edge, 443, "Tcp");
    let mk = |host: &str, name: &'static str, bindings: Value| {
        let r = app.service(host, name, bindings);
        assert_eq!(r.status, 201, "{}", r.body);
        (r.id(), name)
    };
    let jellyfin = mk(&nas, "jellyfin", json!([{"type": "Port", "port_id": p1}]));
    let postgres = mk(
        &nas,
        "postgres",
        json!([{"type": "Port", "port_id": p2, "ip_address_id": ip2},
                                                {"type": "IPAddress", "ip_address_id": ip1}]),
    );
    let proxy = mk(
        &edge,
        "caddy",
        json!([{"type": "Port", "port_id": p3, "ip_address_id": ip3}]),
    );
    let idle = mk(
        &edge,
        "idle",
        json!([{"type": "IPAddress", "ip_address_id": ip3}]),
    );
    let d = app.post(
        "/api/v1/dependencies",
        json!({"network_id": net, "name": "media path", "dependency_type": "RequestPath", "color": "Green",
               "members": [{"service_id": proxy.0}, {"service_id": jellyfin.0}, {"service_id": postgres.0}]}),
    );
    assert_eq!(d.status, 201, "{}", d.body);
    Lab {
        network: net,
        hosts: vec![(nas, "nas"), (edge, "edge \"proxy\"")],
        services: vec![jellyfin, postgres, proxy, idle],
        bindings: 5,
    }
}

#[test]
fn the_json_map_has_a_node_per_host_address_and_service_and_an_edge_per_binding_and_link() {
    let app = spawn_app();
    let lab = lab(&app);
    let r = app.get(&format!("/api/v1/networks/{}/map", lab.network));
    assert_eq!(r.status, 200, "{}", r.body);
    let nodes = r.data()["nodes"].as_array().unwrap();
    let count = |kind: &str| nodes.iter().filter(|n| n["kind"] == json!(kind)).count();
    assert_eq!(count("host"), 2);
    assert_eq!(count("ip_address"), 3);
    assert_eq!(count("service"), 4);
    assert_eq!(count("subnet"), 2, "the subnet, and the hosts in none");
    let edges = r.data()["edges"].as_array().unwrap();
    let kind = |k: &str| edges.iter().filter(|e| e["kind"] == json!(k)).count();
    assert_eq!(kind("binding"), lab.bindings);
    assert_eq!(kind("dependency"), 2, "a path of three is two links");
    let link = edges
        .iter()
        .find(|e| e["kind"] == json!("dependency"))
        .unwrap();
    assert_eq!(link["from"], json!(lab.services[2].0));
    assert_eq!(link["to"], json!(lab.services[0].0));
    assert_eq!(link["color"], json!("Green"));
    for n in nodes {
        assert!(
            n["x"].is_number() && n["width"].as_f64().unwrap() > 0.0,
            "{n}"
        );
    }
}

#[test]
fn the_svg_parses_as_xml_and_shows_every_host_and_service() {
    let app = spawn_app();
    let lab = lab(&app);
    let r = app.get(&format!("/api/v1/networks/{}/map.svg", lab.network));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/svg+xml"));
    let svg = r.body.as_str().expect("text").to_string();
    let mut reader = quick_xml::Reader::from_str(&svg);
    use quick_xml::events::Event;
    let mut texts = Vec::new();
    let mut current = String::new();
    let mut ids = Vec::new();
    loop {
        let event = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not XML: {e}"));
        match &event {
            Event::Text(t) => current.push_str(&t.decode().unwrap()),
            // Entities arrive on their own, between pieces of text.
            Event::GeneralRef(r) => current.push(match r.decode().unwrap().as_ref() {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                _ => '\'',
            }),
            _ => texts.push(std::mem::take(&mut current)),
        }
        match event {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|e| panic!("bad attribute: {e}"));
                    if a.key.as_ref() == b"data-id" {
                        ids.push(a.unescape_value().unwrap().into_owned());
                    }
                }
            }
            _ => {}
        }
    }
    let all = texts.join("\n");
    for (id, name) in lab.hosts.iter().chain(lab.services.iter()) {
        assert!(all.contains(name), "{name} missing from the SVG");
        assert!(ids.contains(id), "{id} ({name}) has no shape");
    }
    assert!(all.contains("Network home <lab>"));
}

/// `@mermaid-js/mermaid-cli` from npm (`.ci/run` installs it into target/mermaid), run on
/// Debian's Chromium; without them the test is skipped outside CI.
fn mmdc() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cli = root.join("target/mermaid/node_modules/.bin/mmdc");
    if cli.exists() && std::path::Path::new("/usr/bin/chromium").exists() {
        return Some(cli);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have {} and /usr/bin/chromium",
        cli.display()
    );
    eprintln!("skipped: PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix target/mermaid @mermaid-js/mermaid-cli@11");
    None
}

#[test]
fn the_mermaid_export_renders_with_the_mermaid_cli() {
    let app = spawn_app();
    let lab = lab(&app);
    let r = app.get(&format!("/api/v1/networks/{}/map.mermaid", lab.network));
    assert_eq!(r.status, 200);
    let text = r.body.as_str().expect("text").to_string();
    assert!(text.starts_with("flowchart LR"), "{text}");
    // The 0.17 clients' export of the same topology is the same flowchart, as a file.
    for view in ["", "?view=L3Logical", "?view=Application"] {
        let peer = app.get(&format!(
            "/api/v1/topology/{}/export/mermaid{view}",
            lab.network
        ));
        assert_eq!(peer.status, 200);
        assert_eq!(peer.body.as_str(), Some(text.as_str()));
        assert_eq!(
            peer.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            peer.header("content-disposition"),
            Some("attachment; filename=\"topology.mmd\"")
        );
    }
    assert!(
        text.contains("media path") && text.contains("jellyfin"),
        "{text}"
    );
    let Some(cli) = mmdc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("map.mmd");
    let output = dir.path().join("map.svg");
    let config = dir.path().join("puppeteer.json");
    std::fs::write(&input, &text).unwrap();
    std::fs::write(
        &config,
        r#"{"executablePath": "/usr/bin/chromium", "args": ["--no-sandbox", "--disable-gpu"]}"#,
    )
    .unwrap();
    let out = Command::new(&cli)
        .arg("-p")
        .arg(&config)
        .arg("-i")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .expect("mmdc runs");
    assert!(
        out.status.success(),
        "mmdc refused the export:\n{}\n{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered = std::fs::read_to_string(&output).unwrap();
    assert!(
        rendered.contains("<svg")
            && rendered.contains("jellyfin")
            && rendered.contains("media path")
    );
}

#[test]
fn the_map_of_a_past_instant_and_of_a_network_out_of_scope() {
    let app = spawn_app();
    let lab = lab(&app);
    let before = app.get(&format!("/api/v1/hosts/{}", lab.hosts[0].0)).data()["updated_at"].clone();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let renamed = app.put(
        &format!("/api/v1/hosts/{}", lab.hosts[0].0),
        json!({"name": "storage"}),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let at = before.as_str().unwrap().replace('+', "%2B");
    let past = app.get(&format!("/api/v1/networks/{}/map?at={at}", lab.network));
    assert_eq!(past.data()["at"], before);
    let labels: Vec<&str> = past.data()["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"nas") && !labels.contains(&"storage"),
        "{labels:?}"
    );
    let live = app.get(&format!("/api/v1/networks/{}/map.svg", lab.network));
    assert!(live.body.as_str().unwrap().contains(">storage<"));

    let other = app.network("other");
    let key = app.key_with("Viewer", &[&other]);
    for suffix in ["map", "map.svg", "map.mermaid"] {
        let r = app.call(
            "GET",
            &format!("/api/v1/networks/{}/{suffix}", lab.network),
            &key,
            None,
        );
        assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    }
}

//! Output other programs parse: Ansible's inventory (one name, one host), YAML that PyYAML reads
//! back as the same strings, CSV cells that are not formulas, an SVG that runs nothing, headers
//! that stop browsers from guessing, and nmap uploads that end early.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::exports::ansible_inventory_list;
use crate::helpers::{assert_error, spawn_app, TestApp};

fn host_with_address(app: &TestApp, network: &str, name: &str, address: &str) {
    let host = app.host(network, name);
    app.ip(&host, address);
}

fn run(program: &str, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn each_inventory_name_maps_to_one_host() {
    let app = spawn_app();
    let home = app.network("home");
    let office = app.network("office");
    host_with_address(&app, &home, "nas", "10.0.0.1");
    host_with_address(&app, &office, "nas", "10.1.0.1");
    host_with_address(&app, &home, "nas_2", "10.0.0.2");
    let r = app.get("/api/v1/exports/ansible");
    assert_eq!(r.status, 200, "{}", r.body);
    let hostvars = r.body["_meta"]["hostvars"].as_object().unwrap();
    assert_eq!(hostvars.len(), 3, "{}", r.body);
    let mut addresses: Vec<&str> = hostvars
        .values()
        .map(|v| v["ansible_host"].as_str().unwrap())
        .collect();
    addresses.sort();
    assert_eq!(addresses, ["10.0.0.1", "10.0.0.2", "10.1.0.1"]);
    assert_eq!(
        hostvars["nas_2"]["ansible_host"],
        json!("10.0.0.2"),
        "the real nas_2"
    );
    let ids: std::collections::BTreeSet<&str> = hostvars
        .values()
        .map(|v| v["portolan_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "one host per name");

    let yaml = app.get("/api/v1/exports/ansible?format=yaml");
    let text = yaml.body.as_str().unwrap().to_string();
    let Some(listed) = ansible_inventory_list(&text) else {
        return;
    };
    let vars = listed["_meta"]["hostvars"].as_object().unwrap();
    assert_eq!(vars.len(), 3, "{listed}");
    assert_eq!(vars["nas_2"]["ansible_host"], json!("10.0.0.2"));
}

#[test]
fn pyyaml_reads_every_yaml_export_back_as_the_same_strings() {
    let app = spawn_app();
    let net = app.network("line\u{2028}break");
    let tricky = [
        "2024-01-01",
        "no",
        "1e3",
        "on",
        "0x1F",
        "1_000",
        "nas\u{2029}x",
        "~",
        "null",
    ];
    for (i, name) in tricky.iter().enumerate() {
        let host = app.host(&net, name);
        app.ip(&host, &format!("10.9.0.{}", i + 1));
        let port = app.port(&host, 443, "Tcp");
        let r = app.post(
            "/api/v1/services",
            json!({"host_id": host, "name": format!("{name}\u{2028}svc"), "service_definition": "Nginx Proxy Manager",
                   "bindings": [{"type": "Port", "port_id": port}]}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let script = r#"
import json, sys, yaml
print(json.dumps(yaml.safe_load(sys.stdin.read())))
"#;
    if Command::new("python3")
        .args(["-c", "import yaml"])
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have PyYAML (ansible-core brings it)"
        );
        eprintln!("skipped: pip install pyyaml to read the YAML exports back");
        return;
    }
    for path in [
        "/api/v1/exports/ansible?format=yaml",
        "/api/v1/exports/homepage",
        "/api/v1/exports/homepage?group_by=tag",
    ] {
        let r = app.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let text = r.body.as_str().unwrap().to_string();
        for raw in ['\u{2028}', '\u{2029}', '\u{85}'] {
            assert!(!text.contains(raw), "{path} writes {raw:?} raw");
        }
        let (ok, stdout, stderr) = run("python3", &["-c", script], &text);
        assert!(ok, "{path}: {stderr}\n{text}");
        let read: Value = serde_json::from_str(&stdout).unwrap();
        let mut strings = std::collections::BTreeSet::new();
        collect_strings(&read, &mut strings);
        for name in tricky {
            let service = format!("{name}\u{2028}svc");
            assert!(
                strings.contains(&service),
                "{path}: {service:?} not read back: {strings:?}"
            );
        }
        let all = read.to_string();
        if path.contains("ansible") {
            let hosts = read["all"]["hosts"].as_object().unwrap();
            for name in tricky {
                assert!(hosts.contains_key(name), "{name:?} not a string key: {all}");
            }
            assert!(
                hosts
                    .values()
                    .all(|v| v["portolan_network"] == json!("line\u{2028}break")),
                "{all}"
            );
        }
    }
}

/// Every string in a value, keys included.
fn collect_strings(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                collect_strings(v, out);
            }
        }
        _ => {}
    }
}

#[test]
fn csv_cells_that_look_like_formulas_are_quoted_as_text() {
    let app = spawn_app();
    let net = app.network("lab");
    let host = app.host(&net, "=cmd|' /C calc'!A0");
    let port = app.port(&host, 80, "Tcp");
    let r = app.post(
        "/api/v1/services",
        json!({"host_id": host, "name": "@SUM(1+1)", "service_definition": "Nginx Proxy Manager",
               "bindings": [{"type": "Port", "port_id": port}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.get("/api/v1/exports/services.csv");
    let text = r.body.as_str().unwrap().to_string();
    let script = "import csv, io, json, sys\nprint(json.dumps(list(csv.DictReader(io.StringIO(sys.stdin.read())))))";
    let (ok, stdout, stderr) = run("python3", &["-c", script], &text);
    assert!(ok, "{stderr}");
    let rows: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows[0]["host"], json!("'=cmd|' /C calc'!A0"), "{text}");
    assert_eq!(rows[0]["service"], json!("'@SUM(1+1)"), "{text}");
    assert_eq!(rows[0]["network"], json!("lab"));
}

#[test]
fn the_map_svg_runs_nothing_and_responses_are_not_sniffed() {
    let app = spawn_app();
    let net = app.network("<script>alert(1)</script>");
    let host = app.host(&net, "\"><svg onload=alert(1)>");
    let port = app.port(&host, 80, "Tcp");
    let a = app.post(
        "/api/v1/services",
        json!({"host_id": host, "name": "<img src=x onerror=alert(1)>", "service_definition": "Nginx Proxy Manager",
               "bindings": [{"type": "Port", "port_id": port}]}),
    );
    let b = app.post(
        "/api/v1/services",
        json!({"host_id": host, "name": "b", "service_definition": "Nginx Proxy Manager"}),
    );
    let r = app.post(
        "/api/v1/dependencies",
        json!({"network_id": net, "name": "'/><script>x</script>", "dependency_type": "RequestPath",
               "members": [{"service_id": a.id()}, {"service_id": b.id()}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let svg = app.raw(
        "GET",
        &format!("/api/v1/networks/{net}/map.svg"),
        Some(&app.key),
        None,
    );
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-security-policy"), Some("sandbox"));
    assert_eq!(svg.header("x-content-type-options"), Some("nosniff"));
    let text = svg.body.as_str().unwrap();
    for bad in ["<script", "<svg onload", "<img", "onerror=\"", "'/>"] {
        assert!(!text.contains(bad), "{bad} in the SVG");
    }

    for path in [
        "/api/v1/networks",
        "/api/v1/nothing-here",
        "/healthz",
        "/api/openapi.json",
    ] {
        let r = app.raw("GET", path, Some(&app.key), None);
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let docs = app.raw("GET", "/api/docs/", None, None);
    assert_eq!(docs.status, 200);
    let policy = docs.header("content-security-policy").unwrap_or_default();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(docs.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn an_nmap_file_that_ends_early_applies_nothing() {
    let app = spawn_app();
    let net = app.network("lab");
    let full = r#"<?xml version="1.0" encoding="UTF-8"?>
<nmaprun scanner="nmap" args="nmap -oX - 127.77.9.1" version="7.93">
<host><status state="up"/><address addr="127.77.9.1" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="8080"><state state="open"/><service name="http"/></port></ports>
</host>
<runstats><finished time="1"/></runstats>
</nmaprun>"#;
    let cut = &full[..full.find("</host>").unwrap() + "</host>".len()];
    let before = app.snapshot();
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "nmap", "xml": cut}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("xml"));
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("incomplete nmap output"),
        "{}",
        r.body
    );
    let r = app.raw(
        "POST",
        &format!("/api/v1/discoveries?network_id={net}"),
        Some(&app.key),
        Some(("application/xml", cut.as_bytes())),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("xml"));
    assert_eq!(app.snapshot(), before, "nothing applied");
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "nmap", "xml": full}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

//! Exports read by the programs that consume them: ansible-inventory, a Homepage layout, and
//! Python's csv module.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{assert_error, required_tool, spawn_app, TestApp};

/// Two networks; a tagged host with two addresses (one in a subnet) and two services.
fn lab(app: &TestApp) -> (String, String) {
    let home = app.network("home lab");
    let other = app.network("other");
    let subnet = app.subnet(&home, "10.0.0.0/24");
    let prod = app.tag("prod");
    let nas = app
        .post(
            "/api/v1/hosts",
            json!({"network_id": home, "name": "nas", "tags": [prod]}),
        )
        .id();
    let ip = app
        .post(
            "/api/v1/ip-addresses",
            json!({"host_id": nas, "ip_address": "10.0.0.5", "subnet_id": subnet}),
        )
        .id();
    app.ip(&nas, "10.0.1.5");
    let https = app.port(&nas, 443, "Tcp");
    let media = app.port(&nas, 8096, "Tcp");
    let r = app.post("/api/v1/services", json!({"host_id": nas, "name": "proxy, \"edge\"", "service_definition": "Nginx Proxy Manager",
        "tags": [prod], "bindings": [{"type": "Port", "port_id": https, "ip_address_id": ip}]}));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.post(
        "/api/v1/services",
        json!({"host_id": nas, "name": "jellyfin", "service_definition": "Jellyfin",
        "bindings": [{"type": "Port", "port_id": media}]}),
    );
    assert_eq!(r.status, 201);
    app.host(&other, "elsewhere");
    (home, other)
}

fn tool(name: &str) -> Option<String> {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    required_tool(found, name, "pip install ansible-core")
}

/// What the real `ansible-inventory --list` reads from a YAML inventory, which it must read
/// without a warning; `None` where the program is missing outside CI.
pub fn ansible_inventory_list(yaml: &str) -> Option<Value> {
    let inventory = tool("ansible-inventory")?;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(inventory)
        .arg("-i")
        .arg(&file)
        .arg("--list")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "True")
        .env("ANSIBLE_LOCAL_TEMP", dir.path())
        .env("ANSIBLE_HOME", dir.path())
        .output()
        .expect("ansible-inventory runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{yaml}");
    assert!(!stderr.contains("WARNING"), "warnings: {stderr}\n{yaml}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn ansible_inventory_lists_the_groups_and_hosts_without_warnings() {
    let app = spawn_app();
    let (home, _) = lab(&app);
    let json_inv = app.get("/api/v1/exports/ansible");
    assert_eq!(json_inv.status, 200);
    assert_eq!(
        json_inv.body["_meta"]["hostvars"]["nas"]["ansible_host"],
        json!("10.0.0.5")
    );
    let r = app.get(&format!(
        "/api/v1/exports/ansible?format=yaml&network_id={home}"
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/yaml"));
    let yaml = r.body.as_str().unwrap().to_string();
    assert!(!yaml.contains("elsewhere"), "only the network asked for");
    assert_error(
        &app.get("/api/v1/exports/ansible?format=toml"),
        400,
        "VALIDATION_ERROR",
        Some("format"),
    );
    let Some(listed) = ansible_inventory_list(&yaml) else {
        return;
    };
    for group in [
        "network_home_lab",
        "subnet_10_0_0_0_24",
        "tag_prod",
        "type_nginx_proxy_manager",
        "type_jellyfin",
    ] {
        assert_eq!(listed[group]["hosts"], json!(["nas"]), "{group}: {listed}");
    }
    let vars = &listed["_meta"]["hostvars"]["nas"];
    assert_eq!(vars["ansible_host"], json!("10.0.0.5"));
    assert_eq!(
        vars["portolan_services"][1]["ports"][0]["port"],
        json!(8096)
    );
}

#[test]
fn the_homepage_export_has_groups_of_single_key_entries() {
    let app = spawn_app();
    lab(&app);
    let r = app.get("/api/v1/exports/homepage");
    assert_eq!(r.status, 200);
    let docs = yaml_rust2::YamlLoader::load_from_str(r.body.as_str().unwrap()).expect("YAML");
    let groups = docs[0].as_vec().expect("a list of groups");
    let group = groups[0].as_hash().expect("a single-key group");
    assert_eq!(group.len(), 1);
    let (name, entries) = group.iter().next().unwrap();
    assert_eq!(name.as_str(), Some("home lab"));
    let entries = entries.as_vec().unwrap();
    let find = |key: &str| {
        entries
            .iter()
            .find_map(|e| {
                e.as_hash()
                    .unwrap()
                    .get(&yaml_rust2::Yaml::String(key.into()))
                    .cloned()
            })
            .unwrap_or_else(|| panic!("no entry {key}"))
    };
    let proxy = find("proxy, \"edge\"");
    assert_eq!(proxy["href"].as_str(), Some("https://10.0.0.5:443"));
    assert_eq!(proxy["description"].as_str(), Some("nas:443"));
    assert_eq!(proxy["icon"].as_str(), Some("nginx-proxy-manager.png"));
    let jelly = find("jellyfin");
    assert_eq!(jelly["icon"].as_str(), Some("jellyfin.png"));
    let by_tag = app.get("/api/v1/exports/homepage?group_by=tag");
    let docs = yaml_rust2::YamlLoader::load_from_str(by_tag.body.as_str().unwrap()).unwrap();
    let names: Vec<String> = docs[0]
        .as_vec()
        .unwrap()
        .iter()
        .map(|g| {
            g.as_hash()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["prod", "untagged"]);
    assert_error(
        &app.get("/api/v1/exports/homepage?group_by=color"),
        400,
        "VALIDATION_ERROR",
        Some("group_by"),
    );
}

#[test]
fn the_csv_round_trips_through_python_with_its_quoting() {
    let app = spawn_app();
    lab(&app);
    let r = app.get("/api/v1/exports/services.csv");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let text = r.body.as_str().unwrap().to_string();
    let script = r#"
import csv, io, json, sys
rows = list(csv.DictReader(io.StringIO(sys.stdin.read())))
print(json.dumps(rows))
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{text}");
    let proxy = rows
        .iter()
        .find(|r| r["service"] == json!("proxy, \"edge\""))
        .expect(&text);
    assert_eq!(proxy["ip_address"], json!("10.0.0.5"));
    assert_eq!(proxy["port"], json!("443"));
    assert_eq!(proxy["tags"], json!("prod"));
    assert_eq!(proxy["network"], json!("home lab"));
    let jelly = rows
        .iter()
        .find(|r| r["service"] == json!("jellyfin"))
        .unwrap();
    assert_eq!(jelly["ip_address"], json!("*"), "all interfaces");
}

//! The full export and import: a round trip gives the same document, a broken document imports
//! nothing and names the path of its first error, a dry run writes nothing, Owner only.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

const SECRET: &str = "export-must-not-carry-this-secret";

/// A lab with one of everything the document carries.
pub fn lab(app: &TestApp) {
    let net = app.network("home lab");
    let subnet = app.subnet(&net, "10.0.0.0/24");
    let prod = app.tag("prod");
    let r = app.post(
        "/api/v1/service-types",
        json!({"name": "Home Lab Thing", "category": "Development",
               "default_ports": [{"number": 9999, "protocol": "Tcp"}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let nas = app
        .post(
            "/api/v1/hosts",
            json!({"network_id": net, "name": "nas", "tags": [prod]}),
        )
        .id();
    let ip = app
        .post(
            "/api/v1/ip-addresses",
            json!({"host_id": nas, "ip_address": "10.0.0.5", "subnet_id": subnet}),
        )
        .id();
    let outside = app.ip(&nas, "10.0.1.5");
    let https = app.port(&nas, 443, "Tcp");
    let media = app.port(&nas, 8096, "Tcp");
    let proxy = app.service(
        &nas,
        "proxy",
        json!([{"type": "Port", "port_id": https, "ip_address_id": ip}, {"type": "IPAddress", "ip_address_id": outside}]),
    );
    assert_eq!(proxy.status, 201, "{}", proxy.body);
    let jelly = app.service(
        &nas,
        "jellyfin",
        json!([{"type": "Port", "port_id": media}]),
    );
    assert_eq!(jelly.status, 201, "{}", jelly.body);
    let r = app.post(
        "/api/v1/dependencies",
        json!({"network_id": net, "name": "media path", "dependency_type": "RequestPath",
               "members": [{"service_id": proxy.id()}, {"service_id": jelly.id()}], "tags": [prod]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.post(
        "/api/v1/service-templates",
        json!({"name": "jellyfin", "containerImageId": "jellyfin/jellyfin"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app.post(
        "/api/v1/webhooks",
        json!({"name": "lab bot", "url": "http://127.0.0.1:9/hook", "events": ["binding.*"],
               "secret": SECRET, "enabled": false}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // A renamed host: history to carry with --with-history.
    let r = app.put(
        &format!("/api/v1/hosts/{nas}"),
        json!({"network_id": net, "name": "nas-1", "tags": [prod]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

pub fn export(app: &TestApp, query: &str) -> String {
    let r = app.raw(
        "GET",
        &format!("/api/v1/export{query}"),
        Some(&app.key),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r
        .header("content-disposition")
        .is_some_and(|d| d.contains("attachment")));
    // The helper parses JSON bodies; the document is compared as text and as JSON.
    serde_json::to_string(&r.body).unwrap()
}

pub fn import(app: &TestApp, document: &str, query: &str) -> crate::helpers::Resp {
    app.raw(
        "POST",
        &format!("/api/v1/import{query}"),
        Some(&app.key),
        Some(("application/json", document.as_bytes())),
    )
}

fn without_time(document: &str) -> Value {
    let mut v: Value = serde_json::from_str(document).unwrap();
    v.as_object_mut().unwrap().remove("exported_at");
    v
}

#[test]
fn export_import_export_gives_the_same_document() {
    let source = spawn_app();
    lab(&source);
    let first = export(&source, "");
    let doc: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(doc["format"], json!("portolan-export"));
    assert_eq!(doc["version"], json!(1));
    assert_eq!(doc["hosts"][0]["name"], json!("nas-1"));
    assert_eq!(doc["bindings"].as_array().unwrap().len(), 3);
    assert_eq!(
        doc["service_types"].as_array().unwrap().len(),
        1,
        "only custom types"
    );
    assert!(doc.get("changes").is_none(), "history only when asked");
    assert!(!first.contains(SECRET), "no webhook secret");
    assert!(
        doc.get("api_keys").is_none() && !first.contains("key_hash"),
        "no API keys"
    );

    let target = spawn_app();
    let r = import(&target, &first, "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["dry_run"], json!(false));
    assert_eq!(r.data()["created"]["bindings"], json!(3));
    assert_eq!(r.data()["organization_id"], doc["organization_id"]);
    assert_eq!(target.count("hosts"), 1);
    assert_eq!(without_time(&export(&target, "")), without_time(&first));
    // The imported objects are served as the source served them.
    let host = doc["hosts"][0]["id"].as_str().unwrap();
    let path = format!("/api/v1/hosts/{host}");
    assert_eq!(target.get(&path).body, source.get(&path).body);
}

#[test]
fn history_comes_along_when_asked() {
    let source = spawn_app();
    lab(&source);
    let document = export(&source, "?with_history=true");
    let doc: Value = serde_json::from_str(&document).unwrap();
    let versions = doc["host_versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1, "the name before the rename");
    assert_eq!(versions[0]["name"], json!("nas"));
    assert!(doc["changes"].as_array().unwrap().len() > 10);
    let target = spawn_app();
    let r = import(&target, &document, "");
    assert_eq!(r.status, 200, "{}", r.body);
    let host = doc["hosts"][0]["id"].as_str().unwrap();
    let history = target.get(&format!("/api/v1/hosts/{host}/history"));
    assert_eq!(history.status, 200, "{}", history.body);
    assert_eq!(history.data().as_array().unwrap().len(), 2);
}

/// Applies `change` to a good document; the import must refuse it at `field` and write nothing.
fn refused(change: impl FnOnce(&mut Value), status: u16, code: &str, field: &str) {
    let source = spawn_app();
    lab(&source);
    let mut doc: Value = serde_json::from_str(&export(&source, "")).unwrap();
    change(&mut doc);
    let target = spawn_app();
    let before = target.snapshot();
    let r = import(&target, &doc.to_string(), "");
    assert_error(&r, status, code, Some(field));
    assert_eq!(target.snapshot(), before, "nothing imported");
}

#[test]
fn a_broken_reference_imports_nothing_and_names_its_path() {
    refused(
        |doc| doc["ports"][1]["host_id"] = json!("0193a4c6-0000-7000-8000-000000000000"),
        400,
        "VALIDATION_ERROR",
        "ports[1].host_id",
    );
}

#[test]
fn a_binding_that_breaks_a_rule_imports_nothing_and_names_its_path() {
    // A second service takes the port the first one owns.
    refused(
        |doc| {
            let taken = doc["bindings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["ip_address_id"].is_null())
                .unwrap()
                .clone();
            let other = doc["services"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] != taken["service_id"])
                .unwrap()["id"]
                .clone();
            let mut thief = taken;
            thief["id"] = json!("0193a4c6-0000-7000-8000-0000000000bb");
            thief["service_id"] = other;
            doc["bindings"].as_array_mut().unwrap().push(thief);
        },
        409,
        "CONFLICT",
        "bindings[3]",
    );
}

#[test]
fn a_duplicate_name_imports_nothing_and_names_its_path() {
    refused(
        |doc| {
            let tags = doc["tags"].as_array_mut().unwrap();
            let mut twin = tags[0].clone();
            twin["id"] = json!("0193a4c6-0000-7000-8000-0000000000cc");
            tags.push(twin);
        },
        409,
        "CONFLICT",
        "tags[1].name",
    );
}

#[test]
fn a_newer_format_and_bad_values_are_refused_before_anything_is_written() {
    refused(
        |doc| doc["version"] = json!(2),
        400,
        "VALIDATION_ERROR",
        "version",
    );
    refused(
        |doc| doc["ports"][0]["number"] = json!("eighty"),
        400,
        "VALIDATION_ERROR",
        "ports[0].number",
    );
    refused(
        |doc| doc["ip_addresses"][0]["ip_address"] = json!("10.0.9.5"),
        400,
        "VALIDATION_ERROR",
        "ip_addresses[0].subnet_id",
    );
    refused(
        |doc| doc["hosts"][0]["colour"] = json!("blue"),
        400,
        "VALIDATION_ERROR",
        "hosts[0].colour",
    );
}

#[test]
fn a_dry_run_reports_and_writes_nothing() {
    let source = spawn_app();
    lab(&source);
    let document = export(&source, "");
    let target = spawn_app();
    let before = target.snapshot();
    let r = import(&target, &document, "?dry_run=true");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["dry_run"], json!(true));
    assert_eq!(r.data()["created"]["hosts"], json!(1));
    assert_eq!(r.data()["created"]["services"], json!(2));
    assert_eq!(target.snapshot(), before);
    // Importing the same document twice: every id is taken the second time.
    assert_eq!(import(&target, &document, "").status, 200);
    let again = import(&target, &document, "");
    assert_error(&again, 409, "CONFLICT", Some("tags[0].name"));
}

#[test]
fn only_an_owner_of_every_network_exports_and_imports() {
    let app = spawn_app();
    lab(&app);
    let document = export(&app, "");
    let admin = app.key_with("Admin", &[]);
    let r = app.call("GET", "/api/v1/export", &admin, None);
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let r = app.raw(
        "POST",
        "/api/v1/import",
        Some(&admin),
        Some(("application/json", document.as_bytes())),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let net = app.get("/api/v1/networks").data()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let scoped = app.key_with("Owner", &[&net]);
    let r = app.call("GET", "/api/v1/export", &scoped, None);
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    assert_eq!(app.count("hosts"), 1, "nothing imported");
    assert_eq!(app.count("networks"), 1);
}

#[test]
fn the_command_line_exports_and_imports_the_same_document() {
    let source = spawn_app();
    lab(&source);
    let bin = env!("CARGO_BIN_EXE_portolan");
    let out = source.dir.path().join("lab.json");
    let status = Command::new(bin)
        .args(["--data-dir"])
        .arg(source.dir.path())
        .args(["export", "--output"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(without_time(&written), without_time(&export(&source, "")));

    let target = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        Command::new(bin)
            .arg("--data-dir")
            .arg(target.path())
            .arg("import")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let dry = run(&["--dry-run"]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(report["dry_run"], json!(true));
    let done = run(&[]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let again = run(&[]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("tags[0].name"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

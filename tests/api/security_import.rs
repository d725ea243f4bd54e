//! An import is an API write like any other: each hostile value an API write would refuse is
//! refused in a document too, with its row's path and nothing imported; journal entries that
//! come with a document are marked, and the import itself is journaled.

use serde_json::{json, Value};

use crate::full_export::{export, import, lab};
use crate::helpers::{assert_error, spawn_app};

/// Applies `change` to a good document with history; the import must refuse it at `field`.
fn refused(doc: &Value, change: impl FnOnce(&mut Value), field: &str) {
    let mut doc = doc.clone();
    change(&mut doc);
    let target = spawn_app();
    let before = target.snapshot();
    let r = import(&target, &doc.to_string(), "");
    assert_error(&r, 400, "VALIDATION_ERROR", Some(field));
    assert_eq!(target.snapshot(), before, "nothing imported for {field}");
}

fn row<'a>(doc: &'a mut Value, section: &str, i: usize) -> &'a mut Value {
    &mut doc[section][i]
}

#[test]
fn hostile_values_are_refused_with_their_path() {
    let source = spawn_app();
    lab(&source);
    let doc: Value = serde_json::from_str(&export(&source, "?with_history=true")).unwrap();
    let key_id = source.get("/api/v1/auth/me").data()["id"]
        .as_str()
        .unwrap_or("0193a4c6-0000-7000-8000-000000000001")
        .to_string();

    refused(
        &doc,
        |d| row(d, "tags", 0)["color"] = json!("Blue\"><script>alert(1)</script>"),
        "tags[0].color",
    );
    refused(
        &doc,
        |d| row(d, "dependencies", 0)["color"] = json!("red' onload='alert(1)"),
        "dependencies[0].color",
    );
    refused(
        &doc,
        |d| {
            // Every reference to the host follows, so only the id's form is wrong.
            let text = d.to_string();
            let old = d["hosts"][0]["id"].as_str().unwrap().to_string();
            *d = serde_json::from_str(&text.replace(&old, &format!("../auth/keys/{key_id}")))
                .unwrap();
        },
        "hosts[0].id",
    );
    refused(
        &doc,
        |d| row(d, "hosts", 0)["name"] = json!("nas\u{0}"),
        "hosts[0].name",
    );
    refused(
        &doc,
        |d| row(d, "networks", 0)["name"] = json!("home\nlab"),
        "networks[0].name",
    );
    refused(
        &doc,
        |d| row(d, "hosts", 0)["hostname"] = json!("nas.lan\r\nX-Injected: 1"),
        "hosts[0].hostname",
    );
    refused(
        &doc,
        |d| row(d, "webhooks", 0)["url"] = json!("javascript:alert(1)"),
        "webhooks[0].url",
    );
    refused(
        &doc,
        |d| row(d, "webhooks", 0)["url"] = json!("http://169.254.169.254/latest"),
        "webhooks[0].url",
    );
    refused(
        &doc,
        |d| row(d, "subnets", 0)["subnet_type"] = json!("<b>Lan</b>"),
        "subnets[0].subnet_type",
    );
    refused(
        &doc,
        |d| row(d, "changes", 0)["time"] = json!("yesterday"),
        "changes[0].time",
    );
    refused(
        &doc,
        |d| row(d, "changes", 0)["entity_type"] = json!("root"),
        "changes[0].entity_type",
    );
    refused(
        &doc,
        |d| row(d, "changes", 0)["entity_id"] = json!("../../etc"),
        "changes[0].entity_id",
    );
    refused(
        &doc,
        |d| {
            row(d, "service_templates", 0)["exposed_ports"] =
                json!([{"hostPort": 1, "containerPort": 1, "protocol": "tcp"}])
        },
        "service_templates[0].exposed_ports",
    );
    refused(
        &doc,
        |d| {
            row(d, "service_templates", 0)["compose_template"] =
                json!("services:\n  w:\n    ports:\n      - \"1-65535:1-65535\"\n")
        },
        "service_templates[0].compose_template",
    );
}

#[test]
fn imported_journal_entries_are_marked_and_the_import_is_journaled() {
    let source = spawn_app();
    lab(&source);
    let document = export(&source, "?with_history=true");
    let doc: Value = serde_json::from_str(&document).unwrap();
    let target = spawn_app();
    let r = import(&target, &document, "");
    assert_eq!(r.status, 200, "{}", r.body);
    let journal = target.get("/api/v1/changes?limit=1000");
    let entries = journal.data().as_array().unwrap();
    let imported: Vec<&Value> = entries
        .iter()
        .filter(|e| e["imported"] == json!(true))
        .collect();
    let document_entries = doc["changes"].as_array().unwrap();
    // The target's own journal had the first key's creation, which the Owner sees too.
    assert_eq!(imported.len(), document_entries.len(), "{}", journal.body);
    let own: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == json!("import"))
        .collect();
    assert_eq!(own.len(), 1, "{}", journal.body);
    assert_eq!(own[0]["entity_type"], json!("inventory"));
    assert_eq!(own[0]["actor"]["type"], json!("api_key"));
    assert_eq!(own[0]["after"]["created"]["hosts"], json!(1));
    assert!(own[0].get("imported").is_none(), "{}", own[0]);
    // The newest entry is the import's.
    assert_eq!(entries[0]["action"], json!("import"));
    let filtered = target.get("/api/v1/changes?action=import");
    assert_eq!(filtered.data().as_array().unwrap().len(), 1);
}

//! Tags as the 0.17 clients use them: `is_application`, a delete that takes an assigned tag off
//! every object (journaled and versioned), and the kinds that can or cannot carry tags.

use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn is_application_and_description_are_kept() {
    let app = spawn_app();
    let r = app.post(
        "/api/v1/tags",
        json!({"name": "media", "color": "Red", "is_application": true, "description": "the media stack"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["is_application"], json!(true));
    let id = r.id();
    let plain = app.post("/api/v1/tags", json!({"name": "plain"}));
    assert_eq!(plain.data()["is_application"], json!(false));
    assert_eq!(plain.data()["description"], json!(null));
    let r = app.put(
        &format!("/api/v1/tags/{id}"),
        json!({"name": "media", "color": "Red", "is_application": false, "description": null}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let stored = app.get(&format!("/api/v1/tags/{id}"));
    assert_eq!(stored.data()["is_application"], json!(false));
    assert_eq!(stored.data()["description"], json!(null));
    let bad = app.post(
        "/api/v1/tags",
        json!({"name": "x", "is_application": "yes"}),
    );
    assert_error(&bad, 400, "VALIDATION_ERROR", Some("is_application"));
}

#[test]
fn deleting_an_assigned_tag_takes_it_off_every_object() {
    let app = spawn_app();
    let w = app.world();
    let tag = app.tag("prod");
    for (kind, id) in [
        ("Host", &w.host),
        ("Service", &w.service),
        ("Network", &w.network),
    ] {
        let r = app.put(
            "/api/v1/tags/assign",
            json!({"entity_type": kind, "entity_id": id, "tag_ids": [tag]}),
        );
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
    }
    // A Member deletes tags; the network only loses the tag, though Members do not tag networks.
    let member = app.key_with("Member", &[]);
    let r = app.call("DELETE", &format!("/api/v1/tags/{tag}"), &member, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get(&format!("/api/v1/tags/{tag}")).status, 404);
    for path in [
        format!("/api/v1/hosts/{}", w.host),
        format!("/api/v1/services/{}", w.service),
        format!("/api/v1/networks/{}", w.network),
    ] {
        assert_eq!(app.get(&path).data()["tags"], json!([]), "{path}");
    }
    for table in ["host_tags", "service_tags", "network_tags"] {
        assert_eq!(app.count(table), 0, "{table}");
    }
    // Each object's change is journaled under the delete's request, and versioned.
    let request = r.header("x-request-id").unwrap().to_string();
    let journal = app.get(&format!("/api/v1/changes?request_id={request}"));
    let mut kinds: Vec<String> = journal
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}.{}",
                e["entity_type"].as_str().unwrap(),
                e["action"].as_str().unwrap()
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "host.update",
            "network.update",
            "service.update",
            "tag.delete"
        ]
    );
    let versions = app.get(&format!("/api/v1/hosts/{}/history", w.host));
    assert!(
        versions
            .data()
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["tags"] == json!([tag])),
        "{}",
        versions.body
    );
}

#[test]
fn kinds_without_tags_are_told_apart_from_unknown_ones() {
    let app = spawn_app();
    let w = app.world();
    let tag = app.tag("prod");
    let before = app.snapshot();
    for kind in ["Credential", "DaemonApiKey"] {
        let r = app.put(
            "/api/v1/tags/assign",
            json!({"entity_type": kind, "entity_id": w.host, "tag_ids": [tag]}),
        );
        assert_error(&r, 400, "VALIDATION_ERROR", Some("entity_type"));
        assert_eq!(
            r.body["message"],
            json!(format!("Entity type {kind} does not support tagging"))
        );
    }
    let r = app.post(
        "/api/v1/tags/assign/bulk-add",
        json!({"entity_type": "Spaceship", "entity_ids": [w.host], "tag_id": tag}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("entity_type"));
    assert!(
        r.body["message"].as_str().unwrap().contains("Dependency"),
        "{}",
        r.body
    );
    let missing = app.put(
        "/api/v1/tags/assign",
        json!({"entity_type": "Host", "entity_id": "0193a4c6-0000-7000-8000-000000000000", "tag_ids": [tag]}),
    );
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_same(&before, &app.snapshot());
    // Dependencies carry tags too.
    let other = app.service(&w.host, "other", json!([]));
    let d = app.post(
        "/api/v1/dependencies",
        json!({"network_id": w.network, "name": "path", "dependency_type": "RequestPath",
               "members": [{"service_id": w.service}, {"service_id": other.id()}]}),
    );
    let r = app.put(
        "/api/v1/tags/assign",
        json!({"entity_type": "Dependency", "entity_id": d.id(), "tag_ids": [tag]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.get(&format!("/api/v1/dependencies/{}", d.id())).data()["tags"],
        json!([tag])
    );
}

#[test]
fn api_keys_and_discoveries_carry_tags_set_by_admins() {
    let app = spawn_app();
    let net = app.network("lab");
    let tag = app.tag("ci");
    let r = app.post(
        "/api/v1/auth/keys",
        json!({"name": "ci", "permissions": "Member"}),
    );
    let key_id = r.data()["api_key"]["id"].as_str().unwrap().to_string();
    assert_eq!(r.data()["api_key"]["tags"], json!([]));
    let discovery = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "observations", "observations": []}),
    );
    assert_eq!(discovery.status, 201, "{}", discovery.body);
    let discovery = discovery.id();
    let member = app.key_with("Member", &[]);
    let before = app.snapshot();
    let r = app.call(
        "PUT",
        "/api/v1/tags/assign",
        &member,
        Some(&json!({"entity_type": "UserApiKey", "entity_id": key_id, "tag_ids": [tag]})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    assert_same(&before, &app.snapshot());
    for (kind, id) in [("UserApiKey", &key_id), ("Discovery", &discovery)] {
        let r = app.put(
            "/api/v1/tags/assign",
            json!({"entity_type": kind, "entity_id": id, "tag_ids": [tag]}),
        );
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
        assert_eq!(r.data()["tag_ids"], json!([tag]));
    }
    assert_eq!(
        app.get(&format!("/api/v1/auth/keys/{key_id}")).data()["tags"],
        json!([tag])
    );
    assert_eq!(
        app.get(&format!("/api/v1/discoveries/{discovery}")).data()["tags"],
        json!([tag])
    );
    let journal = app.get("/api/v1/changes?entity_type=discovery");
    assert_eq!(
        journal.data()[0]["after"]["tags"],
        json!([tag]),
        "{}",
        journal.body
    );
    // A key read and sent back whole, tags included, is accepted.
    let mut whole = app
        .get(&format!("/api/v1/auth/keys/{key_id}"))
        .data()
        .clone();
    whole["name"] = json!("ci renamed");
    let r = app.put(&format!("/api/v1/auth/keys/{key_id}"), whole);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["tags"], json!([tag]));
    // Deleting the tag takes it off both.
    assert_eq!(app.delete(&format!("/api/v1/tags/{tag}")).status, 200);
    assert_eq!(app.count("api_key_tags") + app.count("discovery_tags"), 0);
}

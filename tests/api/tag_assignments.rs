//! Tags on many objects (`/tags/assign/bulk-add`, `bulk-remove`) and all tags of one object
//! (`PUT /tags/assign`).

use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_same, spawn_app, TestApp};

fn tags_of(app: &TestApp, path: &str) -> Value {
    app.get(path).data()["tags"].clone()
}

#[test]
fn bulk_add_and_remove_on_hosts_and_services_count_what_changed() {
    let app = spawn_app();
    let w = app.world();
    let other = app.host(&w.network, "db");
    let prod = app.tag("prod");
    let host = |id: &str| format!("/api/v1/hosts/{id}");

    let r = app.post(
        "/api/v1/tags/assign/bulk-add",
        json!({"entity_type": "Host", "entity_ids": [w.host], "tag_id": prod}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data(), &json!({"affected_count": 1}));
    let r = app.post(
        "/api/v1/tags/assign/bulk-add",
        json!({"entity_type": "Host", "entity_ids": [w.host, other], "tag_id": prod}),
    );
    assert_eq!(
        r.data(),
        &json!({"affected_count": 1}),
        "the tagged one is skipped"
    );
    assert_eq!(tags_of(&app, &host(&w.host)), json!([prod]));
    assert_eq!(tags_of(&app, &host(&other)), json!([prod]));
    let journal = app.get(&format!("/api/v1/changes?entity_id={other}&action=update"));
    assert_eq!(
        journal.data().as_array().unwrap().len(),
        1,
        "{}",
        journal.body
    );

    let service = format!("/api/v1/services/{}", w.service);
    let r = app.post(
        "/api/v1/tags/assign/bulk-add",
        json!({"entity_type": "Service", "entity_ids": [w.service], "tag_id": prod}),
    );
    assert_eq!(r.data()["affected_count"], json!(1));
    assert_eq!(tags_of(&app, &service), json!([prod]));
    let r = app.post(
        "/api/v1/tags/assign/bulk-remove",
        json!({"entity_type": "Service", "entity_ids": [w.service], "tag_id": prod}),
    );
    assert_eq!(r.data()["affected_count"], json!(1));
    assert_eq!(tags_of(&app, &service), json!([]));
    let r = app.post(
        "/api/v1/tags/assign/bulk-remove",
        json!({"entity_type": "Host", "entity_ids": [w.host, other], "tag_id": prod}),
    );
    assert_eq!(r.data()["affected_count"], json!(2));
    assert_eq!(tags_of(&app, &host(&other)), json!([]));
}

#[test]
fn assign_replaces_the_tags_of_one_object_of_any_kind() {
    let app = spawn_app();
    let w = app.world();
    let subnet = app.subnet(&w.network, "10.0.0.0/24");
    let [a, b, c] = [app.tag("a"), app.tag("b"), app.tag("c")];
    for (kind, id, path) in [
        (
            "Network",
            &w.network,
            format!("/api/v1/networks/{}", w.network),
        ),
        ("Subnet", &subnet, format!("/api/v1/subnets/{subnet}")),
        ("Host", &w.host, format!("/api/v1/hosts/{}", w.host)),
        (
            "Service",
            &w.service,
            format!("/api/v1/services/{}", w.service),
        ),
    ] {
        let set = |tags: Value| {
            app.put(
                "/api/v1/tags/assign",
                json!({"entity_type": kind, "entity_id": id, "tag_ids": tags}),
            )
        };
        let r = set(json!([b, a]));
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
        assert_eq!(r.data()["tag_ids"], json!([b, a]));
        assert_eq!(tags_of(&app, &path), json!([b, a]), "{kind}");
        assert_eq!(set(json!([c])).status, 200);
        assert_eq!(tags_of(&app, &path), json!([c]), "{kind}");
    }
}

#[test]
fn unknown_tags_or_objects_are_404_and_change_nothing() {
    let app = spawn_app();
    let w = app.world();
    let prod = app.tag("prod");
    let before = app.snapshot();
    let missing = "0190a000-0000-7000-8000-0000000000aa";
    let r = app.post(
        "/api/v1/tags/assign/bulk-add",
        json!({"entity_type": "Host", "entity_ids": [w.host], "tag_id": missing}),
    );
    assert_error(&r, 404, "NOT_FOUND", Some("tag_id"));
    let r = app.post(
        "/api/v1/tags/assign/bulk-add",
        json!({"entity_type": "Host", "entity_ids": [w.host, missing], "tag_id": prod}),
    );
    assert_error(&r, 404, "NOT_FOUND", Some("entity_ids[1]"));
    let r = app.put(
        "/api/v1/tags/assign",
        json!({"entity_type": "Service", "entity_id": w.service, "tag_ids": [prod, missing]}),
    );
    assert_error(&r, 404, "NOT_FOUND", Some("tag_ids[1]"));
    let r = app.post(
        "/api/v1/tags/assign/bulk-add",
        json!({"entity_type": "Gadget", "entity_ids": [w.host], "tag_id": prod}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("entity_type"));
    assert_same(&before, &app.snapshot());

    // `assign` is a route of its own, never a tag id.
    let r = app.put("/api/v1/tags/assign", json!({"name": "x"}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("name"));
}

#[test]
fn a_scoped_key_tags_only_inside_its_networks() {
    let app = spawn_app();
    let w = app.world();
    let mine = app.network("mine");
    let my_host = app.host(&mine, "h");
    let prod = app.tag("prod");
    let key = app.key_with("Member", &[&mine]);
    let before = app.snapshot();
    let r = app.call(
        "POST",
        "/api/v1/tags/assign/bulk-add",
        &key,
        Some(&json!({"entity_type": "Host", "entity_ids": [my_host, w.host], "tag_id": prod})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call(
        "PUT",
        "/api/v1/tags/assign",
        &key,
        Some(&json!({"entity_type": "Network", "entity_id": mine, "tag_ids": [prod]})),
    );
    // Networks are written by Admins, and so are their tags.
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    assert_same(&before, &app.snapshot());

    let r = app.call(
        "POST",
        "/api/v1/tags/assign/bulk-add",
        &key,
        Some(&json!({"entity_type": "Host", "entity_ids": [my_host], "tag_id": prod})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let viewer = app.key_with("Viewer", &[]);
    let r = app.call(
        "POST",
        "/api/v1/tags/assign/bulk-remove",
        &viewer,
        Some(&json!({"entity_type": "Host", "entity_ids": [my_host], "tag_id": prod})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
}

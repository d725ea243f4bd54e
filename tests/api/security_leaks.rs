//! Nothing of another network, and nothing only Admins manage, reaches a key that may not see
//! it; an Admin cannot take over another Admin's key.

use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn only_admins_read_the_journal_of_webhooks_and_keys() {
    let app = spawn_app();
    let r = app.post(
        "/api/v1/webhooks",
        json!({"name": "ntfy", "url": "http://127.0.0.1:9/topic?token=s3cr3t-token"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    app.key_with("Member", &[]);
    for role in ["Viewer", "Member"] {
        let key = app.key_with(role, &[]);
        for query in ["?entity_type=webhook", "?entity_type=api_key", ""] {
            let r = app.call("GET", &format!("/api/v1/changes{query}"), &key, None);
            assert_eq!(r.status, 200, "{}", r.body);
            let text = r.body.to_string();
            assert!(!text.contains("s3cr3t-token"), "{role} {query}: {text}");
            for entry in r.data().as_array().unwrap() {
                assert!(
                    !matches!(entry["entity_type"].as_str(), Some("webhook" | "api_key")),
                    "{role} sees {entry}"
                );
            }
        }
    }
    let admin = app.key_with("Admin", &[]);
    let r = app.call("GET", "/api/v1/changes?entity_type=webhook", &admin, None);
    assert_eq!(r.data().as_array().unwrap().len(), 1, "{}", r.body);
}

#[test]
fn a_move_between_networks_shows_each_key_only_its_side() {
    let app = spawn_app();
    let old = app.network("old-net");
    let new = app.network("new-net");
    let host = app.host(&old, "secret-name");
    let r = app.put(
        &format!("/api/v1/hosts/{host}"),
        json!({"network_id": new, "name": "public-name"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let new_key = app.key_with("Viewer", &[&new]);
    let r = app.call(
        "GET",
        &format!("/api/v1/changes?entity_id={host}"),
        &new_key,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let entries = r.data().as_array().unwrap();
    let update = entries
        .iter()
        .find(|e| e["action"] == json!("update"))
        .unwrap_or_else(|| panic!("{}", r.body));
    assert_eq!(update["before"], json!(null), "{update}");
    assert_eq!(update["after"]["name"], json!("public-name"));
    assert!(!r.body.to_string().contains("secret-name"), "{}", r.body);
    assert!(!r.body.to_string().contains(&old), "{}", r.body);
    // An unscoped key still sees both sides.
    let all = app.get(&format!("/api/v1/changes?entity_id={host}&action=update"));
    assert_eq!(all.data()[0]["before"]["name"], json!("secret-name"));
}

#[test]
fn refusals_name_nothing_of_the_other_network() {
    let app = spawn_app();
    let mine = app.network("mine");
    let theirs = app.network("theirs-private");
    let their_host = app.host(&theirs, "their-host");
    let their_subnet = app.subnet(&theirs, "10.66.0.0/24");
    let my_host = app.host(&mine, "my-host");
    let key = app.key_with("Member", &[&mine]);
    let before = app.snapshot();
    let attempts = [
        app.call("GET", &format!("/api/v1/hosts/{their_host}"), &key, None),
        app.call(
            "PUT",
            &format!("/api/v1/hosts/{their_host}"),
            &key,
            Some(&json!({"name": "x"})),
        ),
        app.call(
            "POST",
            "/api/v1/ports",
            &key,
            Some(&json!({"host_id": their_host, "number": 22, "protocol": "Tcp"})),
        ),
        app.call(
            "POST",
            "/api/v1/ip-addresses",
            &key,
            Some(
                &json!({"host_id": my_host, "subnet_id": their_subnet, "ip_address": "10.66.0.5"}),
            ),
        ),
    ];
    for r in attempts {
        assert!(
            matches!(r.status, 400 | 403 | 404),
            "{}: {}",
            r.status,
            r.body
        );
        let text = r.body.to_string();
        for secret in [
            &theirs,
            &their_subnet,
            "10.66.0.0/24",
            "theirs-private",
            "their-host",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert_same(&before, &app.snapshot());
}

#[test]
fn metrics_need_a_key_of_every_network() {
    let app = spawn_app();
    let net = app.network("lab");
    let scoped = app.key_with("Viewer", &[&net]);
    let r = app.call("GET", "/metrics", &scoped, None);
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let viewer = app.key_with("Viewer", &[]);
    assert_eq!(app.call("GET", "/metrics", &viewer, None).status, 200);
}

#[test]
fn an_admin_rotates_its_own_key_and_those_below_it_only() {
    let app = spawn_app();
    let make = |role: &str, name: &str| {
        let r = app.post(
            "/api/v1/auth/keys",
            json!({"name": name, "permissions": role}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        (
            r.data()["api_key"]["id"].as_str().unwrap().to_string(),
            r.data()["key"].as_str().unwrap().to_string(),
        )
    };
    let (me_id, me) = make("Admin", "me");
    let (peer_id, peer) = make("Admin", "peer");
    let (member_id, _) = make("Member", "member");
    let owner_id = app.get("/api/v1/auth/me").data()["id"]
        .as_str()
        .map(str::to_string);
    let before = app.snapshot();
    let rotate = |id: &str, key: &str| {
        app.call(
            "POST",
            &format!("/api/v1/auth/keys/{id}/rotate"),
            key,
            Some(&json!({})),
        )
    };
    assert_error(&rotate(&peer_id, &me), 403, "FORBIDDEN_ROLE", None);
    if let Some(owner_id) = owner_id {
        assert_error(&rotate(&owner_id, &me), 403, "FORBIDDEN_ROLE", None);
    }
    assert_same(&before, &app.snapshot());
    assert_eq!(app.call("GET", "/api/v1/networks", &peer, None).status, 200);
    assert_eq!(rotate(&member_id, &me).status, 200);
    let mine = rotate(&me_id, &me);
    assert_eq!(mine.status, 200, "{}", mine.body);
    // An Owner rotates any key.
    assert_eq!(rotate(&peer_id, &app.key).status, 200);
}

#[test]
fn members_do_not_tag_networks() {
    let app = spawn_app();
    let net = app.network("lab");
    let tag = app.tag("prod");
    let member = app.key_with("Member", &[]);
    let before = app.snapshot();
    for (method, path, body) in [
        (
            "PUT",
            "/api/v1/tags/assign",
            json!({"entity_type": "Network", "entity_id": net, "tag_ids": [tag]}),
        ),
        (
            "POST",
            "/api/v1/tags/assign/bulk-add",
            json!({"entity_type": "Network", "entity_ids": [net], "tag_id": tag}),
        ),
    ] {
        let r = app.call(method, path, &member, Some(&body));
        assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    }
    assert_same(&before, &app.snapshot());
    let admin = app.key_with("Admin", &[]);
    let r = app.call(
        "PUT",
        "/api/v1/tags/assign",
        &admin,
        Some(&json!({"entity_type": "Network", "entity_id": net, "tag_ids": [tag]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

//! Keys owned by people: a key made by a signed-in person is theirs (`owner_user_id`), never
//! above their role or wider than their networks, even after they are given less; it stops when
//! they are disabled and goes (journaled) when they are deleted; its journal entries name the
//! person as `actor.user`. Below Admin, a person manages only their own keys.

use serde_json::{json, Value};

use crate::accounts::{sign_in, Person};
use crate::helpers::{assert_error, spawn_app, TestApp};

const PASSWORD: &str = "correct horse battery";

fn person(app: &TestApp, username: &str, role: &str, networks: &[&str]) -> Person {
    let r = app.post(
        "/api/v1/users",
        json!({"username": username, "password": PASSWORD, "role": role, "network_ids": networks}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let signed_in = sign_in(app, username, PASSWORD);
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    Person::from(&signed_in)
}

fn keys_in_db(app: &TestApp) -> Vec<(String, Option<String>)> {
    let db = app.db();
    let mut stmt = db
        .prepare("SELECT name, owner_user_id FROM api_keys ORDER BY created_at, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_persons_key_is_theirs_never_does_more_and_stops_with_them() {
    let app = spawn_app();
    let lab = app.network("lab");
    let mia = person(&app, "mia", "Member", &[]);
    let mia_id = mia.user["id"].as_str().unwrap().to_string();

    // Her key is hers; one above her role is refused and nothing is written.
    let made = mia.call(
        &app,
        "POST",
        "/api/v1/auth/keys",
        Some(&json!({"name": "mia-script", "permissions": "Member"})),
        true,
    );
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.data()["api_key"]["owner_user_id"], json!(mia_id));
    let key = made.data()["key"].as_str().unwrap().to_string();
    let key_id = made.data()["api_key"]["id"].as_str().unwrap().to_string();
    let above = mia.call(
        &app,
        "POST",
        "/api/v1/auth/keys",
        Some(&json!({"name": "mia-admin", "permissions": "Admin"})),
        true,
    );
    assert_error(&above, 403, "FORBIDDEN_ROLE", None);
    assert_eq!(
        keys_in_db(&app),
        vec![
            ("initial-admin".to_string(), None),
            ("mia-script".to_string(), Some(mia_id.clone()))
        ]
    );

    // She sees and manages her own keys only.
    let listed = mia.call(&app, "GET", "/api/v1/auth/keys", None, false);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let names: Vec<&str> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["mia-script"]);
    let admin_key = app
        .get("/api/v1/auth/keys")
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "initial-admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = mia.call(
        &app,
        "GET",
        &format!("/api/v1/auth/keys/{admin_key}"),
        None,
        false,
    );
    assert_error(&other, 403, "FORBIDDEN_ROLE", None);
    let gone = mia.call(
        &app,
        "DELETE",
        &format!("/api/v1/auth/keys/{admin_key}"),
        None,
        true,
    );
    assert_error(&gone, 403, "FORBIDDEN_ROLE", None);
    assert_eq!(keys_in_db(&app).len(), 2);

    // Her key's writes name her in the journal.
    let host = app.call(
        "POST",
        "/api/v1/hosts",
        &key,
        Some(&json!({"name": "nas", "network_id": lab})),
    );
    assert_eq!(host.status, 201, "{}", host.body);
    let entry = &app
        .get(&format!("/api/v1/changes?entity_id={}", host.id()))
        .data()[0]
        .clone();
    assert_eq!(
        entry["actor"],
        json!({"type": "api_key", "id": key_id, "name": "mia-script",
               "user": {"id": mia_id, "name": "mia"}})
    );
    // The initial key has no owner, and its entries no `user`.
    let plain = app.post(
        "/api/v1/hosts",
        json!({"name": "router", "network_id": lab}),
    );
    let entry = app
        .get(&format!("/api/v1/changes?entity_id={}", plain.id()))
        .data()[0]
        .clone();
    assert!(entry["actor"].get("user").is_none(), "{entry}");

    // A key her key makes is hers too, and does not outlive her account.
    let child = app.call(
        "POST",
        "/api/v1/auth/keys",
        &key,
        Some(&json!({"name": "mia-child", "permissions": "Viewer"})),
    );
    // Below Admin, a key (not a session) makes no keys at all.
    assert_error(&child, 403, "FORBIDDEN_ROLE", None);

    // Given less, her key does less: a Viewer's key writes nothing, whatever it says.
    let demoted = app.put(
        &format!("/api/v1/users/{mia_id}"),
        json!({"username": "mia", "role": "Viewer", "network_ids": [], "enabled": true}),
    );
    assert_eq!(demoted.status, 200, "{}", demoted.body);
    let refused = app.call(
        "POST",
        "/api/v1/hosts",
        &key,
        Some(&json!({"name": "printer", "network_id": lab})),
    );
    assert_error(&refused, 403, "FORBIDDEN_ROLE", None);
    assert_eq!(app.call("GET", "/api/v1/hosts", &key, None).status, 200);

    // Disabled, her key stops at once; deleted, it goes with her, journaled.
    let disabled = app.put(
        &format!("/api/v1/users/{mia_id}"),
        json!({"username": "mia", "role": "Viewer", "network_ids": [], "enabled": false}),
    );
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    let stopped = app.call("GET", "/api/v1/hosts", &key, None);
    assert_error(&stopped, 401, "UNAUTHORIZED", None);
    assert_eq!(app.delete(&format!("/api/v1/users/{mia_id}")).status, 200);
    assert_eq!(keys_in_db(&app), vec![("initial-admin".to_string(), None)]);
    let entries = app.get(&format!("/api/v1/changes?entity_id={key_id}"));
    let actions: Vec<&Value> = entries
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["action"])
        .collect();
    assert!(actions.contains(&&json!("delete")), "{actions:?}");
}

#[test]
fn a_key_made_by_a_persons_key_is_theirs_and_stops_with_them() {
    let app = spawn_app();
    // Two Owners, so that one of them can be disabled.
    let ada = person(&app, "ada", "Owner", &[]);
    person(&app, "own", "Owner", &[]);
    let ada_id = ada.user["id"].as_str().unwrap().to_string();
    let made = ada.call(
        &app,
        "POST",
        "/api/v1/auth/keys",
        Some(&json!({"name": "ada-automation", "permissions": "Admin"})),
        true,
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let admin_key = made.data()["key"].as_str().unwrap().to_string();
    let child = app.call(
        "POST",
        "/api/v1/auth/keys",
        &admin_key,
        Some(&json!({"name": "made-by-ada-key", "permissions": "Viewer"})),
    );
    assert_eq!(child.status, 201, "{}", child.body);
    assert_eq!(child.data()["api_key"]["owner_user_id"], json!(ada_id));
    let child_key = child.data()["key"].as_str().unwrap().to_string();
    assert_eq!(
        app.call("GET", "/api/v1/hosts", &child_key, None).status,
        200
    );
    let disabled = app.put(
        &format!("/api/v1/users/{ada_id}"),
        json!({"username": "ada", "role": "Owner", "network_ids": [], "enabled": false}),
    );
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    for key in [&admin_key, &child_key] {
        let stopped = app.call("GET", "/api/v1/hosts", key, None);
        assert_error(&stopped, 401, "UNAUTHORIZED", None);
    }
}

#[test]
fn a_scoped_persons_key_stays_inside_their_networks() {
    let app = spawn_app();
    let lab = app.network("lab");
    let home = app.network("home");
    let kim = person(&app, "kim", "Admin", &[&lab]);
    let kim_id = kim.user["id"].as_str().unwrap().to_string();

    // A key reaching every network, or another network, is wider than kim: refused.
    for networks in [json!([]), json!([home])] {
        let r = kim.call(
            &app,
            "POST",
            "/api/v1/auth/keys",
            Some(&json!({"name": "wide", "permissions": "Viewer", "network_ids": networks})),
            true,
        );
        assert_error(&r, 403, "FORBIDDEN_SCOPE", Some("network_ids"));
    }
    let made = kim.call(
        &app,
        "POST",
        "/api/v1/auth/keys",
        Some(&json!({"name": "lab-reader", "permissions": "Viewer", "network_ids": [lab]})),
        true,
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let key = made.data()["key"].as_str().unwrap().to_string();
    app.host(&home, "elsewhere");
    app.host(&lab, "inside");

    // Moved to the other network, kim's key reaches what the two have in common: nothing.
    let moved = app.put(
        &format!("/api/v1/users/{kim_id}"),
        json!({"username": "kim", "role": "Admin", "network_ids": [home], "enabled": true}),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    let r = app.call("GET", "/api/v1/hosts", &key, None);
    assert_error(&r, 401, "UNAUTHORIZED", None);

    // Given both networks again, the key reaches its own one only.
    let both = app.put(
        &format!("/api/v1/users/{kim_id}"),
        json!({"username": "kim", "role": "Admin", "network_ids": [lab, home], "enabled": true}),
    );
    assert_eq!(both.status, 200, "{}", both.body);
    let hosts = app.call("GET", "/api/v1/hosts", &key, None);
    assert_eq!(hosts.status, 200, "{}", hosts.body);
    let names: Vec<&str> = hosts
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["inside"]);
}

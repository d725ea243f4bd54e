use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

#[test]
fn create_shows_the_plaintext_once_and_stores_only_its_hash() {
    let app = spawn_app();
    let net = app.network("home");
    let r = app.post(
        "/api/v1/auth/keys",
        json!({"name": "script", "permissions": "Member", "network_ids": [net]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let key = r.data()["key"].as_str().unwrap();
    assert!(key.starts_with("scp_u_") && key.len() == 38);
    let api_key = &r.data()["api_key"];
    assert_eq!(api_key["key"], "**********");
    assert_eq!(api_key["is_enabled"], json!(true));
    assert_eq!(api_key["network_ids"], json!([net]));
    let id = api_key["id"].as_str().unwrap();

    let hash: String = app
        .db()
        .query_row("SELECT key_hash FROM api_keys WHERE id = ?", [id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(hash.len(), 64);
    assert!(!app.snapshot().contains(key), "the plaintext is not stored");

    let got = app.get(&format!("/api/v1/auth/keys/{id}"));
    assert_eq!(got.data()["network_ids"], json!([net]));
    assert_eq!(got.data()["key"], "**********");
    let list = app.get("/api/v1/auth/keys");
    assert_eq!(list.body["meta"]["pagination"]["total_count"], json!(2));
    let listed = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == json!(id))
        .unwrap();
    assert_eq!(listed["network_ids"], json!([net]));

    let used = app.call("GET", "/api/v1/hosts", key, None);
    assert_eq!(used.status, 200);
    let mut last_used = None;
    for _ in 0..50 {
        last_used = app.get(&format!("/api/v1/auth/keys/{id}")).data()["last_used"]
            .as_str()
            .map(str::to_string);
        if last_used.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(last_used.is_some(), "last_used is recorded");

    assert_eq!(app.delete(&format!("/api/v1/auth/keys/{id}")).status, 200);
    assert_error(
        &app.call("GET", "/api/v1/hosts", key, None),
        401,
        "UNAUTHORIZED",
        None,
    );
}

#[test]
fn admins_cannot_mint_admins_and_scoped_keys_cannot_widen() {
    let app = spawn_app();
    let a = app.network("a");
    let b = app.network("b");
    let admin = app.key_with("Admin", &[]);
    let before = app.snapshot();
    let r = app.call(
        "POST",
        "/api/v1/auth/keys",
        &admin,
        Some(&json!({"name": "x", "permissions": "Admin"})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    assert_eq!(r.body["required_role"], json!("Owner"));

    let scoped = {
        let r = app.post(
            "/api/v1/auth/keys",
            json!({"name": "s", "permissions": "Admin", "network_ids": [a]}),
        );
        r.data()["key"].as_str().unwrap().to_string()
    };
    let after_scoped = app.snapshot();
    for networks in [json!([]), json!([b]), json!([a, b])] {
        let r = app.call(
            "POST",
            "/api/v1/auth/keys",
            &scoped,
            Some(&json!({"name": "w", "permissions": "Member", "network_ids": networks})),
        );
        assert_error(&r, 403, "FORBIDDEN_SCOPE", Some("network_ids"));
    }
    assert_same(&after_scoped, &app.snapshot());
    let ok = app.call(
        "POST",
        "/api/v1/auth/keys",
        &scoped,
        Some(&json!({"name": "n", "permissions": "Member", "network_ids": [a]})),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    let _ = before;

    let bad = app.post(
        "/api/v1/auth/keys",
        json!({"name": "x", "permissions": "God"}),
    );
    assert_error(&bad, 400, "VALIDATION_ERROR", Some("permissions"));
    let bad = app.post(
        "/api/v1/auth/keys",
        json!({"name": "x", "network_ids": ["7d4e1f9a-3c2b-4a1d-9e8f-0a1b2c3d4e5f"]}),
    );
    assert_error(&bad, 400, "VALIDATION_ERROR", Some("network_ids[0]"));
    let bad = app.post(
        "/api/v1/auth/keys",
        json!({"name": "x", "expires_at": "tomorrow"}),
    );
    assert_error(&bad, 400, "VALIDATION_ERROR", Some("expires_at"));
}

#[test]
fn the_last_enabled_owner_key_is_protected() {
    let app = spawn_app();
    let keys = app.get("/api/v1/auth/keys");
    let own_id = keys.data()[0]["id"].as_str().unwrap().to_string();
    let before = app.snapshot();
    let r = app.put(
        &format!("/api/v1/auth/keys/{own_id}"),
        json!({"name": "initial-admin", "permissions": "Owner", "is_enabled": false}),
    );
    assert_error(&r, 409, "CONFLICT", None);
    assert_error(
        &app.delete(&format!("/api/v1/auth/keys/{own_id}")),
        409,
        "CONFLICT",
        None,
    );
    assert_error(
        &app.post(&format!("/api/v1/auth/keys/{own_id}/rotate"), json!({})),
        409,
        "CONFLICT",
        None,
    );
    assert_same(&before, &app.snapshot());

    let second = app.key_with("Owner", &[]);
    let r = app.call(
        "DELETE",
        &format!("/api/v1/auth/keys/{own_id}"),
        &second,
        None,
    );
    assert_eq!(r.status, 200, "with another Owner, the first may go");
}

#[test]
fn me_names_the_calling_keys_role_and_networks() {
    let app = spawn_app();
    let net = app.network("home");
    let viewer = app.key_with("Viewer", &[&net]);
    let r = app.call("GET", "/api/v1/auth/me", &viewer, None);
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["role"], json!("Viewer"));
    assert_eq!(r.data()["network_ids"], json!([net]));
    let owner = app.get("/api/v1/auth/me");
    assert_eq!(owner.data()["role"], json!("Owner"));
    assert_eq!(owner.data()["network_ids"], json!([]));
    let anonymous = app.raw("GET", "/api/v1/auth/me", None, None);
    assert_error(&anonymous, 401, "UNAUTHORIZED", None);
}

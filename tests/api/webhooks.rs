//! Webhooks against a receiver on loopback: signatures, journal order, retries with the same
//! delivery id, growing intervals without slowing writes, patterns, disabled hooks, scope, the
//! secret kept secret, and delivery after a kill.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::crash::call;
use crate::helpers::{assert_error, assert_same, spawn_app, spawn_with, ServerProcess, TestApp};
use crate::receiver::{Received, Receiver};

const SECRET: &str = "a-secret-of-24-characters";

fn hook(app: &TestApp, url: &str, extra: Value) -> String {
    let mut body = json!({"name": "lab", "url": url, "secret": SECRET});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app.post("/api/v1/webhooks", body);
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        !r.body.to_string().contains(SECRET),
        "the secret is never answered"
    );
    r.id()
}

fn event(r: &Received) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn verify(r: &Received) {
    let ts = &r.headers["x-portolan-timestamp"];
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(&r.body);
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        r.headers["x-portolan-signature-256"],
        format!("sha256={want}")
    );
}

#[test]
fn every_change_arrives_once_signed_and_in_journal_order() {
    let app = spawn_app();
    let rx = Receiver::start();
    let hook_id = hook(&app, &rx.url, json!({}));
    let net = app.network("home");
    let host = app.host(&net, "nas");
    app.put(&format!("/api/v1/hosts/{host}"), json!({"name": "nas2"}));
    app.delete(&format!("/api/v1/hosts/{host}"));
    // The hook's own creation (it wants everything), then the four changes.
    let got = rx.wait_for(5, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(rx.count(), 5, "each event once");
    let types: Vec<String> = got
        .iter()
        .map(|r| event(r)["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        [
            "webhook.create",
            "network.create",
            "host.create",
            "host.update",
            "host.delete"
        ]
    );
    let journal = app
        .get("/api/v1/changes?limit=10&entity_type=host&entity_type=network&entity_type=webhook");
    let mut ids: Vec<String> = journal
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.reverse();
    let delivered: Vec<String> = got
        .iter()
        .map(|r| r.headers["x-portolan-delivery"].clone())
        .collect();
    assert_eq!(
        delivered, ids,
        "the event id is the journal entry's, in journal order"
    );
    for r in &got {
        verify(r);
        assert_eq!(r.headers["content-type"], "application/json");
        assert_eq!(
            r.headers["x-portolan-event"],
            event(r)["type"].as_str().unwrap()
        );
        assert_eq!(event(r)["data"]["id"], event(r)["id"]);
    }
    assert_eq!(event(&got[3])["data"]["changed_fields"], json!(["name"]));
    let deliveries = app.get(&format!("/api/v1/webhooks/{hook_id}/deliveries"));
    assert!(deliveries
        .data()
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["status"] == json!("delivered")));
    let stored = app.get(&format!("/api/v1/webhooks/{hook_id}"));
    assert_eq!(stored.data()["has_secret"], json!(true));
    assert_eq!(stored.data()["last_delivery_status"], json!(200));
    let everything = app.snapshot();
    assert!(!app
        .get("/api/v1/changes?entity_type=webhook")
        .body
        .to_string()
        .contains(SECRET));
    assert!(everything.contains(SECRET), "stored, for signing");
}

#[test]
fn a_failed_delivery_is_retried_with_the_same_id_and_a_ping_answers() {
    let app = spawn_app();
    let rx = Receiver::start();
    rx.answer(&[500]);
    let hook_id = hook(&app, &rx.url, json!({"events": ["network.*"]}));
    app.network("home");
    let got = rx.wait_for(2, Duration::from_secs(10));
    assert_eq!(
        got[0].headers["x-portolan-delivery"],
        got[1].headers["x-portolan-delivery"]
    );
    let gap = got[1].at - got[0].at;
    assert!(gap >= Duration::from_millis(900), "backed off: {gap:?}");
    // The receiver has the request before the server has its answer recorded.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let deliveries = loop {
        let deliveries = app.get(&format!("/api/v1/webhooks/{hook_id}/deliveries"));
        if deliveries.data()[0]["status"] != "pending" || std::time::Instant::now() > deadline {
            break deliveries;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let d = &deliveries.data()[0];
    assert_eq!(
        (
            d["status"].as_str(),
            d["attempts"].as_i64(),
            d["response_status"].as_i64()
        ),
        (Some("delivered"), Some(2), Some(200))
    );
    let r = app.post(
        &format!(
            "/api/v1/webhooks/{hook_id}/deliveries/{}/retry",
            d["id"].as_str().unwrap()
        ),
        json!({}),
    );
    assert_error(&r, 409, "CONFLICT", None);

    let ping = app.post(&format!("/api/v1/webhooks/{hook_id}/test"), json!({}));
    assert_eq!(ping.status, 200, "{}", ping.body);
    assert_eq!(ping.data()["status"], json!(200));
    let last = rx.wait_for(3, Duration::from_secs(5));
    assert_eq!(last[2].headers["x-portolan-event"], "ping");
    verify(&last[2]);
}

#[test]
fn a_receiver_that_never_answers_is_retried_further_apart_and_writes_keep_their_speed() {
    let app = spawn_with(|c| c.webhook_timeout_ms = 300);
    let rx = Receiver::start();
    rx.go_silent();
    let hook_id = hook(&app, &rx.url, json!({"events": ["tag.create"]}));
    app.tag("first");
    let started = Instant::now();
    for i in 0..30 {
        app.tag(&format!("t{i}"));
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "writes waited: {:?}",
        started.elapsed()
    );
    let got = rx.wait_for(3, Duration::from_secs(15));
    let gaps: Vec<Duration> = got.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[1] > gaps[0], "growing intervals: {gaps:?}");
    assert!(
        got.iter()
            .all(|r| r.headers["x-portolan-delivery"] == got[0].headers["x-portolan-delivery"]),
        "one delivery at a time per hook, in order"
    );
    let d = app.get(&format!("/api/v1/webhooks/{hook_id}/deliveries?limit=100"));
    let pending = d
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == json!("pending"))
        .count();
    assert_eq!(pending, 31);
    assert!(app.get(&format!("/api/v1/webhooks/{hook_id}")).data()["failing_since"].is_string());
}

#[test]
fn patterns_networks_disabled_hooks_and_scope() {
    let app = spawn_app();
    let rx = Receiver::start();
    let home = app.network("home");
    let lab = app.network("lab");
    hook(&app, &rx.url, json!({"events": ["host.delete"]}));
    hook(&app, &rx.url, json!({"network_ids": [lab]}));
    hook(&app, &rx.url, json!({"enabled": false}));
    let h = app.host(&home, "a");
    app.delete(&format!("/api/v1/hosts/{h}"));
    app.host(&lab, "b");
    // host.delete in home (first hook) and host.create in lab (second); nothing else.
    let got = rx.wait_for(2, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(rx.count(), 2);
    let mut types: Vec<String> = got
        .iter()
        .map(|r| event(r)["type"].as_str().unwrap().to_string())
        .collect();
    types.sort();
    assert_eq!(types, ["host.create", "host.delete"]);

    let key = app.key_with("Admin", &[&home]);
    let r = app.call(
        "POST",
        "/api/v1/webhooks",
        &key,
        Some(&json!({"name": "x", "url": rx.url})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call(
        "POST",
        "/api/v1/webhooks",
        &key,
        Some(&json!({"name": "x", "url": rx.url, "network_ids": [lab]})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let listed = app.call("GET", "/api/v1/webhooks", &key, None);
    assert_eq!(
        listed.data(),
        &json!([]),
        "hooks of all networks or of lab are out of its reach"
    );
    let r = app.call(
        "POST",
        "/api/v1/webhooks",
        &key,
        Some(&json!({"name": "mine", "url": rx.url, "network_ids": [home]})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let member = app.key_with("Member", &[]);
    assert_error(
        &app.call("GET", "/api/v1/webhooks", &member, None),
        403,
        "FORBIDDEN_ROLE",
        None,
    );

    let before = app.snapshot();
    for (body, field) in [
        (json!({"name": "x", "url": "ftp://example"}), "url"),
        (
            json!({"name": "x", "url": rx.url, "events": ["gadget.create"]}),
            "events[0]",
        ),
        (
            json!({"name": "x", "url": rx.url, "format": "xml"}),
            "format",
        ),
        (
            json!({"name": "x", "url": rx.url, "secret": "short"}),
            "secret",
        ),
    ] {
        assert_error(
            &app.post("/api/v1/webhooks", body),
            400,
            "VALIDATION_ERROR",
            Some(field),
        );
    }
    assert_same(&before, &app.snapshot());
}

#[test]
fn a_change_acknowledged_before_a_kill_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let key = format!("scp_u_{}", "W8".repeat(16));
    let agent = ServerProcess::agent();
    let rx = Receiver::start();
    rx.go_silent();
    let mut server =
        ServerProcess::start_with(dir.path(), &key, &[("PORTOLAN_WEBHOOK_TIMEOUT_MS", "200")]);
    let url = |s: &ServerProcess, p: &str| format!("{}{p}", s.base);
    let (status, _) = call(
        &agent,
        "POST",
        &url(&server, "/api/v1/webhooks"),
        &key,
        &json!({"name": "lab", "url": rx.url, "events": ["network.create"]}),
    )
    .unwrap();
    assert_eq!(status, 201);
    let (status, net) = call(
        &agent,
        "POST",
        &url(&server, "/api/v1/networks"),
        &key,
        &json!({"name": "after"}),
    )
    .unwrap();
    assert_eq!(status, 201);
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let rx2 = Receiver::start();
    let mut server =
        ServerProcess::start_with(dir.path(), &key, &[("PORTOLAN_WEBHOOK_TIMEOUT_MS", "200")]);
    // Point the hook at a receiver that answers; the pending delivery goes out.
    let (_, hooks) = call(
        &agent,
        "GET",
        &url(&server, "/api/v1/webhooks"),
        &key,
        &json!(null),
    )
    .unwrap();
    let id = hooks["data"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = call(
        &agent,
        "PUT",
        &url(&server, &format!("/api/v1/webhooks/{id}")),
        &key,
        &json!({"name": "lab", "url": rx2.url, "events": ["network.create"]}),
    )
    .unwrap();
    assert_eq!(status, 200);
    let got = rx2.wait_for(1, Duration::from_secs(15));
    let e = event(&got[0]);
    assert_eq!(e["type"], json!("network.create"));
    assert_eq!(e["data"]["entity_id"], net["data"]["id"]);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

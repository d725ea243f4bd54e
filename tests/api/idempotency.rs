use std::sync::Barrier;

use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app, spawn_with};

const KEY: (&str, &str) = ("Idempotency-Key", "create-home-1");

#[test]
fn a_retried_post_creates_once_and_replays_the_same_answer() {
    let app = spawn_app();
    let first = app.send("POST", "/api/v1/networks", &json!({"name": "home"}), &[KEY]);
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);

    // Same request again, keys in another order and spacing: the same canonical body.
    let retry = app.raw_with(
        "POST",
        "/api/v1/networks",
        Some(&app.key),
        Some(("application/json", b"{ \"name\" : \"home\" }")),
        &[KEY],
    );
    assert_eq!(retry.status, 201);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.body, first.body, "the stored body is replayed");
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(app.count("networks"), 1);

    // The quoted form of the same key is the same key.
    let quoted = app.send(
        "POST",
        "/api/v1/networks",
        &json!({"name": "home"}),
        &[("Idempotency-Key", "\"create-home-1\"")],
    );
    assert_eq!(quoted.header("idempotent-replayed"), Some("true"));

    // Another path is another scope.
    let tag = app.send("POST", "/api/v1/tags", &json!({"name": "home"}), &[KEY]);
    assert_eq!(tag.status, 201);
    assert_eq!(tag.header("idempotent-replayed"), None);
}

#[test]
fn the_same_key_with_another_body_is_refused() {
    let app = spawn_app();
    app.send("POST", "/api/v1/networks", &json!({"name": "home"}), &[KEY]);
    let before = app.snapshot();
    let r = app.send("POST", "/api/v1/networks", &json!({"name": "lab"}), &[KEY]);
    assert_error(&r, 409, "IDEMPOTENCY_KEY_REUSED", Some("Idempotency-Key"));
    assert_same(&before, &app.snapshot());

    for bad in ["", &"x".repeat(256), "has space"] {
        let r = app.send(
            "POST",
            "/api/v1/networks",
            &json!({"name": "new"}),
            &[("Idempotency-Key", bad)],
        );
        assert_error(&r, 400, "VALIDATION_ERROR", Some("Idempotency-Key"));
    }
}

#[test]
fn concurrent_requests_with_one_key_write_once() {
    let app = spawn_app();
    let clients = 16;
    let barrier = Barrier::new(clients);
    let results: Vec<(u16, Option<String>, Option<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (app, barrier) = (&app, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let r = app.send(
                        "POST",
                        "/api/v1/networks",
                        &json!({"name": "raced"}),
                        &[("Idempotency-Key", "race")],
                    );
                    (
                        r.status,
                        r.header("idempotent-replayed").map(str::to_string),
                        r.header("retry-after").map(str::to_string),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let fresh = results
        .iter()
        .filter(|(s, replayed, _)| *s == 201 && replayed.is_none())
        .count();
    assert_eq!(fresh, 1, "{results:?}");
    for (status, replayed, retry_after) in &results {
        match status {
            201 => {}
            409 => assert_eq!(retry_after.as_deref(), Some("1"), "in flight: retry later"),
            other => panic!("unexpected {other}: {results:?}"),
        }
        let _ = replayed;
    }
    assert_eq!(app.count("networks"), 1);
}

#[test]
fn deterministic_refusals_are_kept_and_fixable_errors_are_not() {
    let app = spawn_app();
    app.network("taken");
    // 409: kept, and replayed even after the clash is gone.
    let clash = app.send(
        "POST",
        "/api/v1/networks",
        &json!({"name": "taken"}),
        &[("Idempotency-Key", "k409")],
    );
    assert_error(&clash, 409, "CONFLICT", Some("name"));
    let id: String = app
        .db()
        .query_row("SELECT id FROM networks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app.delete(&format!("/api/v1/networks/{id}")).status, 200);
    let again = app.send(
        "POST",
        "/api/v1/networks",
        &json!({"name": "taken"}),
        &[("Idempotency-Key", "k409")],
    );
    assert_eq!(again.status, 409);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.count("networks"), 0, "the refused write never happened");

    // 400: not kept; the client fixes the body and retries with the same key.
    let bad = app.send(
        "POST",
        "/api/v1/networks",
        &json!({"name": ""}),
        &[("Idempotency-Key", "k400")],
    );
    assert_error(&bad, 400, "VALIDATION_ERROR", Some("name"));
    let fixed = app.send(
        "POST",
        "/api/v1/networks",
        &json!({"name": "fixed"}),
        &[("Idempotency-Key", "k400")],
    );
    assert_eq!(fixed.status, 201, "{}", fixed.body);
    assert_eq!(fixed.header("idempotent-replayed"), None);
}

#[test]
fn a_write_that_rolls_back_keeps_no_response() {
    // A short busy timeout and a lock held elsewhere make the write fail after it started.
    let app = spawn_with(|c| c.busy_timeout_ms = 200);
    let blocker = rusqlite::Connection::open(app.dir.path().join("portolan.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let r = app.send(
        "POST",
        "/api/v1/networks",
        &json!({"name": "busy"}),
        &[("Idempotency-Key", "k503")],
    );
    assert_error(&r, 503, "SERVICE_UNAVAILABLE", None);
    assert_eq!(r.header("retry-after"), Some("1"));
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(app.count("networks"), 0);
    assert_eq!(
        app.count("idempotency_keys"),
        0,
        "no response without its write"
    );

    let retry = app.send(
        "POST",
        "/api/v1/networks",
        &json!({"name": "busy"}),
        &[("Idempotency-Key", "k503")],
    );
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(
        retry.header("idempotent-replayed"),
        None,
        "the retry ran the write"
    );
    assert_eq!(app.count("networks"), 1);
    assert_eq!(app.count("idempotency_keys"), 1, "stored with its write");
}

#[test]
fn put_and_patch_are_idempotent_too() {
    let app = spawn_app();
    let net = app.network("n");
    let first = app.send(
        "PUT",
        &format!("/api/v1/networks/{net}"),
        &json!({"name": "renamed"}),
        &[("Idempotency-Key", "p1")],
    );
    assert_eq!(first.status, 200);
    let again = app.send(
        "PUT",
        &format!("/api/v1/networks/{net}"),
        &json!({"name": "renamed"}),
        &[("Idempotency-Key", "p1")],
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body, "updated_at is the first one's");

    let t = app
        .post(
            "/api/v1/service-templates",
            json!({"name": "t", "containerImageId": "x"}),
        )
        .id();
    let patched = app.send(
        "PATCH",
        &format!("/api/v1/service-templates/{t}"),
        &json!({"imageTag": "v2"}),
        &[("Idempotency-Key", "p2")],
    );
    assert_eq!(patched.status, 200);
    let replay = app.send(
        "PATCH",
        &format!("/api/v1/service-templates/{t}"),
        &json!({"imageTag": "v2"}),
        &[("Idempotency-Key", "p2")],
    );
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
}

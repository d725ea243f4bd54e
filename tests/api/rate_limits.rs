use std::time::Duration;

use crate::helpers::{assert_error, spawn_app, spawn_with};

#[test]
fn a_burst_over_the_limit_gets_429_and_the_bucket_refills() {
    let app = spawn_with(|c| c.rate_limit_per_minute = 600);
    let first = app.get("/api/v1/networks");
    assert_eq!(first.status, 200);
    assert_eq!(
        first.header("ratelimit-policy"),
        Some("\"default\";q=600;w=60")
    );
    let state = first.header("ratelimit").unwrap();
    assert!(state.starts_with("\"default\";r=99;t="), "{state}");
    assert_eq!(first.header("x-ratelimit-limit"), Some("600"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("99"));
    let reset: u64 = first.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(state.ends_with(&format!("t={reset}")), "{state} vs {reset}");

    let started = std::time::Instant::now();
    let mut allowed = 1;
    let refused = loop {
        let r = app.get("/api/v1/networks");
        if r.status == 429 {
            break r;
        }
        assert_eq!(r.status, 200);
        allowed += 1;
        assert!(allowed < 200, "the bucket never ran dry");
    };
    // A burst of 100, plus what refilled (10 per second) while the loop ran.
    let refilled = (started.elapsed().as_secs_f64() * 10.0).ceil() as usize + 1;
    assert!(
        (100..=100 + refilled).contains(&allowed),
        "{allowed} allowed"
    );
    assert_error(&refused, 429, "RATE_LIMITED", None);
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(refused.body["retryAfter"], serde_json::json!(retry_after));
    assert!(refused.header("ratelimit").unwrap().contains("r=0"));
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(refused.header("x-ratelimit-limit"), Some("600"));

    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(app.get("/api/v1/networks").status, 200, "refilled");
}

#[test]
fn requests_without_a_valid_key_share_the_address_bucket() {
    let app = spawn_with(|c| c.rate_limit_per_minute = 600);
    let started = std::time::Instant::now();
    let mut unauthorized = 0;
    loop {
        let r = app.raw("GET", "/api/v1/networks", None, None);
        if r.status == 429 {
            assert_error(&r, 429, "RATE_LIMITED", None);
            break;
        }
        assert_eq!(r.status, 401);
        unauthorized += 1;
        assert!(unauthorized < 50, "the address bucket never ran dry");
    }
    // A burst of 10, plus one a second refilled while the loop ran.
    let refilled = started.elapsed().as_secs() as usize + 1;
    assert!(
        (10..=10 + refilled).contains(&unauthorized),
        "{unauthorized} answered 401"
    );
    let r = app.raw("GET", "/api/v1/networks", None, None);
    assert_eq!(r.header("ratelimit-policy"), Some("\"default\";q=60;w=60"));
    // A valid key has its own bucket, and health checks are never limited.
    assert_eq!(app.get("/api/v1/networks").status, 200);
    for path in ["/healthz", "/api/health"] {
        for _ in 0..15 {
            let h = app.raw("GET", path, None, None);
            assert_eq!(h.status, 200, "{path}");
            assert!(
                h.body["status"] == serde_json::json!("ok")
                    || h.body["success"] == serde_json::json!(true),
                "{path}: {}",
                h.body
            );
            assert!(h.header("ratelimit").is_none());
        }
    }
}

#[test]
fn zero_turns_rate_limiting_off() {
    let app = spawn_app();
    for _ in 0..150 {
        let r = app.get("/api/v1/networks");
        assert_eq!(r.status, 200);
        assert!(r.header("ratelimit").is_none());
    }
}

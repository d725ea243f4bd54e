//! Where webhooks may go: http(s) only, never link-local, unspecified or multicast addresses
//! (also through a name), never along a redirect.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app, spawn_with};
use crate::receiver::Receiver;

#[test]
fn receivers_at_refused_addresses_are_refused_at_creation() {
    let app = spawn_app();
    let before = app.snapshot();
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]:8080/",
        "http://0.0.0.0:9000/",
        "http://[::]/",
        "http://224.0.0.1/",
        "http://[::ffff:169.254.169.254]/",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/",
    ] {
        let r = app.post("/api/v1/webhooks", json!({"name": "x", "url": url}));
        assert_error(&r, 400, "VALIDATION_ERROR", Some("url"));
    }
    assert_same(&before, &app.snapshot());
    // Loopback and private addresses are where a homelab's receivers live.
    for url in [
        "http://127.0.0.1:9/x",
        "http://192.168.1.20/hook",
        "http://[::1]:8080/",
    ] {
        let r = app.post("/api/v1/webhooks", json!({"name": url, "url": url}));
        assert_eq!(r.status, 201, "{url}: {}", r.body);
    }
}

#[test]
fn a_name_that_resolves_to_a_denied_block_is_refused() {
    let app = spawn_with(|c| {
        c.webhook_receivers = portolan::domain::outbound::Receivers::with_extra(
            portolan::domain::outbound::Receivers::parse_extra("127.0.0.0/8,::1/128").unwrap(),
        )
    });
    let before = app.snapshot();
    let r = app.post(
        "/api/v1/webhooks",
        json!({"name": "local", "url": "http://localhost:9/hook"}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("url"));
    assert!(
        r.body["message"].as_str().unwrap().contains("resolves to"),
        "{}",
        r.body
    );
    let r = app.post(
        "/api/v1/webhooks",
        json!({"name": "literal", "url": "http://127.0.0.1:9/hook"}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("url"));
    assert_same(&before, &app.snapshot());
}

/// Answers every request with a redirect to `location`, counting them.
fn redirector(location: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    url
}

#[test]
fn redirects_are_never_followed() {
    let app = spawn_app();
    let inner = Receiver::start();
    let outer = redirector(inner.url.clone());
    let r = app.post("/api/v1/webhooks", json!({"name": "r", "url": outer}));
    assert_eq!(r.status, 201, "{}", r.body);
    let hook = r.id();

    let ping = app.post(&format!("/api/v1/webhooks/{hook}/test"), json!({}));
    assert_eq!(ping.status, 200, "{}", ping.body);
    assert_eq!(ping.data()["status"], json!(302));
    let error = ping.data()["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("not followed") && error.contains(&inner.url),
        "{error}"
    );

    // A delivery of a real event: a failed attempt, logged with where it was sent.
    app.network("event");
    let deadline = Instant::now() + Duration::from_secs(10);
    let attempt = loop {
        let list = app.get(&format!("/api/v1/webhooks/{hook}/deliveries"));
        let tried = list
            .data()
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["attempts"].as_i64().unwrap_or(0) > 0)
            .cloned();
        if let Some(d) = tried {
            break d;
        }
        assert!(Instant::now() < deadline, "no attempt: {}", list.body);
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(attempt["response_status"], json!(302), "{attempt}");
    assert_ne!(attempt["status"], json!("delivered"), "{attempt}");
    assert!(
        attempt["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not followed"),
        "{attempt}"
    );
    assert_eq!(inner.count(), 0, "the redirect's target was never called");
}

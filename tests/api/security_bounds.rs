//! Bounded work: inputs that once made the server allocate gigabytes, hold the writer for
//! seconds or keep a connection forever are refused at once.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{assert_error, assert_same, spawn_app};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_compose_file_publishing_every_port_many_times_is_refused_at_once() {
    let app = spawn_app();
    let before = app.snapshot();
    let rss_before = rss_kib();
    let line = "      - \"1-65535:1-65535\"\n";
    let compose = format!(
        "services:\n  web:\n    image: x\n    ports:\n{}",
        line.repeat(600)
    );
    assert!(compose.len() > 14_000);
    let started = Instant::now();
    let r = app.post(
        "/api/v1/service-templates",
        json!({"name": "bomb", "containerImageId": "busybox", "composeTemplate": compose}),
    );
    let took = started.elapsed();
    assert_error(&r, 400, "VALIDATION_ERROR", Some("composeTemplate"));
    assert!(
        r.body["message"].as_str().unwrap().contains("1024"),
        "{}",
        r.body
    );
    assert!(took < Duration::from_secs(1), "refused in {took:?}");
    let grown_mib = rss_kib().saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 50, "RSS grew by {grown_mib} MiB");
    assert_same(&before, &app.snapshot());

    // The same through PATCH of an existing template, and an alias bomb.
    let ok = app.post(
        "/api/v1/service-templates",
        json!({"name": "web", "containerImageId": "busybox"}),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    let id = ok.data()["id"].as_str().unwrap().to_string();
    let before = app.snapshot();
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    bomb.push_str("services:\n  web:\n    image: x\n");
    for compose in [compose, bomb] {
        let started = Instant::now();
        let r = app.call(
            "PATCH",
            &format!("/api/v1/service-templates/{id}"),
            &app.key,
            Some(&json!({"composeTemplate": compose})),
        );
        assert_error(&r, 400, "VALIDATION_ERROR", Some("composeTemplate"));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    assert_same(&before, &app.snapshot());
}

#[test]
fn a_huge_discovery_request_does_not_hold_up_writes() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "127.77.0.0/16");
    let targets: Vec<String> = (0..20_000)
        .map(|i| format!("127.77.{}.{}", i / 250, 1 + i % 250))
        .collect();
    let base = app.base.clone();
    let key = app.key.clone();
    let body = json!({"network_id": net, "targets": targets, "ports": [30001]}).to_string();
    let big = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut res = agent
            .post(format!("{base}/api/v1/discoveries"))
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap();
        let status = res.status().as_u16();
        let text = res.body_mut().read_to_string().unwrap();
        (status, text)
    });
    std::thread::sleep(Duration::from_millis(20));
    let started = Instant::now();
    let host = app.post("/api/v1/hosts", json!({"network_id": net, "name": "next"}));
    let took = started.elapsed();
    assert_eq!(host.status, 201, "{}", host.body);
    assert!(took < Duration::from_secs(1), "a write waited {took:?}");
    let (status, text) = big.join().unwrap();
    assert_eq!(status, 400, "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], json!("VALIDATION_ERROR"));
    assert_eq!(body["field"], json!("targets"));
    assert_eq!(body["params"]["max_targets"], json!(1024));
    assert_eq!(app.count("discoveries"), 0);

    // A schedule is held to the same limit.
    let r = app.post(
        "/api/v1/discovery-schedules",
        json!({"network_id": net, "name": "all", "targets": vec!["127.77.0.1"; 1025],
               "interval_minutes": 60}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("targets"));
}

#[test]
fn a_body_dribbled_byte_by_byte_loses_its_connection_after_30_seconds() {
    let app = spawn_app();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(45)))
        .unwrap();
    write!(
        stream,
        "POST /api/v1/networks HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{",
        app.key
    )
    .unwrap();
    let started = Instant::now();
    // A byte every two seconds: never idle long enough for a read timeout, never done.
    let mut writer = stream.try_clone().unwrap();
    let dribble = std::thread::spawn(move || {
        for _ in 0..40 {
            std::thread::sleep(Duration::from_secs(2));
            if writer.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"code\":\"VALIDATION_ERROR\""), "{text}");
    assert!(text.contains("\"field\":\"body\""), "{text}");
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(40),
        "the connection ended after {took:?}"
    );
    dribble.join().unwrap();
    assert_eq!(app.count("networks"), 0);
}

#[test]
fn an_import_larger_than_its_cap_is_refused() {
    let app = crate::helpers::spawn_with(|c| c.import_max_mb = 1);
    let big = format!(
        "{{\"format\": \"portolan-export\", \"version\": 1, \"pad\": \"{}\"}}",
        "x".repeat(2 << 20)
    );
    let before = app.snapshot();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = format!(
        "POST /api/v1/import HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.key,
        big.len()
    );
    // The server may answer and close before the whole body is sent: write errors are expected.
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(big.as_bytes());
    });
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"code\":\"VALIDATION_ERROR\""), "{text}");
    assert!(text.contains("PORTOLAN_IMPORT_MAX_MB"), "{text}");
    sender.join().unwrap();
    assert_same(&before, &app.snapshot());
}

//! Plan before apply, apply once, cancel within a second, the events stream, and schedules.

use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::discovery_scan::{scan, wait_finished};
use crate::helpers::{assert_error, spawn_app};
use crate::listeners::{Kind, Listener};

#[test]
fn a_plan_writes_nothing_an_apply_writes_it_once() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "127.77.5.0/29");
    let web = Listener::start("127.77.5.1", Kind::Http("Home Assistant"));
    let ssh = Listener::start("127.77.5.2", Kind::SshBanner);
    let counts = |app: &crate::helpers::TestApp| {
        [
            "hosts",
            "ip_addresses",
            "ports",
            "services",
            "bindings",
            "changes",
        ]
        .map(|t| app.count(t))
    };
    let before = counts(&app);
    let plan = scan(
        &app,
        json!({"network_id": net, "targets": ["127.77.5.0/29"], "ports": [web.port(), ssh.port()],
               "mode": "plan", "options": {"timeout_ms": 300}}),
    );
    assert_eq!(plan["status"], json!("completed"), "{plan}");
    assert_eq!(counts(&app), before, "a plan writes nothing but itself");
    let entries = plan["plan"].as_array().unwrap();
    let creates: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == json!("create") && e["entity_type"] == json!("service"))
        .collect();
    assert_eq!(creates.len(), 2, "{entries:?}");
    assert!(creates
        .iter()
        .any(|e| e["entity"]["service_definition"] == json!("Home Assistant")));
    assert_eq!(plan["summary"]["services_created"], json!(2));

    let id = plan["id"].as_str().unwrap();
    let applied = app.post(&format!("/api/v1/discoveries/{id}/apply"), json!({}));
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert!(applied.data()["applied_at"].is_string());
    assert_eq!(applied.data()["summary"]["services_created"], json!(2));
    assert_eq!(app.count("services"), 2);
    assert_eq!(app.count("hosts"), 2);
    let again = app.post(&format!("/api/v1/discoveries/{id}/apply"), json!({}));
    assert_error(&again, 409, "CONFLICT", None);
    assert_eq!(app.count("services"), 2, "applied once");

    let apply_scan = scan(
        &app,
        json!({"network_id": net, "targets": ["127.77.5.1"], "ports": [web.port()],
               "options": {"timeout_ms": 300}}),
    );
    let r = app.post(
        &format!(
            "/api/v1/discoveries/{}/apply",
            apply_scan["id"].as_str().unwrap()
        ),
        json!({}),
    );
    assert_error(&r, 409, "CONFLICT", None);
}

#[test]
fn cancel_stops_a_long_scan_within_a_second_and_applies_nothing() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "127.77.6.0/29");
    let silent = Listener::start("127.77.6.1", Kind::Silent);
    let web = Listener::start("127.77.6.2", Kind::Http("Jellyfin"));
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "targets": ["127.77.6.2", "127.77.6.1"],
               "ports": [web.port(), silent.port()],
               "options": {"timeout_ms": 10000, "concurrency": 1}}),
    );
    assert_eq!(r.status, 202);
    let id = r.id();
    std::thread::sleep(Duration::from_millis(700));
    let started = Instant::now();
    let r = app.post(&format!("/api/v1/discoveries/{id}/cancel"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.data()["status"], json!("cancelled"));
    assert!(r.data()["finished_at"].is_string());
    assert_eq!(app.count("hosts"), 0, "a cancelled scan applies nothing");
    let r = app.post(&format!("/api/v1/discoveries/{id}/cancel"), json!({}));
    assert_error(&r, 409, "CONFLICT", None);
}

/// Reads the event stream to its end over a raw connection.
fn events(app: &crate::helpers::TestApp, id: &str) -> Vec<(String, Value)> {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /api/v1/discoveries/{id}/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        app.key
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut out = Vec::new();
    let mut event = String::new();
    for line in BufReader::new(stream).lines() {
        let line = line.unwrap();
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            out.push((event.clone(), serde_json::from_str(data).unwrap()));
        }
    }
    out
}

#[test]
fn the_events_stream_reports_progress_then_the_finished_discovery() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "127.77.7.0/29");
    let silent = Listener::start("127.77.7.1", Kind::Silent);
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "targets": ["127.77.7.1"], "ports": [silent.port()],
               "options": {"timeout_ms": 1500, "http_probe": true}}),
    );
    let got = events(&app, &r.id());
    let (last, rest) = got.split_last().unwrap();
    assert_eq!(last.0, "finished");
    assert_eq!(last.1["status"], json!("completed"));
    assert_eq!(last.1["progress"]["open_found"], json!(1));
    assert!(rest.len() >= 2, "progress while it ran: {rest:?}");
    assert!(rest
        .iter()
        .all(|(e, d)| e == "progress" && d["progress"]["probes_total"] == json!(1)));
}

#[test]
fn a_schedule_starts_its_scan_and_survives_as_configuration() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "127.77.8.0/29");
    let web = Listener::start("127.77.8.1", Kind::Http("Jellyfin"));
    let body = json!({"network_id": net, "name": "nightly", "targets": ["127.77.8.1"],
                      "ports": [web.port()], "interval_minutes": 60,
                      "options": {"timeout_ms": 300}});
    let mut too_often = body.clone();
    too_often["interval_minutes"] = json!(2);
    assert_error(
        &app.post("/api/v1/discovery-schedules", too_often),
        400,
        "VALIDATION_ERROR",
        Some("interval_minutes"),
    );
    let mut outside = body.clone();
    outside["targets"] = json!(["127.77.9.1"]);
    assert_error(
        &app.post("/api/v1/discovery-schedules", outside),
        400,
        "VALIDATION_ERROR",
        Some("targets[0]"),
    );

    let r = app.post("/api/v1/discovery-schedules", body.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    let schedule = r.id();
    let deadline = Instant::now() + Duration::from_secs(15);
    let discovery = loop {
        let s = app.get(&format!("/api/v1/discovery-schedules/{schedule}"));
        if let Some(id) = s.data()["last_discovery_id"].as_str() {
            break id.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the schedule never ran: {}",
            s.body
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let d = wait_finished(&app, &discovery);
    assert_eq!(d["schedule_id"], json!(schedule));
    assert_eq!(d["created_by"]["type"], json!("system"));
    assert_eq!(d["summary"]["services_created"], json!(1));
    let s = app.get(&format!("/api/v1/discovery-schedules/{schedule}"));
    let last = s.data()["last_run_at"].as_str().unwrap().to_string();
    let next = s.data()["next_run_at"].as_str().unwrap().to_string();
    assert!(next > last, "next {next} after last {last}");

    let mut paused = body.clone();
    paused["enabled"] = json!(false);
    let r = app.put(&format!("/api/v1/discovery-schedules/{schedule}"), paused);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["enabled"], json!(false));
    assert_eq!(r.data()["last_run_at"], json!(last));
    assert_eq!(
        app.delete(&format!("/api/v1/discovery-schedules/{schedule}"))
            .status,
        200
    );
    assert_error(
        &app.get(&format!("/api/v1/discovery-schedules/{schedule}")),
        404,
        "NOT_FOUND",
        None,
    );
}

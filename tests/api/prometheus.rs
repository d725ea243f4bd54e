//! /metrics (checked by promtool) and Prometheus's HTTP service discovery, read by the real
//! Prometheus (Debian's package, installed by `.ci/run`; outside CI the test is skipped without it).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{assert_error, required_tool, spawn_app, spawn_with, system_program, TestApp};
use crate::listeners::closed_port;

fn tool(name: &str) -> Option<String> {
    required_tool(system_program(name), name, "apt-get install prometheus")
}

/// A host on two loopback addresses; one service on a port of one address, one on all.
fn inventory(app: &TestApp, block: &str) -> (String, u16, u16) {
    let net = app.network("lab");
    let host = app.host(&net, "nas");
    let a = format!("127.77.{block}.1");
    let b = format!("127.77.{block}.2");
    let ip_a = app.ip(&host, &a);
    app.ip(&host, &b);
    let one = closed_port(&a);
    let all = closed_port(&b) + 1;
    let p1 = app.port(&host, one, "Tcp");
    let p2 = app.port(&host, all, "Tcp");
    let prod = app.tag("prod");
    let exporter = app.post(
        "/api/v1/services",
        json!({"host_id": host, "name": "node exporter", "service_definition": "Prometheus",
               "tags": [prod], "bindings": [{"type": "Port", "port_id": p1, "ip_address_id": ip_a}]}),
    );
    assert_eq!(exporter.status, 201, "{}", exporter.body);
    let web = app.service(&host, "web", json!([{"type": "Port", "port_id": p2}]));
    assert_eq!(web.status, 201);
    (net, one, all)
}

#[test]
fn metrics_need_a_key_unless_public_and_pass_promtool() {
    let app = spawn_app();
    let r = app.raw("GET", "/metrics", None, None);
    assert_error(&r, 401, "UNAUTHORIZED", None);
    let w = app.world();
    app.get(&format!("/api/v1/hosts/{}", w.host));
    let r = app.raw("GET", "/metrics", Some(&app.key), None);
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.body.as_str().unwrap().to_string();
    for series in [
        "portolan_http_requests_total{method=\"GET\",route=\"/api/v1/hosts/{id}\",status=\"200\"}",
        "portolan_http_request_duration_seconds_bucket{route=\"/api/v1/hosts/{id}\"",
        "portolan_write_wait_seconds_count",
        "portolan_write_hold_seconds_bucket",
        "portolan_database_size_bytes",
        "portolan_entities{kind=\"host\"} 1",
        "portolan_entities{kind=\"service\"} 1",
        "portolan_discovery_probes_total",
        "portolan_build_info{version=",
    ] {
        assert!(text.contains(series), "{series} missing:\n{text}");
    }
    assert!(!text.contains(&w.host), "route templates, never ids");

    if let Some(promtool) = tool("promtool") {
        let mut child = Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let public = spawn_with(|c| c.metrics_public = true);
    assert_eq!(public.raw("GET", "/metrics", None, None).status, 200);
}

#[test]
fn service_discovery_expands_all_interfaces_and_filters() {
    let app = spawn_app();
    let (net, one, all) = inventory(&app, "21");
    let r = app.get("/api/v1/exports/prometheus-sd");
    assert_eq!(r.status, 200, "{}", r.body);
    let groups = r.body.as_array().unwrap().clone();
    let targets: Vec<&str> = groups
        .iter()
        .map(|g| g["targets"][0].as_str().unwrap())
        .collect();
    assert_eq!(groups.len(), 3, "{targets:?}");
    assert!(targets.contains(&format!("127.77.21.1:{one}").as_str()));
    assert!(targets.contains(&format!("127.77.21.1:{all}").as_str()));
    assert!(targets.contains(&format!("127.77.21.2:{all}").as_str()));
    let exporter = groups
        .iter()
        .find(|g| g["targets"][0] == json!(format!("127.77.21.1:{one}")))
        .unwrap();
    assert_eq!(
        exporter["labels"],
        json!({"__meta_portolan_category": "Monitoring", "__meta_portolan_host": "nas",
               "__meta_portolan_network": "lab", "__meta_portolan_service": "node exporter",
               "__meta_portolan_service_type": "Prometheus", "__meta_portolan_tags": ",prod,"})
    );
    let tagged = app.get("/api/v1/exports/prometheus-sd?tag=prod");
    assert_eq!(tagged.body.as_array().unwrap().len(), 1);
    let typed =
        app.get("/api/v1/exports/prometheus-sd?service_type=Prometheus&category=Monitoring");
    assert_eq!(typed.body.as_array().unwrap().len(), 1);
    let other = app.network("other");
    let key = app.key_with("Viewer", &[&other]);
    assert_eq!(
        app.call("GET", "/api/v1/exports/prometheus-sd", &key, None)
            .body,
        json!([])
    );
    let mine = app.key_with("Viewer", &[&net]);
    assert_eq!(
        app.call("GET", "/api/v1/exports/prometheus-sd", &mine, None)
            .body
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn the_real_prometheus_finds_the_targets_and_scrapes_portolan() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let app = spawn_app();
    let (_, one, _) = inventory(&app, "22");
    let dir = tempfile::tempdir().unwrap();
    let listen = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listen.local_addr().unwrap().port();
    drop(listen);
    let server = app.base.trim_start_matches("http://");
    let config = format!(
        r#"global:
  scrape_interval: 1s
  scrape_timeout: 500ms
scrape_configs:
  - job_name: portolan
    metrics_path: /metrics
    authorization:
      credentials: {key}
    static_configs:
      - targets: ["{server}"]
  - job_name: lab
    http_sd_configs:
      - url: http://{server}/api/v1/exports/prometheus-sd
        refresh_interval: 1s
        # Prometheus 2.42 (Debian 12) leaves the type out of the header unless it is given.
        authorization:
          type: Bearer
          credentials: {key}
    relabel_configs:
      - source_labels: [__meta_portolan_service]
        target_label: service
      - source_labels: [__meta_portolan_tags]
        regex: ".*,prod,.*"
        target_label: tier
        replacement: prod
"#,
        key = app.key
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let mut child = Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.path().join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
        .spawn()
        .expect("prometheus starts");
    let agent = crate::helpers::ServerProcess::agent();
    let deadline = Instant::now() + Duration::from_secs(40);
    let found = loop {
        let targets: Option<Value> = agent
            .get(format!("http://127.0.0.1:{port}/api/v1/targets"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_json().ok());
        if let Some(t) = targets {
            let active = t["data"]["activeTargets"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let own_up = active
                .iter()
                .any(|a| a["labels"]["job"] == json!("portolan") && a["health"] == json!("up"));
            let lab: Vec<Value> = active
                .into_iter()
                .filter(|a| a["labels"]["job"] == json!("lab"))
                .collect();
            if own_up && lab.len() == 3 {
                break lab;
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let log =
                std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            panic!(
                "Prometheus did not find the targets in time; its log ends:\n{}",
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    let exporter = found
        .iter()
        .find(|a| a["labels"]["instance"] == json!(format!("127.77.22.1:{one}")))
        .expect("the exporter's target");
    assert_eq!(exporter["labels"]["service"], json!("node exporter"));
    assert_eq!(exporter["labels"]["tier"], json!("prod"));
    assert_eq!(
        exporter["discoveredLabels"]["__meta_portolan_service_type"],
        json!("Prometheus")
    );
}

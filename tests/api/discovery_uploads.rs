//! nmap's XML (from the real nmap) and pushed observations, and a discovery a stop interrupted.

use std::process::Command;

use serde_json::{json, Value};

use crate::crash::call;
use crate::helpers::{assert_error, required_tool, spawn_app, system_program, ServerProcess};
use crate::listeners::{closed_port, Kind, Listener};

/// Debian's nmap (`.ci/run` installs it).
fn nmap() -> Option<String> {
    required_tool(system_program("nmap"), "nmap", "apt-get install nmap")
}

#[test]
fn real_nmap_output_is_imported_and_malformed_xml_is_refused() {
    let Some(nmap) = nmap() else { return };
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "127.77.10.0/29");
    let web = Listener::start("127.77.10.1", Kind::Http("Jellyfin"));
    let ssh = Listener::start("127.77.10.2", Kind::SshBanner);
    let closed = closed_port("127.77.10.3");
    let ports = format!("{},{},{closed}", web.port(), ssh.port());
    let out = Command::new(nmap)
        .args([
            "-sT",
            "-n",
            "-Pn",
            "-p",
            &ports,
            "-oX",
            "-",
            "127.77.10.1-3",
        ])
        .output()
        .expect("nmap runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.contains("<nmaprun"), "{xml}");

    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "nmap", "xml": xml}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["status"], json!("completed"));
    assert_eq!(r.data()["source"], json!("nmap"));
    let s = &r.data()["summary"];
    // -Pn: nmap reports every address up; the third has no open port.
    assert_eq!(s["hosts_created"], json!(3), "{s}");
    assert_eq!(s["ports_created"], json!(2), "{s}");
    assert_eq!(s["bindings_created"], json!(2), "{s}");
    let ports = app.get("/api/v1/ports?limit=0");
    let mut numbers: Vec<u64> = ports
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    numbers.sort();
    let mut expected = vec![u64::from(web.port()), u64::from(ssh.port())];
    expected.sort();
    assert_eq!(numbers, expected);

    // The raw XML works too, and a second import only sees.
    let again = app.raw_with(
        "POST",
        &format!("/api/v1/discoveries?network_id={net}"),
        Some(&app.key),
        Some(("application/xml", xml.as_bytes())),
        &[],
    );
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.data()["summary"]["hosts_created"], json!(0));
    assert_eq!(again.data()["summary"]["bindings_seen"], json!(2));

    let before = app.count("discoveries");
    for bad in [
        "<nmaprun><host></nmaprun>",
        "<html/>",
        "definitely not xml <",
    ] {
        let r = app.post(
            "/api/v1/discoveries",
            json!({"network_id": net, "source": "nmap", "xml": bad}),
        );
        assert_error(&r, 400, "VALIDATION_ERROR", Some("xml"));
    }
    assert_eq!(app.count("discoveries"), before);
}

#[test]
fn observations_that_break_a_binding_rule_are_skipped_and_counted() {
    let app = spawn_app();
    let net = app.network("lab");
    app.subnet(&net, "10.9.0.0/24");
    let nas = app.host(&net, "nas");
    let ip = app.ip(&nas, "10.9.0.5");
    // The host's unclaimed-ports service already holds the address without a port: a port
    // binding of the same service on that address breaks rule 4 (same-service conflicts).
    let unclaimed = app.post(
        "/api/v1/services",
        json!({"host_id": nas, "name": "Unclaimed Open Ports", "service_definition": "Unclaimed Open Ports",
               "bindings": [{"type": "IPAddress", "ip_address_id": ip}]}),
    );
    assert_eq!(unclaimed.status, 201, "{}", unclaimed.body);
    let bindings_before = app.count("bindings");

    let observations = json!([
        {"ip": "10.9.0.5", "ports": [{"number": 31337, "protocol": "Tcp"},
                                     {"number": 8123, "protocol": "Tcp", "service_name": "x".repeat(101)}]},
        {"ip": "10.9.0.7", "mac": "aa:bb:cc:dd:ee:01", "hostname": "printer.lan",
         "ports": [{"number": 631, "protocol": "Tcp", "service_type": "CUPS", "service_name": "office printer"},
                   {"number": 9100, "protocol": "Tcp"}]}
    ]);
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "observations", "observations": observations}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let s = &r.data()["summary"];
    assert_eq!(
        s["skipped"],
        json!(2),
        "a rule and an over-long name refuse two ports: {s}"
    );
    assert_eq!(s["hosts_seen"], json!(1));
    assert_eq!(s["hosts_created"], json!(1));
    assert_eq!(s["services_created"], json!(2), "{s}");
    let kept = app.get(&format!("/api/v1/services/{}", unclaimed.id()));
    assert_eq!(
        kept.data()["bindings"],
        unclaimed.data()["bindings"],
        "never written"
    );
    assert_eq!(app.count("bindings"), bindings_before + 2);

    let printers = app.get("/api/v1/hosts?q=printer.lan");
    let host = &printers.data()[0];
    assert_eq!(host["hostname"], json!("printer.lan"));
    assert_eq!(
        host["ip_addresses"][0]["mac_address"],
        json!("AA:BB:CC:DD:EE:01")
    );
    let services = app.get(&format!(
        "/api/v1/services?host_id={}",
        host["id"].as_str().unwrap()
    ));
    let names: Vec<&str> = services
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"office printer"), "{names:?}");
    let cups = services
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_definition"] == json!("CUPS"))
        .unwrap();
    assert_eq!(cups["source"]["details"]["confidence"], json!("Certain"));

    // A second host of the same machine found by its MAC goes on the same host.
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "observations",
               "observations": [{"ip": "10.9.0.8", "mac": "AA:BB:CC:DD:EE:01", "ports": []}]}),
    );
    assert_eq!(r.data()["summary"]["hosts_seen"], json!(1), "{}", r.body);
    assert_eq!(r.data()["summary"]["ip_addresses_created"], json!(1));

    let bad = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "observations",
               "observations": [{"ip": "10.9.0.300", "ports": []}]}),
    );
    assert_error(&bad, 400, "VALIDATION_ERROR", Some("observations[0].ip"));
    let bad = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "observations",
               "observations": [{"ip": "10.9.0.9", "ports": [{"number": 0, "protocol": "Tcp"}]}]}),
    );
    assert_error(
        &bad,
        400,
        "VALIDATION_ERROR",
        Some("observations[0].ports[0].number"),
    );
}

#[test]
fn a_scan_running_when_the_server_dies_is_failed_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let key = format!("scp_u_{}", "D7".repeat(16));
    let agent = ServerProcess::agent();
    let silent = Listener::start("127.77.11.1", Kind::Silent);
    let mut server = ServerProcess::start(dir.path(), &key);
    let url = |s: &ServerProcess, p: &str| format!("{}{p}", s.base);
    let (_, net) = call(
        &agent,
        "POST",
        &url(&server, "/api/v1/networks"),
        &key,
        &json!({"name": "lab"}),
    )
    .unwrap();
    let net = net["data"]["id"].as_str().unwrap().to_string();
    call(
        &agent,
        "POST",
        &url(&server, "/api/v1/subnets"),
        &key,
        &json!({"network_id": net, "cidr": "127.77.11.0/29", "name": "lab"}),
    )
    .unwrap();
    let (status, d) = call(
        &agent,
        "POST",
        &url(&server, "/api/v1/discoveries"),
        &key,
        &json!({"network_id": net, "targets": ["127.77.11.1"], "ports": [silent.port()],
                "options": {"timeout_ms": 10000, "concurrency": 1}}),
    )
    .unwrap();
    assert_eq!(status, 202, "{d}");
    let id = d["data"]["id"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(500));
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let mut server = ServerProcess::start(dir.path(), &key);
    let (status, d): (u16, Value) = call(
        &agent,
        "GET",
        &url(&server, &format!("/api/v1/discoveries/{id}")),
        &key,
        &json!(null),
    )
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(d["data"]["status"], json!("failed"));
    assert_eq!(d["data"]["error"], json!("interrupted by shutdown"));
    assert!(d["data"]["finished_at"].is_string());
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

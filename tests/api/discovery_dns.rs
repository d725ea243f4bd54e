//! Reverse DNS: a scan names the host it finds by its PTR record, answered by a real DNS server
//! (Debian's dnsmasq on a loopback port). The scanned address lives in a network namespace the
//! test makes (a veth pair on 10.253.80.0/30, inside a blackholed 10.253.80.0/24), since every
//! resolver answers `localhost` for loopback addresses. Everything is removed afterwards.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::agent_process::free_port;
use crate::helpers::{ip_command, required_tool, spawn_with, system_program};

const RANGE: &str = "10.253.80.0/24";
const TARGET: &str = "10.253.80.2";

struct Setup {
    ip: String,
    ns: String,
    veth: String,
    children: Vec<Child>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new(&self.ip)
            .args(["netns", "del", &self.ns])
            .status();
        let _ = Command::new(&self.ip)
            .args(["link", "del", &self.veth])
            .status();
        let _ = Command::new(&self.ip)
            .args(["route", "del", "blackhole", RANGE])
            .status();
    }
}

impl Setup {
    fn run(&self, args: &[&str]) {
        let out = Command::new(&self.ip).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_scan_names_the_host_it_finds_by_its_ptr_record() {
    let Some(ip) = ip_command() else { return };
    let Some(dnsmasq) = required_tool(
        ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"]
            .iter()
            .find(|p| std::path::Path::new(p).exists())
            .map(|p| p.to_string()),
        "dnsmasq",
        "apt-get install dnsmasq",
    ) else {
        return;
    };
    let Some(python) = required_tool(
        system_program("python3"),
        "python3",
        "apt-get install python3",
    ) else {
        return;
    };
    let n = std::process::id() % 100_000;
    let mut setup = Setup {
        ip,
        ns: format!("portolan-d{n}"),
        veth: format!("pdh{n}"),
        children: Vec::new(),
    };
    setup.run(&["route", "add", "blackhole", RANGE]);
    let peer = format!("pdn{n}");
    setup.run(&["netns", "add", &setup.ns]);
    setup.run(&[
        "link",
        "add",
        &setup.veth,
        "type",
        "veth",
        "peer",
        "name",
        &peer,
    ]);
    setup.run(&["link", "set", &peer, "netns", &setup.ns]);
    setup.run(&["addr", "add", "10.253.80.1/30", "dev", &setup.veth]);
    setup.run(&["link", "set", &setup.veth, "up"]);
    setup.run(&[
        "-n",
        &setup.ns,
        "addr",
        "add",
        &format!("{TARGET}/30"),
        "dev",
        &peer,
    ]);
    setup.run(&["-n", &setup.ns, "link", "set", &peer, "up"]);
    let web = Command::new(&setup.ip)
        .args([
            "netns",
            "exec",
            &setup.ns,
            &python,
            "-m",
            "http.server",
            "8080",
            "--bind",
            TARGET,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    setup.children.push(web);

    let dns_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let dns = Command::new(dnsmasq)
        .args([
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
        ])
        .args([
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--user=root",
        ])
        .arg(format!("--port={dns_port}"))
        .arg(format!(
            "--pid-file={}",
            dir.path().join("dnsmasq.pid").display()
        ))
        .arg("--ptr-record=2.80.253.10.in-addr.arpa,web.lab.test")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    setup.children.push(dns);

    let app =
        spawn_with(|c| c.dns_servers = vec![format!("127.0.0.1:{dns_port}").parse().unwrap()]);
    let net = app.network("lab");
    app.subnet(&net, "10.253.80.0/30");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect_timeout(
        &format!("{TARGET}:8080").parse().unwrap(),
        Duration::from_millis(300),
    )
    .is_err()
    {
        assert!(Instant::now() < deadline, "the target never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "targets": [TARGET], "ports": [8080], "options": {"timeout_ms": 1000}}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = app.get(&format!("/api/v1/discoveries/{id}"));
        if d.data()["status"] == "completed" {
            break;
        }
        assert!(Instant::now() < deadline, "{}", d.body);
        std::thread::sleep(Duration::from_millis(100));
    }
    let hosts = app.get(&format!("/api/v1/hosts?network_id={net}"));
    let host = &hosts.data()[0];
    assert_eq!(host["name"], "web.lab.test", "{}", hosts.body);
    assert_eq!(host["hostname"], "web.lab.test");
}

//! An agent inside a network namespace scans a segment only it can reach, and reports its ARP
//! neighbours. The test makes two namespaces (the agent's, joined to this machine by a veth pair
//! on 10.253.79.0/30, and a target's, joined to the agent's by a veth pair on 10.253.78.0/24),
//! blackholes 10.253.78.0/24 on this machine first, and removes all of it afterwards, also when
//! it fails.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::agents::agent;
use crate::helpers::{ip_command, required_tool, spawn_with};

const SEGMENT: &str = "10.253.78.0/24";
const AGENT_SIDE: &str = "10.253.78.1/24";
const TARGET: &str = "10.253.78.2";
const HOST_LINK: &str = "10.253.79.1";

/// Everything the test made; removed when dropped.
struct Lab {
    ip: String,
    agent_ns: String,
    target_ns: String,
    host_veth: String,
    processes: Vec<Child>,
}

impl Lab {
    fn run(&self, args: &[&str]) {
        let out = Command::new(&self.ip).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn build(ip: String) -> Lab {
        let n = std::process::id() % 100_000;
        let lab = Lab {
            ip,
            agent_ns: format!("portolan-a{n}"),
            target_ns: format!("portolan-t{n}"),
            host_veth: format!("pth{n}"),
            processes: Vec::new(),
        };
        // First: nothing for the segment may leave this machine, whatever fails below.
        lab.run(&["route", "add", "blackhole", SEGMENT]);
        let (a, t) = (lab.agent_ns.as_str(), lab.target_ns.as_str());
        let (peer, seg_a, seg_t) = (format!("pta{n}"), format!("pts{n}"), format!("ptt{n}"));
        lab.run(&["netns", "add", a]);
        lab.run(&["netns", "add", t]);
        lab.run(&[
            "link",
            "add",
            &lab.host_veth,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ]);
        lab.run(&["link", "set", &peer, "netns", a]);
        lab.run(&[
            "addr",
            "add",
            &format!("{HOST_LINK}/30"),
            "dev",
            &lab.host_veth,
        ]);
        lab.run(&["link", "set", &lab.host_veth, "up"]);
        lab.run(&["-n", a, "addr", "add", "10.253.79.2/30", "dev", &peer]);
        lab.run(&["-n", a, "link", "set", &peer, "up"]);
        lab.run(&["-n", a, "link", "set", "lo", "up"]);
        lab.run(&[
            "link", "add", &seg_a, "type", "veth", "peer", "name", &seg_t,
        ]);
        lab.run(&["link", "set", &seg_a, "netns", a]);
        lab.run(&["link", "set", &seg_t, "netns", t]);
        lab.run(&["-n", a, "addr", "add", AGENT_SIDE, "dev", &seg_a]);
        lab.run(&["-n", a, "link", "set", &seg_a, "up"]);
        lab.run(&[
            "-n",
            t,
            "addr",
            "add",
            &format!("{TARGET}/24"),
            "dev",
            &seg_t,
        ]);
        lab.run(&["-n", t, "link", "set", &seg_t, "up"]);
        lab.run(&["-n", t, "link", "set", "lo", "up"]);
        lab
    }

    /// `command` inside namespace `ns`, in the background until the lab is dropped.
    fn spawn_in(&mut self, ns: &str, command: &[&str]) {
        let child = Command::new(&self.ip)
            .args(["netns", "exec", ns])
            .args(command)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.processes.push(child);
    }

    fn mac_of_host_side(&self) -> String {
        std::fs::read_to_string(format!("/sys/class/net/{}/address", self.host_veth))
            .unwrap()
            .trim()
            .to_uppercase()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for p in &mut self.processes {
            let _ = p.kill();
            let _ = p.wait();
        }
        for ns in [&self.agent_ns, &self.target_ns] {
            let _ = Command::new(&self.ip).args(["netns", "del", ns]).status();
        }
        let _ = Command::new(&self.ip)
            .args(["link", "del", &self.host_veth])
            .status();
        let _ = Command::new(&self.ip)
            .args(["route", "del", "blackhole", SEGMENT])
            .status();
    }
}

#[test]
fn an_agent_scans_a_segment_only_it_reaches_and_reports_its_neighbours() {
    let Some(ip) = ip_command() else { return };
    let Some(python) = required_tool(
        crate::helpers::system_program("python3"),
        "python3",
        "apt-get install python3",
    ) else {
        return;
    };
    let mut lab = Lab::build(ip);
    let app = spawn_with(|c| c.listen = format!("{HOST_LINK}:0").parse().unwrap());
    let net = app.network("remote");
    app.subnet(&net, SEGMENT);
    let (agent_id, token) = agent(&app, &net, "segment-agent");

    let target_ns = lab.target_ns.clone();
    lab.spawn_in(
        &target_ns,
        &[&python, "-m", "http.server", "8080", "--bind", TARGET],
    );
    let agent_ns = lab.agent_ns.clone();
    let exe = env!("CARGO_BIN_EXE_portolan");
    lab.spawn_in(
        &agent_ns,
        &[
            exe,
            "agent",
            "--server",
            &app.base,
            "--token",
            &token,
            "--scan",
            "--interval",
            "1",
            "--docker",
            "none",
            "--machine-id",
            "segment-agent-test",
        ],
    );
    // The agent has reported (and so announced --scan).
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.get(&format!("/api/v1/agents/{agent_id}")).data()["capabilities"]["scan"] != true {
        assert!(Instant::now() < deadline, "the agent never reported");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Something listens in the target's namespace before the scan starts.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let probe = Command::new(&lab.ip)
            .args([
                "netns",
                "exec",
                &target_ns,
                &python,
                "-c",
                &format!("import socket; socket.create_connection(('{TARGET}', 8080), 1)"),
            ])
            .status()
            .unwrap();
        if probe.success() {
            break;
        }
        assert!(Instant::now() < deadline, "the target never listened");
        std::thread::sleep(Duration::from_millis(100));
    }

    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "targets": [TARGET], "ports": [8080, 8081], "agent_id": agent_id,
               "options": {"timeout_ms": 1000}}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.data()["agent_id"], json!(agent_id));
    let id = r.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let d = app.get(&format!("/api/v1/discoveries/{id}"));
        if !matches!(d.data()["status"].as_str(), Some("queued" | "running")) {
            break d;
        }
        assert!(
            Instant::now() < deadline,
            "the job never finished: {}",
            d.body
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(done.data()["status"], "completed", "{}", done.body);
    assert_eq!(done.data()["progress"]["open_found"], 1, "{}", done.body);
    let found = app.get(&format!("/api/v1/ip-addresses?network_id={net}&limit=100"));
    let target = found
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ip_address"] == TARGET)
        .cloned()
        .unwrap_or_else(|| panic!("{TARGET} not found: {}", found.body));
    let host = app.get(&format!(
        "/api/v1/hosts/{}",
        target["host_id"].as_str().unwrap()
    ));
    let ports = host.data()["ports"].to_string();
    assert!(ports.contains("8080") && !ports.contains("8081"), "{ports}");

    // The agent's ARP table: this machine's end of the link is a neighbour, with its MAC.
    let mac = lab.mac_of_host_side();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let all = app.get(&format!("/api/v1/ip-addresses?network_id={net}&limit=100"));
        let neighbour = all
            .data()
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["ip_address"] == HOST_LINK)
            .cloned();
        if let Some(n) = neighbour {
            assert_eq!(n["mac_address"], json!(mac));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no neighbour {HOST_LINK}: {}",
            all.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // A job for an agent that does not scan is refused; one whose agent goes silent fails.
    let (idle, _) = agent(&app, &net, "idle");
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "targets": [TARGET], "ports": [8080], "agent_id": idle}),
    );
    crate::helpers::assert_error(&r, 400, "VALIDATION_ERROR", Some("agent_id"));
    drop(lab);
}

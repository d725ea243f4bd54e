//! The real `portolan agent` process: it reports the listeners of programs the test starts,
//! with their names; a refused token and an absent server end `--once` with a clear failure.

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::agents::agent;
use crate::helpers::{required_tool, spawn_app, system_program, TestApp};

/// A program of the machine's listening on a loopback port the test chose; killed when dropped.
pub struct Program(pub Child);

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `127.0.0.1:port`.
pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `portolan agent --once` against `app`, with these extra arguments.
pub fn run_agent(app: &TestApp, token: &str, machine: &str, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args([
            "agent",
            "--once",
            "--include-loopback",
            "--server",
            &app.base,
        ])
        .args(["--token", token, "--machine-id", machine])
        .args(extra)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("the agent runs")
}

pub fn services(app: &TestApp, host: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/services?host_id={host}&limit=200"))
        .data()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn listeners_of_programs_the_test_starts_appear_with_their_names() {
    let Some(python) = required_tool(
        system_program("python3"),
        "python3",
        "apt-get install python3",
    ) else {
        return;
    };
    let app = spawn_app();
    let net = app.network("lab");
    let (agent_id, token) = agent(&app, &net, "this-machine");
    let port = free_port();
    let _web = Program(
        Command::new(python)
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);
    let out = run_agent(&app, &token, "agent-process-test-1", &["--docker", "none"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("report:"), "one line per report: {log}");

    let host = app.get(&format!("/api/v1/agents/{agent_id}")).data()["host_id"]
        .as_str()
        .unwrap()
        .to_string();
    let all = services(&app, &host);
    let python = all
        .iter()
        .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with("python3")))
        .unwrap_or_else(|| panic!("no python3 service in {all:?}"));
    assert_eq!(python["process"]["name"], "python3");
    let port_ids: Vec<&str> = python["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["port_id"].as_str())
        .collect();
    // Other python3 programs of the machine may listen too: find the test's own port.
    let ours = port_ids
        .iter()
        .find(|id| app.get(&format!("/api/v1/ports/{id}")).data()["number"] == u64::from(port))
        .unwrap_or_else(|| panic!("port {port} is not among {port_ids:?}"))
        .to_string();
    let loopback = app.get(&format!("/api/v1/hosts/{host}")).data()["ip_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["ip_address"] == "127.0.0.1");
    assert!(loopback, "--include-loopback reports lo");

    // The program stops: its service is closed at the next report.
    drop(_web);
    let out = run_agent(&app, &token, "agent-process-test-1", &["--docker", "none"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = python["id"].as_str().unwrap();
    let still = services(&app, &host).iter().any(|s| s["id"] == id);
    let still_bound = still
        && app.get(&format!("/api/v1/services/{id}")).data()["bindings"]
            .to_string()
            .contains(&ours);
    assert!(!still_bound, "the stopped program's port is closed");
}

#[test]
fn a_refused_token_or_an_absent_server_ends_once_with_a_failure() {
    let app = spawn_app();
    let wrong = format!("scp_a_{}", "Z".repeat(32));
    let out = run_agent(&app, &wrong, "m", &["--docker", "none"]);
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("refused this agent (401)"), "{log}");

    let out = run_agent(&app, "scp_u_not-an-agent-token", "m", &["--docker", "none"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("agent token"));

    let closed = format!("http://127.0.0.1:{}", free_port());
    let out = Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["agent", "--once", "--docker", "none", "--machine-id", "m"])
        .args(["--server", &closed, "--token", &wrong])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&closed));
    assert_eq!(app.count("hosts"), 0);
}

#[test]
fn the_server_hands_out_its_own_executable_for_agents() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let key = format!("scp_u_{}", "D1".repeat(16));
    let server = crate::helpers::ServerProcess::start(dir.path(), &key);
    // A debug build is some hundred megabytes.
    let client: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let mut res = client
        .get(format!("{}/download/portolan", server.base))
        .call()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"portolan\""
    );
    let hex = header("x-portolan-sha256");
    assert!(header("digest").starts_with("sha-256="));
    let body = res
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap();
    let own = std::fs::read(env!("CARGO_BIN_EXE_portolan")).unwrap();
    assert!(body == own, "the download is the server's executable");
    let digest: String = sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, hex);
    let copy = dir.path().join("portolan-agent");
    std::fs::write(&copy, &body).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o700)).unwrap();
    let help = Command::new(&copy)
        .args(["agent", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--token"));
}

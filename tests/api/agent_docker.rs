//! A real Docker engine and a real compose project of two services, reported by a real agent:
//! compose names, published-port bindings and container state; a stopped container stays
//! `exited`, a removed one is closed in history. Every container, network and image the test
//! makes is removed, also when it fails.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::agent_process::{free_port, run_agent, services, wait_for_port};
use crate::agents::agent;
use crate::helpers::{required_tool, spawn_app, system_program};

/// The engine answers, `docker-compose` and a static busybox are there.
pub fn engine() -> Option<(String, String, String)> {
    let docker = required_tool(
        system_program("docker").or_else(|| {
            std::path::Path::new("/usr/local/bin/docker")
                .exists()
                .then(|| "/usr/local/bin/docker".to_string())
        }),
        "docker",
        "apt-get install docker.io",
    )?;
    let compose = required_tool(
        system_program("docker-compose"),
        "docker-compose",
        "apt-get install docker-compose",
    )?;
    let busybox = required_tool(
        std::path::Path::new("/bin/busybox")
            .exists()
            .then(|| "/bin/busybox".to_string()),
        "busybox",
        "apt-get install busybox-static",
    )?;
    let answers = Command::new(&docker)
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let running = answers.then_some(());
    required_tool(
        running.map(|_| String::new()),
        "a running dockerd",
        "start dockerd (.ci/run does)",
    )?;
    Some((docker, compose, busybox))
}

/// The project, its image and its files; all removed when dropped.
struct Project {
    docker: String,
    compose: String,
    name: String,
    image: String,
    dir: tempfile::TempDir,
}

impl Project {
    fn compose(&self, args: &[&str]) {
        let file: PathBuf = self.dir.path().join("docker-compose.yml");
        let out = Command::new(&self.compose)
            .arg("-p")
            .arg(&self.name)
            .arg("-f")
            .arg(&file)
            .args(args)
            .output()
            .expect("docker-compose runs");
        assert!(
            out.status.success(),
            "docker-compose {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let file = self.dir.path().join("docker-compose.yml");
        let _ = Command::new(&self.compose)
            .arg("-p")
            .arg(&self.name)
            .arg("-f")
            .arg(&file)
            .args(["down", "--volumes", "--remove-orphans", "--timeout", "1"])
            .output();
        let _ = Command::new(&self.docker)
            .args(["rmi", "-f", &self.image])
            .output();
    }
}

/// A busybox image made with `docker import` (no registry is reachable), and a compose project
/// of a web server publishing `port` on loopback and a sleeper.
fn project(docker: &str, compose: &str, busybox: &str, port: u16) -> Project {
    let unique = format!("{}{}", std::process::id(), free_port());
    let project = Project {
        docker: docker.to_string(),
        compose: compose.to_string(),
        name: format!("portolantest{unique}"),
        image: format!("portolan-test/busybox:{unique}"),
        dir: tempfile::tempdir().unwrap(),
    };
    let root = project.dir.path().join("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
    let archive = project.dir.path().join("root.tar");
    let packed = Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&archive)
        .arg(".")
        .status()
        .unwrap();
    assert!(packed.success());
    let imported = Command::new(docker)
        .args(["import"])
        .arg(&archive)
        .arg(&project.image)
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let file = format!(
        "version: \"2.4\"\nservices:\n  web:\n    image: {image}\n    command: [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"80\"]\n    ports: [\"127.0.0.1:{port}:80\"]\n  cache:\n    image: {image}\n    command: [\"/bin/busybox\", \"sleep\", \"3600\"]\n",
        image = project.image
    );
    std::fs::write(project.dir.path().join("docker-compose.yml"), file).unwrap();
    project
}

fn named<'a>(all: &'a [Value], name: &str) -> Option<&'a Value> {
    all.iter().find(|s| s["name"] == name)
}

#[test]
fn a_compose_project_is_reported_with_its_names_ports_and_states() {
    let Some((docker, compose, busybox)) = engine() else {
        return;
    };
    let app = spawn_app();
    let net = app.network("lab");
    let (agent_id, token) = agent(&app, &net, "docker-host");
    let port = free_port();
    let project = project(&docker, &compose, &busybox, port);
    project.compose(&["up", "-d"]);
    wait_for_port(port);

    let machine = format!("docker-test-{}", project.name);
    let report = |app: &crate::helpers::TestApp| {
        let out = run_agent(
            app,
            &token,
            &machine,
            &["--docker", "unix:///var/run/docker.sock"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    report(&app);
    let agent_record = app.get(&format!("/api/v1/agents/{agent_id}"));
    assert_eq!(agent_record.data()["capabilities"]["docker"], true);
    let host = agent_record.data()["host_id"].as_str().unwrap().to_string();
    let all = services(&app, &host);
    let web = named(&all, "web").unwrap_or_else(|| panic!("no web in {all:?}"));
    let container = &web["container"];
    assert_eq!(container["compose_project"], project.name.as_str());
    assert_eq!(container["compose_service"], "web");
    assert_eq!(container["state"], "running");
    assert_eq!(container["image"], project.image.as_str());
    let bindings = web["bindings"].as_array().unwrap();
    assert_eq!(bindings.len(), 1, "{web}");
    let published = app.get(&format!(
        "/api/v1/ports/{}",
        bindings[0]["port_id"].as_str().unwrap()
    ));
    assert_eq!(published.data()["number"], u64::from(port));
    assert!(
        bindings[0]["ip_address_id"].is_string(),
        "published on 127.0.0.1 only"
    );
    let cache = named(&all, "cache").expect("the sleeper is a service too");
    assert_eq!(cache["bindings"].as_array().unwrap().len(), 0);
    assert!(
        named(&all, "docker-proxy").is_none(),
        "the engine's forwarder is folded into the container: {all:?}"
    );

    // Stopped: the same service, exited, keeping its binding.
    project.compose(&["stop", "--timeout", "1", "web"]);
    report(&app);
    let all = services(&app, &host);
    let stopped = named(&all, "web").unwrap();
    assert_eq!(stopped["id"], web["id"]);
    assert_eq!(stopped["container"]["state"], "exited");
    assert_eq!(stopped["bindings"].as_array().unwrap().len(), 1);

    // Removed: closed, and remembered.
    project.compose(&["rm", "-f", "web"]);
    report(&app);
    let id = web["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/services/{id}")).status, 404);
    let history = app.get(&format!("/api/v1/services/{id}/history"));
    assert!(!history.data().as_array().unwrap().is_empty());
    assert!(named(&services(&app, &host), "cache").is_some());
}

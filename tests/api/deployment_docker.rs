//! Deployments run by real agents (`portolan agent --deploy`) with a real Docker engine and
//! Debian's `docker-compose`, of an image made by `docker import` from busybox-static whose
//! `httpd` answers the health URL: healthy and in the inventory, a taken port refused before
//! any container starts, a failed health check rolled back (the previous container answers
//! again) or taken down, sequential over two hosts stopping at the first failure, undeploy, and
//! a privileged file refused. Every container, image, file and agent the test makes is removed,
//! also when it fails.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::agent_docker::engine;
use crate::agent_process::free_port;
use crate::agents::agent;
use crate::helpers::{assert_error, spawn_app, TestApp};

/// The image, the agents and the projects of one test; all removed when dropped.
struct Lab {
    docker: String,
    image: String,
    tag: String,
    dir: tempfile::TempDir,
    agents: Vec<Child>,
    projects: Vec<String>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for agent in &mut self.agents {
            let _ = agent.kill();
            let _ = agent.wait();
        }
        for project in &self.projects {
            for id in containers(&self.docker, project) {
                let _ = Command::new(&self.docker).args(["rm", "-f", &id]).output();
            }
            let _ = Command::new(&self.docker)
                .args(["network", "rm", &format!("{project}_default")])
                .output();
        }
        let _ = Command::new(&self.docker)
            .args(["rmi", "-f", &format!("{}:{}", self.image, self.tag)])
            .output();
    }
}

/// The ids of a compose project's containers, running or not.
fn containers(docker: &str, project: &str) -> Vec<String> {
    let out = Command::new(docker)
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=com.docker.compose.project={project}"))
        .output()
        .expect("docker ps runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

impl Lab {
    /// An image whose `httpd` serves `/www/index.html`.
    fn new(docker: &str, busybox: &str) -> Lab {
        let unique = format!("{}x{}", std::process::id(), free_port());
        let lab = Lab {
            docker: docker.to_string(),
            image: "portolan-test/web".into(),
            tag: unique,
            dir: tempfile::tempdir().unwrap(),
            agents: Vec::new(),
            projects: Vec::new(),
        };
        let root = lab.dir.path().join("root");
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("www")).unwrap();
        std::fs::copy(busybox, root.join("bin/busybox")).unwrap();
        std::fs::write(root.join("www/index.html"), "portolan deployed me\n").unwrap();
        let archive = lab.dir.path().join("root.tar");
        let packed = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["-cf"])
            .arg(&archive)
            .arg(".")
            .status()
            .unwrap();
        assert!(packed.success());
        let imported = Command::new(docker)
            .arg("import")
            .arg(&archive)
            .arg(format!("{}:{}", lab.image, lab.tag))
            .output()
            .unwrap();
        assert!(
            imported.status.success(),
            "{}",
            String::from_utf8_lossy(&imported.stderr)
        );
        lab
    }

    /// A running `portolan agent --deploy` for a host of its own; answers its host id.
    fn agent(&mut self, app: &TestApp, net: &str, name: &str, extra: &[&str]) -> String {
        let (id, token) = agent(app, net, name);
        let data = self.dir.path().join(format!("agent-{name}"));
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_portolan"))
            .args(["agent", "--interval", "1", "--include-loopback", "--deploy"])
            .args(["--server", &app.base, "--token", &token])
            .args(["--machine-id", &format!("deploy-{}-{name}", self.tag)])
            .arg("--data-dir")
            .arg(&data)
            .args(["--docker", "unix:///var/run/docker.sock"])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the agent starts");
        self.agents.push(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let a = app.get(&format!("/api/v1/agents/{id}"));
            if a.data()["capabilities"]["deploy"] == true && a.data()["host_id"].is_string() {
                return a.data()["host_id"].as_str().unwrap().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "the agent never reported: {}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        out
    }

    /// A template whose `web` service serves on `INNER_PORT` inside (80 answers, 81 does not)
    /// and publishes `127.0.0.1:WEB_PORT:80`.
    fn template(&mut self, app: &TestApp, name: &str, port: u16, extra: &str) -> String {
        let name = format!("{name}{}", self.tag);
        self.projects.push(format!("portolan-{name}"));
        let r = app.post(
            "/api/v1/service-templates",
            json!({
                "name": name, "containerImageId": self.image, "imageTag": self.tag,
                "composeTemplate": format!(
                    "services:\n  web:\n    command: [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"${{INNER_PORT}}\", \"-h\", \"/www\"]\n    ports: [\"127.0.0.1:${{WEB_PORT}}:80\"]\n    stop_grace_period: 1s\n{extra}"
                ),
                "baseEnv": {"WEB_PORT": port.to_string(), "INNER_PORT": "80"},
                "healthCheckUrl": "http://127.0.0.1:${WEB_PORT}/index.html",
                "healthWaitMs": 200, "healthRetries": 4, "healthIntervalMs": 300,
                "deployStrategy": "sequential",
            }),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }
}

/// Waits for the deployment to finish and answers it.
fn finished(app: &TestApp, lab: &Lab, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let d = app.get(&format!("/api/v1/deployments/{id}")).data().clone();
        if !matches!(d["status"].as_str(), Some("queued" | "running")) {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "never finished: {d}\n{}",
            lab.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn answers(port: u16) -> Option<String> {
    let mut res = ureq::get(format!("http://127.0.0.1:{port}/index.html"))
        .config()
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .call()
        .ok()?;
    res.body_mut().read_to_string().ok()
}

#[test]
fn a_template_is_deployed_checked_rolled_back_refused_and_undeployed_by_a_real_agent() {
    let Some((docker, _, busybox)) = engine() else {
        return;
    };
    let app = spawn_app();
    let net = app.network("lab");
    let mut lab = Lab::new(&docker, &busybox);
    let host = lab.agent(&app, &net, "one", &[]);
    let port = free_port();
    let web = lab.template(&app, "web", port, "");

    // Healthy: followed live on the event stream, answering, in the inventory.
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": web, "host_ids": [host]}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.id();
    let events = app.raw(
        "GET",
        &format!("/api/v1/deployments/{id}/events"),
        Some(&app.key),
        None,
    );
    let stream = events.body.as_str().unwrap_or_default().to_string();
    assert!(stream.contains("event: progress"), "{stream}");
    assert!(
        stream
            .trim_end()
            .rsplit("\n\n")
            .next()
            .unwrap()
            .starts_with("event: finished"),
        "{stream}"
    );
    let d = finished(&app, &lab, &id);
    assert_eq!(d["status"], "healthy", "{d}\n{}", lab.logs());
    let target = &d["targets"][0];
    assert!(
        target["log"].as_str().unwrap().contains("health check"),
        "{target}"
    );
    assert!(target["attempts"].as_i64().unwrap() >= 1);
    assert_eq!(answers(port).as_deref(), Some("portolan deployed me\n"));
    let service_id = target["service_id"].as_str().unwrap().to_string();
    let service = app.get(&format!("/api/v1/services/{service_id}"));
    assert_eq!(service.data()["source"]["type"], "Deployment");
    assert_eq!(
        service.data()["source"]["details"]["template_id"],
        web.as_str()
    );
    let bindings = service.data()["bindings"].as_array().unwrap().clone();
    assert_eq!(bindings.len(), 1);
    let bound = app.get(&format!(
        "/api/v1/ports/{}",
        bindings[0]["port_id"].as_str().unwrap()
    ));
    assert_eq!(bound.data()["number"], u64::from(port));
    assert!(
        bindings[0]["ip_address_id"].is_string(),
        "published on 127.0.0.1: P(port,x)"
    );
    // The agent's next report names the container on the deployed service, and makes no other.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = app.get(&format!("/api/v1/services/{service_id}"));
        if s.data()["container"]["state"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "no container on {}", s.body);
        std::thread::sleep(Duration::from_millis(200));
    }
    let all = app.get(&format!("/api/v1/services?host_id={host}&limit=200"));
    let deployed: Vec<&Value> = all
        .data()
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["container"]["compose_project"] == format!("portolan-web{}", lab.tag))
        .collect();
    assert_eq!(deployed.len(), 1, "{}", all.body);
    let file = lab
        .dir
        .path()
        .join(format!("agent-one/stacks/{web}/compose.yaml"));
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains(&format!("{}:{}", lab.image, lab.tag)));

    // Another template on the same port: refused before any container starts.
    let other = lab.template(&app, "other", port, "");
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": other, "host_ids": [host]}),
    );
    assert_error(
        &r,
        409,
        "CONFLICT",
        Some("host_ids[0].services[0].bindings[0]"),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(containers(&docker, &format!("portolan-other{}", lab.tag)).is_empty());

    // A new version whose server does not answer: rolled back, the previous container answers.
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": web, "host_ids": [host], "env": {"INNER_PORT": "81"}}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let d = finished(&app, &lab, &r.id());
    assert_eq!(d["status"], "rolled_back", "{d}");
    assert!(
        d["targets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("unhealthy"),
        "{d}"
    );
    assert!(
        d["targets"][0]["log"]
            .as_str()
            .unwrap()
            .contains("rolling back"),
        "{d}"
    );
    assert_eq!(answers(port).as_deref(), Some("portolan deployed me\n"));
    let service = app.get(&format!("/api/v1/services/{service_id}"));
    assert_eq!(
        service.data()["source"]["details"]["deployment_id"],
        id.as_str(),
        "restored"
    );

    // Without a healthy deployment to go back to: taken down.
    let broken_port = free_port();
    let broken = lab.template(&app, "broken", broken_port, "");
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": broken, "host_ids": [host], "env": {"INNER_PORT": "81"}}),
    );
    let d = finished(&app, &lab, &r.id());
    assert_eq!(d["status"], "failed", "{d}");
    assert!(containers(&docker, &format!("portolan-broken{}", lab.tag)).is_empty());
    assert!(d["targets"][0]["service_id"].is_string());
    let gone = d["targets"][0]["service_id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/services/{gone}")).status,
        404,
        "its reservation is closed"
    );

    // A privileged file: refused by an agent without --deploy-unrestricted.
    let root = lab.template(&app, "root", free_port(), "    privileged: true\n");
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": root, "host_ids": [host]}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let d = finished(&app, &lab, &r.id());
    assert_eq!(d["status"], "failed", "{d}");
    let error = d["targets"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("privileged") && error.contains("--deploy-unrestricted"),
        "{error}"
    );
    assert!(containers(&docker, &format!("portolan-root{}", lab.tag)).is_empty());

    // Undeploy: the containers go, the service is closed and remembered.
    let r = app.post(&format!("/api/v1/deployments/{id}/undeploy"), json!({}));
    assert_eq!(r.status, 202, "{}", r.body);
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.get(&format!("/api/v1/deployments/{id}")).data()["status"] != "undeployed" {
        assert!(
            Instant::now() < deadline,
            "never undeployed: {}",
            lab.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(containers(&docker, &format!("portolan-web{}", lab.tag)).is_empty());
    assert!(answers(port).is_none());
    assert_eq!(
        app.get(&format!("/api/v1/services/{service_id}")).status,
        404
    );
    let history = app.get(&format!("/api/v1/services/{service_id}/history"));
    assert!(!history.data().as_array().unwrap().is_empty());
}

#[test]
fn sequential_over_two_hosts_stops_at_the_first_failure() {
    let Some((docker, _, busybox)) = engine() else {
        return;
    };
    let app = spawn_app();
    let net = app.network("lab");
    let mut lab = Lab::new(&docker, &busybox);
    let first = lab.agent(&app, &net, "first", &[]);
    let second = lab.agent(&app, &net, "second", &[]);
    assert_ne!(
        first, second,
        "each agent has its own machine id, so its own host"
    );
    let tpl = lab.template(&app, "seq", free_port(), "");
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": tpl, "host_ids": [first, second], "env": {"INNER_PORT": "81"}}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let d = finished(&app, &lab, &r.id());
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["targets"][0]["status"], "failed");
    assert_eq!(d["targets"][1]["status"], "skipped");
    assert!(
        d["targets"][1]["started_at"].is_null(),
        "the second host never started"
    );
    assert!(containers(&docker, &format!("portolan-seq{}", lab.tag)).is_empty());
    assert!(!lab
        .dir
        .path()
        .join(format!("agent-second/stacks/{tpl}"))
        .exists());
}

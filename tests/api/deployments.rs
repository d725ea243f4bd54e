//! Deployments through the server's side of the protocol, with agents played over HTTP: every
//! check before anything runs (nothing written on a refusal), plan and apply, the reservation
//! in the inventory, jobs on the long poll, sequential skipping, cancel, undeploy, the journal
//! and the event stream. The real agent and engine are in `deployment_docker`.

use serde_json::{json, Value};

use crate::agents::{agent, minimal_report};
use crate::helpers::{assert_error, spawn_app, TestApp};

/// An agent that reported its host with these capabilities: `(agent id, token, host id)`.
pub fn deploying_host(
    app: &TestApp,
    net: &str,
    name: &str,
    capabilities: &str,
) -> (String, String, String) {
    let (id, token) = agent(app, net, name);
    let body = serde_json::to_vec(&minimal_report(&format!("machine-{name}"))).unwrap();
    let r = app.raw_with(
        "POST",
        "/api/v1/agent/report",
        Some(&token),
        Some(("application/json", &body)),
        &[("X-Portolan-Agent-Capabilities", capabilities)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let host = r.data()["host_id"].as_str().unwrap().to_string();
    (id, token, host)
}

fn template(app: &TestApp, name: &str, extra: Value) -> String {
    let mut body = json!({
        "name": name, "containerImageId": "local/web", "imageTag": "1",
        "composeTemplate": "services:\n  web:\n    ports: [\"${WEB_PORT}:80\"]\n",
        "baseEnv": {"WEB_PORT": "18080"},
        "healthCheckUrl": "http://127.0.0.1:${WEB_PORT}/",
        "healthWaitMs": 0, "healthRetries": 2, "healthIntervalMs": 100,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app.post("/api/v1/service-templates", body);
    assert_eq!(r.status, 201, "{}", r.body);
    r.id()
}

fn take_job(app: &TestApp, token: &str) -> Value {
    let r = app.call("GET", "/api/v1/agent/jobs?wait=0", token, None);
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().clone()
}

fn finish(app: &TestApp, token: &str, job: &Value, status: &str) -> crate::helpers::Resp {
    let id = job["id"].as_str().unwrap();
    let r = app.call(
        "POST",
        &format!("/api/v1/agent/deployment-jobs/{id}/result"),
        token,
        Some(
            &json!({"status": status, "log": "compose said things", "attempts": 1,
                     "error": (status != "healthy").then_some("health check failed")}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r
}

fn services_on(app: &TestApp, host: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/services?host_id={host}"))
        .data()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn every_check_runs_before_anything_and_a_refusal_writes_nothing() {
    let app = spawn_app();
    let net = app.network("lab");
    let (_, _, host) = deploying_host(&app, &net, "deployer", "docker,deploy");
    let (_, _, scan_only) = deploying_host(&app, &net, "scanner", "scan");
    let bare = app.host(&net, "bare");
    let tpl = template(&app, "web", json!({}));
    let before = app.snapshot();
    let post = |body: Value| app.post("/api/v1/deployments", body);

    assert_error(
        &post(json!({"template_id": tpl, "host_ids": []})),
        400,
        "VALIDATION_ERROR",
        Some("host_ids"),
    );
    let unknown = "0190a000-0000-7000-8000-000000000000";
    assert_error(
        &post(json!({"template_id": unknown, "host_ids": [host]})),
        400,
        "VALIDATION_ERROR",
        Some("template_id"),
    );
    assert_error(
        &post(json!({"template_id": tpl, "host_ids": [host, unknown]})),
        400,
        "VALIDATION_ERROR",
        Some("host_ids[1]"),
    );
    let r = post(json!({"template_id": tpl, "host_ids": [host, scan_only]}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("host_ids[1]"));
    assert!(r.body.to_string().contains("--deploy"), "{}", r.body);
    let r = post(json!({"template_id": tpl, "host_ids": [bare]}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("host_ids[0]"));
    assert!(r.body.to_string().contains("no agent"), "{}", r.body);
    assert_error(
        &post(json!({"template_id": tpl, "host_ids": [host, host]})),
        400,
        "VALIDATION_ERROR",
        Some("host_ids[1]"),
    );
    assert_error(
        &post(json!({"template_id": tpl, "host_ids": [host], "env": {"1X": "a"}})),
        400,
        "VALIDATION_ERROR",
        Some("env"),
    );
    assert_error(
        &post(json!({"template_id": tpl, "host_ids": [host], "mode": "later"})),
        400,
        "VALIDATION_ERROR",
        Some("mode"),
    );

    // Variables without a value, named in params.missing.
    let needs = template(
        &app,
        "needs",
        json!({
            "composeTemplate": "services:\n  app:\n    environment: [\"KEY=${API_KEY}\", \"OPT=${OPT:-x}\"]\n    ports: [\"18081:80\"]\n",
            "healthCheckUrl": "http://127.0.0.1:18081/${HEALTH_PATH}",
        }),
    );
    let before_needs = app.snapshot();
    let r = post(json!({"template_id": needs, "host_ids": [host]}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("env"));
    assert_eq!(
        r.body["params"]["missing"],
        json!(["API_KEY", "HEALTH_PATH"])
    );

    // A port another service holds: 409 named as a binding write names it; nothing reserved.
    let port = app.port(&host, 18080, "Tcp");
    let holder = app.service(&host, "nginx", json!([{"type": "Port", "port_id": port}]));
    assert_eq!(holder.status, 201, "{}", holder.body);
    let taken = app.snapshot();
    let r = post(json!({"template_id": tpl, "host_ids": [host]}));
    assert_error(&r, 409, "CONFLICT", None);
    assert!(
        r.body.to_string().contains("nginx"),
        "the holder is named: {}",
        r.body
    );
    crate::helpers::assert_same(&taken, &app.snapshot());
    assert_eq!(app.count("deployments"), 0);
    assert_eq!(app.count("deployment_targets"), 0);
    let _ = (before, before_needs);

    // The same request as a plan: 201, the conflict listed, nothing reserved.
    let r = post(json!({"template_id": tpl, "host_ids": [host], "mode": "plan"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let plan = r.data();
    assert_eq!(plan["mode"], "plan");
    assert!(
        plan["compose"].as_str().unwrap().contains("local/web:1"),
        "{plan}"
    );
    assert_eq!(plan["plan"][0]["services"][0]["name"], "web");
    assert_eq!(plan["plan"][0]["conflicts"][0]["code"], "CONFLICT");
    assert_eq!(services_on(&app, &host).len(), 1);
    // Applying it is refused the same way while the port is taken.
    let r = app.post(&format!("/api/v1/deployments/{}/apply", r.id()), json!({}));
    assert_error(&r, 409, "CONFLICT", None);
}

#[test]
fn a_deployment_reserves_its_bindings_runs_on_the_long_poll_and_is_journaled() {
    let app = spawn_app();
    let net = app.network("lab");
    let (agent_id, token, host) = deploying_host(&app, &net, "deployer", "docker,deploy");
    let tpl = template(&app, "web", json!({}));
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": tpl, "host_ids": [host], "env": {"WEB_PORT": "18090"}}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.id();
    let d = r.data();
    assert_eq!(d["status"], "queued");
    assert_eq!(d["env"]["IMAGE"], "local/web:1");
    assert_eq!(d["targets"][0]["status"], "pending");
    assert_eq!(d["targets"][0]["agent_id"], agent_id.as_str());
    // Reserved at once: a second deployment of another template on the port is refused.
    let service_id = d["targets"][0]["service_id"].as_str().unwrap().to_string();
    let service = app.get(&format!("/api/v1/services/{service_id}"));
    assert_eq!(service.data()["source"]["type"], "Deployment");
    assert_eq!(
        service.data()["source"]["details"]["deployment_id"],
        id.as_str()
    );
    assert_eq!(service.data()["bindings"].as_array().unwrap().len(), 1);
    let other = template(&app, "other", json!({"baseEnv": {"WEB_PORT": "18090"}}));
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

    // The agent takes the job, says how it goes, and finishes it.
    let job = take_job(&app, &token);
    assert_eq!(job["kind"], "deploy");
    assert_eq!(job["action"], "up");
    assert_eq!(job["project"], "portolan-web");
    assert_eq!(job["compose_path"], format!("stacks/{tpl}/compose.yaml"));
    assert_eq!(job["health"]["url"], "http://127.0.0.1:18090/");
    assert!(job["compose"].as_str().unwrap().contains("18090:80"));
    assert_eq!(take_job(&app, &token), Value::Null, "a job is taken once");
    let job_id = job["id"].as_str().unwrap();
    let r = app.call(
        "POST",
        &format!("/api/v1/agent/deployment-jobs/{job_id}/progress"),
        &token,
        Some(&json!({"status": "checking", "attempts": 1, "log": "line\n".repeat(300)})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let d = app.get(&format!("/api/v1/deployments/{id}"));
    assert_eq!(d.data()["status"], "running");
    assert_eq!(d.data()["targets"][0]["status"], "checking");
    assert_eq!(
        d.data()["targets"][0]["log"]
            .as_str()
            .unwrap()
            .lines()
            .count(),
        200
    );
    // Another token, or the server's key, cannot touch the job.
    let (_, stranger, _) = deploying_host(&app, &net, "stranger", "deploy");
    let r = app.call(
        "POST",
        &format!("/api/v1/agent/deployment-jobs/{job_id}/result"),
        &stranger,
        Some(&json!({"status": "healthy"})),
    );
    assert_error(&r, 404, "NOT_FOUND", None);
    let r = app.call(
        "POST",
        &format!("/api/v1/agent/deployment-jobs/{job_id}/result"),
        &app.key,
        Some(&json!({"status": "healthy"})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let r = app.call(
        "POST",
        &format!("/api/v1/agent/deployment-jobs/{job_id}/result"),
        &token,
        Some(&json!({"status": "pending"})),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("status"));

    let r = finish(&app, &token, &job, "healthy");
    assert_eq!(r.data()["status"], "healthy");
    assert!(r.data()["finished_at"].is_string());
    // A finished deployment's stream answers `finished` at once.
    let events = app.raw(
        "GET",
        &format!("/api/v1/deployments/{id}/events"),
        Some(&app.key),
        None,
    );
    assert_eq!(events.status, 200);
    let text = events.body.as_str().unwrap_or_default();
    assert!(text.starts_with("event: finished"), "{text}");
    // The journal: created, running, healthy.
    let changes = app.get(&format!(
        "/api/v1/changes?entity_type=deployment&entity_id={id}"
    ));
    let actions: Vec<String> = changes
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["action"].as_str().unwrap(),
                c["after"]["status"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert!(
        actions.contains(&"create:queued".to_string())
            && actions.contains(&"update:healthy".to_string()),
        "{actions:?}"
    );
    // Listed on the host, and filtered by status.
    let listed = app.get(&format!(
        "/api/v1/deployments?host_id={host}&status=healthy"
    ));
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
    assert_error(
        &app.get("/api/v1/deployments?status=fine"),
        400,
        "VALIDATION_ERROR",
        Some("status"),
    );

    // Deploying the template again replaces its own service: no conflict with itself.
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": tpl, "host_ids": [host], "env": {"WEB_PORT": "18090"}}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let again = r.id();
    assert_eq!(r.data()["targets"][0]["service_id"], service_id.as_str());
    // It fails: the service is what the first deployment made again, not closed.
    let job = take_job(&app, &token);
    let r = finish(&app, &token, &job, "rolled_back");
    assert_eq!(r.data()["status"], "rolled_back");
    let service = app.get(&format!("/api/v1/services/{service_id}"));
    assert_eq!(service.status, 200, "{}", service.body);
    assert_eq!(
        service.data()["source"]["details"]["deployment_id"],
        id.as_str()
    );
    assert_error(
        &app.post(&format!("/api/v1/deployments/{again}/cancel"), json!({})),
        409,
        "CONFLICT",
        None,
    );

    // Undeploy: the agent takes the project down, then the service closes, remembered.
    let r = app.post(&format!("/api/v1/deployments/{id}/undeploy"), json!({}));
    assert_eq!(r.status, 202, "{}", r.body);
    let job = take_job(&app, &token);
    assert_eq!(job["action"], "down");
    let r = finish(&app, &token, &job, "healthy");
    assert_eq!(r.data()["status"], "undeployed");
    assert_eq!(
        app.get(&format!("/api/v1/services/{service_id}")).status,
        404
    );
    let history = app.get(&format!("/api/v1/services/{service_id}/history"));
    assert!(
        history.data().as_array().unwrap().len() >= 2,
        "{}",
        history.body
    );
    assert_error(
        &app.post(&format!("/api/v1/deployments/{id}/undeploy"), json!({})),
        409,
        "CONFLICT",
        None,
    );
}

#[test]
fn sequential_stops_at_the_first_failure_and_parallel_runs_all() {
    let app = spawn_app();
    let net = app.network("lab");
    let (_, first, host_a) = deploying_host(&app, &net, "a", "deploy");
    let (_, second, host_b) = deploying_host(&app, &net, "b", "deploy");
    let tpl = template(&app, "web", json!({"deployStrategy": "sequential"}));
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": tpl, "host_ids": [host_a, host_b]}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        services_on(&app, &host_b).len(),
        1,
        "every host is reserved at once"
    );
    assert_eq!(take_job(&app, &second), Value::Null, "b waits for a");
    let job = take_job(&app, &first);
    let r = finish(&app, &first, &job, "failed");
    let d = r.data();
    assert_eq!(d["status"], "failed");
    assert_eq!(d["targets"][0]["status"], "failed");
    assert_eq!(d["targets"][0]["error"], "health check failed");
    assert_eq!(d["targets"][1]["status"], "skipped");
    assert_eq!(take_job(&app, &second), Value::Null);
    assert!(
        services_on(&app, &host_a).is_empty(),
        "reservations are given back"
    );
    assert!(services_on(&app, &host_b).is_empty());

    let par = template(
        &app,
        "par",
        json!({"deployStrategy": "parallel", "baseEnv": {"WEB_PORT": "18095"}}),
    );
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": par, "host_ids": [host_a, host_b]}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.id();
    let (ja, jb) = (take_job(&app, &first), take_job(&app, &second));
    assert!(ja.is_object() && jb.is_object(), "both run at once");
    finish(&app, &first, &ja, "failed");
    let r = finish(&app, &second, &jb, "healthy");
    assert_eq!(r.data()["status"], "failed");
    assert_eq!(r.data()["targets"][1]["status"], "healthy");
    assert_eq!(services_on(&app, &host_b).len(), 1);
    assert!(services_on(&app, &host_a).is_empty());
    // Undeploy takes down only what runs: the healthy host.
    let r = app.post(&format!("/api/v1/deployments/{id}/undeploy"), json!({}));
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(take_job(&app, &first), Value::Null);
    let down = take_job(&app, &second);
    assert_eq!(down["action"], "down");
}

#[test]
fn cancel_skips_the_hosts_not_started_and_a_plan_applies_once() {
    let app = spawn_app();
    let net = app.network("lab");
    let (_, first, host_a) = deploying_host(&app, &net, "a", "deploy");
    let (_, _, host_b) = deploying_host(&app, &net, "b", "deploy");
    let tpl = template(&app, "web", json!({}));
    let r = app.post(
        "/api/v1/deployments",
        json!({"template_id": tpl, "host_ids": [host_a, host_b], "mode": "plan"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.id();
    assert!(
        services_on(&app, &host_a).is_empty(),
        "a plan reserves nothing"
    );
    assert_eq!(take_job(&app, &first), Value::Null, "a plan runs nothing");
    let r = app.post(&format!("/api/v1/deployments/{id}/apply"), json!({}));
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.data()["mode"], "apply");
    assert_error(
        &app.post(&format!("/api/v1/deployments/{id}/apply"), json!({})),
        409,
        "CONFLICT",
        None,
    );
    let job = take_job(&app, &first);
    assert!(job.is_object());
    // Cancelled while a runs: b is skipped and given back at once, a finishes.
    let r = app.post(&format!("/api/v1/deployments/{id}/cancel"), json!({}));
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.data()["status"], "running");
    assert_eq!(r.data()["targets"][1]["status"], "skipped");
    assert!(services_on(&app, &host_b).is_empty());
    let r = finish(&app, &first, &job, "healthy");
    assert_eq!(r.data()["status"], "cancelled");
    assert_eq!(
        services_on(&app, &host_a).len(),
        1,
        "what runs stays in the inventory"
    );
    // Viewers read, only Admins act.
    let viewer = app.key_with("Viewer", &[]);
    assert_eq!(
        app.call("GET", &format!("/api/v1/deployments/{id}"), &viewer, None)
            .status,
        200
    );
    let r = app.call(
        "POST",
        "/api/v1/deployments",
        &viewer,
        Some(&json!({"template_id": tpl, "host_ids": [host_a]})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let other = app.network("other");
    let scoped = app.key_with("Admin", &[&other]);
    assert_error(
        &app.call("GET", &format!("/api/v1/deployments/{id}"), &scoped, None),
        404,
        "NOT_FOUND",
        None,
    );
    let r = app.call(
        "POST",
        "/api/v1/deployments",
        &scoped,
        Some(&json!({"template_id": tpl, "host_ids": [host_a]})),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("host_ids[0]"));
}

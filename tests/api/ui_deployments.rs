//! Deploying from a template page: hosts with a deploying agent to pick, the environment, the
//! plan preview naming a conflict, then the deployment followed live host by host, the host
//! page listing it, and undeploy. The agent's side is played over HTTP so that each step of the
//! progress can be seen (the real agent and engine are in `deployment_docker`).

use serde_json::{json, Value};

use crate::deployments::deploying_host;
use crate::helpers::spawn_app;
use crate::ui::{audit, browser, screenshots, sign_in};

#[test]
fn an_admin_deploys_from_the_template_page_and_follows_it_live() {
    let Some(b) = browser() else { return };
    let app = spawn_app();
    let net = app.network("lab");
    let (_, token, host) = deploying_host(&app, &net, "nas-agent", "docker,deploy");
    // Another host whose agent only scans is not offered.
    deploying_host(&app, &net, "scanner", "scan");
    let port = app.port(&host, 18091, "Tcp");
    let holder = app.service(&host, "nginx", json!([{"type": "Port", "port_id": port}]));
    assert_eq!(holder.status, 201, "{}", holder.body);
    let r = app.post(
        "/api/v1/service-templates",
        json!({"name": "whoami", "containerImageId": "local/whoami", "imageTag": "2",
               "composeTemplate": "services:\n  web:\n    ports: [\"${WEB_PORT}:80\"]\n",
               "baseEnv": {"WEB_PORT": "18091"}, "healthCheckUrl": "http://127.0.0.1:${WEB_PORT}/",
               "healthWaitMs": 0}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let template = r.id();

    b.goto(&format!("{}/", app.base));
    sign_in(&b, &app.key, "Owner");
    b.goto(&format!("{}/#/template/{template}", app.base));
    let offered = b.wait_text("#deploy fieldset", "nas-agent");
    assert!(!offered.contains("scanner"), "{offered}");
    b.click(&b.css(&format!("#deploy-host-{host}")));
    // The plan names what holds the port; nothing is reserved.
    b.click(&b.button("Preview plan"));
    b.wait_text("#deploy-plan", "nginx");
    b.wait_text("#deploy-plan pre", "local/whoami:2");
    audit(&b, "deploy plan");
    assert_eq!(app.count("deployment_targets"), 1, "the plan only");
    b.type_into(&b.css("#deploy-env"), r#"{"WEB_PORT": "18092"}"#);
    b.click(&b.button("Preview plan"));
    b.wait_text("#deploy-plan", "every address:18092/Tcp");
    b.click(&b.xpath("//main//button[normalize-space()='Deploy']"));
    b.wait_text("#deployment-status", "queued");
    let listed = app.get("/api/v1/deployments");
    let applied = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["mode"] == "apply")
        .cloned();
    let id = applied.expect("one applied")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = app.get(&format!("/api/v1/deployments/{id}"));
    assert_eq!(d.data()["env"]["WEB_PORT"], "18092");

    // The agent's progress shows as it comes.
    let job = app
        .call("GET", "/api/v1/agent/jobs?wait=5", &token, None)
        .data()
        .clone();
    assert_eq!(job["kind"], "deploy");
    let job_id = job["id"].as_str().unwrap().to_string();
    let say = |path: &str, body: Value| {
        let r = app.call(
            "POST",
            &format!("/api/v1/agent/deployment-jobs/{job_id}/{path}"),
            &token,
            Some(&body),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    };
    say(
        "progress",
        json!({"status": "checking", "attempts": 1, "log": "Creating portolan-whoami_web_1 ... done"}),
    );
    b.wait_text("#deployment-targets", "checking");
    b.wait_text("#deployment-status", "running");
    audit(&b, "deployment running");
    say(
        "result",
        json!({"status": "healthy", "attempts": 2, "log": "Creating portolan-whoami_web_1 ... done\nhealth check 2: healthy"}),
    );
    b.wait_text("#deployment-status", "healthy");
    b.wait_text("#deployment-targets", "healthy");
    audit(&b, "deployment healthy");
    b.screenshot(&screenshots().join("deployment.png"));

    // The host page lists it, and the deployed service links back.
    b.goto(&format!("{}/#/host/{host}", app.base));
    b.wait_text("section[aria-label='Deployments']", "whoami");
    b.wait_text("#view", "deployed");
    audit(&b, "host with a deployment");

    // Undeploy from the deployment's page: the agent takes it down, the page follows.
    b.goto(&format!("{}/#/deployment/{id}", app.base));
    b.wait_text("#deployment-status", "healthy");
    b.click(&b.button("Undeploy"));
    b.accept_dialog();
    let down = app
        .call("GET", "/api/v1/agent/jobs?wait=5", &token, None)
        .data()
        .clone();
    assert_eq!(down["action"], "down");
    let r = app.call(
        "POST",
        &format!(
            "/api/v1/agent/deployment-jobs/{}/result",
            down["id"].as_str().unwrap()
        ),
        &token,
        Some(&json!({"status": "healthy"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    b.wait_text("#deployment-status", "undeployed");
    let service = d.data()["targets"][0]["service_id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/services/{service}")).status, 404);
    assert_eq!(b.console_errors(), Vec::<String>::new());
}

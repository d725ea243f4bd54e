//! Agent records and their tokens: created once with a token shown once, rotated, disabled,
//! deleted; a token opens only the agent endpoints and an API key none of them; the 0.17
//! clients' daemons.

use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

pub fn agent(app: &TestApp, network: &str, name: &str) -> (String, String) {
    let r = app.post(
        "/api/v1/agents",
        json!({"name": name, "network_id": network}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.data()["token"].as_str().unwrap().to_string();
    (r.id(), token)
}

pub fn minimal_report(machine: &str) -> Value {
    json!({"host": {"hostname": "nas", "machine_id": machine}})
}

pub fn report(app: &TestApp, token: &str, body: &Value) -> crate::helpers::Resp {
    app.call("POST", "/api/v1/agent/report", token, Some(body))
}

#[test]
fn created_with_a_token_shown_once_and_stored_as_a_hash() {
    let app = spawn_app();
    let net = app.network("lab");
    let r = app.post(
        "/api/v1/agents",
        json!({"name": "nas-agent", "network_id": net}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.data()["token"].as_str().unwrap();
    assert!(token.starts_with("scp_a_") && token.len() == 38, "{token}");
    let id = r.id();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/agents/{id}").as_str())
    );
    let got = app.get(&format!("/api/v1/agents/{id}"));
    assert_eq!(got.status, 200);
    let d = got.data();
    assert_eq!(d["name"], "nas-agent");
    assert_eq!(d["enabled"], true);
    assert_eq!(d["host_id"], Value::Null);
    assert_eq!(d["last_seen_at"], Value::Null);
    assert_eq!(d["silent"], false);
    assert_eq!(
        d["capabilities"],
        json!({"docker": false, "scan": false, "deploy": false})
    );
    assert!(d.get("token").is_none(), "{d}");
    let stored: String = app
        .db()
        .query_row("SELECT token_hash FROM agents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!app.snapshot().contains(token));
    let journal: String = app
        .db()
        .query_row(
            "SELECT after FROM changes WHERE entity_type = 'agent'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!journal.contains(token) && !journal.contains("token_hash"));

    // Bad input writes nothing.
    let before = app.count("agents");
    let r = app.post("/api/v1/agents", json!({"name": "x"}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("network_id"));
    let r = app.post("/api/v1/agents", json!({"name": "", "network_id": net}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("name"));
    let ghost = "00000000-0000-4000-8000-000000000000";
    let r = app.post("/api/v1/agents", json!({"name": "x", "network_id": ghost}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("network_id"));
    let r = app.post(
        "/api/v1/agents",
        json!({"name": "x", "network_id": net, "token": "mine"}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(app.count("agents"), before);
}

#[test]
fn tokens_open_only_the_agent_endpoints_and_stop_at_once() {
    let app = spawn_app();
    let net = app.network("lab");
    let (id, token) = agent(&app, &net, "a1");
    let body = minimal_report("m-1");

    let r = app.call("GET", "/api/v1/hosts", &token, None);
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let r = report(&app, &app.key, &body);
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let viewer = app.key_with("Viewer", &[]);
    let r = report(&app, &viewer, &body);
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let r = app.raw(
        "POST",
        "/api/v1/agent/report",
        None,
        Some(("application/json", b"{}")),
    );
    assert_error(&r, 401, "UNAUTHORIZED", None);
    assert_eq!(report(&app, &token, &body).status, 200);

    // Disabled: 401 at once; enabled again, it works again.
    let r = app.put(
        &format!("/api/v1/agents/{id}"),
        json!({"name": "a1", "enabled": false}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["enabled"], false);
    assert_error(&report(&app, &token, &body), 401, "UNAUTHORIZED", None);
    app.put(
        &format!("/api/v1/agents/{id}"),
        json!({"name": "a1", "enabled": true}),
    );
    assert_eq!(report(&app, &token, &body).status, 200);

    // Rotated: the old token is 401, the new one works.
    let r = app.post(&format!("/api/v1/agents/{id}/rotate"), json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let fresh = r.data()["token"].as_str().unwrap().to_string();
    assert_ne!(fresh, token);
    assert_error(&report(&app, &token, &body), 401, "UNAUTHORIZED", None);
    assert_eq!(report(&app, &fresh, &body).status, 200);
    let rotated: i64 = app
        .db()
        .query_row(
            "SELECT count(*) FROM changes WHERE entity_type = 'agent' AND changed_fields LIKE '%token%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rotated, 1);

    // Deleted: 401, and the record is gone.
    assert_eq!(app.delete(&format!("/api/v1/agents/{id}")).status, 200);
    assert_error(&report(&app, &fresh, &body), 401, "UNAUTHORIZED", None);
    assert_eq!(app.count("agents"), 0);
    assert_eq!(app.get(&format!("/api/v1/agents/{id}")).status, 404);
}

#[test]
fn roles_and_network_scope() {
    let app = spawn_app();
    let mine = app.network("mine");
    let theirs = app.network("theirs");
    let (their_agent, _) = agent(&app, &theirs, "theirs");
    let (my_agent, _) = agent(&app, &mine, "mine");
    let member = app.key_with("Member", &[]);
    let r = app.call(
        "POST",
        "/api/v1/agents",
        &member,
        Some(&json!({"name": "x", "network_id": mine})),
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
    let viewer = app.key_with("Viewer", &[&mine]);
    let r = app.call("GET", "/api/v1/agents", &viewer, None);
    assert_eq!(r.status, 200);
    let ids: Vec<&str> = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![my_agent.as_str()]);
    let r = app.call(
        "GET",
        &format!("/api/v1/agents/{their_agent}"),
        &viewer,
        None,
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let admin = app.key_with("Admin", &[&mine]);
    let r = app.call(
        "POST",
        "/api/v1/agents",
        &admin,
        Some(&json!({"name": "x", "network_id": theirs})),
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call(
        "DELETE",
        &format!("/api/v1/agents/{their_agent}"),
        &admin,
        None,
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    assert_eq!(app.count("agents"), 2);

    // Filters.
    let r = app.get(&format!("/api/v1/agents?network_id={theirs}"));
    assert_eq!(r.data().as_array().unwrap().len(), 1);
    let r = app.get("/api/v1/agents?q=MIN");
    assert_eq!(r.data()[0]["id"], json!(my_agent));
    // An agent stays in its network.
    let r = app.put(
        &format!("/api/v1/agents/{my_agent}"),
        json!({"name": "mine", "network_id": theirs}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("network_id"));
}

#[test]
fn the_peer_sees_agents_as_daemons_and_their_keys() {
    let app = spawn_app();
    let net = app.network("lab");
    let r = app.post(
        "/api/v1/auth/daemon",
        json!({"name": "edge", "network_id": net}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let token = r.data()["key"].as_str().unwrap().to_string();
    assert!(token.starts_with("scp_a_"));
    let key = &r.data()["api_key"];
    assert_eq!(key["key"], "**********");
    assert_eq!(key["is_enabled"], true);
    let id = key["daemon_id"].as_str().unwrap().to_string();
    assert_eq!(report(&app, &token, &minimal_report("m-9")).status, 200);

    let r = app.get("/api/v1/daemons");
    assert_eq!(r.status, 200);
    let d = &r.data()[0];
    assert_eq!(d["id"], json!(id));
    assert_eq!(d["mode"], "daemon_poll");
    assert_eq!(d["url"], Value::Null);
    assert_eq!(d["is_unreachable"], false);
    assert!(d["last_seen"].is_string());
    assert!(d["host_id"].is_string());
    for field in [
        "created_at",
        "updated_at",
        "network_id",
        "name",
        "tags",
        "os",
        "version",
        "api_key_id",
    ] {
        assert!(d.get(field).is_some(), "{field} in {d}");
    }
    // Daemons carry tags.
    let tag = app.tag("edge");
    let r = app.put(
        "/api/v1/tags/assign",
        json!({"entity_type": "Daemon", "entity_id": id, "tag_ids": [tag]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get("/api/v1/daemons").data()[0]["tags"], json!([tag]));
    assert_eq!(
        app.get(&format!("/api/v1/agents/{id}")).data()["tags"],
        json!([tag])
    );

    let r = app.get("/api/v1/auth/daemon");
    assert_eq!(r.data()[0]["key"], "**********");
    assert!(r.data()[0]["last_used"].is_string());
    assert_eq!(app.delete(&format!("/api/v1/auth/daemon/{id}")).status, 200);
    assert_error(
        &report(&app, &token, &minimal_report("m-9")),
        401,
        "UNAUTHORIZED",
        None,
    );
    assert_eq!(
        app.get("/api/v1/daemons").data().as_array().unwrap().len(),
        0
    );
}

#[test]
fn a_scan_job_is_taken_on_the_long_poll_and_fails_when_its_agent_is_silent() {
    let app = crate::helpers::spawn_with(|c| c.agent_job_timeout_s = 1);
    let net = app.network("lab");
    app.subnet(&net, "10.31.0.0/24");
    let (id, token) = agent(&app, &net, "scanner");
    let announce = |token: &str| {
        let body = serde_json::to_vec(&minimal_report("m-scan")).unwrap();
        app.raw_with(
            "POST",
            "/api/v1/agent/report",
            Some(token),
            Some(("application/json", &body)),
            &[("X-Portolan-Agent-Capabilities", "scan")],
        )
    };
    assert_eq!(announce(&token).status, 200);
    // Outside the network's subnets: the server's own guards.
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "targets": ["10.32.0.1"], "ports": [22], "agent_id": id}),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("targets[0]"));
    // A long poll with nothing queued answers null when its wait is over.
    let r = app.call("GET", "/api/v1/agent/jobs?wait=0", &token, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data(), &Value::Null);
    let r = app.call("GET", "/api/v1/agent/jobs", &app.key, None);
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);

    // A poll waiting when the job is made takes it at once, with its addresses expanded.
    let poll = {
        let (base, token) = (app.base.clone(), token.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let mut res = ureq::get(format!("{base}/api/v1/agent/jobs?wait=20"))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap();
            let body: Value =
                serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap();
            (started.elapsed(), body)
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "targets": ["10.31.0.0/30"], "ports": [22, 80], "agent_id": id}),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    let job_id = r.id();
    let (waited, job) = poll.join().unwrap();
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    assert_eq!(job["data"]["id"], json!(job_id));
    assert_eq!(job["data"]["addresses"], json!(["10.31.0.1", "10.31.0.2"]));
    assert_eq!(job["data"]["ports"], json!([22, 80]));
    assert_eq!(
        app.get(&format!("/api/v1/discoveries/{job_id}")).data()["status"],
        "running"
    );
    // Another agent's token cannot finish it.
    let (_, other) = agent(&app, &net, "other");
    let r = app.call(
        "POST",
        &format!("/api/v1/agent/jobs/{job_id}/result"),
        &other,
        Some(&json!({"observations": []})),
    );
    assert_error(&r, 404, "NOT_FOUND", None);

    // Silent past the timeout: failed, naming the agent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let failed = loop {
        let d = app.get(&format!("/api/v1/discoveries/{job_id}"));
        if d.data()["status"] == "failed" {
            break d;
        }
        assert!(std::time::Instant::now() < deadline, "{}", d.body);
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let error = failed.data()["error"].as_str().unwrap();
    assert!(
        error.contains("scanner") && error.contains("silent"),
        "{error}"
    );
    let r = app.call(
        "POST",
        &format!("/api/v1/agent/jobs/{job_id}/result"),
        &token,
        Some(&json!({"observations": []})),
    );
    assert_error(&r, 404, "NOT_FOUND", None);
}

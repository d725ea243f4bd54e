//! Dependencies: every member rule, clean-up when services and bindings go, scope, and impact.

use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_same, spawn_app, TestApp};

fn dep(network: &str, kind: &str, members: Value) -> Value {
    json!({"network_id": network, "name": "path", "dependency_type": kind, "members": members})
}

fn members(ids: &[&str]) -> Value {
    Value::Array(ids.iter().map(|s| json!({"service_id": s})).collect())
}

/// `n` services on one host of a new network; returns (network, host, service ids).
fn services(app: &TestApp, n: usize) -> (String, String, Vec<String>) {
    let net = app.network("lab");
    let host = app.host(&net, "h");
    let ids = (0..n)
        .map(|i| app.service(&host, &format!("s{i}"), json!([])).id())
        .collect();
    (net, host, ids)
}

#[test]
fn every_member_rule_is_checked_and_nothing_is_written_on_refusal() {
    let app = spawn_app();
    let (net, host, s) = services(&app, 3);
    let other_net = app.network("other");
    let far = app
        .service(&app.host(&other_net, "far"), "far", json!([]))
        .id();
    let port = app.port(&host, 80, "Tcp");
    let bound = app.service(&host, "web", json!([{"type": "Port", "port_id": port}]));
    let binding = bound.data()["bindings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = app.snapshot();

    let post = |body: Value| app.post("/api/v1/dependencies", body);
    assert_error(
        &post(dep(&net, "RequestPath", members(&[&s[0], &far]))),
        400,
        "VALIDATION_ERROR",
        Some("members[1].service_id"),
    );
    assert_error(
        &post(dep(&net, "RequestPath", members(&[&s[0]]))),
        400,
        "VALIDATION_ERROR",
        Some("members"),
    );
    assert_error(
        &post(dep(&net, "RequestPath", members(&[&s[0], &s[1], &s[0]]))),
        400,
        "VALIDATION_ERROR",
        Some("members[2].service_id"),
    );
    let foreign_binding =
        json!([{"service_id": s[0], "binding_id": binding}, {"service_id": s[1]}]);
    assert_error(
        &post(dep(&net, "RequestPath", foreign_binding)),
        400,
        "VALIDATION_ERROR",
        Some("members[0].binding_id"),
    );
    let missing = "0190a000-0000-7000-8000-0000000000aa";
    assert_error(
        &post(dep(&net, "RequestPath", members(&[&s[0], missing]))),
        400,
        "VALIDATION_ERROR",
        Some("members[1].service_id"),
    );
    assert_error(
        &post(dep(&net, "Circle", members(&[&s[0], &s[1]]))),
        400,
        "VALIDATION_ERROR",
        Some("dependency_type"),
    );
    let mut bad_color = dep(&net, "HubAndSpoke", members(&[&s[0], &s[1]]));
    bad_color["color"] = json!("Mauve");
    assert_error(&post(bad_color), 400, "VALIDATION_ERROR", Some("color"));
    assert_same(&before, &app.snapshot());

    let own_binding =
        json!([{"service_id": bound.id(), "binding_id": binding}, {"service_id": s[1]}]);
    let r = post(dep(&net, "RequestPath", own_binding));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["color"], json!("Blue"));
    assert_eq!(r.data()["members"][0]["binding_id"], json!(binding));
    let got = app.get(&format!("/api/v1/dependencies/{}", r.id()));
    assert_eq!(got.data(), r.data());
    let listed = app.get(&format!("/api/v1/dependencies?service_id={}", s[1]));
    assert_eq!(listed.data().as_array().unwrap().len(), 1);
    let journal = app.get(&format!(
        "/api/v1/changes?entity_type=dependency&entity_id={}",
        r.id()
    ));
    assert_eq!(journal.data()[0]["action"], json!("create"));
}

#[test]
fn deleting_services_and_bindings_cleans_dependencies_up_in_history() {
    let app = spawn_app();
    let (net, host, s) = services(&app, 3);
    let port = app.port(&host, 443, "Tcp");
    let web = app.service(&host, "web", json!([{"type": "Port", "port_id": port}]));
    let binding = web.data()["bindings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let three = app.post(
        "/api/v1/dependencies",
        dep(
            &net,
            "RequestPath",
            json!([{"service_id": web.id(), "binding_id": binding},
                                        {"service_id": s[0]}, {"service_id": s[1]}]),
        ),
    );
    assert_eq!(three.status, 201, "{}", three.body);
    let two = app.post(
        "/api/v1/dependencies",
        dep(&net, "HubAndSpoke", members(&[&s[1], &s[2]])),
    );
    assert_eq!(two.status, 201);

    // The binding goes: the member stays, without it.
    assert_eq!(
        app.delete(&format!("/api/v1/bindings/{binding}")).status,
        200
    );
    let d = app.get(&format!("/api/v1/dependencies/{}", three.id()));
    assert_eq!(
        d.data()["members"][0],
        json!({"service_id": web.id(), "binding_id": null})
    );

    // s[0] goes: the three-member path keeps two; s[2] goes: the pair is deleted.
    assert_eq!(
        app.delete(&format!("/api/v1/services/{}", s[0])).status,
        200
    );
    let d = app.get(&format!("/api/v1/dependencies/{}", three.id()));
    assert_eq!(
        d.data()["members"],
        json!([{"service_id": web.id(), "binding_id": null}, {"service_id": s[1], "binding_id": null}])
    );
    assert_eq!(
        app.delete(&format!("/api/v1/services/{}", s[2])).status,
        200
    );
    assert_error(
        &app.get(&format!("/api/v1/dependencies/{}", two.id())),
        404,
        "NOT_FOUND",
        None,
    );
    let history = app.get(&format!("/api/v1/dependencies/{}/history", three.id()));
    assert_eq!(
        history.data().as_array().unwrap().len(),
        3,
        "{}",
        history.body
    );
    let gone = app.get(&format!("/api/v1/dependencies/{}/history", two.id()));
    assert!(gone.data()[0]["valid_to"].is_string());

    // A host deleted with its services takes the last dependency with it.
    assert_eq!(app.delete(&format!("/api/v1/hosts/{host}")).status, 200);
    assert_eq!(app.count("dependencies"), 0);
}

#[test]
fn keys_see_and_write_dependencies_of_their_networks_only() {
    let app = spawn_app();
    let (net, _, s) = services(&app, 2);
    let elsewhere = app.network("elsewhere");
    let key = app.key_with("Member", &[&elsewhere]);
    let body = dep(&net, "RequestPath", members(&[&s[0], &s[1]]));
    let r = app.call("POST", "/api/v1/dependencies", &key, Some(&body));
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let created = app.post("/api/v1/dependencies", body);
    let r = app.call(
        "GET",
        &format!("/api/v1/dependencies/{}", created.id()),
        &key,
        None,
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    assert_eq!(
        app.call("GET", "/api/v1/dependencies", &key, None).data(),
        &json!([])
    );
    let r = app.call(
        "GET",
        &format!("/api/v1/services/{}/impact", s[1]),
        &key,
        None,
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let viewer = app.key_with("Viewer", &[]);
    let r = app.call(
        "DELETE",
        &format!("/api/v1/dependencies/{}", created.id()),
        &viewer,
        None,
    );
    assert_error(&r, 403, "FORBIDDEN_ROLE", None);
}

fn reached(r: &crate::helpers::Resp) -> Vec<(String, u64)> {
    r.data()["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["depth"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn impact_over_a_chain_a_hub_and_a_cycle() {
    let app = spawn_app();
    let net = app.network("lab");
    let h1 = app.host(&net, "edge");
    let h2 = app.host(&net, "nas");
    let names = ["proxy", "app", "db", "nas", "disk"];
    let chain: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            app.service(if i < 2 { &h1 } else { &h2 }, n, json!([]))
                .id()
        })
        .collect();
    let ids: Vec<&str> = chain.iter().map(String::as_str).collect();
    assert_eq!(
        app.post(
            "/api/v1/dependencies",
            dep(&net, "RequestPath", members(&ids))
        )
        .status,
        201
    );
    let spokes: Vec<String> = (0..4)
        .map(|i| app.service(&h1, &format!("spoke{i}"), json!([])).id())
        .collect();
    let mut hub = vec![chain[3].as_str()];
    hub.extend(spokes.iter().map(String::as_str));
    let hub_dep = app.post(
        "/api/v1/dependencies",
        dep(&net, "HubAndSpoke", members(&hub)),
    );
    assert_eq!(hub_dep.status, 201);

    // The NAS goes down: db, app, proxy along the chain, and the four spokes directly.
    let r = app.get(&format!("/api/v1/services/{}/impact", chain[3]));
    assert_eq!(r.status, 200, "{}", r.body);
    let mut got = reached(&r);
    got.sort();
    let mut want: Vec<(String, u64)> =
        vec![("db".into(), 1), ("app".into(), 2), ("proxy".into(), 3)];
    want.extend((0..4).map(|i| (format!("spoke{i}"), 1)));
    want.sort();
    assert_eq!(got, want);
    let proxy = r.data()["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == json!("proxy"))
        .unwrap();
    assert_eq!(
        proxy["path"],
        json!([chain[3], chain[2], chain[1], chain[0]])
    );
    assert_eq!(proxy["host_id"], json!(h1));
    let hosts: Vec<&str> = r.data()["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts.len(), 2, "{hosts:?}");
    assert_eq!(r.data()["cycles"], json!([]));

    let up = app.get(&format!(
        "/api/v1/services/{}/impact?direction=upstream",
        chain[0]
    ));
    assert_eq!(
        reached(&up),
        [
            ("app".into(), 1),
            ("db".into(), 2),
            ("nas".into(), 3),
            ("disk".into(), 4)
        ]
    );
    let up = app.get(&format!(
        "/api/v1/services/{}/impact?direction=upstream",
        spokes[2]
    ));
    assert_eq!(reached(&up), [("nas".into(), 1), ("disk".into(), 2)]);

    // disk -> proxy closes a circle: the walk ends and names it once.
    let closing = app.post(
        "/api/v1/dependencies",
        dep(&net, "RequestPath", members(&[&chain[4], &chain[0]])),
    );
    assert_eq!(closing.status, 201);
    let r = app.get(&format!("/api/v1/services/{}/impact", chain[2]));
    assert_eq!(
        r.data()["cycles"].as_array().unwrap().len(),
        1,
        "{}",
        r.body
    );
    assert_eq!(r.data()["cycles"][0].as_array().unwrap().len(), 5);
    assert_eq!(
        reached(&r).len(),
        4 + 4,
        "everyone on the circle and the spokes, once each"
    );
    assert_error(
        &app.get(&format!(
            "/api/v1/services/{}/impact?direction=sideways",
            chain[2]
        )),
        400,
        "VALIDATION_ERROR",
        Some("direction"),
    );
}

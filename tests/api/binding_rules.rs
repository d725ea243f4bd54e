//! Each binding rule through each of the four write paths: service POST, service PUT,
//! binding POST, binding PUT.

use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_same, spawn_app, Resp, TestApp, World};

fn port_on(port: &str, ip: Option<&str>) -> Value {
    json!({"type": "Port", "port_id": port, "ip_address_id": ip})
}

fn ip_only(ip: &str) -> Value {
    json!({"type": "IPAddress", "ip_address_id": ip})
}

fn put_service(app: &TestApp, w: &World, bindings: Value) -> Resp {
    app.put(
        &format!("/api/v1/services/{}", w.service),
        json!({"host_id": w.host, "network_id": w.network, "name": "nginx",
               "service_definition": "Nginx Proxy Manager", "bindings": bindings}),
    )
}

fn post_binding(app: &TestApp, service: &str, binding: Value) -> Resp {
    let mut body = binding;
    body["service_id"] = json!(service);
    app.post("/api/v1/bindings", body)
}

fn put_binding(app: &TestApp, id: &str, service: &str, binding: Value) -> Resp {
    let mut body = binding;
    body["service_id"] = json!(service);
    app.put(&format!("/api/v1/bindings/{id}"), body)
}

fn foreign_port(app: &TestApp, w: &World) -> String {
    let other = app.host(&w.network, "elsewhere");
    app.port(&other, 8080, "Tcp")
}

#[test]
fn rule_1_cross_host_on_every_path() {
    let app = spawn_app();
    let w = app.world();
    let foreign = foreign_port(&app, &w);
    let existing = post_binding(&app, &w.service, port_on(&w.port1, None)).id();
    let before = app.snapshot();

    let r = app.service(
        &w.host,
        "new",
        json!([ip_only(&w.ip1), port_on(&foreign, None)]),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("bindings[1].port_id"));
    assert_eq!(r.body["params"]["host_id"], json!(w.host));
    let r = put_service(&app, &w, json!([port_on(&w.port2, Some(&foreign))]));
    assert_error(
        &r,
        400,
        "VALIDATION_ERROR",
        Some("bindings[0].ip_address_id"),
    );
    let r = post_binding(&app, &w.service, port_on(&foreign, None));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("port_id"));
    assert_eq!(r.body["params"]["host_id"], json!(w.host));
    let r = put_binding(&app, &existing, &w.service, port_on(&foreign, None));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("port_id"));
    assert_same(&before, &app.snapshot());
}

#[test]
fn rule_2_deduplication_on_every_path() {
    let app = spawn_app();
    let w = app.world();
    let r = app.service(
        &w.host,
        "dup",
        json!([
            port_on(&w.port1, Some(&w.ip1)),
            port_on(&w.port1, Some(&w.ip1))
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.data()["bindings"].as_array().unwrap().len(), 1);
    assert_eq!(app.stored_bindings(&r.id()).len(), 1);

    let r = put_service(
        &app,
        &w,
        json!([ip_only(&w.ip2), ip_only(&w.ip2), ip_only(&w.ip2)]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.stored_bindings(&w.service).len(), 1);

    let live = r.data()["bindings"][0]["id"].clone();
    let again = post_binding(&app, &w.service, ip_only(&w.ip2));
    assert_eq!(again.status, 200);
    assert_eq!(again.data()["id"], live);
    assert_eq!(app.stored_bindings(&w.service).len(), 1);

    let other = post_binding(&app, &w.service, port_on(&w.port2, Some(&w.ip1))).id();
    let before = app.snapshot();
    let r = put_binding(&app, &other, &w.service, ip_only(&w.ip2));
    assert_error(&r, 409, "CONFLICT", None);
    assert_eq!(r.body["params"]["conflicting_binding_id"], live);
    assert_same(&before, &app.snapshot());
}

#[test]
fn rule_3_all_interfaces_precedence_on_every_path() {
    let app = spawn_app();
    let w = app.world();
    let r = app.service(
        &w.host,
        "p",
        json!([
            port_on(&w.port2, Some(&w.ip1)),
            port_on(&w.port2, None),
            port_on(&w.port2, Some(&w.ip2))
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        app.stored_bindings(&r.id()),
        vec![("Port".into(), Some(w.port2.clone()), None)]
    );
    app.delete(&format!("/api/v1/services/{}", r.id()));

    // Through /bindings: P(p,*) removes the stored P(p,x) of the same service.
    let a = post_binding(&app, &w.service, port_on(&w.port1, Some(&w.ip1)));
    let b = post_binding(&app, &w.service, port_on(&w.port1, Some(&w.ip2)));
    assert_eq!((a.status, b.status), (201, 201));
    let star = post_binding(&app, &w.service, port_on(&w.port1, None));
    assert_eq!(star.status, 201, "{}", star.body);
    assert_eq!(
        app.stored_bindings(&w.service),
        vec![("Port".into(), Some(w.port1.clone()), None)]
    );
    assert_error(
        &app.get(&format!("/api/v1/bindings/{}", a.id())),
        404,
        "NOT_FOUND",
        None,
    );

    // A specific binding under a live all-interfaces one is already covered.
    let covered = post_binding(&app, &w.service, port_on(&w.port1, Some(&w.ip1)));
    assert_eq!(covered.status, 200);
    assert_eq!(covered.id(), star.id());

    // Service PUT: the stored specific binding goes when the set holds P(p,*).
    let r = put_service(&app, &w, json!([port_on(&w.port2, Some(&w.ip1))]));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = put_service(
        &app,
        &w,
        json!([port_on(&w.port2, Some(&w.ip1)), port_on(&w.port2, None)]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.stored_bindings(&w.service),
        vec![("Port".into(), Some(w.port2.clone()), None)]
    );

    // Binding PUT: retargeting to P(p,*) removes sibling P(p,x).
    put_service(
        &app,
        &w,
        json!([
            port_on(&w.port1, Some(&w.ip1)),
            port_on(&w.port2, Some(&w.ip2))
        ]),
    );
    let ids: Vec<String> = app.get(&format!("/api/v1/services/{}", w.service)).data()["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    let r = put_binding(&app, &ids[1], &w.service, port_on(&w.port1, None));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        app.stored_bindings(&w.service),
        vec![("Port".into(), Some(w.port1.clone()), None)]
    );
}

#[test]
fn rule_4_same_service_conflicts_on_every_path() {
    let app = spawn_app();
    let w = app.world();
    let before = app.snapshot();
    let r = app.service(
        &w.host,
        "c",
        json!([ip_only(&w.ip1), port_on(&w.port1, Some(&w.ip1))]),
    );
    assert_error(&r, 409, "CONFLICT", Some("bindings[1]"));
    let r = app.service(
        &w.host,
        "c",
        json!([port_on(&w.port1, None), ip_only(&w.ip2)]),
    );
    assert_error(&r, 409, "CONFLICT", Some("bindings[1]"));
    assert_same(&before, &app.snapshot());

    let ip_binding = post_binding(&app, &w.service, ip_only(&w.ip1)).id();
    let before = app.snapshot();
    let r = put_service(&app, &w, json!([ip_only(&w.ip1), port_on(&w.port2, None)]));
    assert_error(&r, 409, "CONFLICT", Some("bindings[1]"));
    assert_eq!(
        r.body["params"]["conflicting_binding_id"],
        json!(ip_binding)
    );
    let r = post_binding(&app, &w.service, port_on(&w.port2, None));
    assert_error(&r, 409, "CONFLICT", Some("ip_address_id"));
    assert_eq!(
        r.body["params"]["conflicting_binding_id"],
        json!(ip_binding)
    );
    let r = post_binding(&app, &w.service, port_on(&w.port2, Some(&w.ip1)));
    assert_error(&r, 409, "CONFLICT", Some("ip_address_id"));
    assert_same(&before, &app.snapshot());

    let port_binding = post_binding(&app, &w.service, port_on(&w.port2, Some(&w.ip2))).id();
    let before = app.snapshot();
    let r = put_binding(
        &app,
        &port_binding,
        &w.service,
        port_on(&w.port2, Some(&w.ip1)),
    );
    assert_error(&r, 409, "CONFLICT", Some("ip_address_id"));
    assert_eq!(
        r.body["params"]["conflicting_binding_id"],
        json!(ip_binding)
    );
    assert_same(&before, &app.snapshot());
}

#[test]
fn rule_5_one_owner_per_port_on_every_path() {
    let app = spawn_app();
    let w = app.world();
    let holder = app.service(&w.host, "holder", json!([port_on(&w.port1, Some(&w.ip1))]));
    assert_eq!(holder.status, 201);
    let holder_id = holder.id();
    let held_binding = holder.data()["bindings"][0]["id"].clone();
    let before = app.snapshot();

    let check = |r: &Resp, field: &str| {
        assert_error(r, 409, "CONFLICT", Some(field));
        assert_eq!(r.body["params"]["service_id"], json!(holder_id));
        assert_eq!(r.body["params"]["conflicting_binding_id"], held_binding);
        assert_eq!(
            r.body["hint"],
            json!("Remove the binding from 'holder' first")
        );
    };
    check(
        &app.service(&w.host, "rival", json!([port_on(&w.port1, None)])),
        "bindings[0]",
    );
    check(
        &put_service(
            &app,
            &w,
            json!([ip_only(&w.ip2), port_on(&w.port1, Some(&w.ip1))]),
        ),
        "bindings[1]",
    );
    check(
        &post_binding(&app, &w.service, port_on(&w.port1, None)),
        "port_id",
    );
    assert_same(&before, &app.snapshot());

    // A different IP on the same port is free.
    let mine = post_binding(&app, &w.service, port_on(&w.port1, Some(&w.ip2)));
    assert_eq!(mine.status, 201, "{}", mine.body);
    let before = app.snapshot();
    check(
        &put_binding(
            &app,
            &mine.id(),
            &w.service,
            port_on(&w.port1, Some(&w.ip1)),
        ),
        "port_id",
    );
    assert_same(&before, &app.snapshot());
}

#[test]
fn rules_run_in_order() {
    let app = spawn_app();
    let w = app.world();
    let foreign = foreign_port(&app, &w);
    // Conflicting (rule 4) and cross-host (rule 1): rule 1 decides.
    let r = app.service(
        &w.host,
        "x",
        json!([
            ip_only(&w.ip1),
            port_on(&w.port1, None),
            port_on(&foreign, None)
        ]),
    );
    assert_error(&r, 400, "VALIDATION_ERROR", Some("bindings[2].port_id"));
    // Duplicates of a conflicting pair still report the conflict once, on the later binding.
    let r = app.service(
        &w.host,
        "x",
        json!([ip_only(&w.ip1), ip_only(&w.ip1), port_on(&w.port1, None)]),
    );
    assert_error(&r, 409, "CONFLICT", Some("bindings[2]"));
}

#[test]
fn reconciliation_keeps_binding_ids_stable() {
    let app = spawn_app();
    let w = app.world();
    let first = put_service(
        &app,
        &w,
        json!([port_on(&w.port1, Some(&w.ip1)), ip_only(&w.ip2)]),
    );
    assert_eq!(first.status, 200, "{}", first.body);
    let ids: Vec<Value> = first.data()["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].clone())
        .collect();

    // Resent without ids, in another order: same ids, request order in the response.
    let again = put_service(
        &app,
        &w,
        json!([ip_only(&w.ip2), port_on(&w.port1, Some(&w.ip1))]),
    );
    assert_eq!(again.status, 200);
    let again_ids: Vec<Value> = again.data()["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].clone())
        .collect();
    assert_eq!(again_ids, vec![ids[1].clone(), ids[0].clone()]);
    assert_eq!(app.count("bindings"), 2);

    // An id names the stored binding it updates; what is not sent is removed.
    let mut moved = port_on(&w.port2, Some(&w.ip1));
    moved["id"] = ids[0].clone();
    let r = put_service(&app, &w, json!([moved]));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["bindings"][0]["id"], ids[0]);
    assert_eq!(r.data()["bindings"][0]["port_id"], json!(w.port2));
    assert_eq!(app.count("bindings"), 1);

    let cleared = put_service(&app, &w, json!([]));
    assert_eq!(cleared.data()["bindings"], json!([]));
    assert_eq!(app.count("bindings"), 0);
}

//! History: versions of the six tracked entities, as-of reads, `/history`, and the journal.

use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_same, spawn_app, Resp, TestApp};

/// The instant a write was recorded at, from its journal entries (found by its request id).
fn write_time(app: &TestApp, r: &Resp) -> String {
    let request = r.header("x-request-id").expect("x-request-id");
    let entries = app.get(&format!("/api/v1/changes?request_id={request}"));
    assert_eq!(entries.status, 200, "{}", entries.body);
    let first = &entries.data()[0];
    assert!(first.is_object(), "no journal entry for {request}");
    first["time"].as_str().unwrap().to_string()
}

/// The bindings of a service as `(live id, type, port, ip)`, sorted: what a state is made of,
/// whether read live or as of an instant (where closed versions have ids of their own).
fn binding_set(bindings: &Value) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = bindings
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let live = b["lineage_id"].as_str().or(b["id"].as_str()).unwrap();
            (
                live.to_string(),
                b["type"].as_str().unwrap().to_string(),
                b["port_id"].to_string(),
                b["ip_address_id"].to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn changes(app: &TestApp, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/changes?limit=0&{query}"));
    assert_eq!(r.status, 200, "{}", r.body);
    r.data().as_array().unwrap().clone()
}

#[test]
fn bindings_through_all_four_paths_read_back_at_every_instant() {
    let app = spawn_app();
    let w = app.world();
    let svc = format!("/api/v1/services/{}", w.service);
    let mut observed: Vec<(String, Value)> = Vec::new();
    let mut observe = |app: &TestApp, r: &Resp| {
        assert!(r.status < 300, "{}", r.body);
        let time = write_time(app, r);
        let live = app.get(&svc);
        observed.push((time, live.data()["bindings"].clone()));
    };

    // Service POST with bindings: a second service, so the first path is covered too.
    let other = app.service(
        &w.host,
        "other",
        json!([{"type": "IPAddress", "ip_address_id": w.ip2}]),
    );
    assert_eq!(other.status, 201, "{}", other.body);
    // Binding POST.
    let created = app.post(
        "/api/v1/bindings",
        json!({"service_id": w.service, "type": "Port", "port_id": w.port1, "ip_address_id": w.ip1}),
    );
    observe(&app, &created);
    let b1 = created.id();
    // Binding PUT: retarget to all interfaces.
    let moved = app.put(
        &format!("/api/v1/bindings/{b1}"),
        json!({"service_id": w.service, "type": "Port", "port_id": w.port1}),
    );
    observe(&app, &moved);
    assert_eq!(moved.id(), b1, "a retarget keeps the live id");
    // Service PUT: keep b1, add port 2 on ip1.
    let put = app.put(
        &svc,
        json!({"host_id": w.host, "name": "nginx", "service_definition": "Nginx Proxy Manager",
               "bindings": [{"id": b1, "type": "Port", "port_id": w.port1},
                            {"type": "Port", "port_id": w.port2, "ip_address_id": w.ip1}]}),
    );
    observe(&app, &put);
    // Binding DELETE of b1.
    let removed = app.delete(&format!("/api/v1/bindings/{b1}"));
    assert_eq!(removed.status, 200, "{}", removed.body);
    observe(&app, &removed);
    // Re-add the same target: a new lineage.
    let readded = app.post(
        "/api/v1/bindings",
        json!({"service_id": w.service, "type": "Port", "port_id": w.port1}),
    );
    observe(&app, &readded);
    assert_ne!(readded.id(), b1);
    // Service PUT that removes everything.
    let cleared = app.put(
        &svc,
        json!({"host_id": w.host, "name": "nginx", "service_definition": "Nginx Proxy Manager",
               "bindings": []}),
    );
    observe(&app, &cleared);

    for (time, live) in &observed {
        let at = app.get(&format!("{svc}?at={time}"));
        assert_eq!(at.status, 200, "{}", at.body);
        assert_eq!(
            binding_set(&at.data()["bindings"]),
            binding_set(live),
            "service as of {time}"
        );
        let list = app.get(&format!(
            "/api/v1/bindings?service_id={}&at={time}",
            w.service
        ));
        assert_eq!(list.status, 200, "{}", list.body);
        assert_eq!(
            binding_set(list.data()),
            binding_set(live),
            "list as of {time}"
        );
        for b in at.data()["bindings"].as_array().unwrap() {
            let lineage = b["lineage_id"].as_str().or(b["id"].as_str()).unwrap();
            let one = app.get(&format!("/api/v1/bindings/{lineage}?at={time}"));
            assert_eq!(one.status, 200, "{}", one.body);
            assert_eq!(one.data(), b, "GET one as of {time}");
        }
    }

    // b1's history: created on ip1, retargeted to all interfaces, deleted.
    let history = app.get(&format!("/api/v1/bindings/{b1}/history"));
    assert_eq!(history.status, 200, "{}", history.body);
    let versions = history.data().as_array().unwrap();
    assert_eq!(versions.len(), 2, "{}", history.body);
    assert_eq!(history.body["meta"]["pagination"]["total_count"], json!(2));
    assert_eq!(versions[0]["ip_address_id"], json!(null), "newest first");
    assert_eq!(versions[1]["ip_address_id"], json!(w.ip1));
    for v in versions {
        assert_eq!(v["lineage_id"], json!(b1));
        assert_ne!(v["id"], json!(b1), "a closed version has an id of its own");
        assert!(v["valid_to"].is_string());
    }
    assert_eq!(versions[1]["valid_to"], versions[0]["valid_from"]);
    // Before it existed: 404; deleted since but alive then: the version.
    let before = app.get(&format!("/api/v1/bindings/{b1}?at=2000-01-01T00:00:00Z"));
    assert_error(&before, 404, "NOT_FOUND", None);
    let then = app.get(&format!("/api/v1/bindings/{b1}?at={}", observed[0].0));
    assert_eq!(then.status, 200, "{}", then.body);
    assert_eq!(then.data()["ip_address_id"], json!(w.ip1));
    assert_eq!(then.data()["valid_to"], versions[0]["valid_from"]);
    // A live lineage's history starts with the live row.
    let live_id = other.data()["bindings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let live_history = app.get(&format!("/api/v1/bindings/{live_id}/history"));
    assert_eq!(live_history.data()[0]["id"], json!(live_id));
    assert_eq!(live_history.data()[0]["valid_to"], json!(null));
}

#[test]
fn versions_are_the_journal_before_images() {
    let app = spawn_app();
    let w = app.world();
    let host = format!("/api/v1/hosts/{}", w.host);
    let tag = app.tag("prod");
    for (name, tags) in [("web2", json!([tag])), ("web3", json!([]))] {
        let r = app.put(
            &host,
            json!({"network_id": w.network, "name": name, "tags": tags}),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let history = app.get(&format!("{host}/history"));
    let versions = history.data().as_array().unwrap();
    assert_eq!(versions.len(), 3);
    let entries = changes(&app, &format!("entity_id={}&action=update", w.host));
    assert_eq!(entries.len(), 2);
    // Entry k closed version k: the version is the entry's before image, with its end.
    for (entry, version) in entries.iter().zip(&versions[1..]) {
        let mut image = entry["before"].clone();
        image["id"] = entry["id"].clone();
        image["lineage_id"] = json!(w.host);
        image["valid_to"] = entry["time"].clone();
        assert_eq!(&image, version);
    }
    assert_eq!(versions[1]["tags"], json!([tag]));
    assert_eq!(entries[0]["changed_fields"], json!(["name", "tags"]));
}

#[test]
fn a_host_rename_a_port_change_and_a_cascade_delete_read_back() {
    let app = spawn_app();
    let w = app.world();
    let bound = app.put(
        &format!("/api/v1/services/{}", w.service),
        json!({"host_id": w.host, "name": "nginx", "service_definition": "Nginx Proxy Manager",
               "bindings": [{"type": "Port", "port_id": w.port1, "ip_address_id": w.ip1}]}),
    );
    let t0 = write_time(&app, &bound);

    let renamed = app.put(
        &format!("/api/v1/hosts/{}", w.host),
        json!({"network_id": w.network, "name": "nas"}),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let t1 = write_time(&app, &renamed);
    assert_eq!(renamed.data()["valid_from"], json!(t1));
    assert_eq!(renamed.data()["updated_at"], json!(t1));

    let renumbered = app.put(
        &format!("/api/v1/ports/{}", w.port1),
        json!({"host_id": w.host, "number": 8080, "protocol": "Tcp"}),
    );
    assert_eq!(renumbered.status, 200, "{}", renumbered.body);
    let t2 = write_time(&app, &renumbered);

    let old = app.get(&format!("/api/v1/hosts/{}?at={t0}", w.host));
    assert_eq!(old.status, 200, "{}", old.body);
    assert_eq!(old.data()["name"], json!("web"));
    assert_eq!(old.data()["lineage_id"], json!(w.host));
    assert_eq!(old.data()["valid_to"], json!(t1));
    let port_then = |t: &str| {
        let host = app.get(&format!("/api/v1/hosts/{}?at={t}", w.host));
        let ports = host.data()["ports"].as_array().unwrap().clone();
        let p = ports
            .iter()
            .find(|p| p["lineage_id"].as_str().or(p["id"].as_str()) == Some(w.port1.as_str()));
        p.unwrap()["number"].clone()
    };
    assert_eq!(port_then(&t1), json!(80));
    assert_eq!(port_then(&t2), json!(8080));
    let listed = app.get(&format!(
        "/api/v1/ports?host_id={}&number=80&at={t1}",
        w.host
    ));
    assert_eq!(
        listed.data().as_array().unwrap().len(),
        1,
        "{}",
        listed.body
    );
    let hosts_then = app.get(&format!("/api/v1/hosts?q=web&at={t0}"));
    assert_eq!(hosts_then.data()[0]["lineage_id"], json!(w.host));
    assert_eq!(
        app.get("/api/v1/hosts?q=web").data(),
        &json!([]),
        "live reads never show closed versions"
    );

    // Cascade: the host takes its addresses, ports, service and binding; all are closed.
    let deleted = app.delete(&format!("/api/v1/hosts/{}", w.host));
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let t3 = write_time(&app, &deleted);
    let request = deleted.header("x-request-id").unwrap();
    let entries = changes(&app, &format!("request_id={request}"));
    let mut kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["entity_type"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "binding",
            "host",
            "ip_address",
            "ip_address",
            "port",
            "port",
            "service"
        ]
    );
    assert!(entries
        .iter()
        .all(|e| e["action"] == json!("delete") && e["time"] == json!(t3)));
    for table in ["hosts", "ip_addresses", "ports", "services", "bindings"] {
        assert_eq!(app.count(table), 0, "{table}");
    }
    let gone = app.get(&format!("/api/v1/hosts/{}", w.host));
    assert_error(&gone, 404, "NOT_FOUND", None);
    let gone_now = app.get(&format!("/api/v1/hosts/{}?at={t3}", w.host));
    assert_error(&gone_now, 404, "NOT_FOUND", None);
    let before_delete = app.get(&format!("/api/v1/hosts/{}?at={t2}", w.host));
    assert_eq!(before_delete.status, 200, "{}", before_delete.body);
    let d = before_delete.data();
    assert_eq!(d["name"], json!("nas"));
    assert_eq!(d["ip_addresses"].as_array().unwrap().len(), 2);
    assert_eq!(d["ports"].as_array().unwrap().len(), 2);
    assert_eq!(d["services"][0]["bindings"].as_array().unwrap().len(), 1);
    let host_history = app.get(&format!("/api/v1/hosts/{}/history", w.host));
    assert_eq!(host_history.data().as_array().unwrap().len(), 2);
    let timeline = changes(&app, &format!("host_id={}", w.host));
    assert!(
        timeline.len() >= 12,
        "the host's timeline holds its parts: {}",
        timeline.len()
    );
    let never = app.get("/api/v1/hosts/00000000-0000-4000-8000-000000000000/history");
    assert_error(&never, 404, "NOT_FOUND", None);
}

#[test]
fn no_op_refused_and_replayed_writes_record_nothing() {
    let app = spawn_app();
    let w = app.world();
    let svc = format!("/api/v1/services/{}", w.service);
    let body = json!({"host_id": w.host, "name": "nginx", "service_definition": "Nginx Proxy Manager",
                      "bindings": [{"type": "Port", "port_id": w.port1}]});
    let first = app.put(&svc, body.clone());
    assert_eq!(first.status, 200, "{}", first.body);

    // Resending what is stored, bindings and temporal fields included: a no-op.
    let stored = app.get(&svc).data().clone();
    let before = app.snapshot();
    let again = app.put(&svc, stored.clone());
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.data()["updated_at"], stored["updated_at"]);
    assert_eq!(again.data()["valid_from"], stored["valid_from"]);
    assert_same(&before, &app.snapshot());
    let host = app.get(&format!("/api/v1/hosts/{}", w.host)).data().clone();
    let same_host = app.put(&format!("/api/v1/hosts/{}", w.host), host);
    assert_eq!(same_host.status, 200, "{}", same_host.body);
    assert_same(&before, &app.snapshot());

    // Refused: a conflicting binding (409) and a cross-host one (400).
    let other = app.service(&w.host, "other", json!([]));
    let before = app.snapshot();
    let conflict = app.post(
        "/api/v1/bindings",
        json!({"service_id": other.id(), "type": "Port", "port_id": w.port1, "ip_address_id": w.ip1}),
    );
    assert_error(&conflict, 409, "CONFLICT", None);
    let host2 = app.host(&w.network, "far");
    let far_port = app.port(&host2, 22, "Tcp");
    let before_far = app.snapshot();
    let cross = app.post(
        "/api/v1/bindings",
        json!({"service_id": w.service, "type": "Port", "port_id": far_port}),
    );
    assert_error(&cross, 400, "VALIDATION_ERROR", Some("port_id"));
    assert_same(&before_far, &app.snapshot());
    let _ = before;

    // An idempotent replay answers again without recording again.
    let headers = [("Idempotency-Key", "history-1")];
    let posted = app.send(
        "POST",
        "/api/v1/bindings",
        &json!({"service_id": w.service, "type": "Port", "port_id": w.port2}),
        &headers,
    );
    assert_eq!(posted.status, 201, "{}", posted.body);
    let after_first = app.snapshot();
    let replay = app.send(
        "POST",
        "/api/v1/bindings",
        &json!({"service_id": w.service, "type": "Port", "port_id": w.port2}),
        &headers,
    );
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_same(&after_first, &app.snapshot());
}

#[test]
fn the_journal_names_actor_request_and_changes() {
    let app = spawn_app();
    let w = app.world();
    let r = app.post(
        "/api/v1/bindings",
        json!({"service_id": w.service, "type": "Port", "port_id": w.port1}),
    );
    let request = r.header("x-request-id").unwrap().to_string();
    let entries = changes(&app, &format!("request_id={request}"));
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["action"], json!("create"));
    assert_eq!(e["entity_type"], json!("binding"));
    assert_eq!(e["entity_id"], json!(r.id()));
    assert_eq!(e["network_id"], json!(w.network));
    assert_eq!(e["request_id"], json!(request));
    assert_eq!(e["before"], json!(null));
    assert_eq!(&e["after"], r.data());
    assert_eq!(e["actor"]["type"], json!("api_key"));
    assert_eq!(e["actor"]["name"], json!("initial-admin"));
    let me = app.get("/api/v1/auth/me");
    assert_eq!(e["actor"]["id"], me.data()["key_id"]);

    // Newest first, filterable; the first key came from the server's first start.
    let all = changes(&app, "");
    assert_eq!(all[0]["id"], e["id"]);
    let key_entries = changes(&app, "entity_type=api_key");
    assert_eq!(
        key_entries.last().unwrap()["actor"]["type"],
        json!("system")
    );
    assert!(key_entries
        .iter()
        .all(|k| k["after"]["key"] == json!("**********")));
    let by_type = changes(&app, "entity_type=network&action=create");
    assert_eq!(by_type.len(), 1);
    assert_eq!(by_type[0]["network_id"], json!(w.network));
    let actor = me.data()["key_id"].as_str().unwrap().to_string();
    assert_eq!(
        changes(&app, &format!("actor_id={actor}")).len(),
        all.len() - 1,
        "everything but the first-start key"
    );
    let since = changes(&app, &format!("since={}", e["time"].as_str().unwrap()));
    assert_eq!(since.len(), 1);
    let until = changes(&app, &format!("until={}", e["time"].as_str().unwrap()));
    assert_eq!(until.len(), all.len() - 1);
    let svc = changes(&app, &format!("service_id={}", w.service));
    assert_eq!(svc.len(), 2, "the service's creation and its binding");

    // A service type's id is its name.
    let custom = app.post(
        "/api/v1/service-types",
        json!({"name": "Home Lab Thing", "category": "Other"}),
    );
    assert_eq!(custom.status, 201, "{}", custom.body);
    let by_name = changes(&app, "entity_id=Home%20Lab%20Thing");
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0]["entity_type"], json!("service_type"));

    let bad = app.get("/api/v1/changes?entity_type=widget");
    assert_error(&bad, 400, "VALIDATION_ERROR", Some("entity_type"));
    let bad = app.get("/api/v1/changes?since=yesterday");
    assert_error(&bad, 400, "VALIDATION_ERROR", Some("since"));
}

#[test]
fn scope_applies_to_history_versions_and_journal() {
    let app = spawn_app();
    let a = app.network("a");
    let b = app.network("b");
    let host_a = app.host(&a, "in-a");
    let host_b = app.host(&b, "in-b");
    let renamed = app.put(
        &format!("/api/v1/hosts/{host_b}"),
        json!({"network_id": b, "name": "still-in-b"}),
    );
    let t = write_time(&app, &renamed);
    let viewer = app.key_with("Viewer", &[&a]);

    let own = app.call(
        "GET",
        &format!("/api/v1/hosts/{host_a}/history"),
        &viewer,
        None,
    );
    assert_eq!(own.status, 200, "{}", own.body);
    for path in [
        format!("/api/v1/hosts/{host_b}/history"),
        format!("/api/v1/hosts/{host_b}?at={t}"),
    ] {
        let r = app.call("GET", &path, &viewer, None);
        assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    }
    let listed = app.call("GET", &format!("/api/v1/hosts?at={t}"), &viewer, None);
    let names: Vec<&Value> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["name"])
        .collect();
    assert_eq!(names, [&json!("in-a")]);
    let journal = app.call("GET", "/api/v1/changes?limit=0", &viewer, None);
    let entries = journal.data().as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(
        entries.iter().all(|e| e["network_id"] == json!(a)),
        "{}",
        journal.body
    );
    // After a delete, the scope of the last version still applies.
    assert_eq!(app.delete(&format!("/api/v1/hosts/{host_b}")).status, 200);
    let r = app.call(
        "GET",
        &format!("/api/v1/hosts/{host_b}/history"),
        &viewer,
        None,
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
}

#[test]
fn a_malformed_at_is_refused_and_a_future_one_reads_as_now() {
    let app = spawn_app();
    let w = app.world();
    for path in [
        format!("/api/v1/hosts/{}?at=last-tuesday", w.host),
        "/api/v1/bindings?at=2026-13-01T00:00:00Z".to_string(),
        "/api/v1/services?at=2026-01-01".to_string(),
    ] {
        let r = app.get(&path);
        assert_error(&r, 400, "VALIDATION_ERROR", Some("at"));
    }
    let live = app.get(&format!("/api/v1/hosts/{}", w.host));
    // An unencoded `+` of the offset arrives as a space and still reads.
    let future = app.get(&format!(
        "/api/v1/hosts/{}?at=2999-01-01T00:00:00+01:00",
        w.host
    ));
    assert_eq!(future.status, 200, "{}", future.body);
    assert_eq!(future.data(), live.data());
}

#[test]
fn subnet_and_tag_cascades_close_versions_of_what_they_touch() {
    let app = spawn_app();
    let w = app.world();
    let subnet = app.subnet(&w.network, "10.0.0.0/24");
    let tag = app.tag("lab");
    let placed = app.put(
        &format!("/api/v1/ip-addresses/{}", w.ip1),
        json!({"host_id": w.host, "ip_address": "10.0.0.1", "subnet_id": subnet}),
    );
    assert_eq!(placed.status, 200, "{}", placed.body);
    let tagged = app.put(
        &format!("/api/v1/hosts/{}", w.host),
        json!({"network_id": w.network, "name": "web", "tags": [tag]}),
    );
    let t = write_time(&app, &tagged);

    assert_eq!(
        app.delete(&format!("/api/v1/subnets/{subnet}?cascade=true"))
            .status,
        200
    );
    assert_eq!(
        app.delete(&format!("/api/v1/tags/{tag}?cascade=true"))
            .status,
        200
    );
    let ip_then = app.get(&format!("/api/v1/ip-addresses/{}?at={t}", w.ip1));
    assert_eq!(ip_then.data()["subnet_id"], json!(subnet));
    assert_eq!(
        app.get(&format!("/api/v1/ip-addresses/{}", w.ip1)).data()["subnet_id"],
        json!(null)
    );
    let host_then = app.get(&format!("/api/v1/hosts/{}?at={t}", w.host));
    assert_eq!(host_then.data()["tags"], json!([tag]));
    let tagged_then = app.get(&format!("/api/v1/hosts?tag_ids={tag}&at={t}"));
    assert_eq!(tagged_then.data().as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/hosts/{}", w.host)).data()["tags"],
        json!([])
    );
    let subnet_history = app.get(&format!("/api/v1/subnets/{subnet}/history"));
    assert_eq!(subnet_history.data().as_array().unwrap().len(), 1);
    assert_eq!(subnet_history.data()[0]["lineage_id"], json!(subnet));
}

//! The topology endpoints in the 0.17 clients' field names: one row per network, stored view
//! options, nodes and edges from the map's own layout, network scope and `at=`.

use serde_json::{json, Value};

use crate::helpers::{assert_error, assert_same, spawn_app};
use crate::map::lab;

#[test]
fn a_topology_per_network_with_options_kept_and_journaled() {
    let app = spawn_app();
    let lab = lab(&app);
    let other = app.network("other");
    let list = app.get("/api/v1/topology");
    assert_eq!(list.status, 200, "{}", list.body);
    let rows = list.data().as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["id"], json!(lab.network));
    assert_eq!(rows[0]["network_id"], json!(lab.network));
    assert_eq!(rows[0]["options"], json!({}));
    let path = format!("/api/v1/topology/{}", lab.network);
    let options = json!({"group_docker_bridges": true, "hide_ports": ["22/tcp"], "left_zone": {"title": "DMZ"}});
    let mut row = app.get(&path).data().clone();
    row["options"] = options.clone();
    let r = app.put(&path, row);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["options"], options);
    assert_eq!(app.get(&path).data()["options"], options);
    let journal = app.get(&format!(
        "/api/v1/changes?entity_type=topology&entity_id={}",
        lab.network
    ));
    assert_eq!(
        journal.data()[0]["action"],
        json!("create"),
        "{}",
        journal.body
    );
    assert_eq!(journal.data()[0]["after"]["options"], options);

    // Scope: a key of the other network sees only its own row and cannot write this one.
    let scoped = app.key_with("Member", &[&other]);
    let mine = app.call("GET", "/api/v1/topology", &scoped, None);
    assert_eq!(mine.data().as_array().unwrap().len(), 1);
    assert_eq!(mine.data()[0]["id"], json!(other));
    let before = app.snapshot();
    let r = app.call("PUT", &path, &scoped, Some(&json!({"options": {}})));
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.put(&path, json!({"options": [1, 2]}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("options"));
    let r = app.put(&path, json!({"options": {}, "nodes": []}));
    assert_error(&r, 400, "VALIDATION_ERROR", Some("nodes"));
    assert_same(&before, &app.snapshot());
    assert_eq!(
        app.get("/api/v1/topology/0193a4c6-0000-7000-8000-000000000000")
            .status,
        404
    );
}

fn nodes<'a>(data: &'a Value, view: &str) -> &'a Vec<Value> {
    data["nodes"][view].as_array().unwrap()
}

#[test]
fn topology_data_has_the_peers_nodes_and_edges_from_the_map() {
    let app = spawn_app();
    let lab = lab(&app);
    let r = app.get(&format!("/api/v1/topology/data?network_id={}", lab.network));
    assert_eq!(r.status, 200, "{}", r.body);
    let data = r.data();
    assert_eq!(data["available_views"], json!(["L3Logical", "Application"]));
    for empty in ["interfaces", "neighbours", "candidates", "vlans"] {
        assert_eq!(data[empty], json!([]), "{empty}");
    }
    assert_eq!(data["filtered_out"], json!({}));
    let hosts = data["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert!(
        hosts.iter().all(|h| h["display_name"] == h["name"]),
        "{hosts:?}"
    );
    assert_eq!(data["services"].as_array().unwrap().len(), 4);
    assert_eq!(data["bindings"].as_array().unwrap().len(), lab.bindings);
    assert_eq!(data["ip_addresses"].as_array().unwrap().len(), 3);
    assert_eq!(data["dependencies"].as_array().unwrap().len(), 1);

    let l3 = nodes(data, "L3Logical");
    let containers: Vec<&Value> = l3
        .iter()
        .filter(|n| n["node_type"] == json!("Container"))
        .collect();
    assert!(!containers.is_empty());
    for c in &containers {
        assert_eq!(c["container_type"], json!("Subnet"), "{c}");
        assert!(
            c["header"].is_string() && c["position"]["x"].is_number() && c["size"]["y"].is_number()
        );
    }
    let container_ids: Vec<&Value> = containers.iter().map(|c| &c["id"]).collect();
    let elements: Vec<&Value> = l3
        .iter()
        .filter(|n| n["node_type"] == json!("Element"))
        .collect();
    assert_eq!(elements.len(), 2 + 3 + 4, "hosts, addresses and services");
    for e in &elements {
        assert!(container_ids.contains(&&e["container_id"]), "{e}");
        assert!(e["header"].is_string(), "{e}");
        assert!(
            matches!(
                e["element_type"].as_str(),
                Some("Host" | "IPAddress" | "Service")
            ),
            "{e}"
        );
        assert!(e["host_id"].is_string(), "{e}");
    }
    for (host, name) in &lab.hosts {
        let node = elements.iter().find(|e| e["id"] == json!(host)).unwrap();
        assert_eq!(node["element_type"], json!("Host"));
        assert!(node["header"].as_str().unwrap().starts_with(name), "{node}");
    }
    // The same positions as the map.
    let map = app.get(&format!("/api/v1/networks/{}/map", lab.network));
    for n in map.data()["nodes"].as_array().unwrap() {
        if n["kind"] == json!("service") {
            let peer = elements.iter().find(|e| e["id"] == n["id"]).unwrap();
            assert_eq!(peer["position"], json!({"x": n["x"], "y": n["y"]}));
            assert_eq!(peer["size"], json!({"x": n["width"], "y": n["height"]}));
        }
    }
    let ids: Vec<&Value> = l3.iter().map(|n| &n["id"]).collect();
    let edges = data["edges"]["L3Logical"].as_array().unwrap();
    assert_eq!(edges.len(), lab.bindings);
    for e in edges {
        assert_eq!(e["edge_type"], json!("Binding"));
        assert!(
            ids.contains(&&e["source"]) && ids.contains(&&e["target"]),
            "{e}"
        );
    }
    let app_nodes = nodes(data, "Application");
    assert_eq!(
        app_nodes
            .iter()
            .filter(|n| n["element_type"] == json!("Service"))
            .count(),
        4
    );
    let deps = data["edges"]["Application"].as_array().unwrap();
    assert_eq!(deps.len(), 2, "a path of three is two links");
    assert!(deps
        .iter()
        .all(|e| e["edge_type"] == json!("Dependency") && e["label"] == json!("media path")));

    // As of before the services existed, and for a key of another network.
    let past = app.get(&format!(
        "/api/v1/topology/data?network_id={}&at=2000-01-01T00:00:00Z",
        lab.network
    ));
    assert_eq!(past.status, 200, "{}", past.body);
    assert_eq!(past.data()["services"], json!([]));
    let other = app.network("other");
    let scoped = app.key_with("Viewer", &[&other]);
    let r = app.call(
        "GET",
        &format!("/api/v1/topology/data?network_id={}", lab.network),
        &scoped,
        None,
    );
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    assert_error(
        &app.get("/api/v1/topology/data"),
        400,
        "VALIDATION_ERROR",
        Some("network_id"),
    );
    let bad_view = app.get(&format!(
        "/api/v1/topology/{}/export/mermaid?view=Galaxy",
        lab.network
    ));
    assert_error(&bad_view, 400, "VALIDATION_ERROR", Some("view"));
}

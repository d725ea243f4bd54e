//! Reads written straight from the rows (a live service, a host with its children, a page of
//! services) must say exactly what the typed path says: the same fields in the same order, the
//! same bytes, so the same ETag.

use serde_json::json;

use crate::helpers::{spawn_app, Resp};

/// A read answered from the rows says what the write (the typed path) answered: the same
/// fields in the same order, and the same bytes, so the same ETag.
fn assert_same_answer(read: &Resp, typed: &Resp) {
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.data(), typed.data(), "same fields and values");
    assert_eq!(
        serde_json::to_string(read.data()).unwrap(),
        serde_json::to_string(typed.data()).unwrap(),
        "same order"
    );
    assert_eq!(
        read.header("etag"),
        typed.header("etag"),
        "same bytes, same tag"
    );
}

#[test]
fn a_service_read_is_byte_for_byte_what_its_write_answered() {
    let app = spawn_app();
    let net = app.network("lab");
    let host = app.host(&net, "nas");
    let a = app.ip(&host, "10.0.0.1");
    let b = app.ip(&host, "10.0.0.2");
    let web = app.port(&host, 80, "Tcp");
    let dns = app.port(&host, 53, "Udp");
    let prod = app.tag("prod");
    let edge = app.tag("edge \"quoted\" ünïcode");
    let bodies = [
        json!({"host_id": host, "name": "plain \u{1F600}", "service_definition": "Jellyfin", "bindings": []}),
        json!({"host_id": host, "name": "ünïcode \"quotes\" \\ back/slash", "service_definition": "Pi-Hole",
               "tags": [edge, prod], "virtualization": {"type": "Docker", "details": {"container": "x", "n": 1.5, "big": 1e300,
                   "text": "line\nbreak\ttab\u{1}\u{7f}\u{2028}\u{1F600} </script>"}},
               "bindings": [{"type": "Port", "port_id": dns, "ip_address_id": a},
                            {"type": "IPAddress", "ip_address_id": b}]}),
        json!({"host_id": host, "name": "all interfaces", "service_definition": "Nginx Proxy Manager",
               "tags": [prod], "bindings": [{"type": "Port", "port_id": web}]}),
    ];
    for body in bodies {
        let created = app.post("/api/v1/services", body.clone());
        assert_eq!(created.status, 201, "{}", created.body);
        let path = format!("/api/v1/services/{}", created.id());
        let mut put_body = body.clone();
        put_body["bindings"] = created.data()["bindings"].clone();
        let put = app.put(&path, put_body);
        assert_eq!(put.status, 200, "{}", put.body);
        let read = app.get(&path);
        assert_same_answer(&read, &put);
        // A past read goes the typed way: the same object.
        let at = read.data()["updated_at"].as_str().unwrap().to_string();
        let past = app.get(&format!("{path}?at={at}"));
        assert_eq!(past.data()["bindings"], read.data()["bindings"]);
        assert_eq!(past.data()["tags"], read.data()["tags"]);
    }
    let missing = app.get("/api/v1/services/0193a4c6-0000-7000-8000-000000000000");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["code"], json!("NOT_FOUND"));
}

#[test]
fn a_host_read_with_its_children_is_byte_for_byte_what_its_write_answered() {
    let app = spawn_app();
    let net = app.network("lab");
    let bare = app.host(&net, "bare");
    let host = app.host(&net, "nas");
    let a = app.ip(&host, "10.0.0.2");
    let b = app.ip(&host, "10.0.0.1");
    let web = app.port(&host, 80, "Tcp");
    let odd = app.port(&host, 31337, "Udp");
    let prod = app.tag("prod");
    let edge = app.tag("edge \"quoted\" ünïcode");
    for (name, bindings, tags) in [
        (
            "web \u{1F600}",
            json!([{"type": "Port", "port_id": web, "ip_address_id": a}]),
            json!([edge, prod]),
        ),
        (
            "dns",
            json!([{"type": "Port", "port_id": odd, "ip_address_id": b}, {"type": "IPAddress", "ip_address_id": a}]),
            json!([]),
        ),
        ("idle", json!([]), json!([prod])),
    ] {
        let r = app.post("/api/v1/services", json!({"host_id": host, "name": name,
            "service_definition": "Jellyfin", "tags": tags, "bindings": bindings,
            "virtualization": {"type": "Docker", "details": {"n": 1.5, "text": "tab\there \u{2028}"}}}));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    for id in [&bare, &host] {
        let path = format!("/api/v1/hosts/{id}");
        let put = app.put(
            &path,
            json!({"name": if id == &host { "nas \"main\" \\ ünïcode" } else { "bare" },
            "hostname": "nas.lab", "description": null, "hidden": id == &bare, "tags": [prod, edge],
            "virtualization": {"type": "Proxmox", "details": {"vmid": 101, "ratio": 0.25}}}),
        );
        assert_eq!(put.status, 200, "{}", put.body);
        let read = app.get(&path);
        assert_same_answer(&read, &put);
        let listed = app.get(&format!(
            "/api/v1/hosts?network_id={net}&include=children&limit=10"
        ));
        let typed = listed
            .data()
            .as_array()
            .unwrap()
            .iter()
            .find(|h| &h["id"] == id)
            .unwrap();
        assert_eq!(
            serde_json::to_string(read.data()).unwrap(),
            serde_json::to_string(typed).unwrap(),
            "the list's typed path agrees"
        );
    }
    let nas = app.get(&format!("/api/v1/hosts/{host}"));
    assert_eq!(nas.data()["ip_addresses"].as_array().unwrap().len(), 2);
    assert_eq!(nas.data()["ports"][1]["type"], json!("Custom"));
    assert_eq!(
        nas.data()["services"][1]["bindings"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let missing = app.get("/api/v1/hosts/0193a4c6-0000-7000-8000-000000000000");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["code"], json!("NOT_FOUND"));

    // A page of hosts with children, written from the rows, is what the typed path answers (an
    // instant after now reads as now, through the typed path), entry for entry, in every
    // pagination.
    for query in [
        "",
        "&limit=1",
        "&limit=1&offset=1",
        "&order_by=name&order_direction=desc",
    ] {
        let fast = app.get(&format!("/api/v1/hosts?network_id={net}{query}"));
        let typed = app.get(&format!(
            "/api/v1/hosts?network_id={net}{query}&at=2999-01-01T00:00:00Z"
        ));
        assert_eq!(fast.status, 200, "{}", fast.body);
        assert_eq!(
            serde_json::to_string(&fast.body["data"]).unwrap(),
            serde_json::to_string(&typed.body["data"]).unwrap(),
            "{query}"
        );
        assert_eq!(fast.body["meta"], typed.body["meta"], "{query}");
    }
}

#[test]
fn a_page_of_services_says_what_each_service_read_says() {
    let app = spawn_app();
    let net = app.network("lab");
    let host = app.host(&net, "nas");
    let other = app.host(&net, "other");
    let a = app.ip(&host, "10.0.0.1");
    let web = app.port(&host, 80, "Tcp");
    let dns = app.port(&host, 53, "Udp");
    let prod = app.tag("prod");
    let edge = app.tag("edge");
    let mut ids = Vec::new();
    for (name, bindings, tags) in [
        (
            "web \"quoted\" \u{1F600}",
            json!([{"type": "Port", "port_id": web}]),
            json!([edge, prod]),
        ),
        (
            "dns",
            json!([{"type": "Port", "port_id": dns, "ip_address_id": a}]),
            json!([]),
        ),
        ("idle", json!([]), json!([prod])),
    ] {
        let r = app.post(
            "/api/v1/services",
            json!({"host_id": host, "name": name,
            "service_definition": "Jellyfin", "tags": tags, "bindings": bindings,
            "virtualization": {"type": "Docker", "details": {"n": 2.50}}}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        ids.push(r.id());
    }
    let elsewhere = app.service(&other, "elsewhere", json!([]));
    assert_eq!(elsewhere.status, 201);

    let page = app.get(&format!(
        "/api/v1/services?host_id={host}&limit=2&order_by=name"
    ));
    assert_eq!(page.status, 200);
    let items = page.data().as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        page.body["meta"]["pagination"],
        json!({"total_count": 3, "limit": 2, "offset": 0, "has_more": true})
    );
    let names: Vec<&str> = items.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dns", "idle"]);
    let rest = app.get(&format!(
        "/api/v1/services?host_id={host}&limit=2&offset=2&order_by=name"
    ));
    assert_eq!(rest.data().as_array().unwrap().len(), 1);
    assert_eq!(rest.body["meta"]["pagination"]["has_more"], json!(false));
    for item in items.iter().chain(rest.data().as_array().unwrap()) {
        let read = app.get(&format!(
            "/api/v1/services/{}",
            item["id"].as_str().unwrap()
        ));
        assert_eq!(
            serde_json::to_string(item).unwrap(),
            serde_json::to_string(read.data()).unwrap(),
            "a listed service is the service"
        );
    }
    // A past page goes the typed way: the same services.
    let at = items
        .iter()
        .chain(rest.data().as_array().unwrap())
        .map(|s| s["updated_at"].as_str().unwrap().to_string())
        .max()
        .unwrap();
    let past = app.get(&format!(
        "/api/v1/services?host_id={host}&limit=2&order_by=name&at={at}"
    ));
    assert_eq!(past.data().as_array().unwrap().len(), 2);
    for (now, then) in items.iter().zip(past.data().as_array().unwrap()) {
        assert_eq!(now["bindings"], then["bindings"]);
        assert_eq!(now["tags"], then["tags"]);
    }
    let empty = app.get(&format!("/api/v1/services?host_id={host}&offset=10"));
    assert_eq!(empty.data(), &json!([]));
    assert_eq!(empty.body["meta"]["pagination"]["total_count"], json!(3));
    let all = app.get("/api/v1/services?limit=10");
    assert_eq!(all.data().as_array().unwrap().len(), 4);
}

#[test]
fn a_page_of_bindings_says_what_each_binding_read_says() {
    let app = spawn_app();
    let net = app.network("lab");
    let host = app.host(&net, "nas");
    let a = app.ip(&host, "10.0.0.1");
    let b = app.ip(&host, "10.0.0.2");
    let web = app.port(&host, 80, "Tcp");
    let created = app.service(
        &host,
        "web",
        json!([{"type": "Port", "port_id": web, "ip_address_id": a},
               {"type": "IPAddress", "ip_address_id": b}]),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let service = created.id();
    let page = app.get(&format!("/api/v1/bindings?service_id={service}&limit=1"));
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body["meta"]["pagination"],
        json!({"total_count": 2, "limit": 1, "offset": 0, "has_more": true})
    );
    let all = app.get(&format!("/api/v1/bindings?service_id={service}"));
    let items = all.data().as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], page.data()[0]);
    for item in items {
        let read = app.get(&format!(
            "/api/v1/bindings/{}",
            item["id"].as_str().unwrap()
        ));
        assert_eq!(
            serde_json::to_string(item).unwrap(),
            serde_json::to_string(read.data()).unwrap(),
            "a listed binding is the binding"
        );
    }
    assert_eq!(items[1]["type"], json!("IPAddress"));
    assert_eq!(items[0]["ip_address_id"], json!(a));
    let none = app.get(&format!(
        "/api/v1/bindings?service_id={service}&type=Port&port_id={b}"
    ));
    assert_eq!(none.data(), &json!([]));
}

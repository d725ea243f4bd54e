//! Reads answered from JSON that SQLite builds must say exactly what the typed path says: the
//! same fields in the same order, the same bytes, so the same ETag.

use serde_json::json;

use crate::helpers::spawn_app;

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
        assert_eq!(read.status, 200);
        assert_eq!(read.data(), put.data(), "same fields and values");
        assert_eq!(
            serde_json::to_string(read.data()).unwrap(),
            serde_json::to_string(put.data()).unwrap(),
            "same order"
        );
        assert_eq!(
            read.header("etag"),
            put.header("etag"),
            "same bytes, same tag"
        );
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

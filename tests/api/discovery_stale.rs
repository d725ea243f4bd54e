//! Stale: what discovery created and has not seen for PORTOLAN_STALE_AFTER_HOURS.

use serde_json::json;

use crate::helpers::spawn_with;

#[test]
fn discovered_objects_not_seen_lately_are_stale_manual_ones_never() {
    let app = spawn_with(|c| c.stale_after_hours = 1);
    let net = app.network("lab");
    let manual = app.host(&net, "manual");
    let r = app.post(
        "/api/v1/discoveries",
        json!({"network_id": net, "source": "observations", "observations": [
            {"ip": "10.8.0.1", "ports": [{"number": 22, "protocol": "Tcp", "service_type": "SSH"}]},
            {"ip": "10.8.0.2", "ports": [{"number": 22, "protocol": "Tcp", "service_type": "SSH"}]}]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let hosts = app.get("/api/v1/hosts?stale=false&limit=0");
    assert_eq!(
        hosts.data().as_array().unwrap().len(),
        3,
        "nothing is stale yet"
    );

    // Two hours pass for 10.8.0.1 and what is on it.
    let db = rusqlite::Connection::open(app.dir.path().join("portolan.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let old = "2000-01-01T00:00:00.000000Z";
    for table in ["hosts", "ports", "services", "bindings"] {
        let sql = format!(
            "UPDATE {table} SET last_seen_at = ?1 WHERE id IN (SELECT {col} FROM ip_addresses i \
             JOIN ports p ON p.host_id = i.host_id JOIN bindings b ON b.port_id = p.id \
             JOIN services s ON s.id = b.service_id WHERE i.ip_address = '10.8.0.1')",
            col = match table {
                "hosts" => "i.host_id",
                "ports" => "p.id",
                "services" => "s.id",
                _ => "b.id",
            }
        );
        assert_eq!(db.execute(&sql, [old]).unwrap(), 1, "{table}");
    }
    drop(db);

    for kind in ["hosts", "ports", "services", "bindings"] {
        let stale = app.get(&format!("/api/v1/{kind}?stale=true&limit=0"));
        assert_eq!(stale.status, 200, "{}", stale.body);
        let items = stale.data().as_array().unwrap();
        assert_eq!(items.len(), 1, "{kind}: {}", stale.body);
        assert_eq!(items[0]["stale"], json!(true));
    }
    let fresh = app.get("/api/v1/hosts?stale=false&limit=0");
    let names: Vec<&str> = fresh
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"manual") && names.contains(&"10.8.0.2"),
        "{names:?}"
    );
    assert_eq!(
        app.get(&format!("/api/v1/hosts/{manual}")).data()["stale"],
        json!(false)
    );
    let r = app.get("/api/v1/hosts?stale=maybe");
    assert_eq!(r.status, 400);
}

//! `PORTOLAN_HISTORY_DAYS`: the maintenance thread forgets closed versions and journal entries
//! older than that, and never a live row.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::ServerProcess;

fn call(agent: &ureq::Agent, method: &str, url: &str, key: &str, body: Option<Value>) -> Value {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Authorization", format!("Bearer {key}"));
    let bytes = match body {
        Some(b) => {
            req = req.header("Content-Type", "application/json");
            serde_json::to_vec(&b).unwrap()
        }
        None => Vec::new(),
    };
    let mut res = agent.run(req.body(bytes).unwrap()).expect("request");
    res.body_mut().read_json::<Value>().expect("json")
}

#[test]
fn history_older_than_the_retention_is_pruned_and_live_rows_stay() {
    let dir = tempfile::tempdir().unwrap();
    let key = format!("scp_u_{}", "R7".repeat(16));
    let agent = ServerProcess::agent();

    let mut server = ServerProcess::start(dir.path(), &key);
    let url = |path: &str| format!("{}{path}", server.base);
    let network = call(
        &agent,
        "POST",
        &url("/api/v1/networks"),
        &key,
        Some(json!({"name": "n"})),
    );
    let network = network["data"]["id"].as_str().unwrap().to_string();
    let host = call(
        &agent,
        "POST",
        &url("/api/v1/hosts"),
        &key,
        Some(json!({"network_id": network, "name": "v1"})),
    );
    let host = host["data"]["id"].as_str().unwrap().to_string();
    for name in ["v2", "v3"] {
        call(
            &agent,
            "PUT",
            &url(&format!("/api/v1/hosts/{host}")),
            &key,
            Some(json!({"network_id": network, "name": name})),
        );
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // Age the first rename (the version it closed, and its entry) by a year.
    let db = dir.path().join("portolan.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let first: String = conn
            .query_row(
                "SELECT id FROM changes WHERE entity_id = ?1 AND action = 'update' ORDER BY seq LIMIT 1",
                [&host],
                |r| r.get(0),
            )
            .unwrap();
        // An entry's instant is its write's (a rename writes one entry).
        conn.execute(
            "UPDATE journal_writes SET time = '2025-01-01T00:00:00.000000Z'
             WHERE seq = (SELECT write_seq FROM changes WHERE id = ?1)",
            [&first],
        )
        .unwrap();
        conn.execute(
            "UPDATE host_versions SET valid_to = '2025-01-01T00:00:00.000000Z'
             WHERE seq = (SELECT seq FROM changes WHERE id = ?1)",
            [&first],
        )
        .unwrap();
    }
    let count = |sql: &str| -> i64 {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    let entries_before = count("SELECT count(*) FROM changes");

    let mut server =
        ServerProcess::start_with(dir.path(), &key, &[("PORTOLAN_HISTORY_DAYS", "30")]);
    let deadline = Instant::now() + Duration::from_secs(10);
    // Versions go first, then entries: wait for both.
    while count("SELECT count(*) FROM host_versions") != 1
        || count("SELECT count(*) FROM changes") != entries_before - 1
    {
        assert!(Instant::now() < deadline, "the old version was not pruned");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count("SELECT count(*) FROM changes"), entries_before - 1);
    assert_eq!(
        count("SELECT count(*) FROM changes WHERE time < '2026-01-01'"),
        0
    );
    let live = call(
        &agent,
        "GET",
        &format!("{}/api/v1/hosts/{host}", server.base),
        &key,
        None,
    );
    assert_eq!(
        live["data"]["name"],
        json!("v3"),
        "live rows are never pruned"
    );
    let history = call(
        &agent,
        "GET",
        &format!("{}/api/v1/hosts/{host}/history", server.base),
        &key,
        None,
    );
    let names: Vec<&Value> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["name"])
        .collect();
    assert_eq!(names, [&json!("v3"), &json!("v2")]);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

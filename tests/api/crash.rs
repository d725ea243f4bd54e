//! Kill the server with SIGKILL at random moments while clients write; after each restart every
//! acknowledged write is there with its journal entry and versions, journal and live state agree
//! (no write left state without its entry, or an entry without its state), the database passes
//! its integrity check, and the binding rules hold. Loopback only, bounded: a few rounds of under
//! a second each.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

use crate::concurrency::{assert_invariants, bindings_in};
use crate::helpers::ServerProcess;

const ROUNDS: usize = 5;
const WRITERS: usize = 4;

pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    key: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .unwrap();
    let mut res = agent.run(req).ok()?;
    let status = res.status().as_u16();
    let body = res.body_mut().read_json::<Value>().ok()?;
    Some((status, body))
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let key = format!("scp_u_{}", "K9".repeat(16));
    let agent = ServerProcess::agent();

    // A host with ports, addresses and services for the binding races.
    let mut server = ServerProcess::start(dir.path(), &key);
    let post = |server: &ServerProcess, path: &str, body: Value| {
        let (status, body) = call(
            &agent,
            "POST",
            &format!("{}{path}", server.base),
            &key,
            &body,
        )
        .unwrap();
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_str().unwrap().to_string()
    };
    let network = post(&server, "/api/v1/networks", json!({"name": "crash"}));
    let host = post(
        &server,
        "/api/v1/hosts",
        json!({"network_id": network, "name": "h"}),
    );
    let ips: Vec<String> = (1..=2)
        .map(|i| {
            post(
                &server,
                "/api/v1/ip-addresses",
                json!({"host_id": host, "ip_address": format!("10.1.0.{i}")}),
            )
        })
        .collect();
    let ports: Vec<String> = [80, 443]
        .iter()
        .map(|p| {
            post(
                &server,
                "/api/v1/ports",
                json!({"host_id": host, "number": p, "protocol": "Tcp"}),
            )
        })
        .collect();
    let services: Vec<String> = (0..4)
        .map(|i| {
            post(
                &server,
                "/api/v1/services",
                json!({"host_id": host, "name": format!("s{i}"), "service_definition": "Traefik"}),
            )
        })
        .collect();
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    let acknowledged: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let created_bindings: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let deleted_bindings: Mutex<Vec<String>> = Mutex::new(Vec::new());
    for round in 0..ROUNDS {
        let mut server = ServerProcess::start(dir.path(), &key);
        let base = server.base.clone();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for w in 0..WRITERS {
                let (base, stop, acknowledged, key, agent) =
                    (&base, &stop, &acknowledged, &key, &agent);
                let (created_bindings, deleted_bindings) = (&created_bindings, &deleted_bindings);
                let (services, ports, ips) = (&services, &ports, &ips);
                scope.spawn(move || {
                    let mut n = 0usize;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let name = format!("r{round}-w{w}-{n}");
                        match call(agent, "POST", &format!("{base}/api/v1/tags"), key, &json!({"name": name})) {
                            Some((201, _)) => acknowledged.lock().unwrap().push(name),
                            Some(_) => {}
                            None => break,
                        }
                        let ip = if n.is_multiple_of(3) { Value::Null } else { json!(ips[n % 2]) };
                        let binding = json!({"service_id": services[(w + n) % services.len()], "type": "Port",
                                             "port_id": ports[n % 2], "ip_address_id": ip});
                        let id = match call(agent, "POST", &format!("{base}/api/v1/bindings"), key, &binding) {
                            Some((201, body)) => body["data"]["id"].as_str().unwrap().to_string(),
                            Some(_) => continue,
                            None => break,
                        };
                        created_bindings.lock().unwrap().push(id.clone());
                        if n.is_multiple_of(2) {
                            match call(agent, "DELETE", &format!("{base}/api/v1/bindings/{id}"), key, &Value::Null) {
                                Some((200, _)) => deleted_bindings.lock().unwrap().push(id),
                                Some(_) => {}
                                None => break,
                            }
                        }
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(rand::random_range(150..600)));
            server.child.kill().unwrap();
            server.child.wait().unwrap();
            stop.store(true, Ordering::SeqCst);
        });

        let conn = rusqlite::Connection::open(dir.path().join("portolan.db")).unwrap();
        let verdict: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(verdict, "ok", "round {round}");
        let acknowledged = acknowledged.lock().unwrap();
        let mut stmt = conn
            .prepare("SELECT count(*) FROM tags WHERE name = ?")
            .unwrap();
        for name in acknowledged.iter() {
            let n: i64 = stmt.query_row([name], |r| r.get(0)).unwrap();
            assert_eq!(n, 1, "acknowledged tag {name} lost in round {round}");
        }
        assert_invariants(&bindings_in(&conn));
        assert_history(
            &conn,
            &created_bindings.lock().unwrap(),
            &deleted_bindings.lock().unwrap(),
            round,
        );
    }
    assert!(
        acknowledged.lock().unwrap().len() > 10,
        "the writers wrote something"
    );
    assert!(
        !deleted_bindings.lock().unwrap().is_empty(),
        "some bindings were closed"
    );
}

/// Acknowledged binding writes have their entries (and a delete its closed version); beyond
/// that, journal and tables agree exactly: every live row has its create entry and no delete
/// entry, every created-then-deleted lineage has its version, and nothing else is versioned.
fn assert_history(
    conn: &rusqlite::Connection,
    created: &[String],
    deleted: &[String],
    round: usize,
) {
    let entries = |id: &str, action: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM changes WHERE entity_id = ? AND action = ?",
            [id, action],
            |r| r.get(0),
        )
        .unwrap()
    };
    for id in created {
        assert_eq!(entries(id, "create"), 1, "round {round}: create of {id}");
    }
    for id in deleted {
        assert_eq!(entries(id, "delete"), 1, "round {round}: delete of {id}");
        let versions: i64 = conn
            .query_row(
                "SELECT count(*) FROM binding_versions WHERE lineage_id = ?",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(versions, 1, "round {round}: version of {id}");
    }
    for (table, kind) in [("bindings", "binding"), ("tags", "tag")] {
        let unjournaled: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM changes c \
                     WHERE c.entity_id = t.id AND c.action = 'create')
                     OR EXISTS (SELECT 1 FROM changes c WHERE c.entity_id = t.id AND c.action = 'delete')"
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            unjournaled, 0,
            "round {round}: live {table} and journal disagree"
        );
        let orphans: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM changes c WHERE c.entity_type = '{kind}' AND c.action = 'create' \
                     AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = c.entity_id) \
                     AND NOT EXISTS (SELECT 1 FROM changes d WHERE d.entity_id = c.entity_id AND d.action = 'delete')"
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            orphans, 0,
            "round {round}: journaled {kind}s missing from {table}"
        );
    }
    let (closing, versions): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM changes WHERE entity_type = 'binding' AND action != 'create'),
                    (SELECT count(*) FROM binding_versions)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        closing, versions,
        "round {round}: one version per closing entry"
    );
}

//! A database filled by the release before the journal's images were folded onto versions
//! (schema 17, `tests/fixtures/history-v17/make.py`) answers exactly as that release did once
//! today's build has migrated it: the journal, every object's versions, lists as of instants,
//! and the export with history. The migration backs the database up first.

use std::path::Path;

use serde_json::Value;

use crate::helpers::ServerProcess;

const KEY: &str = "scp_u_B3B3B3B3B3B3B3B3B3B3B3B3B3B3B3B3";

fn get(agent: &ureq::Agent, base: &str, path: &str) -> Value {
    let req = ureq::http::Request::builder()
        .uri(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {KEY}"))
        .body(())
        .unwrap();
    let mut res = agent.run(req).expect("request");
    assert_eq!(res.status().as_u16(), 200, "GET {path}");
    res.body_mut()
        .with_config()
        .limit(64 << 20)
        .read_json::<Value>()
        .expect("json")
}

/// Compares as text, key order included (serde_json keeps it).
fn assert_same_text(what: &str, actual: &Value, expected: &Value) {
    let (a, e) = (actual.to_string(), expected.to_string());
    if a != e {
        let at = a
            .bytes()
            .zip(e.bytes())
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(e.len()));
        let from = at.saturating_sub(200);
        panic!(
            "{what} differs at byte {at}:\n now: {}\n was: {}",
            &a[from..(at + 200).min(a.len())],
            &e[from..(at + 200).min(e.len())]
        );
    }
}

#[test]
fn a_schema_17_database_answers_the_same_after_its_images_are_folded() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/history-v17");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture.join("expected.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture.join("portolan.db"), dir.path().join("portolan.db")).unwrap();

    let mut server = ServerProcess::start(dir.path(), KEY);
    let agent = ServerProcess::agent();
    let base = server.base.clone();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let journal = get(&agent, &base, "/api/v1/changes?limit=0");
        assert_same_text("the journal", &journal["data"], &expected["journal"]);
        for (key, versions) in expected["history"].as_object().unwrap() {
            let now = get(&agent, &base, &format!("/api/v1/{key}/history?limit=0"));
            assert_same_text(&format!("{key}/history"), &now["data"], versions);
        }
        for (at, lists) in expected["as_of"].as_object().unwrap() {
            for (path, list) in lists.as_object().unwrap() {
                let now = get(&agent, &base, &format!("/api/v1/{path}?limit=0&at={at}"));
                assert_same_text(&format!("{path} at {at}"), &now["data"], list);
            }
        }
        let mut export = get(&agent, &base, "/api/v1/export?with_history=true");
        export.as_object_mut().unwrap().shift_remove("exported_at");
        assert_same_text("the export with history", &export, &expected["export"]);

        // A write closes a state the migration left live: the entry that began it reads as
        // before, and the new entry's `before` is that state.
        let entries = expected["journal"].as_array().unwrap();
        let created = entries
            .iter()
            .find(|e| {
                e["entity_type"] == "port"
                    && e["action"] == "create"
                    && entries
                        .iter()
                        .filter(|o| o["entity_id"] == e["entity_id"])
                        .count()
                        == 1
            })
            .expect("a live port of the fixture");
        let port = created["entity_id"].as_str().unwrap();
        let req = ureq::http::Request::builder()
            .method("DELETE")
            .uri(format!("{base}/api/v1/ports/{port}"))
            .header("Authorization", format!("Bearer {KEY}"))
            .body(())
            .unwrap();
        let status = agent.run(req).expect("delete").status().as_u16();
        assert!(status == 200 || status == 204, "deleted: {status}");
        let now = get(
            &agent,
            &base,
            &format!("/api/v1/changes?entity_id={port}&limit=0"),
        );
        let now = now["data"].as_array().unwrap();
        assert_eq!(now.len(), 2, "{now:?}");
        assert_eq!(now[0]["action"], "delete");
        assert_same_text("the create entry", &now[1], created);
        assert_same_text("the delete's before", &now[0]["before"], &created["after"]);
    }));
    server.child.kill().ok();
    server.child.wait().ok();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }

    let backups: Vec<String> = std::fs::read_dir(dir.path().join("backups"))
        .expect("a backup directory")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        backups.iter().any(|b| b.starts_with("pre-migration-17-")),
        "backed up first: {backups:?}"
    );
    // Stored once: every closed state's image is a fold, and so is every `after` whose state
    // was closed since; only the images of live states (and kinds without versions) are whole.
    let db = rusqlite::Connection::open(dir.path().join("portolan.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let versioned = "entity_type IN ('host', 'subnet', 'ip_address', 'port', 'service', 'binding', 'dependency')";
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM changes WHERE {versioned} AND json_type(before) = 'object'"
        )),
        0,
        "every before image is folded"
    );
    let began = format!("{versioned} AND action IN ('create', 'update')");
    let closed =
        "EXISTS (SELECT 1 FROM changes n WHERE n.entity_id = c.entity_id AND n.seq > c.seq)";
    let closed_states = count(&format!(
        "SELECT count(*) FROM changes c WHERE {began} AND {closed}"
    ));
    assert!(
        closed_states > 20,
        "the fixture closes states: {closed_states}"
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM changes c WHERE {began} AND c.after IS NULL AND {closed}
               AND (SELECT json_type(n.prior) FROM changes n WHERE n.entity_id = c.entity_id
                    AND n.seq > c.seq ORDER BY n.seq LIMIT 1) = 'array'"
        )),
        closed_states,
        "the after of every closed state is folded into the entry that closed it"
    );
    let live_states = count(&format!(
        "SELECT count(*) FROM changes c WHERE {began} AND NOT {closed}"
    ));
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM journal_open_afters o JOIN changes c ON c.seq = o.seq
             WHERE {began} AND NOT {closed} AND c.after IS NULL"
        )),
        live_states,
        "the after of a live state waits whole beside it"
    );
    assert_eq!(
        count("SELECT count(*) FROM settings WHERE key = 'journal_folded' AND value = '1'"),
        1
    );
    // The delete written after the migration stored its images the same way.
    assert_eq!(
        count(
            "SELECT count(*) FROM changes d JOIN changes c ON c.entity_id = d.entity_id
             WHERE d.action = 'delete' AND d.entity_type = 'port' AND c.action = 'create'
               AND json_type(d.before) = 'array' AND json_type(d.prior) = 'array'
               AND c.after IS NULL
               AND NOT EXISTS (SELECT 1 FROM journal_open_afters o WHERE o.seq = c.seq)
               AND d.seq = (SELECT max(seq) FROM changes)"
        ),
        1
    );
}

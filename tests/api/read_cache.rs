//! Hot reads (a host, a page of services or hosts) are answered from memory between writes: a
//! client that wrote reads what it wrote at once, while other clients keep those answers warm,
//! and no reader ever sees an object go back; a scoped key or an as-of read is never served an
//! answer kept for someone else.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app};

const WRITERS: usize = 6;
const ROUNDS: usize = 25;

/// Counts a writer as finished when it ends, also by a failed assertion (the readers stop then).
struct Finished<'a>(&'a AtomicUsize);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The round `k` a name `x{i}-{k}` was written in.
fn round(name: &Value) -> usize {
    let name = name.as_str().expect("a name");
    name.rsplit('-').next().unwrap().parse().unwrap()
}

#[test]
fn every_write_is_read_back_at_once_while_many_clients_read_and_write() {
    let app = spawn_app();
    let network = app.network("lab");
    let hosts: Vec<String> = (0..WRITERS)
        .map(|i| app.host(&network, &format!("h{i}-0")))
        .collect();
    for (i, host) in hosts.iter().enumerate() {
        let r = app.service(host, &format!("s{i}-0"), json!([]));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let finished = AtomicUsize::new(0);
    std::thread::scope(|s| {
        // Readers keep every answer warm; each must see names only move forward.
        for _ in 0..3 {
            s.spawn(|| {
                let mut seen = [(0, 0); WRITERS];
                while finished.load(Ordering::SeqCst) < WRITERS {
                    for (i, host) in hosts.iter().enumerate() {
                        let r = app.get(&format!("/api/v1/hosts/{host}"));
                        assert_eq!(r.status, 200, "{}", r.body);
                        let h = round(&r.data()["name"]);
                        let page = app.get(&format!("/api/v1/services?host_id={host}&limit=50"));
                        assert_eq!(page.status, 200, "{}", page.body);
                        let s = round(&page.data()[0]["name"]);
                        assert!(
                            h >= seen[i].0 && s >= seen[i].1,
                            "host {i} went back from {:?} to {:?}",
                            seen[i],
                            (h, s)
                        );
                        seen[i] = (h, s);
                    }
                    let all = app.get("/api/v1/hosts?limit=50");
                    assert_eq!(all.status, 200, "{}", all.body);
                }
            });
        }
        let writers: Vec<_> = hosts
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let (app, network, finished) = (&app, &network, &finished);
                s.spawn(move || {
                    let _finished = Finished(finished);
                    let path = format!("/api/v1/hosts/{host}");
                    let page = format!("/api/v1/services?host_id={host}&limit=50");
                    for k in 1..=ROUNDS {
                        let name = format!("h{i}-{k}");
                        let r = app.put(&path, json!({"network_id": network, "name": name}));
                        assert_eq!(r.status, 200, "{}", r.body);
                        let read = app.get(&path);
                        assert_eq!(
                            read.data()["name"],
                            json!(name),
                            "a kept answer after a write"
                        );
                        let service = app.get(&page).data()[0]["id"].as_str().unwrap().to_string();
                        let renamed = format!("s{i}-{k}");
                        let r = app.put(
                            &format!("/api/v1/services/{service}"),
                            json!({"host_id": host, "name": renamed,
                                   "service_definition": "Nginx Proxy Manager", "bindings": []}),
                        );
                        assert_eq!(r.status, 200, "{}", r.body);
                        let listed = app.get(&page);
                        assert_eq!(
                            listed.data()[0]["name"],
                            json!(renamed),
                            "a kept page after a write"
                        );
                        let all = app.get("/api/v1/hosts?limit=50");
                        let entry = all
                            .data()
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|h| h["id"] == json!(host));
                        assert_eq!(
                            entry.unwrap()["name"],
                            json!(name),
                            "a kept host list after a write"
                        );
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
    });
    let db = app.db();
    for (i, host) in hosts.iter().enumerate() {
        let stored: String = db
            .query_row("SELECT name FROM hosts WHERE id = ?", [host], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, format!("h{i}-{ROUNDS}"));
        let service: String = db
            .query_row("SELECT name FROM services WHERE host_id = ?", [host], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(service, format!("s{i}-{ROUNDS}"));
    }
}

#[test]
fn a_kept_answer_is_never_served_to_a_scoped_key_or_an_as_of_read() {
    let app = spawn_app();
    let home = app.network("home");
    let lab = app.network("lab");
    let host = app.host(&home, "web");
    let r = app.service(&host, "nginx", json!([]));
    assert_eq!(r.status, 201, "{}", r.body);
    let path = format!("/api/v1/hosts/{host}");

    // The Owner's answers are kept; a key of another network gets neither of them.
    let first = app.get(&path);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        app.get("/api/v1/services?limit=50")
            .data()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let outsider = app.key_with("Viewer", &[&lab]);
    let r = app.call("GET", &path, &outsider, None);
    assert_error(&r, 403, "FORBIDDEN_SCOPE", None);
    let r = app.call("GET", "/api/v1/services?limit=50", &outsider, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data(),
        &json!([]),
        "a page kept for the Owner went to a scoped key"
    );
    let r = app.call("GET", "/api/v1/hosts?limit=50", &outsider, None);
    assert_eq!(
        r.data(),
        &json!([]),
        "a host list kept for the Owner went to a scoped key"
    );

    // As of an instant before a rename: the old name, whatever the live answer kept says.
    let then = first.data()["valid_from"].as_str().unwrap().to_string();
    let r = app.put(&path, json!({"network_id": home, "name": "web2"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get(&path).data()["name"], json!("web2"));
    let past = app.get(&format!("{path}?at={then}"));
    assert_eq!(past.status, 200, "{}", past.body);
    assert_eq!(past.data()["name"], json!("web"));
    assert_eq!(app.get(&path).data()["name"], json!("web2"));
    let stored: String = app
        .db()
        .query_row("SELECT name FROM hosts WHERE id = ?", [&host], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, "web2");
}

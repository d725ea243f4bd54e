//! Many clients race to bind the same ports; the single writer and the rules inside its
//! transaction must leave one owner per port and no conflicting set, every time.

use std::sync::Barrier;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const CLIENTS: usize = 24;

type Row = (String, String, Option<String>, Option<String>);

fn all_bindings(app: &TestApp) -> Vec<Row> {
    bindings_in(&app.db())
}

/// Every stored binding as `(service_id, type, port_id, ip_address_id)`.
pub fn bindings_in(db: &rusqlite::Connection) -> Vec<Row> {
    let mut stmt = db
        .prepare("SELECT service_id, type, port_id, ip_address_id FROM bindings")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The invariants of `inventory.md`, checked over the stored bindings.
pub fn assert_invariants(rows: &[Row]) {
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            let (sa, ta, pa, ia) = a;
            let (sb, tb, pb, ib) = b;
            if sa == sb {
                assert!(!(ta == tb && pa == pb && ia == ib), "duplicate {a:?}");
                if ta == "Port" && tb == "Port" && pa == pb {
                    assert!(
                        ia.is_some() && ib.is_some(),
                        "P(p,x) beside P(p,*): {a:?} {b:?}"
                    );
                }
                let ip_vs_port = |ip: &Option<String>, port_ip: &Option<String>| {
                    port_ip.is_none() || port_ip == ip
                };
                if ta == "IPAddress" && tb == "Port" {
                    assert!(!ip_vs_port(ia, ib), "same-service conflict {a:?} {b:?}");
                }
                if ta == "Port" && tb == "IPAddress" {
                    assert!(!ip_vs_port(ib, ia), "same-service conflict {a:?} {b:?}");
                }
            } else if ta == "Port" && tb == "Port" && pa == pb {
                assert!(
                    ia.is_some() && ib.is_some() && ia != ib,
                    "two owners of one port: {a:?} {b:?}"
                );
            }
        }
    }
}

struct Setup {
    host: String,
    network: String,
    ips: Vec<String>,
    ports: Vec<String>,
    services: Vec<String>,
}

fn setup(app: &TestApp) -> Setup {
    let network = app.network("race");
    let host = app.host(&network, "contended");
    let ips = (1..=3)
        .map(|i| app.ip(&host, &format!("10.9.0.{i}")))
        .collect();
    let ports = [80, 443, 8080]
        .iter()
        .map(|p| app.port(&host, *p, "Tcp"))
        .collect();
    let services = (0..CLIENTS)
        .map(|i| {
            let r = app.service(&host, &format!("svc{i}"), json!([]));
            assert_eq!(r.status, 201, "{}", r.body);
            r.id()
        })
        .collect();
    Setup {
        host,
        network,
        ips,
        ports,
        services,
    }
}

fn binding(kind: &str, port: Option<&String>, ip: Option<&String>) -> Value {
    json!({"type": kind, "port_id": port, "ip_address_id": ip})
}

#[test]
fn racing_services_leave_one_owner_per_port() {
    let app = spawn_app();
    let s = setup(&app);
    for round in 0..3 {
        let barrier = Barrier::new(CLIENTS);
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..CLIENTS)
                .map(|i| {
                    let (app, s, barrier) = (&app, &s, &barrier);
                    scope.spawn(move || {
                        let port = &s.ports[round];
                        let ip = if i % 3 == 0 { None } else { Some(&s.ips[i % 3]) };
                        barrier.wait();
                        if i % 2 == 0 {
                            let mut body = binding("Port", Some(port), ip);
                            body["service_id"] = json!(s.services[i]);
                            app.post("/api/v1/bindings", body).status
                        } else {
                            app.put(
                                &format!("/api/v1/services/{}", s.services[i]),
                                json!({"host_id": s.host, "network_id": s.network, "name": format!("svc{i}"),
                                       "service_definition": "Nginx Proxy Manager",
                                       "bindings": [binding("Port", Some(port), ip)]}),
                            )
                            .status
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            statuses.iter().all(|s| [200, 201, 409].contains(s)),
            "{statuses:?}"
        );
        let winners = statuses.iter().filter(|s| **s != 409).count();
        // One client wins a specific IP or all IPs; at most one per distinct IP can win.
        assert!(
            (1..=2).contains(&winners),
            "round {round}: {winners} winners {statuses:?}"
        );
        assert_invariants(&all_bindings(&app));
    }
}

#[test]
fn racing_writes_to_one_service_never_leave_a_conflicting_set() {
    let app = spawn_app();
    let s = setup(&app);
    let service = &s.services[0];
    for _ in 0..3 {
        let barrier = Barrier::new(CLIENTS);
        std::thread::scope(|scope| {
            for i in 0..CLIENTS {
                let (app, s, barrier) = (&app, &s, &barrier);
                scope.spawn(move || {
                    let ip = &s.ips[i % 2];
                    let port = &s.ports[i % 3];
                    let body = match i % 4 {
                        0 => binding("IPAddress", None, Some(ip)),
                        1 => binding("Port", Some(port), Some(ip)),
                        2 => binding("Port", Some(port), None),
                        _ => binding("Port", Some(port), Some(&s.ips[2])),
                    };
                    barrier.wait();
                    let status = if i % 5 == 4 {
                        app.put(
                            &format!("/api/v1/services/{service}"),
                            json!({"host_id": s.host, "name": "svc0", "service_definition": "Nginx Proxy Manager",
                                   "bindings": [body]}),
                        )
                        .status
                    } else {
                        let mut body = body;
                        body["service_id"] = json!(service);
                        app.post("/api/v1/bindings", body).status
                    };
                    assert!([200, 201, 409].contains(&status), "status {status}");
                });
            }
        });
        assert_invariants(&all_bindings(&app));
    }
}

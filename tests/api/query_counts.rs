//! Lists cost a constant number of statements per page, whatever the page size: counted with
//! SQLite's trace hook on a connection of our own, over the server's database.

use std::sync::atomic::{AtomicUsize, Ordering};

use portolan::db::query::PageRequest;
use portolan::db::versions::AsOf;
use rusqlite::trace::{TraceEvent, TraceEventCodes};
use serde_json::json;

use crate::helpers::spawn_app;

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

fn count_statement(event: TraceEvent<'_>) {
    if let TraceEvent::Stmt(..) = event {
        STATEMENTS.fetch_add(1, Ordering::SeqCst);
    }
}

fn statements_for<T>(f: impl FnOnce() -> T) -> (usize, T) {
    STATEMENTS.store(0, Ordering::SeqCst);
    let out = f();
    (STATEMENTS.load(Ordering::SeqCst), out)
}

#[test]
fn lists_run_a_constant_number_of_statements_per_page() {
    let app = spawn_app();
    let net = app.network("n");
    let tag = app.tag("t");
    let mut hosts = Vec::new();
    for h in 0..6 {
        let host = app.host(&net, &format!("h{h}"));
        let ip = app.ip(&host, "10.0.0.1");
        let port = app.port(&host, 80, "Tcp");
        for s in 0..5 {
            let bindings = if s == 0 {
                json!([{"type": "Port", "port_id": port, "ip_address_id": ip}])
            } else {
                json!([])
            };
            let r = app.post(
                "/api/v1/services",
                json!({"host_id": host, "name": format!("s{s}"), "service_definition": "Traefik",
                       "tags": [tag], "bindings": bindings}),
            );
            assert_eq!(r.status, 201, "{}", r.body);
        }
        hosts.push(host);
    }

    let conn = app.db();
    conn.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(count_statement));
    let page = |n| PageRequest {
        limit: Some(n),
        offset: 0,
    };
    let order = "s.created_at ASC, s.id ASC";
    let live = AsOf::Live;

    let services = |n| {
        statements_for(|| {
            portolan::db::services::list(&conn, &None, &Default::default(), order, page(n), &live)
                .unwrap()
                .0
                .len()
        })
    };
    let (small, rows_small) = services(2);
    let (large, rows_large) = services(30);
    assert_eq!((rows_small, rows_large), (2, 30));
    assert!(
        small >= 4,
        "count, page, tags and bindings are traced: {small}"
    );
    assert_eq!(
        small, large,
        "services list: {small} statements for 2 rows, {large} for 30"
    );

    let bindings = |n| {
        statements_for(|| {
            portolan::db::bindings::list(
                &conn,
                &None,
                &Default::default(),
                "b.created_at ASC, b.id ASC",
                page(n),
                &live,
            )
            .unwrap()
            .0
            .len()
        })
    };
    let (small, _) = bindings(1);
    let (large, rows) = bindings(6);
    assert_eq!(rows, 6);
    assert_eq!(small, large, "bindings list");

    let host_list = |n, at: AsOf| {
        statements_for(|| {
            portolan::db::hosts::list(
                &conn,
                &None,
                &Default::default(),
                "h.created_at ASC, h.id ASC",
                page(n),
                portolan::db::hosts::Embed::Children,
                &at,
            )
            .unwrap()
            .0
            .len()
        })
    };
    let (small, _) = host_list(1, AsOf::Live);
    let (large, rows) = host_list(6, AsOf::Live);
    assert_eq!(rows, 6);
    assert_eq!(small, large, "hosts with children");
    // As of an instant, a page of hosts with their children is as many statements too.
    let now = AsOf::At(portolan::domain::clock::now());
    let (small, _) = host_list(1, now.clone());
    let (large, rows) = host_list(6, now);
    assert_eq!(rows, 6);
    assert_eq!(small, large, "hosts with children as of an instant");
    let _ = hosts;
}

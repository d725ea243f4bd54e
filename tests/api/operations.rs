//! The binary as operators use it: backups, migrations, signals.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{spawn_app, ServerProcess};

fn portolan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(args)
        .env_remove("PORTOLAN_ADMIN_API_KEY")
        .output()
        .expect("run portolan")
}

#[test]
fn backup_copies_the_live_database_and_checks_it() {
    let app = spawn_app();
    let net = app.network("home");
    app.host(&net, "nas");
    let data = app.dir.path().to_str().unwrap().to_string();
    let dest = app.dir.path().join("copy.db");
    let out = portolan(&["backup", dest.to_str().unwrap(), "--data-dir", &data]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("integrity check: ok"));
    let copy = rusqlite::Connection::open(&dest).unwrap();
    let hosts: i64 = copy
        .query_row("SELECT count(*) FROM hosts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hosts, 1);

    let again = portolan(&["backup", dest.to_str().unwrap(), "--data-dir", &data]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing file is never overwritten"
    );
}

#[test]
fn migrating_a_database_with_data_backs_it_up_first_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    assert!(portolan(&["migrate", "--data-dir", data]).status.success());
    assert!(
        !dir.path().join("backups").exists(),
        "a new database needs no backup"
    );

    // A database of schema version 3 (before history), with a host, its parts and a binding.
    let old = tempfile::tempdir().unwrap();
    let db = old.path().join("portolan.db");
    portolan::db::migrate_to(&db, Some(3)).unwrap();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             INSERT INTO service_types (id, category, created_at, updated_at)
                 VALUES ('Jellyfin', 'Media', 'x', 'x');
             INSERT INTO networks (id, name, created_at, updated_at)
                 VALUES ('n1', 'kept', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z');
             INSERT INTO hosts (id, network_id, name, source, created_at, updated_at)
                 VALUES ('h1', 'n1', 'nas', '{\"type\":\"Manual\"}',
                         '2026-01-02T00:00:00.000000Z', '2026-01-05T00:00:00.000000Z');
             INSERT INTO ip_addresses (id, host_id, network_id, ip_address, position, created_at, updated_at)
                 VALUES ('i1', 'h1', 'n1', '10.0.0.2', 0, '2026-01-03T00:00:00.000000Z', '2026-01-03T00:00:00.000000Z');
             INSERT INTO ports (id, host_id, network_id, number, protocol, created_at, updated_at)
                 VALUES ('p1', 'h1', 'n1', 8096, 'Tcp', '2026-01-03T00:00:00.000000Z', '2026-01-03T00:00:00.000000Z');
             INSERT INTO services (id, host_id, network_id, name, service_definition, position, source, created_at, updated_at)
                 VALUES ('s1', 'h1', 'n1', 'jellyfin', 'Jellyfin', 0, '{\"type\":\"Manual\"}',
                         '2026-01-04T00:00:00.000000Z', '2026-01-04T00:00:00.000000Z');
             INSERT INTO bindings (id, service_id, network_id, type, port_id, ip_address_id, ord,
                                   created_at, updated_at, valid_from, last_seen_at)
                 VALUES ('b1', 's1', 'n1', 'Port', 'p1', NULL, 0, '2026-01-04T00:00:00.000000Z',
                         '2026-01-04T00:00:00.000000Z', '2026-01-04T00:00:00.000000Z',
                         '2026-01-04T00:00:00.000000Z');",
        )
        .unwrap();
    }
    let old_dir = old.path().to_str().unwrap();
    let out = portolan(&["migrate", "--data-dir", old_dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backups: Vec<_> = std::fs::read_dir(old.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let name = backups[0].to_string_lossy().to_string();
    assert!(
        name.starts_with("pre-migration-3-") && name.ends_with(".db"),
        "{name}"
    );
    let copy = rusqlite::Connection::open(old.path().join("backups").join(&name)).unwrap();
    let kept: String = copy
        .query_row("SELECT name FROM networks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "kept");

    // Every row is still there; live rows start their state at their creation.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    for table in [
        "networks",
        "hosts",
        "ip_addresses",
        "ports",
        "services",
        "bindings",
    ] {
        assert_eq!(count(table), 1, "{table}");
    }
    let (valid_from, last_seen): (String, String) = conn
        .query_row("SELECT valid_from, last_seen_at FROM hosts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(valid_from, "2026-01-02T00:00:00.000000Z");
    assert_eq!(last_seen, "2026-01-05T00:00:00.000000Z");
    let binding_from: String = conn
        .query_row("SELECT valid_from FROM bindings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        binding_from, "2026-01-04T00:00:00.000000Z",
        "kept as it was"
    );
    assert_eq!(count("changes"), 0, "the journal starts empty");
}

#[test]
fn sigterm_drains_checkpoints_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let key = format!("scp_u_{}", "T3".repeat(16));
    let mut server = ServerProcess::start(dir.path(), &key);
    let agent = ServerProcess::agent();
    let created = agent
        .post(format!("{}/api/v1/networks", server.base))
        .header("Authorization", format!("Bearer {key}"))
        .send_json(json!({"name": "before-stop"}))
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);

    let pid = server.child.id().to_string();
    // The shell's own `kill`: no procps needed on a minimal machine.
    let signalled = Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .unwrap();
    assert!(signalled.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let wal = dir.path().join("portolan.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "WAL checkpointed"
    );
    let conn = rusqlite::Connection::open(dir.path().join("portolan.db")).unwrap();
    let name: String = conn
        .query_row("SELECT name FROM networks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "before-stop");
}

#[test]
fn requests_arriving_while_stopping_get_503() {
    let app = spawn_app();
    app.stopping
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let before = app.snapshot();
    let r = app.post("/api/v1/networks", json!({"name": "late"}));
    crate::helpers::assert_error(&r, 503, "SERVICE_UNAVAILABLE", None);
    assert_eq!(r.header("retry-after"), Some("1"));
    crate::helpers::assert_same(&before, &app.snapshot());
    assert_eq!(
        app.raw("GET", "/healthz", None, None).status,
        200,
        "liveness still answers"
    );
}

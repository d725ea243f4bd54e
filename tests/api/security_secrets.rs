//! Secrets at rest and in logs: no plaintext key in any file of the data directory, private
//! modes, a log that says where the first key is but not what it is.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::json;

use crate::helpers::spawn_app;

/// Every file under `dir`, with its bytes.
fn files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn idempotent_key_creation_and_rotation_keep_no_plaintext() {
    let app = spawn_app();
    let body = json!({"name": "ci", "permissions": "Member"});
    let first = app.send(
        "POST",
        "/api/v1/auth/keys",
        &body,
        &[("Idempotency-Key", "make-ci-key")],
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let created = first.data()["key"].as_str().unwrap().to_string();
    let id = first.data()["api_key"]["id"].as_str().unwrap().to_string();
    assert!(created.starts_with("scp_u_"), "{created}");

    let replay = app.send(
        "POST",
        "/api/v1/auth/keys",
        &body,
        &[("Idempotency-Key", "make-ci-key")],
    );
    assert_eq!(replay.status, 201, "{}", replay.body);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.data()["key"], json!("**********"));
    assert_eq!(replay.data()["api_key"]["id"], json!(id));
    assert!(
        replay.body["meta"]["hint"]
            .as_str()
            .is_some_and(|h| h.contains("shown once")),
        "{}",
        replay.body
    );

    let path = format!("/api/v1/auth/keys/{id}/rotate");
    let rotated = app.send(
        "POST",
        &path,
        &json!({}),
        &[("Idempotency-Key", "rotate-ci")],
    );
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let rotated_key = rotated.data().as_str().unwrap().to_string();
    assert_ne!(rotated_key, created);
    let again = app.send(
        "POST",
        &path,
        &json!({}),
        &[("Idempotency-Key", "rotate-ci")],
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.data(), &json!("**********"));
    // The rotated key works; the first one no longer does.
    assert_eq!(
        app.call("GET", "/api/v1/networks", &rotated_key, None)
            .status,
        200
    );
    assert_eq!(
        app.call("GET", "/api/v1/networks", &created, None).status,
        401
    );

    // Neither plaintext in any file: database, WAL, shared memory, backups.
    let db = app.db();
    db.execute_batch("PRAGMA wal_checkpoint(PASSIVE)").ok();
    drop(db);
    let all = files(app.dir.path());
    assert!(all.iter().any(|(p, _)| p.ends_with("portolan.db")));
    for (path, bytes) in &all {
        for secret in [&created, &rotated_key] {
            assert!(
                !contains(bytes, secret),
                "{} holds a plaintext key",
                path.display()
            );
        }
    }
    let stored: i64 = app
        .db()
        .query_row("SELECT count(*) FROM idempotency_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 2, "both answers are kept, redacted");
}

#[test]
fn the_data_directory_is_private_and_the_log_holds_no_key() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portolan"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir)
        .env_remove("PORTOLAN_ADMIN_API_KEY")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start portolan");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
        let listening = line.contains("listening on");
        log.push(line);
        if listening {
            break;
        }
    }
    let key_file = dir.join("initial-admin-key");
    let key = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_string();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let modes: Vec<(String, u32)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                mode(&e.path()),
            )
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    while let Ok(line) = rx.try_recv() {
        log.push(line);
    }
    let log = log.join("\n");
    assert!(key.starts_with("scp_u_"), "{key}");
    assert!(!log.contains(&key), "the key is in the log:\n{log}");
    assert!(
        log.contains(&key_file.display().to_string()),
        "the log says where the key is:\n{log}"
    );
    assert_eq!(mode(&dir), 0o700, "data directory");
    for name in [
        "portolan.db",
        "portolan.db-wal",
        "portolan.db-shm",
        "initial-admin-key",
    ] {
        assert!(modes.iter().any(|(n, _)| n == name), "{name} in {modes:?}");
    }
    for (name, m) in &modes {
        assert_eq!(*m, 0o600, "{name}");
    }
}

#[test]
fn an_existing_data_directory_is_made_private() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = dir.join("portolan.db");
    std::fs::write(&db, b"").unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = portolan::config::Config::for_data_dir(dir.clone());
    let opened = portolan::db::Db::open(&config).expect("opens");
    drop(opened);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&db), 0o600);
}

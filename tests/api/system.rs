use std::process::Command;

use serde_json::json;

use crate::helpers::{spawn_app, spawn_with};

#[test]
fn version_health_and_readiness_need_no_key() {
    let app = spawn_app();
    let v = app.raw("GET", "/api/version", None, None);
    assert_eq!(v.status, 200);
    assert_eq!(
        v.data(),
        &json!({"api_version": 1, "server_version": env!("CARGO_PKG_VERSION")})
    );
    assert_eq!(app.raw("GET", "/healthz", None, None).status, 200);
    assert_eq!(app.raw("GET", "/readyz", None, None).status, 200);
}

#[test]
fn the_ui_is_served_with_security_headers() {
    let app = spawn_app();
    let r = app.raw("GET", "/", None, None);
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.header("content-security-policy").is_some());
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.body.as_str().unwrap().contains("Portolan"));
    assert_eq!(app.raw("GET", "/app.js", None, None).status, 200);
    assert_eq!(
        app.raw("GET", "/hosts/some-page", None, None).status,
        200,
        "pages fall back to the UI"
    );
}

#[test]
fn first_start_writes_a_private_owner_key_once() {
    let app = spawn_app();
    let path = app.dir.path().join("initial-admin-key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let keys = app.get("/api/v1/auth/keys");
    assert_eq!(keys.data()[0]["name"], "initial-admin");
    assert_eq!(keys.data()[0]["permissions"], "Owner");
    assert_eq!(app.count("api_keys"), 1);
}

#[test]
fn a_preset_admin_key_becomes_the_owner() {
    let preset = format!("scp_u_{}", "Z9".repeat(16));
    let key = preset.clone();
    let app = spawn_with(move |c| c.admin_api_key = Some(key));
    assert!(!app.dir.path().join("initial-admin-key").exists());
    let r = app.call("GET", "/api/v1/auth/keys", &preset, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()[0]["permissions"], "Owner");
}

fn portolan(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portolan"));
    cmd.args(args).env_remove("PORTOLAN_ADMIN_API_KEY");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run portolan")
}

#[test]
fn bad_configuration_exits_2_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    for (var, value) in [
        ("PORTOLAN_LISTEN", "nowhere"),
        ("PORTOLAN_BUSY_TIMEOUT_MS", "soon"),
        ("PORTOLAN_RATE_LIMIT", "-3"),
        ("PORTOLAN_READ_POOL_SIZE", "0"),
    ] {
        let out = portolan(&["migrate"], &[(var, value), ("PORTOLAN_DATA_DIR", data)]);
        assert_eq!(out.status.code(), Some(2), "{var}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(var) && stderr.contains(value), "{stderr}");
    }
    let out = portolan(&["--version"], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn cli_keys_work_beside_a_running_server() {
    let app = spawn_app();
    let data = app.dir.path().to_str().unwrap().to_string();
    let out = portolan(
        &[
            "keys",
            "create",
            "--name",
            "cli",
            "--permissions",
            "Member",
            "--data-dir",
            &data,
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(app.call("GET", "/api/v1/hosts", &key, None).status, 200);

    let list = portolan(&["keys", "list", "--data-dir", &data], &[]);
    let listing = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        listing.contains("cli") && listing.contains("initial-admin"),
        "{listing}"
    );
    let id = listing
        .lines()
        .find(|l| l.ends_with("cli"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    let revoke = portolan(&["keys", "revoke", &id, "--data-dir", &data], &[]);
    assert!(revoke.status.success());
    // Another process changed the key: the server's key cache trusts a lookup for at most 1 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while app.call("GET", "/api/v1/hosts", &key, None).status != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "revocation never took effect"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The command line's changes are journaled under its own actor.
    let entries = app.get(&format!("/api/v1/changes?entity_id={id}"));
    let kinds: Vec<(&str, &str)> = entries
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(kinds, [("update", "cli"), ("create", "cli")]);
    assert_eq!(
        entries.data()[0]["changed_fields"],
        serde_json::json!(["is_enabled"])
    );
}

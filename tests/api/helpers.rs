//! `spawn_app()`: the real server on an ephemeral port over a fresh temporary database, and a
//! small blocking HTTP client to talk to it.

use std::collections::BTreeMap;
use std::sync::mpsc;

use portolan::config::Config;
use portolan::startup::{Application, INITIAL_KEY_FILE};
use serde_json::{json, Value};
use tempfile::TempDir;

pub struct TestApp {
    pub base: String,
    /// The server's stopping flag, as a stop signal would raise it.
    pub stopping: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The Owner key the server created at first start.
    pub key: String,
    pub dir: TempDir,
    agent: ureq::Agent,
}

pub struct Resp {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

impl Resp {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn id(&self) -> String {
        self.body["data"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no data.id in {}", self.body))
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

pub fn spawn_app() -> TestApp {
    spawn_with(|_| {})
}

/// Starts a server whose configuration `adjust` may change first.
pub fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_data_dir(dir.path().to_path_buf());
    adjust(&mut config);
    // Tests talk to the address the server listens on (loopback unless a test chose another).
    let host = match config.listen.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        ip => ip.to_string(),
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match Application::build(config) {
                Ok(app) => {
                    tx.send(Ok((app.port(), app.stopping()))).unwrap();
                    let _ = app.run().await;
                }
                Err(e) => tx.send(Err(e)).unwrap(),
            }
        })
    });
    let (port, stopping) = rx.recv().expect("server thread").expect("server starts");
    let key = std::fs::read_to_string(dir.path().join(INITIAL_KEY_FILE))
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // The server closes a connection idle for 5 s (actix's keep-alive); a pooled one is
        // not reused near that moment, when its close and the next request cross on the wire.
        .max_idle_age(std::time::Duration::from_secs(2))
        .build()
        .into();
    TestApp {
        base: format!("http://{host}:{port}"),
        stopping,
        key,
        dir,
        agent,
    }
}

impl TestApp {
    /// Any request; `key` None sends no Authorization header; `body` is sent as-is with `content_type`.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> Resp {
        self.raw_with(method, path, key, body, &[])
    }

    /// `raw` with extra request headers.
    pub fn raw_with(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<(&str, &[u8])>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let result = match body {
            Some((content_type, bytes)) => {
                if !content_type.is_empty() {
                    req = req.header("Content-Type", content_type);
                }
                self.agent.run(req.body(bytes).unwrap())
            }
            None => self.agent.run(req.body(()).unwrap()),
        };
        let mut res = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = res.body_mut().read_to_string().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn call(&self, method: &str, path: &str, key: &str, body: Option<&Value>) -> Resp {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        self.raw(
            method,
            path,
            Some(key),
            bytes.as_deref().map(|b| ("application/json", b)),
        )
    }

    /// A JSON request with extra headers, as the Owner.
    pub fn send(&self, method: &str, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        let bytes = serde_json::to_vec(body).unwrap();
        self.raw_with(
            method,
            path,
            Some(&self.key),
            Some(("application/json", &bytes)),
            headers,
        )
    }

    pub fn get(&self, path: &str) -> Resp {
        self.call("GET", path, &self.key, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, &self.key, Some(&body))
    }

    pub fn put(&self, path: &str, body: Value) -> Resp {
        self.call("PUT", path, &self.key, Some(&body))
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path, &self.key, None)
    }

    /// A read-only connection to the server's database, to check what was stored.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.dir.path().join("portolan.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open test database")
    }

    pub fn count(&self, table: &str) -> i64 {
        self.db()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// Every row of every table (but the bookkeeping `last_used`), to prove a refused write changed nothing.
    pub fn snapshot(&self) -> String {
        let db = self.db();
        let tables: Vec<String> = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut out = String::new();
        for table in tables {
            let sql = if table == "service_types" {
                // The built-in catalogue is the same in every test database.
                "SELECT * FROM service_types WHERE builtin = 0 ORDER BY id".to_string()
            } else if table == "api_keys" {
                "SELECT id, name, permissions, network_ids, key_hash, expires_at, is_enabled, created_at, updated_at FROM api_keys ORDER BY id".to_string()
            } else {
                format!("SELECT * FROM {table} ORDER BY 1, 2")
            };
            let mut stmt = db.prepare(&sql).unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let mut cells = Vec::new();
                    for i in 0..n {
                        let v: rusqlite::types::Value = r.get(i)?;
                        cells.push(format!("{v:?}"));
                    }
                    Ok(cells.join("|"))
                })
                .unwrap();
            out.push_str(&format!("# {table}\n"));
            for row in rows {
                out.push_str(&row.unwrap());
                out.push('\n');
            }
        }
        out
    }

    // Fixtures: each creates one object through the API and returns its id.

    pub fn network(&self, name: &str) -> String {
        let r = self.post("/api/v1/networks", json!({"name": name}));
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub fn host(&self, network_id: &str, name: &str) -> String {
        let r = self.post(
            "/api/v1/hosts",
            json!({"network_id": network_id, "name": name}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub fn ip(&self, host_id: &str, address: &str) -> String {
        let r = self.post(
            "/api/v1/ip-addresses",
            json!({"host_id": host_id, "ip_address": address}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub fn port(&self, host_id: &str, number: u16, protocol: &str) -> String {
        let r = self.post(
            "/api/v1/ports",
            json!({"host_id": host_id, "number": number, "protocol": protocol}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub fn subnet(&self, network_id: &str, cidr: &str) -> String {
        let r = self.post(
            "/api/v1/subnets",
            json!({"network_id": network_id, "cidr": cidr, "name": cidr}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    pub fn tag(&self, name: &str) -> String {
        let r = self.post("/api/v1/tags", json!({"name": name, "color": "Blue"}));
        assert_eq!(r.status, 201, "{}", r.body);
        r.id()
    }

    /// Creates a key with the given role and networks and returns its plaintext.
    pub fn key_with(&self, role: &str, networks: &[&str]) -> String {
        let r = self.post(
            "/api/v1/auth/keys",
            json!({"name": format!("{role} key"), "permissions": role, "network_ids": networks}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.data()["key"].as_str().unwrap().to_string()
    }
}

/// Asserts the spec's error body: status, code, field (when given), and a request id that
/// matches the `X-Request-Id` header.
pub fn assert_error(r: &Resp, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "status of {}", r.body);
    assert_eq!(r.body["success"], json!(false), "{}", r.body);
    assert_eq!(r.body["code"], json!(code), "{}", r.body);
    assert!(
        r.body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.body
    );
    assert_eq!(r.body["error"], r.body["message"], "{}", r.body);
    if let Some(field) = field {
        assert_eq!(r.body["field"], json!(field), "{}", r.body);
    }
    let request_id = r.body["requestId"].as_str().expect("requestId");
    assert!(
        request_id.starts_with("req_") && request_id.len() == 30,
        "{request_id}"
    );
    assert_eq!(r.header("x-request-id"), Some(request_id));
    assert_eq!(r.body["meta"]["api_version"], json!(1));
}

/// A network with one host, two IP addresses, two ports and a service with no bindings.
pub struct World {
    pub network: String,
    pub host: String,
    pub ip1: String,
    pub ip2: String,
    pub port1: String,
    pub port2: String,
    pub service: String,
}

impl TestApp {
    pub fn service(&self, host_id: &str, name: &str, bindings: Value) -> Resp {
        self.post(
            "/api/v1/services",
            json!({"host_id": host_id, "name": name, "service_definition": "Nginx Proxy Manager", "bindings": bindings}),
        )
    }

    pub fn world(&self) -> World {
        let network = self.network("home");
        let host = self.host(&network, "web");
        let ip1 = self.ip(&host, "10.0.0.1");
        let ip2 = self.ip(&host, "10.0.0.2");
        let port1 = self.port(&host, 80, "Tcp");
        let port2 = self.port(&host, 443, "Tcp");
        let r = self.service(&host, "nginx", json!([]));
        assert_eq!(r.status, 201, "{}", r.body);
        World {
            network,
            host,
            ip1,
            ip2,
            port1,
            port2,
            service: r.id(),
        }
    }

    /// The service's live bindings as `(type, port_id, ip_address_id)`, in stored order.
    pub fn stored_bindings(
        &self,
        service_id: &str,
    ) -> Vec<(String, Option<String>, Option<String>)> {
        let db = self.db();
        let mut stmt = db
            .prepare("SELECT type, port_id, ip_address_id FROM bindings WHERE service_id = ? ORDER BY ord")
            .unwrap();
        stmt.query_map([service_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// Asserts that two snapshots are equal, showing only the lines that differ.
#[track_caller]
pub fn assert_same(before: &str, after: &str) {
    if before != after {
        let old: std::collections::BTreeSet<&str> = before.lines().collect();
        let new: std::collections::BTreeSet<&str> = after.lines().collect();
        let gone: Vec<&&str> = old.difference(&new).collect();
        let added: Vec<&&str> = new.difference(&old).collect();
        panic!("the database changed\n- {gone:#?}\n+ {added:#?}");
    }
}

/// The real binary as a child process on an ephemeral port; for tests that signal or kill it.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
    /// Every line the server logged so far.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// A server a test started never outlives the test, also when it fails before stopping it.
impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl ServerProcess {
    pub fn start(data_dir: &std::path::Path, admin_key: &str) -> ServerProcess {
        Self::start_with(data_dir, admin_key, &[])
    }

    /// `start` with extra environment variables.
    pub fn start_with(
        data_dir: &std::path::Path,
        admin_key: &str,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portolan"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("PORTOLAN_ADMIN_API_KEY", admin_key)
            .env("PORTOLAN_RATE_LIMIT", "0")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start portolan");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line.clone());
                if !sent {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                        let _ = tx.send(addr);
                        sent = true;
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("server printed its address");
        ServerProcess {
            child,
            base: format!("http://{addr}"),
            log,
        }
    }

    pub fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(5)))
            .max_idle_age(std::time::Duration::from_secs(2))
            .build()
            .into()
    }
}

/// A program a test runs: found, it is used; missing, the test is skipped with how to install
/// it, except in CI, where `.ci/run` installs it and its absence fails the test.
pub fn required_tool(found: Option<String>, name: &str, install: &str) -> Option<String> {
    if found.is_some() {
        return found;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have {name} ({install})"
    );
    eprintln!("skipped: {install} to run the test with {name}");
    None
}

/// `/usr/bin/{name}`, if it is there.
pub fn system_program(name: &str) -> Option<String> {
    let path = format!("/usr/bin/{name}");
    std::path::Path::new(&path).exists().then_some(path)
}

/// `ip` from iproute2, when network namespaces can be made here (root).
pub fn ip_command() -> Option<String> {
    let found = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string());
    let ip = required_tool(found, "ip", "apt-get install iproute2")?;
    // Namespaces need root (CAP_SYS_ADMIN); CI runs as root.
    static PROBES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = format!("portolan-probe-{}-{n}", std::process::id());
    let allowed = std::process::Command::new(&ip)
        .args(["netns", "add", &probe])
        .status()
        .is_ok_and(|s| s.success());
    let _ = std::process::Command::new(&ip)
        .args(["netns", "del", &probe])
        .status();
    required_tool(
        allowed.then_some(ip),
        "network namespaces",
        "run the tests as root",
    )
}

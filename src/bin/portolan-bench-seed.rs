//! Bench-only seeder: fills a fresh database with a dataset of a given scale in one transaction,
//! through plain SQL, and writes the ids the load scripts use. The API's answers do not depend on
//! how the rows got there: they satisfy every binding rule (each service owns its ports).
//!
//! Usage: portolan-bench-seed DATA_DIR S|M|L   (prints the Owner API key on stdout)

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use portolan::db;
use portolan::domain::clock;
use portolan::domain::history::ActorKind;
use portolan::domain::principal::Principal;
use portolan::domain::role::Role;
use portolan::domain::text::Name;
use portolan::ops::api_keys::{self, ApiKeyInput};
use portolan::ops::journal::Writer;
use rusqlite::{params, Connection};
use uuid::Uuid;

struct Scale {
    hosts: usize,
    services_per_host: usize,
}

const IPS_PER_HOST: usize = 3;
const TEMPLATES: usize = 20;
const PUT_BINDINGS: usize = 10;

fn scale(name: &str) -> Option<Scale> {
    match name {
        "S" => Some(Scale {
            hosts: 10,
            services_per_host: 5,
        }),
        "M" => Some(Scale {
            hosts: 1_000,
            services_per_host: 10,
        }),
        "L" => Some(Scale {
            hosts: 10_000,
            services_per_host: 10,
        }),
        _ => None,
    }
}

fn id() -> String {
    Uuid::new_v4().to_string()
}

fn lua_list(name: &str, items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    format!("{name} = {{{}}}\n", quoted.join(","))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(scale)) = (args.get(1), args.get(2).and_then(|s| scale(s))) else {
        eprintln!("usage: portolan-bench-seed DATA_DIR S|M|L");
        return ExitCode::from(2);
    };
    match seed(PathBuf::from(dir), &scale) {
        Ok(key) => {
            println!("{key}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("portolan-bench-seed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn seed(dir: PathBuf, scale: &Scale) -> Result<String, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("portolan.db");
    db::migrate(&path)?;
    let mut conn = Connection::open(&path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;",
    )?;
    let tx = conn.transaction()?;
    db::service_types::sync_builtins(&tx).map_err(|e| e.to_string())?;
    let key = portolan::auth::token::generate();
    let input = ApiKeyInput {
        name: Name::parse("bench", 100).map_err(|e| e.0)?,
        permissions: Role::Owner,
        network_ids: Vec::new(),
        expires_at: None,
        is_enabled: true,
    };
    let who = Writer::begin(
        &tx,
        Principal::operator(ActorKind::System, "bench seed"),
        None,
    )
    .map_err(|e| e.to_string())?;
    api_keys::insert(&tx, &who, input, &key).map_err(|e| e.to_string())?;

    let now = clock::now();
    let network = id();
    tx.execute(
        "INSERT INTO networks (id, name, created_at, updated_at) VALUES (?1, 'bench', ?2, ?2)",
        params![network, now],
    )?;
    let mut host_stmt = tx.prepare(
        "INSERT INTO hosts (id, network_id, name, hostname, hidden, source, created_at, updated_at,
                            valid_from, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, 0, '{\"type\":\"Manual\"}', ?5, ?5, ?5, ?5)",
    )?;
    let mut ip_stmt = tx.prepare(
        "INSERT INTO ip_addresses (id, host_id, network_id, ip_address, position, created_at, updated_at,
                                   valid_from, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?6)",
    )?;
    let mut port_stmt = tx.prepare(
        "INSERT INTO ports (id, host_id, network_id, number, protocol, created_at, updated_at,
                            valid_from, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, 'Tcp', ?5, ?5, ?5, ?5)",
    )?;
    let mut service_stmt = tx.prepare(
        "INSERT INTO services (id, host_id, network_id, name, service_definition, position, source, created_at, updated_at,
                               valid_from, last_seen_at)
         VALUES (?1, ?2, ?3, ?4, 'Nginx Proxy Manager', ?5, '{\"type\":\"Manual\"}', ?6, ?6, ?6, ?6)",
    )?;
    let mut binding_stmt = tx.prepare(
        "INSERT INTO bindings (id, service_id, network_id, type, port_id, ip_address_id, ord, created_at, updated_at, valid_from, last_seen_at)
         VALUES (?1, ?2, ?3, 'Port', ?4, ?5, ?6, ?7, ?7, ?7, ?7)",
    )?;

    let mut sample_hosts = Vec::new();
    let mut sample_services = Vec::new();
    // Free targets for POST /bindings: service k may add P(port 2k, third IP) and delete it again.
    let mut post_targets = Vec::new();
    let stride = (scale.hosts / 100).max(1);
    for h in 0..scale.hosts {
        let host = id();
        host_stmt.execute(params![
            host,
            network,
            format!("host-{h}"),
            format!("host-{h}.lan"),
            now
        ])?;
        let ips: Vec<String> = (0..IPS_PER_HOST).map(|_| id()).collect();
        for (i, ip) in ips.iter().enumerate() {
            let address = format!("10.{}.{}.{}", (h >> 8) & 255, h & 255, i + 1);
            ip_stmt.execute(params![ip, host, network, address, i as i64, now])?;
        }
        let ports: Vec<String> = (0..2 * scale.services_per_host).map(|_| id()).collect();
        for (i, port) in ports.iter().enumerate() {
            port_stmt.execute(params![port, host, network, 8000 + i as i64, now])?;
        }
        for s in 0..scale.services_per_host {
            let service = id();
            service_stmt.execute(params![
                service,
                host,
                network,
                format!("svc-{h}-{s}"),
                s as i64,
                now
            ])?;
            // P(2s, ip0), P(2s, ip1), P(2s+1, *): three bindings that keep every rule.
            let bound = [
                (&ports[2 * s], Some(&ips[0])),
                (&ports[2 * s], Some(&ips[1])),
                (&ports[2 * s + 1], None),
            ];
            for (ord, (port, ip)) in bound.iter().enumerate() {
                binding_stmt.execute(params![id(), service, network, port, ip, ord as i64, now])?;
            }
            if h % stride == 0 {
                sample_services.push(service.clone());
                post_targets.push(format!("{service}|{}|{}", ports[2 * s], ips[2]));
            }
        }
        if h % stride == 0 {
            sample_hosts.push(host);
        }
    }

    // A host whose one service has ten all-interfaces bindings, for PUT /services/{id}.
    let put_host = id();
    host_stmt.execute(params![
        put_host,
        network,
        "bench-put",
        "bench-put.lan",
        now
    ])?;
    let put_ports: Vec<String> = (0..PUT_BINDINGS).map(|_| id()).collect();
    for (i, port) in put_ports.iter().enumerate() {
        port_stmt.execute(params![port, put_host, network, 9000 + i as i64, now])?;
    }
    let put_service = id();
    service_stmt.execute(params![put_service, put_host, network, "bench-put", 0, now])?;
    for (ord, port) in put_ports.iter().enumerate() {
        binding_stmt.execute(params![
            id(),
            put_service,
            network,
            port,
            None::<String>,
            ord as i64,
            now
        ])?;
    }

    let mut templates = Vec::new();
    for t in 0..TEMPLATES {
        let tid = id();
        let compose = format!(
            "services:\n  app:\n    image: nginx\n    ports:\n      - \"${{PORT:-{}}}:80\"\n",
            8080 + t
        );
        let exposed = format!(
            "[{{\"hostPort\":{},\"containerPort\":80,\"protocol\":\"tcp\"}}]",
            8080 + t
        );
        tx.execute(
            "INSERT INTO service_templates (id, name, container_image_id, image_tag, compose_template, base_env,
                 deploy_strategy, health_wait_ms, health_retries, health_interval_ms, exposed_ports, created_at, updated_at)
             VALUES (?1, ?2, 'nginx', 'latest', ?3, '{}', 'sequential', 30000, 3, 5000, ?4, ?5, ?5)",
            params![tid, format!("template-{t}"), compose, exposed, now],
        )?;
        templates.push(tid);
    }
    drop((host_stmt, ip_stmt, port_stmt, service_stmt, binding_stmt));
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;

    let mut lua = String::new();
    lua.push_str(&lua_list("hosts", &sample_hosts));
    lua.push_str(&lua_list("services", &sample_services));
    lua.push_str(&lua_list("post_targets", &post_targets));
    lua.push_str(&lua_list("templates", &templates));
    lua.push_str(&lua_list("put_ports", &put_ports));
    let _ = writeln!(
        lua,
        "put_service = \"{put_service}\"\nput_host = \"{put_host}\"\nnetwork = \"{network}\""
    );
    std::fs::write(dir.join("bench-ids.lua"), lua)?;
    Ok(key)
}

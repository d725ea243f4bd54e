//! Agent records. Only the SHA-256 of an agent's token is stored; the plaintext is shown once.

use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value as Json;

use super::query::{paged, Filter, PageRequest, Scope};
use super::{json_column, optional, or_not_found};
use crate::domain::clock;
use crate::error::ApiResult;

/// What the agent may do, as it announced when it last reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Capabilities {
    pub docker: bool,
    pub scan: bool,
    pub deploy: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Agent {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    pub name: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    pub enabled: bool,
    /// The host the agent reports for, once it has reported.
    #[schema(read_only, format = Uuid)]
    pub host_id: Option<String>,
    #[schema(read_only)]
    pub machine_id: Option<String>,
    #[schema(read_only)]
    pub version: Option<String>,
    #[schema(read_only)]
    pub capabilities: Capabilities,
    #[schema(read_only, format = DateTime)]
    pub last_seen_at: Option<String>,
    /// `{"at", "discovery_id", "listeners", "containers", "neighbours", "changed"}`.
    #[schema(read_only, value_type = Option<Object>)]
    pub last_report: Option<Json>,
    /// Enabled, and no report for three report intervals.
    #[schema(read_only)]
    pub silent: bool,
    /// Set through `/tags/assign` (entity type `Daemon`).
    #[schema(read_only, value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    #[schema(read_only, value_type = Object)]
    pub created_by: Json,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    /// Seconds between reports, as the agent announced it (for `silent`).
    #[serde(skip)]
    pub interval_s: i64,
}

const COLUMNS: &str = "a.id, a.name, a.network_id, a.enabled, a.host_id, a.machine_id, a.version, \
     a.capabilities, a.last_seen_at, a.last_report, a.created_by, a.created_at, a.updated_at, \
     a.interval_s, (SELECT json_group_array(tag_id) FROM \
        (SELECT tag_id FROM agent_tags WHERE entity_id = a.id ORDER BY ord))";

/// Silent: enabled, and nothing heard for three intervals since the last report (or creation).
pub fn is_silent(enabled: bool, last_heard: &str, interval_s: i64, now: &str) -> bool {
    let (Some(heard), Some(now)) = (clock::parse_rfc3339(last_heard), clock::parse_rfc3339(now))
    else {
        return false;
    };
    enabled && (now - heard).whole_seconds() > 3 * interval_s.max(1)
}

fn from_row(r: &Row) -> rusqlite::Result<Agent> {
    let enabled: bool = r.get(3)?;
    let last_seen_at: Option<String> = r.get(8)?;
    let created_at: String = r.get(11)?;
    let interval_s: i64 = r.get(13)?;
    let heard = last_seen_at.clone().unwrap_or_else(|| created_at.clone());
    let capabilities: String = r.get(7)?;
    Ok(Agent {
        id: r.get(0)?,
        name: r.get(1)?,
        network_id: r.get(2)?,
        enabled,
        host_id: r.get(4)?,
        machine_id: r.get(5)?,
        version: r.get(6)?,
        capabilities: serde_json::from_str(&capabilities).unwrap_or_default(),
        silent: is_silent(enabled, &heard, interval_s, &clock::now()),
        last_seen_at,
        last_report: json_column(r, 9)?,
        created_by: json_column(r, 10)?.unwrap_or(Json::Null),
        created_at,
        updated_at: r.get(12)?,
        interval_s,
        tags: super::versions::tags_column(r, 14)?.unwrap_or_default(),
    })
}

/// The agents whose reports made or found `host_id`, the most recently heard first.
pub fn on_host(conn: &Connection, host_id: &str) -> ApiResult<Vec<Agent>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM agents a WHERE a.host_id = ? ORDER BY a.last_seen_at DESC, a.id"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map([host_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Agent> {
    let sql = format!("SELECT {COLUMNS} FROM agents a WHERE a.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Agent",
    )
}

pub fn find_by_hash(conn: &Connection, hash: &str) -> ApiResult<Option<Agent>> {
    let sql = format!("SELECT {COLUMNS} FROM agents a WHERE a.token_hash = ?");
    optional(conn.prepare_cached(&sql)?.query_row([hash], from_row))
}

#[derive(Debug, Default, Clone)]
pub struct AgentFilter {
    pub network_id: Option<String>,
    pub q: Option<String>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &AgentFilter,
    page: PageRequest,
) -> ApiResult<(Vec<Agent>, u64)> {
    let mut filter = Filter::new();
    filter
        .scope("a.network_id", scope)
        .eq_opt("a.network_id", f.network_id.clone())
        .search(&["a.name", "a.machine_id"], f.q.as_deref());
    paged(
        conn,
        COLUMNS,
        "agents a",
        &filter,
        "a.created_at, a.id",
        page,
        from_row,
    )
}

pub fn insert(conn: &Connection, a: &Agent, hash: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO agents (id, name, network_id, enabled, token_hash, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        a.id,
        a.name,
        a.network_id,
        a.enabled,
        hash,
        a.created_by.to_string(),
        a.created_at,
        a.updated_at
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, a: &Agent) -> ApiResult<()> {
    conn.prepare_cached("UPDATE agents SET name = ?, enabled = ?, updated_at = ? WHERE id = ?")?
        .execute(params![a.name, a.enabled, a.updated_at, a.id])?;
    Ok(())
}

pub fn set_hash(conn: &Connection, id: &str, hash: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE agents SET token_hash = ?, updated_at = ? WHERE id = ?")?
        .execute(params![hash, now, id])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM agents WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// What a report tells about the agent itself: bookkeeping, not inventory (no journal entry).
pub struct Heard<'a> {
    pub id: &'a str,
    pub host_id: &'a str,
    pub machine_id: &'a str,
    pub version: &'a str,
    pub capabilities: &'a Capabilities,
    pub interval_s: i64,
    pub at: &'a str,
    pub last_report: &'a Json,
}

pub fn heard(conn: &Connection, h: &Heard) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE agents SET host_id = ?, machine_id = ?, version = ?, capabilities = ?, interval_s = ?,
                           last_seen_at = ?, last_report = ?
         WHERE id = ?",
    )?
    .execute(params![
        h.host_id,
        h.machine_id,
        h.version,
        serde_json::to_string(h.capabilities).unwrap_or_default(),
        h.interval_s,
        h.at,
        h.last_report.to_string(),
        h.id
    ])?;
    Ok(())
}

/// The other agent of `network_id` that already reports `machine_id`, if any.
pub fn machine_taken_by(
    conn: &Connection,
    network_id: &str,
    machine_id: &str,
    except: &str,
) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT name FROM agents WHERE network_id = ? AND machine_id = ? AND id != ?",
        )?
        .query_row(params![network_id, machine_id, except], |r| r.get(0)),
    )
}

/// The live host a machine was last reported as, in a network.
pub fn host_of_machine(
    conn: &Connection,
    network_id: &str,
    machine_id: &str,
) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT host_id FROM host_machines WHERE network_id = ? AND machine_id = ?",
        )?
        .query_row(params![network_id, machine_id], |r| r.get(0)),
    )
}

/// Whether some machine was reported as this host.
pub fn host_has_machine(conn: &Connection, host_id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM host_machines WHERE host_id = ?")?
        .query_row([host_id], |r| r.get::<_, i64>(0))?
        > 0)
}

pub fn set_host_machine(
    conn: &Connection,
    host_id: &str,
    network_id: &str,
    machine_id: &str,
) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO host_machines (host_id, network_id, machine_id) VALUES (?, ?, ?)
         ON CONFLICT (host_id) DO UPDATE SET machine_id = excluded.machine_id",
    )?
    .execute(params![host_id, network_id, machine_id])?;
    Ok(())
}

/// `(binding id, service id)` of every live binding of a port.
pub fn holders_of_port(conn: &Connection, port_id: &str) -> ApiResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, service_id FROM bindings WHERE port_id = ?")?;
    let rows = stmt
        .query_map([port_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A service's type and `source`.
pub fn service_origin(conn: &Connection, service_id: &str) -> ApiResult<(String, Json)> {
    or_not_found(
        conn.prepare_cached("SELECT service_definition, source FROM services WHERE id = ?")?
            .query_row([service_id], |r| {
                Ok((r.get(0)?, json_column(r, 1)?.unwrap_or(Json::Null)))
            }),
        "Service",
    )
}

/// The service an agent keeps for a program (its key) on a host.
pub fn service_with_key(conn: &Connection, host_id: &str, key: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT id FROM services WHERE host_id = ? AND json_extract(source, '$.details.agent_key') = ?
             ORDER BY created_at LIMIT 1",
        )?
        .query_row([host_id, key], |r| r.get(0)),
    )
}

/// `(service id, program key)` of the services agents keep on a host.
pub fn agent_services(conn: &Connection, host_id: &str) -> ApiResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, json_extract(source, '$.details.agent_key') FROM services
         WHERE host_id = ? AND json_extract(source, '$.details.agent_key') IS NOT NULL",
    )?;
    let rows = stmt
        .query_map([host_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// `(port id, number, protocol)` of the host's ports that an agent's report created.
pub fn agent_ports(
    conn: &Connection,
    host_id: &str,
) -> ApiResult<std::collections::BTreeSet<(String, u16, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.number, p.protocol FROM ports p
           JOIN discoveries d ON d.id = p.first_discovery_id
         WHERE p.host_id = ? AND d.source = 'agent'",
    )?;
    let rows = stmt
        .query_map([host_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// `(digest, host's journal seq)` of the agent's last reconciled report.
pub fn last_digest(conn: &Connection, id: &str) -> ApiResult<Option<(String, i64)>> {
    Ok(optional(
        conn.prepare_cached("SELECT report_digest, report_seq FROM agents WHERE id = ?")?
            .query_row([id], |r| {
                Ok(
                    match (r.get::<_, Option<String>>(0)?, r.get::<_, Option<i64>>(1)?) {
                        (Some(d), Some(s)) => Some((d, s)),
                        _ => None,
                    },
                )
            }),
    )?
    .flatten())
}

pub fn set_digest(conn: &Connection, id: &str, digest: &str, seq: i64) -> ApiResult<()> {
    conn.prepare_cached("UPDATE agents SET report_digest = ?, report_seq = ? WHERE id = ?")?
        .execute(params![digest, seq, id])?;
    Ok(())
}

/// The newest journal entry about a host (its parts included).
pub fn host_seq(conn: &Connection, host_id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(max(seq), 0) FROM journal \
             WHERE host_id = (SELECT n FROM journal_ids WHERE key = ?)",
        )?
        .query_row([super::changes::key(host_id)], |r| r.get(0))?)
}

//! Discoveries and their schedules, and the lookups reconciliation matches observations with.

use std::net::IpAddr;

use rusqlite::{params, Connection, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::query::{paged, Filter, PageRequest, Scope};
use super::{json_column, optional, or_not_found};
use crate::domain::discovery::CatalogType;
use crate::domain::discovery::Progress;
use crate::domain::net::Cidr;
use crate::domain::port::Protocol;
use crate::error::ApiResult;

/// What a reconciliation did, by kind of object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    pub hosts_created: u64,
    pub hosts_seen: u64,
    pub ip_addresses_created: u64,
    pub ports_created: u64,
    pub services_created: u64,
    pub bindings_created: u64,
    pub bindings_seen: u64,
    pub bindings_closed: u64,
    /// Observations (or plan entries) left out because a rule refused them.
    pub skipped: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Discovery {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    /// `scan`, `nmap` or `observations`.
    pub source: String,
    /// `apply` or `plan`.
    pub mode: String,
    /// `queued`, `running`, `completed`, `failed` or `cancelled`.
    pub status: String,
    pub targets: Vec<String>,
    pub ports: Vec<u16>,
    #[schema(value_type = Object)]
    pub options: Value,
    pub progress: Progress,
    pub summary: Option<Summary>,
    /// Mode `plan`: the changes an apply would make.
    #[schema(value_type = Option<Vec<Object>>)]
    pub plan: Option<Value>,
    #[schema(format = DateTime)]
    pub applied_at: Option<String>,
    pub error: Option<String>,
    #[schema(format = Uuid)]
    pub schedule_id: Option<String>,
    #[schema(value_type = Object)]
    pub created_by: Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// Set through `/tags/assign` (entity type `Discovery`).
    #[schema(read_only, value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    /// The agent that runs this scan inside its own segment; `null`: the server scans.
    #[schema(format = Uuid)]
    pub agent_id: Option<String>,
}

const COLUMNS: &str =
    "d.id, d.network_id, d.source, d.mode, d.status, d.targets, d.ports, d.options, \
                       d.progress, d.summary, d.plan, d.applied_at, d.error, d.schedule_id, \
                       d.created_by, d.created_at, d.started_at, d.finished_at, \
                       (SELECT json_group_array(tag_id) FROM \
                          (SELECT tag_id FROM discovery_tags WHERE entity_id = d.id ORDER BY ord)), \
                       d.agent_id";

fn json_of<T: for<'de> Deserialize<'de> + Default>(r: &Row, i: usize) -> rusqlite::Result<T> {
    Ok(json_column(r, i)?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

fn from_row(r: &Row) -> rusqlite::Result<Discovery> {
    Ok(Discovery {
        id: r.get(0)?,
        network_id: r.get(1)?,
        source: r.get(2)?,
        mode: r.get(3)?,
        status: r.get(4)?,
        targets: json_of(r, 5)?,
        ports: json_of(r, 6)?,
        options: json_column(r, 7)?.unwrap_or(Value::Null),
        progress: json_of(r, 8)?,
        summary: json_column(r, 9)?.and_then(|v| serde_json::from_value(v).ok()),
        plan: json_column(r, 10)?,
        applied_at: r.get(11)?,
        error: r.get(12)?,
        schedule_id: r.get(13)?,
        created_by: json_column(r, 14)?.unwrap_or(Value::Null),
        created_at: r.get(15)?,
        started_at: r.get(16)?,
        finished_at: r.get(17)?,
        tags: super::versions::tags_column(r, 18)?.unwrap_or_default(),
        agent_id: r.get(19)?,
    })
}

fn text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub fn insert(conn: &Connection, d: &Discovery, observations: Option<&Value>) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO discoveries (id, network_id, source, mode, status, targets, ports, options,
             progress, summary, plan, observations, applied_at, error, schedule_id, created_by,
             created_at, started_at, finished_at, agent_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        d.id,
        d.network_id,
        d.source,
        d.mode,
        d.status,
        text(&d.targets),
        text(&d.ports),
        d.options.to_string(),
        text(&d.progress),
        d.summary.as_ref().map(text),
        d.plan.as_ref().map(|p| p.to_string()),
        observations.map(|o| o.to_string()),
        d.applied_at,
        d.error,
        d.schedule_id,
        d.created_by.to_string(),
        d.created_at,
        d.started_at,
        d.finished_at,
        d.agent_id
    ])?;
    Ok(())
}

pub fn set_summary(conn: &Connection, id: &str, summary: &Summary) -> ApiResult<()> {
    conn.prepare_cached("UPDATE discoveries SET summary = ? WHERE id = ?")?
        .execute(params![text(summary), id])?;
    Ok(())
}

/// Stores the fields a run changes: status, progress, outcome, times.
pub fn update(conn: &Connection, d: &Discovery, observations: Option<&Value>) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE discoveries SET status = ?, progress = ?, summary = ?, plan = ?,
             observations = coalesce(?, observations), applied_at = ?, error = ?, started_at = ?,
             finished_at = ?
         WHERE id = ?",
    )?
    .execute(params![
        d.status,
        text(&d.progress),
        d.summary.as_ref().map(text),
        d.plan.as_ref().map(|p| p.to_string()),
        observations.map(|o| o.to_string()),
        d.applied_at,
        d.error,
        d.started_at,
        d.finished_at,
        d.id
    ])?;
    Ok(())
}

pub fn set_progress(conn: &Connection, id: &str, progress: &Progress) -> ApiResult<()> {
    conn.prepare_cached("UPDATE discoveries SET progress = ? WHERE id = ?")?
        .execute(params![text(progress), id])?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Discovery> {
    let sql = format!("SELECT {COLUMNS} FROM discoveries d WHERE d.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Discovery",
    )
}

/// The observations a plan keeps for its apply.
pub fn observations(conn: &Connection, id: &str) -> ApiResult<Option<Value>> {
    let raw: Option<String> = optional(
        conn.prepare_cached("SELECT observations FROM discoveries WHERE id = ?")?
            .query_row([id], |r| r.get(0)),
    )?
    .flatten();
    Ok(raw.and_then(|t| serde_json::from_str(&t).ok()))
}

#[derive(Debug, Default)]
pub struct DiscoveryFilter {
    pub network_id: Option<String>,
    pub status: Option<String>,
    pub source: Option<String>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &DiscoveryFilter,
    page: PageRequest,
) -> ApiResult<(Vec<Discovery>, u64)> {
    let mut filter = Filter::default();
    filter
        .scope("d.network_id", scope)
        .eq_opt("d.network_id", f.network_id.clone())
        .eq_opt("d.status", f.status.clone())
        .eq_opt("d.source", f.source.clone());
    paged(
        conn,
        COLUMNS,
        "discoveries d",
        &filter,
        "d.created_at DESC, d.id DESC",
        page,
        from_row,
    )
}

/// The network's running (or queued) scan, if any.
pub fn active_scan(conn: &Connection, network_id: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT id FROM discoveries WHERE network_id = ? AND source = 'scan'
               AND status IN ('queued', 'running') LIMIT 1",
        )?
        .query_row([network_id], |r| r.get(0)),
    )
}

/// Marks discoveries a stop left unfinished as failed; how many there were.
pub fn fail_interrupted(conn: &Connection, now: &str) -> ApiResult<usize> {
    Ok(conn.execute(
        "UPDATE discoveries SET status = 'failed', error = 'interrupted by shutdown', finished_at = ?
         WHERE status IN ('queued', 'running') AND agent_id IS NULL",
        [now],
    )?)
}

// ---- scan jobs of agents -----------------------------------------------------------------------

/// Takes the agent's oldest queued scan job: it is running from now.
pub fn claim_job(conn: &Connection, agent_id: &str, now: &str) -> ApiResult<Option<Discovery>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM discoveries d WHERE d.agent_id = ? AND d.status = 'queued'
         ORDER BY d.created_at LIMIT 1"
    );
    let Some(mut d) = optional(conn.prepare_cached(&sql)?.query_row([agent_id], from_row))? else {
        return Ok(None);
    };
    conn.prepare_cached(
        "UPDATE discoveries SET status = 'running', started_at = ?1, heard_at = ?1 WHERE id = ?2",
    )?
    .execute(params![now, d.id])?;
    d.status = "running".into();
    d.started_at = Some(now.to_string());
    Ok(Some(d))
}

/// The agent's running job `id`, if it is one.
pub fn running_job(conn: &Connection, agent_id: &str, id: &str) -> ApiResult<Option<Discovery>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM discoveries d WHERE d.id = ? AND d.agent_id = ? AND d.status = 'running'"
    );
    optional(
        conn.prepare_cached(&sql)?
            .query_row([id, agent_id], from_row),
    )
}

/// The agent spoke of its job: its progress, and the time, which keeps the job alive.
pub fn job_heard(conn: &Connection, id: &str, progress: &Progress, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE discoveries SET progress = ?, heard_at = ? WHERE id = ?")?
        .execute(params![text(progress), now, id])?;
    Ok(())
}

/// Whether any agent has a job queued or running (most of the time none: no write needed).
pub fn has_open_jobs(conn: &Connection) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM discoveries WHERE agent_id IS NOT NULL
                              AND status IN ('queued', 'running'))",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Fails the jobs whose agent has not taken them, or has not spoken of them, since `cutoff`;
/// the error names the agent. Returns how many.
pub fn fail_silent_jobs(
    conn: &Connection,
    now: &str,
    cutoff: &str,
    timeout_s: u32,
) -> ApiResult<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE discoveries SET status = 'failed', finished_at = ?1,
               error = 'Agent ' || coalesce((SELECT name FROM agents a WHERE a.id = discoveries.agent_id), agent_id)
                       || CASE status WHEN 'queued' THEN ' did not take the job within '
                                      ELSE ' went silent during the job for ' END
                       || ?3 || ' s: is it running, with --scan?'
             WHERE agent_id IS NOT NULL
               AND ((status = 'queued' AND created_at < ?2) OR (status = 'running' AND heard_at < ?2))",
        )?
        .execute(params![now, cutoff, timeout_s])?)
}

// ---- what reconciliation matches with ---------------------------------------------------------

/// The network's subnets with their blocks.
pub fn subnets_of(conn: &Connection, network_id: &str) -> ApiResult<Vec<(String, Cidr)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, cidr FROM subnets WHERE network_id = ? ORDER BY id")?;
    let rows = stmt
        .query_map([network_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, cidr)| Cidr::parse(&cidr).ok().map(|c| (id, c)))
        .collect())
}

/// The most specific subnet of the network that holds `ip`.
pub fn narrowest(subnets: &[(String, Cidr)], ip: IpAddr) -> Option<&str> {
    subnets
        .iter()
        .filter(|(_, c)| c.contains(ip))
        .max_by_key(|(_, c)| c.prefix())
        .map(|(id, _)| id.as_str())
}

#[derive(Deserialize)]
struct StoredPort {
    number: u16,
    protocol: Protocol,
}

/// Every service type with its default ports, for typing.
pub fn catalog(conn: &Connection) -> ApiResult<Vec<CatalogType>> {
    let mut stmt = conn.prepare_cached("SELECT id, default_ports FROM service_types")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .map(|(id, ports)| CatalogType {
            id,
            default_ports: serde_json::from_str::<Vec<StoredPort>>(&ports)
                .unwrap_or_default()
                .into_iter()
                .map(|p| (p.number, p.protocol))
                .collect(),
        })
        .collect())
}

/// `(ip address id, host id)` of an address in the network.
pub fn address_in(
    conn: &Connection,
    network_id: &str,
    ip: &str,
) -> ApiResult<Option<(String, String)>> {
    optional(
        conn.prepare_cached(
            "SELECT id, host_id FROM ip_addresses WHERE network_id = ? AND ip_address = ?
             ORDER BY created_at LIMIT 1",
        )?
        .query_row([network_id, ip], |r| Ok((r.get(0)?, r.get(1)?))),
    )
}

pub fn host_with_mac(conn: &Connection, network_id: &str, mac: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT host_id FROM ip_addresses WHERE network_id = ? AND mac_address = ?
             ORDER BY created_at LIMIT 1",
        )?
        .query_row([network_id, mac], |r| r.get(0)),
    )
}

pub fn host_named(
    conn: &Connection,
    network_id: &str,
    hostname: &str,
) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT id FROM hosts WHERE network_id = ? AND lower(hostname) = lower(?)
             ORDER BY created_at LIMIT 1",
        )?
        .query_row([network_id, hostname], |r| r.get(0)),
    )
}

pub fn port_of(
    conn: &Connection,
    host_id: &str,
    number: u16,
    protocol: &str,
) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT id FROM ports WHERE host_id = ? AND number = ? AND protocol = ?",
        )?
        .query_row(params![host_id, number, protocol], |r| r.get(0)),
    )
}

/// `(binding id, service id)` of a live binding that already covers the port on the address:
/// `P(p,x)` or `P(p,*)`.
pub fn covering(
    conn: &Connection,
    port_id: &str,
    ip_id: &str,
) -> ApiResult<Option<(String, String)>> {
    optional(
        conn.prepare_cached(
            "SELECT id, service_id FROM bindings
             WHERE port_id = ?1 AND (ip_address_id = ?2 OR ip_address_id IS NULL)
             ORDER BY ip_address_id IS NULL LIMIT 1",
        )?
        .query_row([port_id, ip_id], |r| Ok((r.get(0)?, r.get(1)?))),
    )
}

pub fn service_of_type(
    conn: &Connection,
    host_id: &str,
    type_id: &str,
) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT id FROM services WHERE host_id = ? AND service_definition = ?
             ORDER BY created_at LIMIT 1",
        )?
        .query_row([host_id, type_id], |r| r.get(0)),
    )
}

/// Live bindings that a discovery created in the network, with their address and port number.
pub fn discovered_bindings(
    conn: &Connection,
    network_id: &str,
) -> ApiResult<Vec<(String, String, u16)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT b.id, i.ip_address, p.number FROM bindings b
           JOIN ip_addresses i ON i.id = b.ip_address_id
           JOIN ports p ON p.id = b.port_id
         WHERE b.network_id = ? AND b.first_discovery_id IS NOT NULL AND p.protocol = 'Tcp'",
    )?;
    let rows = stmt
        .query_map([network_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

// ---- schedules ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Schedule {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    pub name: String,
    pub targets: Vec<String>,
    /// As given: a list of numbers, a range string, or "catalog".
    #[schema(value_type = Object)]
    pub ports: Value,
    #[schema(value_type = Object)]
    pub options: Value,
    pub mode: String,
    pub interval_minutes: i64,
    pub enabled: bool,
    #[schema(read_only, format = DateTime)]
    pub last_run_at: Option<String>,
    #[schema(read_only, format = DateTime)]
    pub next_run_at: String,
    #[schema(read_only, format = Uuid)]
    pub last_discovery_id: Option<String>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
}

const SCHEDULE_COLUMNS: &str =
    "s.id, s.network_id, s.name, s.targets, s.ports, s.options, s.mode, \
     s.interval_minutes, s.enabled, s.last_run_at, s.next_run_at, s.last_discovery_id, \
     s.created_at, s.updated_at";

fn schedule_from_row(r: &Row) -> rusqlite::Result<Schedule> {
    Ok(Schedule {
        id: r.get(0)?,
        network_id: r.get(1)?,
        name: r.get(2)?,
        targets: json_of(r, 3)?,
        ports: json_column(r, 4)?.unwrap_or(Value::Null),
        options: json_column(r, 5)?.unwrap_or(Value::Null),
        mode: r.get(6)?,
        interval_minutes: r.get(7)?,
        enabled: r.get(8)?,
        last_run_at: r.get(9)?,
        next_run_at: r.get(10)?,
        last_discovery_id: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

pub fn get_schedule(conn: &Connection, id: &str) -> ApiResult<Schedule> {
    let sql = format!("SELECT {SCHEDULE_COLUMNS} FROM discovery_schedules s WHERE s.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?
            .query_row([id], schedule_from_row),
        "Discovery schedule",
    )
}

pub fn list_schedules(
    conn: &Connection,
    scope: &Scope,
    network_id: Option<String>,
    page: PageRequest,
) -> ApiResult<(Vec<Schedule>, u64)> {
    let mut filter = Filter::default();
    filter
        .scope("s.network_id", scope)
        .eq_opt("s.network_id", network_id);
    paged(
        conn,
        SCHEDULE_COLUMNS,
        "discovery_schedules s",
        &filter,
        "s.created_at, s.id",
        page,
        schedule_from_row,
    )
}

pub fn save_schedule(conn: &Connection, s: &Schedule) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO discovery_schedules (id, network_id, name, targets, ports, options, mode,
             interval_minutes, enabled, last_run_at, next_run_at, last_discovery_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET network_id = ?2, name = ?3, targets = ?4, ports = ?5,
             options = ?6, mode = ?7, interval_minutes = ?8, enabled = ?9, last_run_at = ?10,
             next_run_at = ?11, last_discovery_id = ?12, updated_at = ?14",
    )?
    .execute(params![
        s.id,
        s.network_id,
        s.name,
        text(&s.targets),
        s.ports.to_string(),
        s.options.to_string(),
        s.mode,
        s.interval_minutes,
        s.enabled,
        s.last_run_at,
        s.next_run_at,
        s.last_discovery_id,
        s.created_at,
        s.updated_at
    ])?;
    Ok(())
}

/// Records a run of a schedule (a schedule deleted meanwhile stays deleted).
pub fn schedule_ran(conn: &Connection, s: &Schedule) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE discovery_schedules SET last_run_at = ?, next_run_at = ?, last_discovery_id = ?
         WHERE id = ?",
    )?
    .execute(params![
        s.last_run_at,
        s.next_run_at,
        s.last_discovery_id,
        s.id
    ])?;
    Ok(())
}

pub fn delete_schedule(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM discovery_schedules WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// Enabled schedules whose next run is due at `now`.
pub fn due_schedules(conn: &Connection, now: &str) -> ApiResult<Vec<Schedule>> {
    let sql = format!(
        "SELECT {SCHEDULE_COLUMNS} FROM discovery_schedules s
         WHERE s.enabled = 1 AND s.next_run_at <= ? ORDER BY s.next_run_at"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([now], schedule_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

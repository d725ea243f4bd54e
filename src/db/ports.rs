//! Ports. `type` is derived from number and protocol on the way out, never stored.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::or_not_found;
use super::query::{json_ids, paged, Filter, PageRequest, Scope};
use crate::domain::port::{port_type, Protocol};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Port {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub host_id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    pub number: u16,
    pub protocol: String,
    #[serde(rename = "type")]
    pub port_type: &'static str,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
}

const COLUMNS: &str =
    "p.id, p.host_id, p.network_id, p.number, p.protocol, p.created_at, p.updated_at";

fn from_row(r: &Row) -> rusqlite::Result<Port> {
    let number: u16 = r.get(3)?;
    let protocol: String = r.get(4)?;
    let proto = Protocol::parse(&protocol).unwrap_or(Protocol::Tcp);
    Ok(Port {
        id: r.get(0)?,
        host_id: r.get(1)?,
        network_id: r.get(2)?,
        number,
        port_type: port_type(number, proto),
        protocol,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Port> {
    let sql = format!("SELECT {COLUMNS} FROM ports p WHERE p.id = ?");
    or_not_found(conn.prepare_cached(&sql)?.query_row([id], from_row), "Port")
}

/// The ports of several hosts in one query, ordered for embedding.
pub fn of_hosts(conn: &Connection, host_ids: &[String]) -> ApiResult<Vec<Port>> {
    if host_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM ports p WHERE p.host_id IN (SELECT value FROM json_each(?))
         ORDER BY p.created_at, p.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([json_ids(host_ids)], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn number_taken(
    conn: &Connection,
    host_id: &str,
    number: u16,
    protocol: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM ports WHERE host_id = ? AND number = ? AND protocol = ? AND id IS NOT ?",
        )?
        .exists(params![host_id, number, protocol, except])?)
}

#[derive(Debug, Default)]
pub struct PortFilter {
    pub host_id: Option<String>,
    pub network_id: Option<String>,
    pub number: Option<u16>,
    pub protocol: Option<String>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &PortFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<Port>, u64)> {
    let mut filter = Filter::new();
    filter
        .scope("p.network_id", scope)
        .eq_opt("p.host_id", f.host_id.clone())
        .eq_opt("p.network_id", f.network_id.clone())
        .eq_opt("p.number", f.number.map(i64::from))
        .eq_opt("p.protocol", f.protocol.clone());
    paged(conn, COLUMNS, "ports p", &filter, order_by, page, from_row)
}

pub fn insert(conn: &Connection, p: &Port) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO ports (id, host_id, network_id, number, protocol, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        p.id,
        p.host_id,
        p.network_id,
        p.number,
        p.protocol,
        p.created_at,
        p.updated_at
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, p: &Port) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE ports SET host_id = ?, network_id = ?, number = ?, protocol = ?, updated_at = ? WHERE id = ?",
    )?
    .execute(params![p.host_id, p.network_id, p.number, p.protocol, p.updated_at, p.id])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM ports WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// Ids of the live bindings that name this port.
pub fn binding_ids(conn: &Connection, id: &str) -> ApiResult<Vec<String>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM bindings WHERE port_id = ? ORDER BY created_at, id")?;
    let rows = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

//! Ports. `type` is derived from number and protocol on the way out, never stored.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::json_rows::{text_at, Obj};
use super::or_not_found;
use super::query::{all, paged, Filter, PageRequest, Scope};
use super::versions::{self, AsOf, History, Temporal, PORTS};
use crate::domain::port::{port_type, Protocol};
use crate::error::{ApiError, ApiResult};

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
    #[serde(flatten)]
    pub temporal: Temporal,
}

const COLUMNS: &str = "p.id, p.host_id, p.network_id, p.number, p.protocol, p.created_at, \
                       p.updated_at, p.valid_from, p.last_seen_at, p.first_discovery_id, \
                       p.last_discovery_id";

pub(super) fn columns(union: bool) -> String {
    format!("{COLUMNS}, {}", versions::extra("p", union))
}

/// A live row of `columns(false)` as `Port`'s JSON.
pub(super) fn write_live(out: &mut Vec<u8>, r: &Row) -> rusqlite::Result<()> {
    let number: u16 = r.get(3)?;
    let protocol = text_at(r, 4)?;
    let proto = Protocol::parse(protocol).unwrap_or(Protocol::Tcp);
    let mut o = Obj::open(out);
    o.text("id", r, 0)?;
    o.text("host_id", r, 1)?;
    o.text("network_id", r, 2)?;
    o.int("number", r, 3)?;
    o.str("protocol", protocol);
    o.str("type", port_type(number, proto));
    o.text("created_at", r, 5)?;
    o.text("updated_at", r, 6)?;
    o.temporal_live(r, 7)?;
    o.close();
    Ok(())
}

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
        temporal: Temporal::from_row(r, 7)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Port> {
    let sql = format!("SELECT {} FROM ports p WHERE p.id = ?", columns(false));
    or_not_found(conn.prepare_cached(&sql)?.query_row([id], from_row), "Port")
}

/// The port of lineage `id` as of `at`.
pub fn get_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Port> {
    versions::get_at(conn, &PORTS, "p", &columns(at.is_union()), id, at, from_row)?
        .ok_or_else(|| ApiError::not_found("Port"))
}

pub fn history(
    conn: &Connection,
    id: &str,
    scope: &Scope,
    page: PageRequest,
) -> ApiResult<Option<History<Port>>> {
    versions::history(conn, &PORTS, "p", &columns(true), id, scope, page, from_row)
}

/// The ports of several hosts in one query, ordered for embedding.
pub fn of_hosts(conn: &Connection, host_ids: &[String], at: &AsOf) -> ApiResult<Vec<Port>> {
    if host_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (from, params) = at.source_for(&PORTS, "p", "host_id", host_ids);
    let mut filter = Filter::over_source(params);
    filter.in_ids("p.host_id", host_ids);
    all(
        conn,
        &columns(at.is_union()),
        &from,
        &filter,
        "p.created_at, p.id",
        from_row,
    )
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
    /// Only (or never) what discovery created and no longer sees.
    pub stale: Option<bool>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &PortFilter,
    order_by: &str,
    page: PageRequest,
    at: &AsOf,
) -> ApiResult<(Vec<Port>, u64)> {
    let (from, params) = at.source(&PORTS, "p");
    let mut filter = Filter::over_source(params);
    filter.is(&versions::stale_sql("p"), f.stale);
    filter
        .scope("p.network_id", scope)
        .eq_opt("p.host_id", f.host_id.clone())
        .eq_opt("p.network_id", f.network_id.clone())
        .eq_opt("p.number", f.number.map(i64::from))
        .eq_opt("p.protocol", f.protocol.clone());
    let cols = columns(at.is_union());
    paged(conn, &cols, &from, &filter, order_by, page, from_row)
}

pub fn insert(conn: &Connection, p: &Port) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO ports (id, host_id, network_id, number, protocol, created_at, updated_at,
                            valid_from, last_seen_at, first_discovery_id, last_discovery_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        p.id,
        p.host_id,
        p.network_id,
        p.number,
        p.protocol,
        p.created_at,
        p.updated_at,
        p.temporal.valid_from,
        p.temporal.last_seen_at,
        p.temporal.first_discovery_id,
        p.temporal.last_discovery_id
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, p: &Port) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE ports SET host_id = ?, network_id = ?, number = ?, protocol = ?, updated_at = ?,
                valid_from = ?, last_seen_at = ? WHERE id = ?",
    )?
    .execute(params![
        p.host_id,
        p.network_id,
        p.number,
        p.protocol,
        p.updated_at,
        p.temporal.valid_from,
        p.temporal.last_seen_at,
        p.id
    ])?;
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

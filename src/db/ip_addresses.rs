//! IP addresses (the 0.13 API called them interfaces).

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::json_rows::Obj;
use super::or_not_found;
use super::query::{all, paged, Filter, PageRequest, Scope};
use super::versions::{self, AsOf, History, Temporal, IP_ADDRESSES};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IpAddress {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub host_id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    #[schema(format = Uuid)]
    pub subnet_id: Option<String>,
    pub ip_address: String,
    pub mac_address: Option<String>,
    pub name: Option<String>,
    pub position: i64,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    #[serde(flatten)]
    pub temporal: Temporal,
}

const COLUMNS: &str = "i.id, i.host_id, i.network_id, i.subnet_id, i.ip_address, i.mac_address, \
                       i.name, i.position, i.created_at, i.updated_at, \
                       i.valid_from, i.last_seen_at, i.first_discovery_id, i.last_discovery_id";

pub(super) fn columns(union: bool) -> String {
    format!("{COLUMNS}, {}", versions::extra("i", union))
}

/// A live row of `columns(false)` as `IpAddress`'s JSON.
pub(super) fn write_live(out: &mut Vec<u8>, r: &Row) -> rusqlite::Result<()> {
    let mut o = Obj::open(out);
    o.text("id", r, 0)?;
    o.text("host_id", r, 1)?;
    o.text("network_id", r, 2)?;
    o.text("subnet_id", r, 3)?;
    o.text("ip_address", r, 4)?;
    o.text("mac_address", r, 5)?;
    o.text("name", r, 6)?;
    o.int("position", r, 7)?;
    o.text("created_at", r, 8)?;
    o.text("updated_at", r, 9)?;
    o.temporal_live(r, 10)?;
    o.close();
    Ok(())
}

fn from_row(r: &Row) -> rusqlite::Result<IpAddress> {
    Ok(IpAddress {
        id: r.get(0)?,
        host_id: r.get(1)?,
        network_id: r.get(2)?,
        subnet_id: r.get(3)?,
        ip_address: r.get(4)?,
        mac_address: r.get(5)?,
        name: r.get(6)?,
        position: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        temporal: Temporal::from_row(r, 10)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<IpAddress> {
    let sql = format!(
        "SELECT {} FROM ip_addresses i WHERE i.id = ?",
        columns(false)
    );
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "IP address",
    )
}

/// The IP address of lineage `id` as of `at`.
pub fn get_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<IpAddress> {
    versions::get_at(
        conn,
        &IP_ADDRESSES,
        "i",
        &columns(at.is_union()),
        id,
        at,
        from_row,
    )?
    .ok_or_else(|| ApiError::not_found("IP address"))
}

pub fn history(
    conn: &Connection,
    id: &str,
    scope: &Scope,
    page: PageRequest,
) -> ApiResult<Option<History<IpAddress>>> {
    versions::history(
        conn,
        &IP_ADDRESSES,
        "i",
        &columns(true),
        id,
        scope,
        page,
        from_row,
    )
}

/// The IP addresses of several hosts in one query, ordered for embedding.
pub fn of_hosts(conn: &Connection, host_ids: &[String], at: &AsOf) -> ApiResult<Vec<IpAddress>> {
    if host_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (from, params) = at.source_for(&IP_ADDRESSES, "i", "host_id", host_ids);
    let mut filter = Filter::over_source(params);
    filter.in_ids("i.host_id", host_ids);
    let order = "i.position, i.created_at, i.id";
    all(
        conn,
        &columns(at.is_union()),
        &from,
        &filter,
        order,
        from_row,
    )
}

pub fn address_taken(
    conn: &Connection,
    host_id: &str,
    ip: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM ip_addresses WHERE host_id = ? AND ip_address = ? AND id IS NOT ?",
        )?
        .exists(params![host_id, ip, except])?)
}

pub fn next_position(conn: &Connection, host_id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT coalesce(max(position) + 1, 0) FROM ip_addresses WHERE host_id = ?",
        )?
        .query_row([host_id], |r| r.get(0))?)
}

#[derive(Debug, Default)]
pub struct IpAddressFilter {
    pub host_id: Option<String>,
    pub subnet_id: Option<String>,
    pub network_id: Option<String>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &IpAddressFilter,
    order_by: &str,
    page: PageRequest,
    at: &AsOf,
) -> ApiResult<(Vec<IpAddress>, u64)> {
    let (from, params) = at.source(&IP_ADDRESSES, "i");
    let mut filter = Filter::over_source(params);
    filter
        .scope("i.network_id", scope)
        .eq_opt("i.host_id", f.host_id.clone())
        .eq_opt("i.subnet_id", f.subnet_id.clone())
        .eq_opt("i.network_id", f.network_id.clone());
    let cols = columns(at.is_union());
    paged(conn, &cols, &from, &filter, order_by, page, from_row)
}

pub fn insert(conn: &Connection, i: &IpAddress) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO ip_addresses (id, host_id, network_id, subnet_id, ip_address, mac_address, name, position,
                                   created_at, updated_at, valid_from, last_seen_at,
                                   first_discovery_id, last_discovery_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        i.id, i.host_id, i.network_id, i.subnet_id, i.ip_address, i.mac_address, i.name,
        i.position, i.created_at, i.updated_at, i.temporal.valid_from, i.temporal.last_seen_at,
        i.temporal.first_discovery_id, i.temporal.last_discovery_id
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, i: &IpAddress) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE ip_addresses SET host_id = ?, network_id = ?, subnet_id = ?, ip_address = ?, mac_address = ?,
         name = ?, position = ?, updated_at = ?, valid_from = ?, last_seen_at = ? WHERE id = ?",
    )?
    .execute(params![
        i.host_id, i.network_id, i.subnet_id, i.ip_address, i.mac_address, i.name, i.position,
        i.updated_at, i.temporal.valid_from, i.temporal.last_seen_at, i.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM ip_addresses WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// Ids of the live bindings that name this IP address.
pub fn binding_ids(conn: &Connection, id: &str) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM bindings WHERE ip_address_id = ? ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

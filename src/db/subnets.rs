//! Subnets.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::or_not_found;
use super::query::{paged, Filter, PageRequest, Scope};
use super::tags::{tags_of, Tagged};
use super::versions::{self, tags_column, AsOf, History, Temporal, SUBNETS};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subnet {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    pub cidr: String,
    pub name: String,
    pub description: Option<String>,
    pub subnet_type: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    #[serde(flatten)]
    pub temporal: Temporal,
}

const COLUMNS: &str = "s.id, s.network_id, s.cidr, s.name, s.description, s.subnet_type, \
                       s.created_at, s.updated_at, s.valid_from, s.last_seen_at, \
                       s.first_discovery_id, s.last_discovery_id";

fn columns(union: bool) -> String {
    format!("{COLUMNS}, {}", versions::extra("s", union))
}

fn from_row(r: &Row) -> rusqlite::Result<Subnet> {
    Ok(Subnet {
        temporal: Temporal::from_row(r, 8)?,
        tags: tags_column(r, 14)?.unwrap_or_default(),
        id: r.get(0)?,
        network_id: r.get(1)?,
        cidr: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        subnet_type: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// Tags of live rows; as-of rows came with the tags of their instant.
fn with_tags(conn: &Connection, mut rows: Vec<Subnet>, at: &AsOf) -> ApiResult<Vec<Subnet>> {
    if !at.is_live() {
        return Ok(rows);
    }
    let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
    let mut tags = tags_of(conn, Tagged::Subnet, &ids)?;
    for s in &mut rows {
        s.tags = tags.remove(&s.id).unwrap_or_default();
    }
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Subnet> {
    let sql = format!("SELECT {} FROM subnets s WHERE s.id = ?", columns(false));
    let row = or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Subnet",
    )?;
    Ok(with_tags(conn, vec![row], &AsOf::Live)?.remove(0))
}

/// The subnet of lineage `id` as of `at`.
pub fn get_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Subnet> {
    let row = versions::get_at(
        conn,
        &SUBNETS,
        "s",
        &columns(at.is_union()),
        id,
        at,
        from_row,
    )?
    .ok_or_else(|| ApiError::not_found("Subnet"))?;
    Ok(with_tags(conn, vec![row], at)?.remove(0))
}

pub fn history(
    conn: &Connection,
    id: &str,
    scope: &Scope,
    page: PageRequest,
) -> ApiResult<Option<History<Subnet>>> {
    versions::history(
        conn,
        &SUBNETS,
        "s",
        &columns(true),
        id,
        scope,
        page,
        from_row,
    )
}

pub fn find(conn: &Connection, id: &str) -> ApiResult<Option<Subnet>> {
    let sql = format!("SELECT {} FROM subnets s WHERE s.id = ?", columns(false));
    super::optional(conn.prepare_cached(&sql)?.query_row([id], from_row))
}

pub fn cidr_taken(
    conn: &Connection,
    network_id: &str,
    cidr: &str,
    except: Option<&str>,
) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM subnets WHERE network_id = ? AND cidr = ? AND id IS NOT ?")?
        .exists(params![network_id, cidr, except])?)
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    network_id: Option<String>,
    order_by: &str,
    page: PageRequest,
    at: &AsOf,
) -> ApiResult<(Vec<Subnet>, u64)> {
    let (from, params) = at.source(&SUBNETS, "s");
    let mut filter = Filter::over_source(params);
    filter
        .scope("s.network_id", scope)
        .eq_opt("s.network_id", network_id);
    let cols = columns(at.is_union());
    let (rows, total) = paged(conn, &cols, &from, &filter, order_by, page, from_row)?;
    Ok((with_tags(conn, rows, at)?, total))
}

pub fn insert(conn: &Connection, s: &Subnet) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO subnets (id, network_id, cidr, name, description, subnet_type, created_at, updated_at,
                              valid_from, last_seen_at, first_discovery_id, last_discovery_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        s.id, s.network_id, s.cidr, s.name, s.description, s.subnet_type, s.created_at,
        s.updated_at, s.temporal.valid_from, s.temporal.last_seen_at,
        s.temporal.first_discovery_id, s.temporal.last_discovery_id
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, s: &Subnet) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE subnets SET network_id = ?, cidr = ?, name = ?, description = ?, subnet_type = ?, updated_at = ?,
                valid_from = ?, last_seen_at = ? WHERE id = ?",
    )?
    .execute(params![
        s.network_id, s.cidr, s.name, s.description, s.subnet_type, s.updated_at,
        s.temporal.valid_from, s.temporal.last_seen_at, s.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM subnets WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// The IP addresses placed on the subnet: `(id, ip_address)`.
pub fn addresses(conn: &Connection, id: &str) -> ApiResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, ip_address FROM ip_addresses WHERE subnet_id = ? ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

//! Networks.

use rusqlite::types::Value;
use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::query::{json_ids, paged, Filter, PageRequest, Scope};
use super::tags::{any_tag_clause, tags_of, Tagged};
use super::{optional, or_not_found};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Network {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    /// The server's one organization (see `GET /api/v1/organizations`).
    #[schema(read_only, format = Uuid)]
    pub organization_id: String,
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
}

const COLUMNS: &str = concat!(
    "n.id, n.name, n.description, n.created_at, n.updated_at, ",
    "(SELECT value FROM settings WHERE key = 'organization_id')"
);

fn from_row(r: &Row) -> rusqlite::Result<Network> {
    Ok(Network {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        tags: Vec::new(),
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        organization_id: r.get(5)?,
    })
}

fn with_tags(conn: &Connection, mut rows: Vec<Network>) -> ApiResult<Vec<Network>> {
    let ids: Vec<String> = rows.iter().map(|n| n.id.clone()).collect();
    let mut tags = tags_of(conn, Tagged::Network, &ids)?;
    for n in &mut rows {
        n.tags = tags.remove(&n.id).unwrap_or_default();
    }
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Network> {
    let sql = format!("SELECT {COLUMNS} FROM networks n WHERE n.id = ?");
    let row = or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Network",
    )?;
    Ok(with_tags(conn, vec![row])?.remove(0))
}

pub fn exists(conn: &Connection, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM networks WHERE id = ?")?
        .exists([id])?)
}

pub fn id_by_name(conn: &Connection, name: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached("SELECT id FROM networks WHERE name = ?")?
            .query_row([name], |r| r.get(0)),
    )
}

#[derive(Debug, Default)]
pub struct NetworkFilter {
    pub ids: Vec<String>,
    pub tag_ids: Vec<String>,
    pub q: Option<String>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &NetworkFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<Network>, u64)> {
    let mut filter = Filter::new();
    filter
        .scope("n.id", scope)
        .search(&["n.name", "n.description"], f.q.as_deref());
    if !f.ids.is_empty() {
        filter.in_ids("n.id", &f.ids);
    }
    if !f.tag_ids.is_empty() {
        filter.clause(
            &any_tag_clause(Tagged::Network, "n", false),
            vec![Value::Text(json_ids(&f.tag_ids))],
        );
    }
    let (rows, total) = paged(
        conn,
        COLUMNS,
        "networks n",
        &filter,
        order_by,
        page,
        from_row,
    )?;
    Ok((with_tags(conn, rows)?, total))
}

pub fn insert(conn: &Connection, n: &Network) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO networks (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
    )?
    .execute(params![n.id, n.name, n.description, n.created_at, n.updated_at])?;
    Ok(())
}

pub fn update(conn: &Connection, n: &Network) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE networks SET name = ?, description = ?, updated_at = ? WHERE id = ?",
    )?
    .execute(params![n.name, n.description, n.updated_at, n.id])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM networks WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// What still lives in the network: `(hosts, subnets)`.
pub fn contents(conn: &Connection, id: &str) -> ApiResult<(i64, i64)> {
    let hosts: i64 = conn
        .prepare_cached("SELECT count(*) FROM hosts WHERE network_id = ?")?
        .query_row([id], |r| r.get(0))?;
    let subnets: i64 = conn
        .prepare_cached("SELECT count(*) FROM subnets WHERE network_id = ?")?
        .query_row([id], |r| r.get(0))?;
    Ok((hosts, subnets))
}

/// Ids of the hosts in the network, for a cascade that journals each one.
pub fn host_ids(conn: &Connection, id: &str) -> ApiResult<Vec<String>> {
    ids_where(
        conn,
        "SELECT id FROM hosts WHERE network_id = ? ORDER BY created_at, id",
        id,
    )
}

/// Ids of the subnets in the network, for a cascade that journals each one.
pub fn subnet_ids(conn: &Connection, id: &str) -> ApiResult<Vec<String>> {
    ids_where(
        conn,
        "SELECT id FROM subnets WHERE network_id = ? ORDER BY created_at, id",
        id,
    )
}

fn ids_where(conn: &Connection, sql: &str, id: &str) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

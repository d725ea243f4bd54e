//! Dependencies between services: live rows and, through `versions`, their past.

use rusqlite::types::Value;
use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::json_column;
use super::query::{all, json_ids, paged, Filter, PageRequest, Scope};
use super::tags::{any_tag_clause, tags_of, Tagged};
use super::versions::{self, tags_column, AsOf, History, Temporal, DEPENDENCIES};
use crate::domain::dependencies::Member;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dependency {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    pub name: String,
    pub description: Option<String>,
    /// `RequestPath`: each member depends on the next. `HubAndSpoke`: every other member depends
    /// on the first.
    pub dependency_type: String,
    pub members: Vec<Member>,
    pub color: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    #[serde(flatten)]
    pub temporal: Temporal,
}

const COLUMNS: &str = "d.id, d.network_id, d.name, d.description, d.dependency_type, d.members, \
                       d.color, d.created_at, d.updated_at, \
                       d.valid_from, d.last_seen_at, d.first_discovery_id, d.last_discovery_id";

fn columns(union: bool) -> String {
    format!("{COLUMNS}, {}", versions::extra("d", union))
}

fn from_row(r: &Row) -> rusqlite::Result<Dependency> {
    Ok(Dependency {
        temporal: Temporal::from_row(r, 9)?,
        tags: tags_column(r, 15)?.unwrap_or_default(),
        id: r.get(0)?,
        network_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        dependency_type: r.get(4)?,
        members: json_column(r, 5)?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        color: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

/// Live rows read their tags from the join table; past ones came with theirs.
fn complete(conn: &Connection, mut rows: Vec<Dependency>, at: &AsOf) -> ApiResult<Vec<Dependency>> {
    if at.is_live() {
        let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
        let mut tags = tags_of(conn, Tagged::Dependency, &ids)?;
        for d in &mut rows {
            d.tags = tags.remove(&d.id).unwrap_or_default();
        }
    }
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Dependency> {
    get_at(conn, id, &AsOf::Live)
}

pub fn get_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Dependency> {
    let row = versions::get_at(
        conn,
        &DEPENDENCIES,
        "d",
        &columns(at.is_union()),
        id,
        at,
        from_row,
    )?
    .ok_or_else(|| ApiError::not_found("Dependency"))?;
    Ok(complete(conn, vec![row], at)?.remove(0))
}

pub fn history(
    conn: &Connection,
    id: &str,
    scope: &Scope,
    page: PageRequest,
) -> ApiResult<Option<History<Dependency>>> {
    versions::history(
        conn,
        &DEPENDENCIES,
        "d",
        &columns(true),
        id,
        scope,
        page,
        from_row,
    )
}

#[derive(Debug, Default)]
pub struct DependencyFilter {
    pub network_id: Option<String>,
    /// Dependencies that have this service as a member.
    pub service_id: Option<String>,
    pub tag_ids: Vec<String>,
    pub q: Option<String>,
}

const HAS_SERVICE: &str =
    "EXISTS (SELECT 1 FROM json_each(d.members) m WHERE json_extract(m.value, '$.service_id') = ?)";

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &DependencyFilter,
    order_by: &str,
    page: PageRequest,
    at: &AsOf,
) -> ApiResult<(Vec<Dependency>, u64)> {
    let (from, params) = at.source(&DEPENDENCIES, "d");
    let mut filter = Filter::over_source(params);
    filter
        .scope("d.network_id", scope)
        .eq_opt("d.network_id", f.network_id.clone())
        .search(&["d.name", "d.description"], f.q.as_deref());
    if let Some(service) = &f.service_id {
        filter.clause(HAS_SERVICE, vec![Value::Text(service.clone())]);
    }
    if !f.tag_ids.is_empty() {
        filter.clause(
            &any_tag_clause(Tagged::Dependency, "d", at.is_union()),
            vec![Value::Text(json_ids(&f.tag_ids))],
        );
    }
    let (rows, total) = paged(
        conn,
        &columns(at.is_union()),
        &from,
        &filter,
        order_by,
        page,
        from_row,
    )?;
    Ok((complete(conn, rows, at)?, total))
}

/// Every dependency of a network as of `at`, for impact and the map.
pub fn of_network(conn: &Connection, network_id: &str, at: &AsOf) -> ApiResult<Vec<Dependency>> {
    let (from, params) = at.source(&DEPENDENCIES, "d");
    let mut filter = Filter::over_source(params);
    filter.eq("d.network_id", network_id.to_string());
    let rows = all(
        conn,
        &columns(at.is_union()),
        &from,
        &filter,
        "d.created_at, d.id",
        from_row,
    )?;
    complete(conn, rows, at)
}

/// Live dependencies that have `service_id` as a member.
pub fn with_service(conn: &Connection, service_id: &str) -> ApiResult<Vec<Dependency>> {
    let mut filter = Filter::new();
    filter.clause(HAS_SERVICE, vec![Value::Text(service_id.to_string())]);
    let rows = all(
        conn,
        &columns(false),
        "dependencies d",
        &filter,
        "d.created_at, d.id",
        from_row,
    )?;
    complete(conn, rows, &AsOf::Live)
}

/// Live dependencies with a member that goes through `binding_id`.
pub fn with_binding(conn: &Connection, binding_id: &str) -> ApiResult<Vec<Dependency>> {
    let mut filter = Filter::new();
    filter.clause(
        "EXISTS (SELECT 1 FROM json_each(d.members) m WHERE json_extract(m.value, '$.binding_id') = ?)",
        vec![Value::Text(binding_id.to_string())],
    );
    let rows = all(
        conn,
        &columns(false),
        "dependencies d",
        &filter,
        "d.created_at, d.id",
        from_row,
    )?;
    complete(conn, rows, &AsOf::Live)
}

fn members_text(members: &[Member]) -> String {
    serde_json::to_string(members).unwrap_or_else(|_| "[]".into())
}

pub fn insert(conn: &Connection, d: &Dependency) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO dependencies (id, network_id, name, description, dependency_type, members, color,
             created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        d.id,
        d.network_id,
        d.name,
        d.description,
        d.dependency_type,
        members_text(&d.members),
        d.color,
        d.created_at,
        d.updated_at,
        d.temporal.valid_from,
        d.temporal.last_seen_at,
        d.temporal.first_discovery_id,
        d.temporal.last_discovery_id
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, d: &Dependency) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE dependencies SET network_id = ?, name = ?, description = ?, dependency_type = ?,
             members = ?, color = ?, updated_at = ?, valid_from = ?, last_seen_at = ?
         WHERE id = ?",
    )?
    .execute(params![
        d.network_id,
        d.name,
        d.description,
        d.dependency_type,
        members_text(&d.members),
        d.color,
        d.updated_at,
        d.temporal.valid_from,
        d.temporal.last_seen_at,
        d.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM dependencies WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

//! Services, each returned with its bindings (one query for the bindings of a whole page).

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value as Json;

use super::bindings::{self, Binding};
use super::query::{json_ids, paged, Filter, PageRequest, Scope};
use super::tags::{any_tag_clause, tags_of, Tagged};
use super::{json_column, optional, or_not_found};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Service {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub host_id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    pub name: String,
    pub service_definition: String,
    pub position: i64,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub virtualization: Option<Json>,
    pub bindings: Vec<Binding>,
    #[schema(read_only, value_type = Object)]
    pub source: Json,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
}

const COLUMNS: &str = "s.id, s.host_id, s.network_id, s.name, s.service_definition, s.position, \
                       s.virtualization, s.source, s.created_at, s.updated_at";

fn from_row(r: &Row) -> rusqlite::Result<Service> {
    Ok(Service {
        id: r.get(0)?,
        host_id: r.get(1)?,
        network_id: r.get(2)?,
        name: r.get(3)?,
        service_definition: r.get(4)?,
        position: r.get(5)?,
        tags: Vec::new(),
        virtualization: json_column(r, 6)?,
        bindings: Vec::new(),
        source: json_column(r, 7)?.unwrap_or(Json::Null),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Fills tags and bindings for a page of services: two queries, whatever the page size.
fn complete(conn: &Connection, mut rows: Vec<Service>) -> ApiResult<Vec<Service>> {
    let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
    let mut tags = tags_of(conn, Tagged::Service, &ids)?;
    let mut bound = bindings::of_services(conn, &ids)?;
    for s in &mut rows {
        s.tags = tags.remove(&s.id).unwrap_or_default();
        s.bindings = bound.remove(&s.id).unwrap_or_default();
    }
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Service> {
    let row = get_row(conn, id)?;
    Ok(complete(conn, vec![row])?.remove(0))
}

/// The service's own row, without tags and bindings: for a write that replaces both anyway.
pub fn get_row(conn: &Connection, id: &str) -> ApiResult<Service> {
    let sql = format!("SELECT {COLUMNS} FROM services s WHERE s.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Service",
    )
}

/// `(host_id, network_id)` of a service, for rules and scope.
pub fn placement(conn: &Connection, id: &str) -> ApiResult<Option<(String, String)>> {
    optional(
        conn.prepare_cached("SELECT host_id, network_id FROM services WHERE id = ?")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?))),
    )
}

/// The services of several hosts with their bindings, grouped by host, ordered by position.
pub fn of_hosts(
    conn: &Connection,
    host_ids: &[String],
) -> ApiResult<HashMap<String, Vec<Service>>> {
    let mut out: HashMap<String, Vec<Service>> = HashMap::new();
    if host_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM services s WHERE s.host_id IN (SELECT value FROM json_each(?))
         ORDER BY s.host_id, s.position, s.created_at"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([json_ids(host_ids)], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for s in complete(conn, rows)? {
        out.entry(s.host_id.clone()).or_default().push(s);
    }
    Ok(out)
}

pub fn count_on_host(conn: &Connection, host_id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM services WHERE host_id = ?")?
        .query_row([host_id], |r| r.get(0))?)
}

#[derive(Debug, Default)]
pub struct ServiceFilter {
    pub network_id: Option<String>,
    pub host_id: Option<String>,
    pub ids: Vec<String>,
    pub tag_ids: Vec<String>,
    pub service_definition: Option<String>,
    pub q: Option<String>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &ServiceFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<Service>, u64)> {
    let mut filter = Filter::new();
    filter
        .scope("s.network_id", scope)
        .eq_opt("s.network_id", f.network_id.clone())
        .eq_opt("s.host_id", f.host_id.clone())
        .eq_opt("s.service_definition", f.service_definition.clone())
        .search(&["s.name", "s.service_definition"], f.q.as_deref());
    if !f.ids.is_empty() {
        filter.in_ids("s.id", &f.ids);
    }
    if !f.tag_ids.is_empty() {
        filter.clause(
            &any_tag_clause(Tagged::Service, "s"),
            vec![Value::Text(json_ids(&f.tag_ids))],
        );
    }
    let (rows, total) = paged(
        conn,
        COLUMNS,
        "services s",
        &filter,
        order_by,
        page,
        from_row,
    )?;
    Ok((complete(conn, rows)?, total))
}

fn json_text(v: &Option<Json>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

pub fn insert(conn: &Connection, s: &Service) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO services (id, host_id, network_id, name, service_definition, position, virtualization,
                               source, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        s.id, s.host_id, s.network_id, s.name, s.service_definition, s.position,
        json_text(&s.virtualization), s.source.to_string(), s.created_at, s.updated_at
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, s: &Service) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE services SET host_id = ?, network_id = ?, name = ?, service_definition = ?, position = ?,
                virtualization = ?, updated_at = ? WHERE id = ?",
    )?
    .execute(params![
        s.host_id, s.network_id, s.name, s.service_definition, s.position,
        json_text(&s.virtualization), s.updated_at, s.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM services WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

//! Service types: the built-in catalogue (kept in sync with the binary at start) and custom ones.

use rusqlite::{params, Connection, Row};
use serde::{Deserialize, Serialize};

use super::or_not_found;
use super::query::{paged, Filter, PageRequest};
use crate::domain::clock;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct DefaultPort {
    pub number: u16,
    pub protocol: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceType {
    pub id: String,
    pub name: String,
    pub category: String,
    pub description: Option<String>,
    pub generic: bool,
    pub default_ports: Vec<DefaultPort>,
    #[schema(read_only)]
    pub builtin: bool,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
}

const COLUMNS: &str =
    "st.id, st.category, st.description, st.generic, st.default_ports, st.builtin, st.created_at, st.updated_at";

fn from_row(r: &Row) -> rusqlite::Result<ServiceType> {
    let id: String = r.get(0)?;
    let ports: String = r.get(4)?;
    Ok(ServiceType {
        name: id.clone(),
        id,
        category: r.get(1)?,
        description: r.get(2)?,
        generic: r.get(3)?,
        default_ports: serde_json::from_str(&ports).unwrap_or_default(),
        builtin: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

#[derive(Deserialize)]
struct CatalogEntry {
    id: String,
    category: String,
    #[serde(default)]
    description: Option<String>,
    generic: bool,
    default_ports: Vec<DefaultPort>,
}

const CATALOG_JSON: &str = include_str!("../catalog/service-types.json");

/// Writes the catalogue compiled into this binary over the stored built-ins, so an upgrade
/// brings new types and corrected ports; unchanged rows are left alone.
pub fn sync_builtins(conn: &Connection) -> ApiResult<usize> {
    let entries: Vec<CatalogEntry> = serde_json::from_str(CATALOG_JSON)
        .map_err(|e| ApiError::internal(format!("embedded service-type catalogue: {e}")))?;
    let now = clock::now();
    let mut upsert = conn.prepare_cached(
        "INSERT INTO service_types (id, category, description, generic, default_ports, builtin, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)
         ON CONFLICT (id) DO UPDATE SET category = excluded.category, description = excluded.description,
             generic = excluded.generic, default_ports = excluded.default_ports, builtin = 1,
             updated_at = excluded.updated_at
         WHERE service_types.category IS NOT excluded.category
            OR service_types.description IS NOT excluded.description
            OR service_types.generic IS NOT excluded.generic
            OR service_types.default_ports IS NOT excluded.default_ports
            OR service_types.builtin IS NOT 1",
    )?;
    let mut changed = 0;
    for e in &entries {
        let ports = serde_json::to_string(&e.default_ports).unwrap_or_else(|_| "[]".into());
        changed += upsert.execute(params![
            e.id,
            e.category,
            e.description,
            e.generic,
            ports,
            now
        ])?;
    }
    Ok(changed)
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<ServiceType> {
    let sql = format!("SELECT {COLUMNS} FROM service_types st WHERE st.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Service type",
    )
}

pub fn exists(conn: &Connection, id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM service_types WHERE id = ?")?
        .exists([id])?)
}

pub struct ServiceTypeFilter {
    pub category: Option<String>,
    pub q: Option<String>,
    pub builtin: Option<bool>,
}

pub fn list(
    conn: &Connection,
    f: &ServiceTypeFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<ServiceType>, u64)> {
    let mut filter = Filter::new();
    filter
        .eq_opt("st.category", f.category.clone())
        .eq_opt("st.builtin", f.builtin)
        .search(&["st.id", "st.description", "st.category"], f.q.as_deref());
    paged(
        conn,
        COLUMNS,
        "service_types st",
        &filter,
        order_by,
        page,
        from_row,
    )
}

pub fn insert(conn: &Connection, t: &ServiceType) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO service_types (id, category, description, generic, default_ports, builtin, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
    )?
    .execute(params![
        t.id, t.category, t.description, t.generic,
        serde_json::to_string(&t.default_ports).unwrap_or_else(|_| "[]".into()),
        t.created_at, t.updated_at
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, t: &ServiceType) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE service_types SET category = ?, description = ?, generic = ?, default_ports = ?, updated_at = ?
         WHERE id = ?",
    )?
    .execute(params![
        t.category, t.description, t.generic,
        serde_json::to_string(&t.default_ports).unwrap_or_else(|_| "[]".into()),
        t.updated_at, t.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM service_types WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// Ids of the services of this type, for the 409 on delete.
pub fn services_using(conn: &Connection, id: &str) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM services WHERE service_definition = ? ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

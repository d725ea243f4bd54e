//! A network's topology row as the 0.17 clients see it: the network's id, times and the view
//! options a client stored.

use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value;

use super::query::{paged, Filter, PageRequest, Scope};
use super::{json_column, or_not_found};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Topology {
    /// The network's id: one topology per network.
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// What a client stored, kept as given (`{}` until then).
    #[schema(value_type = Object)]
    pub options: Value,
}

const COLUMNS: &str = "n.id, coalesce(t.created_at, n.created_at), \
                       coalesce(t.updated_at, n.created_at), t.options";
const FROM: &str = "networks n LEFT JOIN topology_options t ON t.network_id = n.id";

fn from_row(r: &Row) -> rusqlite::Result<Topology> {
    let id: String = r.get(0)?;
    Ok(Topology {
        network_id: id.clone(),
        id,
        created_at: r.get(1)?,
        updated_at: r.get(2)?,
        options: json_column(r, 3)?.unwrap_or_else(|| Value::Object(Default::default())),
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Topology> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE n.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Topology",
    )
}

/// One row per network the key sees, oldest network first.
pub fn list(
    conn: &Connection,
    scope: &Scope,
    network_id: Option<String>,
    ids: &[String],
    page: PageRequest,
) -> ApiResult<(Vec<Topology>, u64)> {
    let mut filter = Filter::new();
    filter.scope("n.id", scope).eq_opt("n.id", network_id);
    if !ids.is_empty() {
        filter.in_ids("n.id", ids);
    }
    paged(
        conn,
        COLUMNS,
        FROM,
        &filter,
        "n.created_at, n.id",
        page,
        from_row,
    )
}

/// Stores the options (the first store creates the row).
pub fn store(conn: &Connection, t: &Topology) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO topology_options (network_id, options, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (network_id) DO UPDATE SET options = ?2, updated_at = ?4",
    )?
    .execute(params![
        t.network_id,
        t.options.to_string(),
        t.created_at,
        t.updated_at
    ])?;
    Ok(())
}

/// Whether options were stored for the network.
pub fn exists(conn: &Connection, network_id: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM topology_options WHERE network_id = ?")?
        .exists([network_id])?)
}

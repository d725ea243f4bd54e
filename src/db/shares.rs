//! Read-only links to a network (stored by the SHA-256 of their token).

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::{json_column, optional};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Share {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    /// Whether opening it asks for a password.
    pub has_password: bool,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(value_type = Object)]
    pub created_by: serde_json::Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
}

const COLUMNS: &str = "id, network_id, password_hash, expires_at, created_by, created_at";

fn from_row(r: &Row) -> rusqlite::Result<Share> {
    let password_hash: Option<String> = r.get(2)?;
    Ok(Share {
        id: r.get(0)?,
        network_id: r.get(1)?,
        has_password: password_hash.is_some(),
        password_hash,
        expires_at: r.get(3)?,
        created_by: json_column(r, 4)?.unwrap_or_default(),
        created_at: r.get(5)?,
    })
}

pub fn insert(conn: &Connection, s: &Share, token_hash: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO shares (id, network_id, token_hash, password_hash, expires_at, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        s.id,
        s.network_id,
        token_hash,
        s.password_hash,
        s.expires_at,
        s.created_by.to_string(),
        s.created_at
    ])?;
    Ok(())
}

pub fn of_network(conn: &Connection, network_id: &str) -> ApiResult<Vec<Share>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM shares WHERE network_id = ? ORDER BY created_at DESC"
    ))?;
    let rows = stmt
        .query_map([network_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn by_token(conn: &Connection, token_hash: &str) -> ApiResult<Option<Share>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM shares WHERE token_hash = ?"
        ))?
        .query_row([token_hash], from_row),
    )
}

pub fn delete(conn: &Connection, network_id: &str, id: &str) -> ApiResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM shares WHERE network_id = ? AND id = ?")?
        .execute([network_id, id])?)
}

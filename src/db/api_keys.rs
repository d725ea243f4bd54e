//! API keys. Only the SHA-256 of a key is stored; the plaintext is shown once.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::{optional, or_not_found};
use crate::error::ApiResult;

/// What the API shows of a key: `key` is always masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    pub name: String,
    pub permissions: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub network_ids: Vec<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub is_enabled: bool,
    #[schema(read_only, format = DateTime)]
    pub last_used: Option<String>,
    #[schema(read_only)]
    pub key: &'static str,
    /// Set through `/tags/assign` (entity type `UserApiKey`).
    #[schema(read_only, value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    /// The person who made the key while signed in: it never does more than they may, and
    /// stops when they are disabled. `null` for keys made by keys and the command line.
    #[schema(read_only, format = Uuid)]
    pub owner_user_id: Option<String>,
}

pub const MASK: &str = "**********";

const COLUMNS: &str =
    "id, name, permissions, network_ids, expires_at, is_enabled, last_used, created_at, updated_at, \
     (SELECT json_group_array(tag_id) FROM \
        (SELECT tag_id FROM api_key_tags WHERE entity_id = api_keys.id ORDER BY ord)), \
     owner_user_id";

fn from_row(r: &Row) -> rusqlite::Result<ApiKey> {
    let networks: String = r.get(3)?;
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        permissions: r.get(2)?,
        network_ids: serde_json::from_str(&networks).unwrap_or_default(),
        expires_at: r.get(4)?,
        is_enabled: r.get(5)?,
        last_used: r.get(6)?,
        key: MASK,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        tags: super::versions::tags_column(r, 9)?.unwrap_or_default(),
        owner_user_id: r.get(10)?,
    })
}

pub fn find_by_hash(conn: &Connection, hash: &str) -> ApiResult<Option<ApiKey>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?");
    optional(conn.prepare_cached(&sql)?.query_row([hash], from_row))
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<ApiKey> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "API key",
    )
}

pub fn list_all(conn: &Connection) -> ApiResult<Vec<ApiKey>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The keys `user_id` owns.
pub fn owned_by(conn: &Connection, user_id: &str) -> ApiResult<Vec<ApiKey>> {
    let sql =
        format!("SELECT {COLUMNS} FROM api_keys WHERE owner_user_id = ? ORDER BY created_at, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([user_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn count(conn: &Connection) -> ApiResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM api_keys", [], |r| r.get(0))?)
}

/// Enabled Owner keys other than `except`, for the last-owner protection.
pub fn other_enabled_owners(conn: &Connection, except: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM api_keys WHERE permissions = 'Owner' AND is_enabled = 1 AND id != ?",
        )?
        .query_row([except], |r| r.get(0))?)
}

pub fn insert(conn: &Connection, k: &ApiKey, hash: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO api_keys (id, name, permissions, network_ids, key_hash, expires_at, is_enabled,
                               created_at, updated_at, owner_user_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        k.id, k.name, k.permissions, serde_json::to_string(&k.network_ids).unwrap_or_default(),
        hash, k.expires_at, k.is_enabled, k.created_at, k.updated_at, k.owner_user_id
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, k: &ApiKey) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE api_keys SET name = ?, permissions = ?, network_ids = ?, expires_at = ?, is_enabled = ?, updated_at = ?
         WHERE id = ?",
    )?
    .execute(params![
        k.name, k.permissions, serde_json::to_string(&k.network_ids).unwrap_or_default(),
        k.expires_at, k.is_enabled, k.updated_at, k.id
    ])?;
    Ok(())
}

pub fn set_hash(conn: &Connection, id: &str, hash: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE api_keys SET key_hash = ?, updated_at = ? WHERE id = ?")?
        .execute(params![hash, now, id])?;
    Ok(())
}

pub fn touch(conn: &Connection, id: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE api_keys SET last_used = ? WHERE id = ?")?
        .execute(params![now, id])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM api_keys WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

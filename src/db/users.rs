//! People's accounts. The password hash and second-factor secret never leave this module except
//! through the functions that name them.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::query::{paged, Filter, PageRequest};
use super::{optional, or_not_found};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct User {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// `Viewer`, `Member`, `Admin` or `Owner`.
    pub role: String,
    /// Empty: every network.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub network_ids: Vec<String>,
    pub enabled: bool,
    /// How they sign in: `password`, `oidc` or `header`.
    #[schema(read_only)]
    pub auth: String,
    #[schema(read_only)]
    pub totp_enabled: bool,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    #[schema(read_only, format = DateTime)]
    pub last_sign_in_at: Option<String>,
}

const COLUMNS: &str =
    "u.id, u.username, u.display_name, u.email, u.role, u.network_ids, u.enabled, u.auth, \
                       u.totp_enabled, u.created_at, u.updated_at, u.last_sign_in_at";

fn from_row(r: &Row) -> rusqlite::Result<User> {
    let networks: String = r.get(5)?;
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        email: r.get(3)?,
        role: r.get(4)?,
        network_ids: serde_json::from_str(&networks).unwrap_or_default(),
        enabled: r.get(6)?,
        auth: r.get(7)?,
        totp_enabled: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        last_sign_in_at: r.get(11)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<User> {
    or_not_found(
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users u WHERE u.id = ?"))?
            .query_row([id], from_row),
        "User",
    )
}

/// The user of `username` (any case) and their password hash.
pub fn by_username(conn: &Connection, username: &str) -> ApiResult<Option<(User, Option<String>)>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS}, u.password_hash FROM users u WHERE u.username = ? COLLATE NOCASE"
        ))?
        .query_row([username], |r| Ok((from_row(r)?, r.get(12)?))),
    )
}

/// The user an OpenID provider's subject is linked to.
pub fn by_oidc(conn: &Connection, issuer: &str, subject: &str) -> ApiResult<Option<User>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM users u WHERE u.oidc_issuer = ? AND u.oidc_subject = ?"
        ))?
        .query_row([issuer, subject], from_row),
    )
}

/// Links the user to an OpenID provider's subject.
pub fn link_oidc(conn: &Connection, id: &str, issuer: &str, subject: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE users SET oidc_issuer = ?, oidc_subject = ? WHERE id = ?")?
        .execute([issuer, subject, id])?;
    Ok(())
}

pub fn password_hash(conn: &Connection, id: &str) -> ApiResult<Option<String>> {
    Ok(optional(
        conn.prepare_cached("SELECT password_hash FROM users WHERE id = ?")?
            .query_row([id], |r| r.get::<_, Option<String>>(0)),
    )?
    .flatten())
}

pub fn count(conn: &Connection) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM users")?
        .query_row([], |r| r.get(0))?)
}

/// Enabled Owners other than `except`.
pub fn other_owners(conn: &Connection, except: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM users WHERE role = 'Owner' AND enabled = 1 AND id != ?",
        )?
        .query_row([except], |r| r.get(0))?)
}

pub fn username_taken(conn: &Connection, username: &str, except: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM users WHERE username = ? COLLATE NOCASE AND id != ?")?
        .query_row([username, except], |r| r.get::<_, i64>(0))?
        > 0)
}

#[derive(Debug, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<String>,
}

pub fn list(conn: &Connection, f: &UserFilter, page: PageRequest) -> ApiResult<(Vec<User>, u64)> {
    let mut filter = Filter::new();
    filter
        .eq_opt("u.role", f.role.clone())
        .search(&["u.username", "u.display_name", "u.email"], f.q.as_deref());
    paged(
        conn,
        COLUMNS,
        "users u",
        &filter,
        "u.username COLLATE NOCASE, u.id",
        page,
        from_row,
    )
}

pub fn insert(conn: &Connection, u: &User, password_hash: Option<&str>) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO users (id, username, display_name, email, role, network_ids, enabled, auth,
           password_hash, totp_enabled, created_at, updated_at, last_sign_in_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        u.id,
        u.username,
        u.display_name,
        u.email,
        u.role,
        serde_json::to_string(&u.network_ids).unwrap_or_default(),
        u.enabled,
        u.auth,
        password_hash,
        u.totp_enabled,
        u.created_at,
        u.updated_at,
        u.last_sign_in_at,
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, u: &User) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE users SET username = ?, display_name = ?, email = ?, role = ?, network_ids = ?,
           enabled = ?, updated_at = ? WHERE id = ?",
    )?
    .execute(params![
        u.username,
        u.display_name,
        u.email,
        u.role,
        serde_json::to_string(&u.network_ids).unwrap_or_default(),
        u.enabled,
        u.updated_at,
        u.id,
    ])?;
    Ok(())
}

pub fn set_password(conn: &Connection, id: &str, hash: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")?
        .execute(params![hash, now, id])?;
    Ok(())
}

pub fn signed_in(conn: &Connection, id: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE users SET last_sign_in_at = ? WHERE id = ?")?
        .execute(params![now, id])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM users WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// `(secret, enabled)` of a user's second factor; the secret is set but not enabled between
/// setup and confirmation.
pub fn totp(conn: &Connection, id: &str) -> ApiResult<(Option<String>, bool)> {
    or_not_found(
        conn.prepare_cached("SELECT totp_secret, totp_enabled FROM users WHERE id = ?")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?))),
        "User",
    )
}

pub fn set_totp_secret(
    conn: &Connection,
    id: &str,
    secret: Option<&str>,
    enabled: bool,
) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE users SET totp_secret = ?, totp_enabled = ?, totp_last_step = 0 WHERE id = ?",
    )?
    .execute(params![secret, enabled, id])?;
    if secret.is_none() {
        conn.prepare_cached("DELETE FROM recovery_codes WHERE user_id = ?")?
            .execute([id])?;
    }
    Ok(())
}

/// Takes time step `step` for the user when it is later than the last one taken: `false` for a
/// code already used (or an older one).
pub fn take_totp_step(conn: &Connection, id: &str, step: u64) -> ApiResult<bool> {
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    Ok(conn
        .prepare_cached(
            "UPDATE users SET totp_last_step = ?1 WHERE id = ?2 AND totp_last_step < ?1",
        )?
        .execute(params![step, id])?
        == 1)
}

pub fn add_recovery_codes(conn: &Connection, id: &str, hashes: &[String]) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM recovery_codes WHERE user_id = ?")?
        .execute([id])?;
    for h in hashes {
        conn.prepare_cached("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)")?
            .execute([id, h])?;
    }
    Ok(())
}

/// Uses a recovery code once: `false` when unknown or used.
pub fn use_recovery_code(conn: &Connection, id: &str, hash: &str, now: &str) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
        )?
        .execute(params![now, id, hash])?
        == 1)
}

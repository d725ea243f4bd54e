//! Sessions (stored by the SHA-256 of their id), one-time codes (setup, invites, resets) and the
//! audit of sign-ins.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::optional;
use super::query::{paged, Filter, PageRequest};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Session {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub user_id: String,
    /// `password`, `oidc` or `header`.
    pub auth: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: String,
    /// The absolute end; idle sessions end earlier.
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// This request's own session.
    pub current: bool,
    #[serde(skip)]
    pub csrf_token: String,
}

const COLUMNS: &str =
    "s.id, s.user_id, s.auth, s.created_at, s.last_used_at, s.expires_at, s.address, \
                       s.user_agent, s.csrf_token";

fn from_row(r: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        user_id: r.get(1)?,
        auth: r.get(2)?,
        created_at: r.get(3)?,
        last_used_at: r.get(4)?,
        expires_at: r.get(5)?,
        address: r.get(6)?,
        user_agent: r.get(7)?,
        current: false,
        csrf_token: r.get(8)?,
    })
}

pub fn insert(conn: &Connection, s: &Session, token_hash: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO sessions (id, token_hash, user_id, csrf_token, auth, created_at, last_used_at,
           expires_at, address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        s.id,
        token_hash,
        s.user_id,
        s.csrf_token,
        s.auth,
        s.created_at,
        s.last_used_at,
        s.expires_at,
        s.address,
        s.user_agent,
    ])?;
    Ok(())
}

/// A session with what its user is now.
pub struct SessionOwner {
    pub session: Session,
    pub username: String,
    pub role: String,
    pub network_ids: Vec<String>,
    pub enabled: bool,
}

/// The session of a token hash, with its user.
pub fn by_token(conn: &Connection, token_hash: &str) -> ApiResult<Option<SessionOwner>> {
    optional(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS}, u.username, u.role, u.network_ids, u.enabled
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?"
        ))?
        .query_row([token_hash], |r| {
            let networks: String = r.get(11)?;
            Ok(SessionOwner {
                session: from_row(r)?,
                username: r.get(9)?,
                role: r.get(10)?,
                network_ids: serde_json::from_str(&networks).unwrap_or_default(),
                enabled: r.get(12)?,
            })
        }),
    )
}

pub fn of_user(conn: &Connection, user_id: &str) -> ApiResult<Vec<Session>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM sessions s WHERE s.user_id = ? ORDER BY s.last_used_at DESC"
    ))?;
    let rows = stmt
        .query_map([user_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn touch(conn: &Connection, id: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE sessions SET last_used_at = ? WHERE id = ?")?
        .execute(params![now, id])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM sessions WHERE id = ?")?
        .execute([id])?)
}

/// Ends every session of a user but `keep`.
pub fn delete_of_user(conn: &Connection, user_id: &str, keep: Option<&str>) -> ApiResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?")?
        .execute(params![user_id, keep])?)
}

/// Sessions past their end (absolute, or idle since `idle_before`) are forgotten.
pub fn delete_expired(conn: &Connection, now: &str, idle_before: &str) -> ApiResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM sessions WHERE expires_at <= ? OR last_used_at < ?")?
        .execute(params![now, idle_before])?)
}

// ---- one-time codes ---------------------------------------------------------------------------

pub struct Code {
    pub purpose: String,
    pub user_id: Option<String>,
    pub role: Option<String>,
    pub network_ids: Option<String>,
    pub expires_at: String,
    pub used_at: Option<String>,
}

pub fn insert_code(conn: &Connection, hash: &str, code: &Code, now: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO one_time_codes (code_hash, purpose, user_id, role, network_ids, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        hash,
        code.purpose,
        code.user_id,
        code.role,
        code.network_ids,
        now,
        code.expires_at
    ])?;
    Ok(())
}

pub fn code(conn: &Connection, hash: &str) -> ApiResult<Option<Code>> {
    optional(
        conn.prepare_cached(
            "SELECT purpose, user_id, role, network_ids, expires_at, used_at FROM one_time_codes WHERE code_hash = ?",
        )?
        .query_row([hash], |r| {
            Ok(Code {
                purpose: r.get(0)?,
                user_id: r.get(1)?,
                role: r.get(2)?,
                network_ids: r.get(3)?,
                expires_at: r.get(4)?,
                used_at: r.get(5)?,
            })
        }),
    )
}

pub fn use_code(conn: &Connection, hash: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE one_time_codes SET used_at = ? WHERE code_hash = ?")?
        .execute(params![now, hash])?;
    Ok(())
}

/// Setup codes still usable.
pub fn open_setup_codes(conn: &Connection, now: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM one_time_codes WHERE purpose = 'setup' AND used_at IS NULL AND expires_at > ?",
        )?
        .query_row([now], |r| r.get(0))?)
}

// ---- the audit --------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuthEvent {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = DateTime)]
    pub time: String,
    /// `sign_in`, `sign_in_failed`, `sign_out`, `password_changed`, `totp_enabled`,
    /// `totp_disabled`, `invite_used` or `session_revoked`.
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(format = Uuid)]
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

pub fn insert_event(conn: &Connection, e: &AuthEvent) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO auth_events (id, time, type, user_id, username, address, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        e.id,
        e.time,
        e.kind,
        e.user_id,
        e.username,
        e.address,
        e.user_agent
    ])?;
    Ok(())
}

pub fn events(
    conn: &Connection,
    user_id: Option<String>,
    kind: Option<String>,
    page: PageRequest,
) -> ApiResult<(Vec<AuthEvent>, u64)> {
    let mut filter = Filter::new();
    filter.eq_opt("e.user_id", user_id).eq_opt("e.type", kind);
    paged(
        conn,
        "e.id, e.time, e.type, e.user_id, e.username, e.address, e.user_agent",
        "auth_events e",
        &filter,
        "e.time DESC, e.id DESC",
        page,
        |r| {
            Ok(AuthEvent {
                id: r.get(0)?,
                time: r.get(1)?,
                kind: r.get(2)?,
                user_id: r.get(3)?,
                username: r.get(4)?,
                address: r.get(5)?,
                user_agent: r.get(6)?,
            })
        },
    )
}

/// The audit keeps 90 days.
pub fn delete_events_before(conn: &Connection, before: &str) -> ApiResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM auth_events WHERE time < ?")?
        .execute([before])?)
}

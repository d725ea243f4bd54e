//! Stored responses of requests sent with an `Idempotency-Key`.

use rusqlite::{params, Connection};

use super::optional;
use crate::error::ApiResult;

/// Where a key applies: one API key, one method, one path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub api_key_id: String,
    pub method: String,
    pub path: String,
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct Stored {
    pub fingerprint: String,
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// The response stored for `scope` since `not_before` (older ones are expired, whether or not the
/// purge has removed them yet).
pub fn find(conn: &Connection, scope: &Scope, not_before: &str) -> ApiResult<Option<Stored>> {
    optional(
        conn.prepare_cached(
            "SELECT fingerprint, status, location, body FROM idempotency_keys
             WHERE api_key_id = ? AND method = ? AND path = ? AND idem_key = ? AND created_at >= ?",
        )?
        .query_row(
            params![
                scope.api_key_id,
                scope.method,
                scope.path,
                scope.key,
                not_before
            ],
            |r| {
                Ok(Stored {
                    fingerprint: r.get(0)?,
                    status: r.get(1)?,
                    location: r.get(2)?,
                    body: r.get(3)?,
                })
            },
        ),
    )
}

pub fn insert(conn: &Connection, scope: &Scope, stored: &Stored, now: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO idempotency_keys (api_key_id, method, path, idem_key, fingerprint, status, location, body, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        scope.api_key_id, scope.method, scope.path, scope.key, stored.fingerprint, stored.status,
        stored.location, stored.body, now
    ])?;
    Ok(())
}

/// Forgets responses older than `cutoff`; returns how many.
pub fn purge_before(conn: &Connection, cutoff: &str) -> ApiResult<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?")?
        .execute([cutoff])?)
}

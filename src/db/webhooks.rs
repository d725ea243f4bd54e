//! Webhooks and their outbox of deliveries.

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::query::{paged, Filter, PageRequest, Scope};
use super::{optional, or_not_found};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    pub name: String,
    pub url: String,
    /// `entity_type.action` patterns: `binding.create`, `service.*`, `*.delete`, `*`.
    pub events: Vec<String>,
    /// Empty: every network.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub network_ids: Vec<String>,
    /// `json`, `ntfy` or `discord`.
    pub format: String,
    /// The secret itself is write-only: it is never answered.
    #[schema(read_only)]
    pub has_secret: bool,
    pub enabled: bool,
    #[schema(read_only)]
    pub last_delivery_status: Option<u16>,
    #[schema(read_only, format = DateTime)]
    pub failing_since: Option<String>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
}

const COLUMNS: &str = "w.id, w.name, w.url, w.events, w.network_ids, w.format, w.secret IS NOT NULL, \
                       w.enabled, w.last_delivery_status, w.failing_since, w.created_at, w.updated_at";

fn list_of(r: &Row, i: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = r.get(i)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

fn from_row(r: &Row) -> rusqlite::Result<Webhook> {
    Ok(Webhook {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        events: list_of(r, 3)?,
        network_ids: list_of(r, 4)?,
        format: r.get(5)?,
        has_secret: r.get(6)?,
        enabled: r.get(7)?,
        last_delivery_status: r.get(8)?,
        failing_since: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Webhook> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks w WHERE w.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Webhook",
    )
}

/// A hook is visible to a key that reaches all of its networks (an unscoped hook: unscoped keys).
pub fn list(conn: &Connection, scope: &Scope, page: PageRequest) -> ApiResult<(Vec<Webhook>, u64)> {
    let mut filter = Filter::new();
    if let Some(networks) = scope {
        filter.clause(
            "json_array_length(w.network_ids) > 0 AND NOT EXISTS (SELECT 1 FROM json_each(w.network_ids) n \
             WHERE n.value NOT IN (SELECT value FROM json_each(?)))",
            vec![rusqlite::types::Value::Text(super::query::json_ids(networks))],
        );
    }
    paged(
        conn,
        COLUMNS,
        "webhooks w",
        &filter,
        "w.created_at, w.id",
        page,
        from_row,
    )
}

pub fn secret(conn: &Connection, id: &str) -> ApiResult<Option<String>> {
    Ok(optional(
        conn.prepare_cached("SELECT secret FROM webhooks WHERE id = ?")?
            .query_row([id], |r| r.get(0)),
    )?
    .flatten())
}

fn text(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

pub fn insert(conn: &Connection, w: &Webhook, secret: Option<&str>) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO webhooks (id, name, url, events, network_ids, format, secret, enabled,
             last_delivery_status, failing_since, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        w.id,
        w.name,
        w.url,
        text(&w.events),
        text(&w.network_ids),
        w.format,
        secret,
        w.enabled,
        w.last_delivery_status,
        w.failing_since,
        w.created_at,
        w.updated_at
    ])?;
    Ok(())
}

/// `secret`: `None` keeps the stored one.
pub fn update(conn: &Connection, w: &Webhook, secret: Option<&str>) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE webhooks SET name = ?, url = ?, events = ?, network_ids = ?, format = ?,
             secret = coalesce(?, secret), enabled = ?, failing_since = ?, updated_at = ?
         WHERE id = ?",
    )?
    .execute(params![
        w.name,
        w.url,
        text(&w.events),
        text(&w.network_ids),
        w.format,
        secret,
        w.enabled,
        w.failing_since,
        w.updated_at,
        w.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM webhooks WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// What the outbox matches an entry against: `(id, events, network_ids)`.
pub type HookFilter = (String, Vec<String>, Vec<String>);

/// Every enabled hook, for the outbox.
pub fn enabled(conn: &Connection) -> ApiResult<Vec<HookFilter>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, events, network_ids FROM webhooks WHERE enabled = 1")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, list_of(r, 1)?, list_of(r, 2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

// ---- deliveries -------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub webhook_id: String,
    /// The event's id, sent as `X-Portolan-Delivery`, the same on every attempt.
    pub event_id: String,
    /// `binding.create`, ..., or `ping`.
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub response_status: Option<u16>,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub delivered_at: Option<String>,
}

const DELIVERY_COLUMNS: &str =
    "d.id, d.webhook_id, d.event_id, d.event_type, d.status, d.attempts, \
     d.response_status, d.latency_ms, d.error, d.next_attempt_at, d.created_at, d.delivered_at";

fn delivery_from_row(r: &Row) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        event_id: r.get(2)?,
        event_type: r.get(3)?,
        status: r.get(4)?,
        attempts: r.get(5)?,
        response_status: r.get(6)?,
        latency_ms: r.get(7)?,
        error: r.get(8)?,
        next_attempt_at: r.get(9)?,
        created_at: r.get(10)?,
        delivered_at: r.get(11)?,
    })
}

pub struct NewDelivery<'a> {
    pub id: &'a str,
    pub webhook_id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub now: &'a str,
}

pub fn enqueue(conn: &Connection, d: &NewDelivery) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, status, attempts,
             next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)",
    )?
    .execute(params![d.id, d.webhook_id, d.event_id, d.event_type, d.now])?;
    Ok(())
}

pub fn deliveries(
    conn: &Connection,
    webhook_id: &str,
    page: PageRequest,
) -> ApiResult<(Vec<Delivery>, u64)> {
    let mut filter = Filter::new();
    filter.eq("d.webhook_id", webhook_id.to_string());
    paged(
        conn,
        DELIVERY_COLUMNS,
        "webhook_deliveries d",
        &filter,
        "d.seq DESC",
        page,
        delivery_from_row,
    )
}

pub fn delivery(conn: &Connection, id: &str) -> ApiResult<Delivery> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?
            .query_row([id], delivery_from_row),
        "Delivery",
    )
}

/// What the worker sends: a delivery with the hook's address, format and secret.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub attempts: i64,
    pub created_at: String,
    pub url: String,
    pub format: String,
    pub secret: Option<String>,
}

/// The oldest pending delivery of each enabled hook, when it is due: a hook's deliveries go
/// out one at a time, in journal order.
pub fn due(conn: &Connection, now: &str) -> ApiResult<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.webhook_id, d.event_id, d.event_type, d.attempts, d.created_at,
                w.url, w.format, w.secret
         FROM webhooks w
         JOIN webhook_deliveries d ON d.seq = (SELECT min(x.seq) FROM webhook_deliveries x
                                               WHERE x.webhook_id = w.id AND x.status = 'pending')
         WHERE w.enabled = 1 AND d.next_attempt_at <= ?",
    )?;
    let rows = stmt
        .query_map([now], |r| {
            Ok(Due {
                id: r.get(0)?,
                webhook_id: r.get(1)?,
                event_id: r.get(2)?,
                event_type: r.get(3)?,
                attempts: r.get(4)?,
                created_at: r.get(5)?,
                url: r.get(6)?,
                format: r.get(7)?,
                secret: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The outcome of one attempt.
pub struct Attempt<'a> {
    pub id: &'a str,
    pub webhook_id: &'a str,
    /// `delivered`, `failed`, or `pending` (to be tried again at `next_attempt_at`).
    pub status: &'a str,
    pub response_status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<&'a str>,
    pub next_attempt_at: Option<&'a str>,
    pub now: &'a str,
}

pub fn record_attempt(conn: &Connection, a: &Attempt) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, response_status = ?,
             latency_ms = ?, error = ?, next_attempt_at = ?,
             delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END
         WHERE id = ?",
    )?
    .execute(params![
        a.status,
        a.response_status,
        a.latency_ms,
        a.error,
        a.next_attempt_at,
        a.status,
        a.now,
        a.id
    ])?;
    // The hook's health: its last answer, and since when it has been failing.
    let ok = a.status == "delivered";
    conn.prepare_cached(
        "UPDATE webhooks SET last_delivery_status = ?,
             failing_since = CASE WHEN ? THEN NULL ELSE coalesce(failing_since, ?) END
         WHERE id = ?",
    )?
    .execute(params![a.response_status, ok, a.now, a.webhook_id])?;
    Ok(())
}

/// A failed delivery is queued again, as if new.
pub fn requeue(conn: &Connection, id: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, attempts = 0,
             created_at = ? WHERE id = ?",
    )?
    .execute(params![now, now, id])?;
    Ok(())
}

/// Forgets delivered and failed deliveries queued before `cutoff`; pending ones always stay.
pub fn purge_finished_before(conn: &Connection, cutoff: &str) -> ApiResult<usize> {
    Ok(conn.execute(
        "DELETE FROM webhook_deliveries WHERE status != 'pending' AND created_at < ?",
        [cutoff],
    )?)
}

/// Pending deliveries, for `/metrics`.
pub fn backlog(conn: &Connection) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")?
        .query_row([], |r| r.get(0))?)
}

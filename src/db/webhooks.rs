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

/// A new hook hears what happens from now on: its cursor starts at the journal's newest entry
/// (the journal is the outbox; a cursor is a `changes.seq`).
pub fn insert(conn: &Connection, w: &Webhook, secret: Option<&str>) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO webhooks (id, name, url, events, network_ids, format, secret, enabled,
             last_delivery_status, failing_since, created_at, updated_at, cursor)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                 (SELECT coalesce(max(seq), 0) FROM changes))",
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

/// `secret`: `None` keeps the stored one. A hook switched on again skips what happened while
/// it was off (its cursor moves to the journal's newest entry).
pub fn update(conn: &Connection, w: &Webhook, secret: Option<&str>) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE webhooks SET name = ?, url = ?, events = ?, network_ids = ?, format = ?,
             secret = coalesce(?, secret),
             cursor = CASE WHEN enabled = 0 AND ? THEN (SELECT coalesce(max(seq), 0) FROM changes)
                           ELSE cursor END,
             enabled = ?, failing_since = ?, updated_at = ?
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

type EventRow = (i64, String, String, Option<String>, String);

/// The journal entries after `cursor` (at most `limit`), oldest first, as events:
/// `(seq, entry id, type, network, time)`.
fn events_after(conn: &Connection, cursor: i64, limit: usize) -> ApiResult<Vec<EventRow>> {
    let rows = conn
        .prepare_cached(
            "SELECT seq, id, entity_type || '.' || action, network_id, time FROM changes
             WHERE seq > ? ORDER BY seq LIMIT ?",
        )?
        .query_map(params![cursor, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn hook_wants(patterns: &[String], networks: &[String], e: &EventRow) -> bool {
    (networks.is_empty() || e.3.as_ref().is_some_and(|n| networks.contains(n)))
        && crate::domain::webhooks::wants(patterns, &e.2)
}

/// Gives each enabled hook that is not busy with a delivery its next one: the first journal
/// entry past its cursor that it wants (at most `scan` entries are looked at). Deliveries are
/// made one at a time, when their turn comes, so a write costs nothing but its journal entry
/// whatever the number of hooks. How many were queued.
pub fn hand_out(conn: &Connection, scan: usize) -> ApiResult<usize> {
    let hooks: Vec<(String, Vec<String>, Vec<String>, i64)> = conn
        .prepare_cached(
            "SELECT w.id, w.events, w.network_ids, w.cursor FROM webhooks w WHERE w.enabled = 1
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                             WHERE d.webhook_id = w.id AND d.status = 'pending')",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, list_of(r, 1)?, list_of(r, 2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut queued = 0;
    for (hook, patterns, networks, cursor) in hooks {
        let events = events_after(conn, cursor, scan)?;
        let Some(last) = events.last().map(|e| e.0) else {
            continue;
        };
        let moved_to = match events.iter().find(|e| hook_wants(&patterns, &networks, e)) {
            Some(e) => {
                enqueue(
                    conn,
                    &NewDelivery {
                        id: &crate::domain::new_id(),
                        entry_seq: e.0,
                        webhook_id: &hook,
                        event_id: &e.1,
                        event_type: &e.2,
                        now: &e.4,
                    },
                )?;
                queued += 1;
                e.0
            }
            None => last,
        };
        conn.prepare_cached("UPDATE webhooks SET cursor = ? WHERE id = ?")?
            .execute(params![moved_to, hook])?;
    }
    Ok(queued)
}

/// Whether an enabled hook without a delivery in flight has journal entries past its cursor.
pub fn any_behind(conn: &Connection) -> ApiResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM webhooks w WHERE w.enabled = 1
                 AND w.cursor < (SELECT coalesce(max(seq), 0) FROM changes)
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                                 WHERE d.webhook_id = w.id AND d.status = 'pending'))",
        )?
        .query_row([], |r| r.get(0))?)
}

/// The events a hook wants that wait behind its cursor, newest first, as pending deliveries
/// (their id is the event's until their turn comes); at most `cap` events are looked at.
fn waiting(conn: &Connection, hook: &Webhook, cap: usize) -> ApiResult<Vec<Delivery>> {
    if !hook.enabled {
        return Ok(Vec::new());
    }
    let cursor: i64 = conn
        .prepare_cached("SELECT cursor FROM webhooks WHERE id = ?")?
        .query_row([&hook.id], |r| r.get(0))?;
    let mut out: Vec<Delivery> = events_after(conn, cursor, cap)?
        .into_iter()
        .filter(|e| hook_wants(&hook.events, &hook.network_ids, e))
        .map(|e| Delivery {
            id: e.1.clone(),
            webhook_id: hook.id.clone(),
            event_id: e.1,
            event_type: e.2,
            status: "pending".into(),
            attempts: 0,
            response_status: None,
            latency_ms: None,
            error: None,
            next_attempt_at: None,
            created_at: e.4,
            delivered_at: None,
        })
        .collect();
    out.reverse();
    Ok(out)
}

pub struct NewDelivery<'a> {
    pub id: &'a str,
    /// The journal entry's `seq`.
    pub entry_seq: i64,
    pub webhook_id: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub now: &'a str,
}

pub fn enqueue(conn: &Connection, d: &NewDelivery) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, status, attempts,
             next_attempt_at, created_at, entry_seq)
         VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?6)",
    )?
    .execute(params![
        d.id,
        d.webhook_id,
        d.event_id,
        d.event_type,
        d.now,
        d.entry_seq
    ])?;
    Ok(())
}

/// A hook's deliveries, newest first: the events still waiting for their turn, then those
/// made (pending, delivered or failed).
pub fn deliveries(
    conn: &Connection,
    hook: &Webhook,
    page: PageRequest,
) -> ApiResult<(Vec<Delivery>, u64)> {
    let waiting = waiting(conn, hook, 10_000)?;
    let made: u64 = conn
        .prepare_cached("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ?")?
        .query_row([&hook.id], |r| r.get::<_, i64>(0))? as u64;
    let total = waiting.len() as u64 + made;
    let offset = page.offset as usize;
    let limit = page.limit.map_or(usize::MAX, |l| l as usize);
    let skip_made = offset.saturating_sub(waiting.len());
    let mut items: Vec<Delivery> = waiting.into_iter().skip(offset).take(limit).collect();
    let room = limit.saturating_sub(items.len());
    if room > 0 {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.webhook_id = ?
             ORDER BY d.seq DESC LIMIT ? OFFSET ?"
        );
        let rows = conn
            .prepare_cached(&sql)?
            .query_map(
                params![
                    hook.id,
                    room.min(i64::MAX as usize) as i64,
                    skip_made as i64
                ],
                delivery_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        items.extend(rows);
    }
    Ok((items, total))
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
    /// The journal entry's `seq` (none on deliveries queued before it was recorded).
    pub entry_seq: Option<i64>,
    pub webhook_id: String,
    pub event_id: String,
    pub event_type: String,
    pub attempts: i64,
    pub created_at: String,
    pub url: String,
    pub format: String,
    pub secret: Option<String>,
    /// The hook's networks (empty: every network), which limit what its events show.
    pub network_ids: Vec<String>,
}

/// The oldest pending delivery of each enabled hook, when it is due: a hook's deliveries go
/// out one at a time, in journal order.
pub fn due(conn: &Connection, now: &str) -> ApiResult<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.webhook_id, d.event_id, d.event_type, d.attempts, d.created_at,
                w.url, w.format, w.secret, d.entry_seq, w.network_ids
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
                entry_seq: r.get(9)?,
                network_ids: list_of(r, 10)?,
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

/// Forgets delivered and failed deliveries queued before `cutoff` (pending ones always stay).
pub fn purge_finished_before(conn: &Connection, cutoff: &str) -> ApiResult<usize> {
    let deliveries = conn.execute(
        "DELETE FROM webhook_deliveries WHERE status != 'pending' AND created_at < ?",
        [cutoff],
    )?;
    Ok(deliveries)
}

/// Deliveries in flight and journal entries past the enabled hooks' cursors (some of which a
/// hook may not want), for `/metrics`.
pub fn backlog(conn: &Connection) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending')
                  + coalesce((SELECT sum((SELECT count(*) FROM changes e WHERE e.seq > w.cursor))
                              FROM webhooks w WHERE w.enabled = 1), 0)",
        )?
        .query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use rusqlite::{params, Connection};

    /// Version 9 moved cursors from the event table into the journal: a hook resumes just
    /// before the first event it had not looked at.
    #[test]
    fn cursors_move_from_event_rows_to_journal_entries() {
        let path = std::env::temp_dir().join(format!("portolan-v9-{}.db", crate::domain::new_id()));
        crate::db::migrate_to(&path, Some(8)).expect("version 8");
        let conn = Connection::open(&path).expect("opened");
        for seq in 1..=6 {
            conn.execute(
                "INSERT INTO changes (seq, id, time, action, entity_type, entity_id, actor_type)
                 VALUES (?, ?, 'x', 'create', 'tag', 't', 'system')",
                params![seq, format!("entry-{seq}")],
            )
            .expect("entry");
        }
        // Entries 2, 4 and 6 were wanted by some hook; `behind` had looked at the first event.
        for (seq, entry) in [(1, 2), (2, 4), (3, 6)] {
            conn.execute(
                "INSERT INTO webhook_events (seq, event_id, event_type, created_at)
                 VALUES (?, ?, 'tag.create', 'x')",
                params![seq, format!("entry-{entry}")],
            )
            .expect("event");
        }
        for (id, cursor) in [("behind", 1), ("done", 3)] {
            conn.execute(
                "INSERT INTO webhooks (id, name, url, events, network_ids, format, enabled, cursor,
                     created_at, updated_at)
                 VALUES (?, ?, 'http://127.0.0.1:1/', '[\"*\"]', '[]', 'json', 1, ?, 'x', 'x')",
                params![id, id, cursor],
            )
            .expect("hook");
        }
        drop(conn);
        crate::db::migrate(&path).expect("version 9");
        let conn = Connection::open(&path).expect("opened");
        let cursor = |id: &str| -> i64 {
            conn.query_row("SELECT cursor FROM webhooks WHERE id = ?", [id], |r| {
                r.get(0)
            })
            .expect("cursor")
        };
        assert_eq!(cursor("behind"), 3, "resumes at entry 4, its next event");
        assert_eq!(cursor("done"), 6, "at the journal's end");
        let _ = std::fs::remove_file(path);
    }
}

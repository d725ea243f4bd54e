//! Bindings: which service is present at which port and/or IP address. Closed versions live in
//! `binding_versions` (see `versions`).

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::json_rows::{self, text_at, Obj};
use super::query::{all, paged, Filter, PageRequest, Scope};
use super::versions::{self, AsOf, History, Temporal, BINDINGS, SERVICES};
use super::{optional, or_not_found};
use crate::domain::bindings::{Held, Target};
use crate::error::{ApiError, ApiResult};

/// The v0.17 wire shape.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Binding {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub service_id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[schema(format = Uuid)]
    pub port_id: Option<String>,
    #[schema(format = Uuid)]
    pub ip_address_id: Option<String>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    #[serde(flatten)]
    pub temporal: Temporal,
}

impl Binding {
    pub fn target(&self) -> Target {
        match &self.port_id {
            Some(port) => Target::Port {
                port: port.clone(),
                ip: self.ip_address_id.clone(),
            },
            None => Target::Ip {
                ip: self.ip_address_id.clone().unwrap_or_default(),
            },
        }
    }
}

const COLUMNS: &str = "b.id, b.service_id, b.network_id, b.type, b.port_id, b.ip_address_id, \
                       b.created_at, b.updated_at, b.valid_from, b.last_seen_at, \
                       b.first_discovery_id, b.last_discovery_id";

pub(super) fn columns(union: bool) -> String {
    format!("{COLUMNS}, {}", versions::extra("b", union))
}

/// A live row of `columns(false)` as `Binding`'s JSON.
pub(super) fn write_live(out: &mut Vec<u8>, r: &Row) -> rusqlite::Result<()> {
    let mut o = Obj::open(out);
    o.text("id", r, 0)?;
    o.text("service_id", r, 1)?;
    o.text("network_id", r, 2)?;
    let kind = text_at(r, 3)?;
    o.str("type", if kind == "Port" { "Port" } else { "IPAddress" });
    o.text("port_id", r, 4)?;
    o.text("ip_address_id", r, 5)?;
    o.text("created_at", r, 6)?;
    o.text("updated_at", r, 7)?;
    o.temporal_live(r, 8)?;
    o.close();
    Ok(())
}

fn from_row(r: &Row) -> rusqlite::Result<Binding> {
    let kind: String = r.get(3)?;
    Ok(Binding {
        id: r.get(0)?,
        service_id: r.get(1)?,
        network_id: r.get(2)?,
        kind: if kind == "Port" { "Port" } else { "IPAddress" },
        port_id: r.get(4)?,
        ip_address_id: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        temporal: Temporal::from_row(r, 8)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Binding> {
    let sql = format!("SELECT {} FROM bindings b WHERE b.id = ?", columns(false));
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Binding",
    )
}

/// The version of lineage `id` current at `at` (the live row when `at` is live).
pub fn get_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Binding> {
    versions::get_at(
        conn,
        &BINDINGS,
        "b",
        &columns(at.is_union()),
        id,
        at,
        from_row,
    )?
    .ok_or_else(|| ApiError::not_found("Binding"))
}

/// Every version of lineage `id`, live first, then newest first.
pub fn history(
    conn: &Connection,
    id: &str,
    scope: &Scope,
    page: PageRequest,
) -> ApiResult<Option<History<Binding>>> {
    versions::history(
        conn,
        &BINDINGS,
        "b",
        &columns(true),
        id,
        scope,
        page,
        from_row,
    )
}

/// The bindings of several services in one query, grouped by service, in their stored order
/// (`ord` is unique within a service, so the index alone gives the order).
pub fn of_services(
    conn: &Connection,
    service_ids: &[String],
) -> ApiResult<HashMap<String, Vec<Binding>>> {
    of_services_at(conn, service_ids, &AsOf::Live)
}

/// `of_services` at an instant. Closed versions keep no order among their siblings, so an
/// as-of read lists a service's bindings in the order they were created.
pub fn of_services_at(
    conn: &Connection,
    service_ids: &[String],
    at: &AsOf,
) -> ApiResult<HashMap<String, Vec<Binding>>> {
    let mut out: HashMap<String, Vec<Binding>> = HashMap::new();
    if service_ids.is_empty() {
        return Ok(out);
    }
    let (from, params) = at.source_for(&BINDINGS, "b", "service_id", service_ids);
    let mut filter = Filter::over_source(params);
    filter.in_ids("b.service_id", service_ids);
    let order = if at.is_live() {
        "b.service_id, b.ord"
    } else {
        "b.service_id, b.created_at, b.lineage"
    };
    for b in all(
        conn,
        &columns(at.is_union()),
        &from,
        &filter,
        order,
        from_row,
    )? {
        out.entry(b.service_id.clone()).or_default().push(b);
    }
    Ok(out)
}

/// The service's live bindings, whole (a write journals the ones it ends or changes), with
/// their stored order.
pub fn live_of(conn: &Connection, service_id: &str) -> ApiResult<Vec<(Binding, i64)>> {
    let sql = format!(
        "SELECT {}, b.ord FROM bindings b WHERE b.service_id = ? ORDER BY b.ord",
        columns(false)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([service_id], |r| Ok((from_row(r)?, r.get("ord")?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Live port bindings of services other than `service_id` on any of `port_ids`.
pub fn held_on(conn: &Connection, port_ids: &[String], service_id: &str) -> ApiResult<Vec<Held>> {
    // One seek per port, as in `owners`; sorted here as the rules read them.
    let mut stmt = conn.prepare_cached(
        "SELECT b.id, b.service_id, s.name, b.port_id, b.ip_address_id, b.created_at
         FROM bindings b JOIN services s ON s.id = b.service_id
         WHERE b.port_id = ?1 AND b.service_id != ?2",
    )?;
    let mut held: Vec<(String, Held)> = Vec::new();
    for port_id in port_ids {
        let rows = stmt.query_map(params![port_id, service_id], |r| {
            Ok((
                r.get::<_, String>(5)?,
                Held {
                    binding_id: r.get(0)?,
                    service_id: r.get(1)?,
                    service_name: r.get(2)?,
                    target: Target::Port {
                        port: r.get(3)?,
                        ip: r.get(4)?,
                    },
                },
            ))
        })?;
        for row in rows {
            held.push(row?);
        }
    }
    held.sort_by(|(a_time, a), (b_time, b)| (a_time, &a.binding_id).cmp(&(b_time, &b.binding_id)));
    Ok(held.into_iter().map(|(_, h)| h).collect())
}

/// The host of each of `ids` that is a port or an IP address; unknown ids are absent.
pub fn owners(conn: &Connection, ids: &[String]) -> ApiResult<HashMap<String, String>> {
    // One seek per id: a binding write names a few, and a list of them in `json_each` costs a
    // temporary table per call, more than the seeks themselves.
    let mut stmt = conn.prepare_cached(
        "SELECT host_id FROM ports WHERE id = ?1
         UNION ALL
         SELECT host_id FROM ip_addresses WHERE id = ?1",
    )?;
    let mut owners = HashMap::with_capacity(ids.len());
    for id in ids {
        if let Some(host) = optional(stmt.query_row([id], |r| r.get::<_, String>(0)))? {
            owners.insert(id.clone(), host);
        }
    }
    Ok(owners)
}

#[derive(Debug, Default)]
pub struct BindingFilter {
    pub service_id: Option<String>,
    pub network_id: Option<String>,
    pub port_id: Option<String>,
    pub ip_address_id: Option<String>,
    pub host_id: Option<String>,
    pub kind: Option<&'static str>,
    /// Only (or never) what discovery created and no longer sees.
    pub stale: Option<bool>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &BindingFilter,
    order_by: &str,
    page: PageRequest,
    at: &AsOf,
) -> ApiResult<(Vec<Binding>, u64)> {
    let (from, params) = at.source(&BINDINGS, "b");
    let filter = list_filter(scope, f, at, params);
    paged(
        conn,
        &columns(at.is_union()),
        &from,
        &filter,
        order_by,
        page,
        from_row,
    )
}

/// `list` of live bindings, as the JSON array the API answers (byte for byte what the typed
/// path serializes), written from the rows; with the number of items and the total.
pub fn list_json(
    conn: &Connection,
    scope: &Scope,
    f: &BindingFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<u8>, usize, u64)> {
    let (from, params) = AsOf::Live.source(&BINDINGS, "b");
    let filter = list_filter(scope, f, &AsOf::Live, params);
    let (rows, total) = paged(conn, &columns(false), &from, &filter, order_by, page, |r| {
        let mut json = Vec::with_capacity(512);
        write_live(&mut json, r)?;
        Ok(json)
    })?;
    Ok((json_rows::join(&rows), rows.len(), total))
}

fn list_filter(scope: &Scope, f: &BindingFilter, at: &AsOf, params: Vec<Value>) -> Filter {
    let mut filter = Filter::over_source(params);
    filter.is(&versions::stale_sql("b"), f.stale);
    filter
        .scope("b.network_id", scope)
        .eq_opt("b.service_id", f.service_id.clone())
        .eq_opt("b.network_id", f.network_id.clone())
        .eq_opt("b.port_id", f.port_id.clone())
        .eq_opt("b.ip_address_id", f.ip_address_id.clone())
        .eq_opt("b.type", f.kind.map(str::to_string));
    if let Some(host) = &f.host_id {
        // As of an instant, the services of the host are those of that instant.
        let (services, mut params) = at.source(&SERVICES, "s");
        params.push(host.clone().into());
        let sql = format!(
            "b.service_id IN (SELECT {} FROM {services} WHERE s.host_id = ?)",
            at.lineage("s")
        );
        filter.clause(&sql, params);
    }
    filter
}

pub struct NewBinding<'a> {
    pub id: &'a str,
    pub service_id: &'a str,
    pub network_id: &'a str,
    pub target: &'a Target,
    pub ord: i64,
    pub now: &'a str,
    /// The discovery that found it, if one did.
    pub discovery: Option<&'a str>,
}

impl NewBinding<'_> {
    /// The binding as its row reads once `insert` wrote it.
    pub fn as_stored(&self) -> Binding {
        let mut temporal = Temporal::starting(self.now);
        temporal.first_discovery_id = self.discovery.map(str::to_string);
        temporal.last_discovery_id = self.discovery.map(str::to_string);
        Binding {
            id: self.id.to_string(),
            service_id: self.service_id.to_string(),
            network_id: self.network_id.to_string(),
            kind: self.target.kind(),
            port_id: self.target.port().map(str::to_string),
            ip_address_id: self.target.ip().map(str::to_string),
            created_at: self.now.to_string(),
            updated_at: self.now.to_string(),
            temporal,
        }
    }
}

/// The service a live binding belongs to.
pub fn service_of(conn: &Connection, id: &str) -> ApiResult<Option<String>> {
    super::optional(
        conn.prepare_cached("SELECT service_id FROM bindings WHERE id = ?")?
            .query_row([id], |r| r.get(0)),
    )
}

pub fn insert(conn: &Connection, b: &NewBinding) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO bindings (id, service_id, network_id, type, port_id, ip_address_id, ord,
                               created_at, updated_at, valid_from, last_seen_at,
                               first_discovery_id, last_discovery_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8, ?8, ?9, ?9)",
    )?
    .execute(params![
        b.id,
        b.service_id,
        b.network_id,
        b.target.kind(),
        b.target.port(),
        b.target.ip(),
        b.ord,
        b.now,
        b.discovery
    ])?;
    Ok(())
}

/// A new target for a live binding: its state starts anew (`valid_from`).
pub fn retarget(
    conn: &Connection,
    id: &str,
    target: &Target,
    ord: i64,
    now: &str,
) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE bindings SET type = ?2, port_id = ?3, ip_address_id = ?4, ord = ?5,
                updated_at = ?6, valid_from = ?6, last_seen_at = ?6 WHERE id = ?1",
    )?
    .execute(params![
        id,
        target.kind(),
        target.port(),
        target.ip(),
        ord,
        now
    ])?;
    Ok(())
}

/// `stored` as its row reads once `retarget` rewrote it.
pub fn as_retargeted(stored: &Binding, target: &Target, now: &str) -> Binding {
    let mut b = stored.clone();
    b.kind = target.kind();
    b.port_id = target.port().map(str::to_string);
    b.ip_address_id = target.ip().map(str::to_string);
    b.updated_at = now.to_string();
    b.temporal.restart(now);
    b.temporal.stale = false;
    b
}

pub fn set_ord(conn: &Connection, id: &str, ord: i64) -> ApiResult<()> {
    conn.prepare_cached("UPDATE bindings SET ord = ? WHERE id = ?")?
        .execute(params![ord, id])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM bindings WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

pub fn network_of(conn: &Connection, id: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached("SELECT network_id FROM bindings WHERE id = ?")?
            .query_row([id], |r| r.get(0)),
    )
}

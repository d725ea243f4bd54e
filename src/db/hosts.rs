//! Hosts, and the children a GET of one host (or `?include=children`) embeds.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value as Json;

use super::bindings;
use super::ip_addresses::{self, IpAddress};
use super::json_rows::{self, array, grouped, tag_id, Groups, Obj};
use super::ports::{self, Port};
use super::query::{in_ids_sql, json_ids, paged, Filter, PageRequest, Scope};
use super::services::{self, Service};
use super::tags::{any_tag_clause, tags_of, Tagged};
use super::versions::{self, tags_column, AsOf, History, Temporal, HOSTS};
use super::{json_column, or_not_found};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Host {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    pub name: String,
    pub hostname: Option<String>,
    pub description: Option<String>,
    pub hidden: bool,
    #[schema(value_type = Option<Object>)]
    pub virtualization: Option<Json>,
    #[schema(read_only, value_type = Object)]
    pub source: Json,
    /// The machine an agent reports this host as (`/etc/machine-id`), unique in a network; left
    /// out on hosts no agent reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    pub machine_id: Option<String>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    #[serde(flatten)]
    pub temporal: Temporal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<IpAddress>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<Port>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<Service>>,
}

const COLUMNS: &str = "h.id, h.network_id, h.name, h.hostname, h.description, h.hidden, \
                       h.virtualization, h.source, h.created_at, h.updated_at, \
                       h.valid_from, h.last_seen_at, h.first_discovery_id, h.last_discovery_id";

/// The row's columns, then `versions::extra`'s, then the machine id (column 18; closed
/// versions have none).
fn columns(union: bool) -> String {
    format!(
        "{COLUMNS}, {}, (SELECT m.machine_id FROM host_machines m WHERE m.host_id = h.id)",
        versions::extra("h", union)
    )
}

const MACHINE_ID: usize = 18;

fn from_row(r: &Row) -> rusqlite::Result<Host> {
    Ok(Host {
        temporal: Temporal::from_row(r, 10)?,
        tags: tags_column(r, 16)?.unwrap_or_default(),
        id: r.get(0)?,
        network_id: r.get(1)?,
        name: r.get(2)?,
        hostname: r.get(3)?,
        description: r.get(4)?,
        hidden: r.get(5)?,
        virtualization: json_column(r, 6)?,
        source: json_column(r, 7)?.unwrap_or(Json::Null),
        machine_id: r.get(MACHINE_ID)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        ip_addresses: None,
        ports: None,
        services: None,
    })
}

/// The live id of a row (its lineage for a closed version), which children reference.
fn lineage(h: &Host) -> &str {
    h.temporal.lineage_id.as_deref().unwrap_or(&h.id)
}

/// What a read embeds besides the host's own row and tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embed {
    /// The row alone, for use cases comparing stored state.
    Nothing,
    /// `ip_addresses`: what every API read carries (clients resolve hosts by them).
    Addresses,
    /// `ip_addresses`, `ports` and `services` (`include=children`, a single GET).
    Children,
}

/// Fills tags (always) and what `embed` asks for with one query per kind, whatever the page
/// size. As of an instant, the tags came with the rows and the children are those of then.
fn complete(
    conn: &Connection,
    mut rows: Vec<Host>,
    embed: Embed,
    at: &AsOf,
) -> ApiResult<Vec<Host>> {
    let children = embed == Embed::Children;
    let addresses = embed != Embed::Nothing;
    let ids: Vec<String> = rows.iter().map(|h| lineage(h).to_string()).collect();
    let mut tags = if at.is_live() {
        tags_of(conn, Tagged::Host, &ids)?
    } else {
        HashMap::new()
    };
    let mut ips = if addresses {
        group(ip_addresses::of_hosts(conn, &ids, at)?, |i| {
            i.host_id.clone()
        })
    } else {
        HashMap::new()
    };
    let (mut ports, mut svcs) = if children {
        (
            group(ports::of_hosts(conn, &ids, at)?, |p| p.host_id.clone()),
            services::of_hosts(conn, &ids, at)?,
        )
    } else {
        (HashMap::new(), HashMap::new())
    };
    for h in &mut rows {
        if let Some(t) = tags.remove(&h.id) {
            h.tags = t;
        }
        let key = lineage(h).to_string();
        if addresses {
            h.ip_addresses = Some(ips.remove(&key).unwrap_or_default());
        }
        if children {
            h.ports = Some(ports.remove(&key).unwrap_or_default());
            h.services = Some(svcs.remove(&key).unwrap_or_default());
        }
    }
    Ok(rows)
}

fn group<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> HashMap<String, Vec<T>> {
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    for item in items {
        out.entry(key(&item)).or_default().push(item);
    }
    out
}

pub fn get(conn: &Connection, id: &str, embed: Embed) -> ApiResult<Host> {
    let sql = format!("SELECT {} FROM hosts h WHERE h.id = ?", columns(false));
    let row = or_not_found(conn.prepare_cached(&sql)?.query_row([id], from_row), "Host")?;
    Ok(complete(conn, vec![row], embed, &AsOf::Live)?.remove(0))
}

/// A host's members that come from other rows, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nested {
    Tags,
    IpAddresses,
    Ports,
    Services,
}

/// A live row of `columns(false)` as `Host`'s JSON with its children; `nested` writes each
/// member that comes from other rows (a JSON array) where it goes.
fn write_live(
    out: &mut Vec<u8>,
    r: &Row,
    mut nested: impl FnMut(Nested, &mut Vec<u8>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let mut o = Obj::open(out);
    o.text("id", r, 0)?;
    o.text("network_id", r, 1)?;
    o.text("name", r, 2)?;
    o.text("hostname", r, 3)?;
    o.text("description", r, 4)?;
    o.bool("hidden", r, 5)?;
    o.json("virtualization", r, 6)?;
    o.json("source", r, 7)?;
    if let Some(machine) = r.get_ref(MACHINE_ID)?.as_str_or_null().ok().flatten() {
        o.str("machine_id", machine);
    }
    nested(Nested::Tags, o.key("tags"))?;
    o.text("created_at", r, 8)?;
    o.text("updated_at", r, 9)?;
    o.temporal_live(r, 10)?;
    nested(Nested::IpAddresses, o.key("ip_addresses"))?;
    nested(Nested::Ports, o.key("ports"))?;
    nested(Nested::Services, o.key("services"))?;
    o.close();
    Ok(())
}

/// The children of the hosts `within` selects (an SQL condition on a host id column, one
/// parameter), each kind grouped by host; the same queries for one host or a page.
struct Children {
    tags: Groups,
    ips: Groups,
    ports: Groups,
    services: Groups,
}

/// The children queries, for one host (`= ?`) and for a page (`IN (json_each(?))`): host tags,
/// addresses, ports, service tags, bindings, services. Built once per reader thread.
fn children_sql(within: impl Fn(&str) -> String) -> [String; 6] {
    [
        format!(
            "SELECT entity_id, tag_id FROM host_tags WHERE {} ORDER BY entity_id, ord",
            within("entity_id")
        ),
        format!(
            "SELECT {} FROM ip_addresses i WHERE {} ORDER BY i.host_id, i.position, i.created_at, i.id",
            ip_addresses::columns(false),
            within("i.host_id")
        ),
        format!(
            "SELECT {} FROM ports p WHERE {} ORDER BY p.host_id, p.created_at, p.id",
            ports::columns(false),
            within("p.host_id")
        ),
        format!(
            "SELECT x.entity_id, x.tag_id FROM service_tags x JOIN services s ON s.id = x.entity_id \
             WHERE {} ORDER BY x.entity_id, x.ord",
            within("s.host_id")
        ),
        format!(
            "SELECT {} FROM bindings b JOIN services s ON s.id = b.service_id WHERE {} \
             ORDER BY b.service_id, b.ord",
            bindings::columns(false),
            within("s.host_id")
        ),
        format!(
            "SELECT {} FROM services s WHERE {} ORDER BY s.host_id, s.position, s.created_at, s.id",
            services::columns(false),
            within("s.host_id")
        ),
    ]
}

thread_local! {
    static CHILDREN_SQL: [[String; 6]; 2] = [
        children_sql(|column| format!("{column} = ?")),
        children_sql(|column| format!("{column} IN (SELECT value FROM json_each(?))")),
    ];
}

impl Children {
    /// The children of a page of hosts, grouped by host.
    fn read(conn: &Connection, ids: &[String]) -> rusqlite::Result<Self> {
        let (_, param) = in_ids_sql("", ids);
        CHILDREN_SQL.with(|forms| {
            let [host_tags, ips, ports, service_tags, bindings, services] =
                &forms[usize::from(ids.len() != 1)];
            let service_tags = grouped(conn, service_tags, &param, 0, tag_id)?;
            let bound = grouped(conn, bindings, &param, 1, bindings::write_live)?;
            Ok(Children {
                tags: grouped(conn, host_tags, &param, 0, tag_id)?,
                ips: grouped(conn, ips, &param, 1, ip_addresses::write_live)?,
                ports: grouped(conn, ports, &param, 1, ports::write_live)?,
                services: grouped(conn, services, &param, 1, |out, r| {
                    services::write_live(out, r, |nested, service, out| {
                        match nested {
                            services::Nested::Tags => service_tags.array(service, out),
                            services::Nested::Bindings => bound.array(service, out),
                        }
                        Ok(())
                    })
                })?,
            })
        })
    }

    fn write(&self, nested: Nested, host: &str, out: &mut Vec<u8>) {
        match nested {
            Nested::Tags => self.tags.array(host, out),
            Nested::IpAddresses => self.ips.array(host, out),
            Nested::Ports => self.ports.array(host, out),
            Nested::Services => self.services.array(host, out),
        }
    }
}

/// The live host `id` with its children as the API shows it (`Host`'s JSON with every child
/// embedded, byte for byte), written from the rows without records, and its network.
pub fn get_json(conn: &Connection, id: &str) -> ApiResult<Option<(Vec<u8>, Option<String>)>> {
    thread_local! {
        static SQL: String = format!("SELECT {} FROM hosts h WHERE h.id = ?", columns(false));
    }
    let mut stmt = SQL.with(|sql| conn.prepare_cached(sql))?;
    let mut rows = stmt.query([id])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    let network = json_rows::text_at(r, 1)?.to_string();
    let mut out = Vec::with_capacity(32 * 1024);
    // One host's children stream straight into the answer, in the order they are written;
    // only its services' tags and bindings are grouped first.
    CHILDREN_SQL.with(|forms| {
        let [host_tags, ips, port_rows, service_tags, binding_rows, service_rows] = &forms[0];
        let tags = grouped(conn, service_tags, id, 0, tag_id)?;
        let bound = grouped(conn, binding_rows, id, 1, bindings::write_live)?;
        write_live(&mut out, r, |nested, out| match nested {
            Nested::Tags => array(conn, host_tags, id, out, tag_id),
            Nested::IpAddresses => array(conn, ips, id, out, ip_addresses::write_live),
            Nested::Ports => array(conn, port_rows, id, out, ports::write_live),
            Nested::Services => array(conn, service_rows, id, out, |out, r| {
                services::write_live(out, r, |nested, service, out| {
                    match nested {
                        services::Nested::Tags => tags.array(service, out),
                        services::Nested::Bindings => bound.array(service, out),
                    }
                    Ok(())
                })
            }),
        })
    })?;
    Ok(Some((out, Some(network))))
}

/// A live page of hosts with their children, as `list` with `Embed::Children` answers it, byte
/// for byte, written from the rows: one query for the page and one per kind of child, whatever
/// the page size.
pub fn list_json(
    conn: &Connection,
    scope: &Scope,
    f: &HostFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<u8>, usize, u64)> {
    let (from, params) = AsOf::Live.source(&HOSTS, "h");
    let filter = list_filter(scope, f, &AsOf::Live, params);
    // Each host is written with the places of its nested members kept, filled once the page's
    // children are read.
    let (rows, total) = paged(conn, &columns(false), &from, &filter, order_by, page, |r| {
        let mut json = Vec::with_capacity(512);
        let mut places = Vec::with_capacity(4);
        write_live(&mut json, r, |nested, out| {
            places.push((nested, out.len()));
            Ok(())
        })?;
        Ok((json_rows::text_at(r, 0)?.to_string(), json, places))
    })?;
    let ids: Vec<String> = rows.iter().map(|(id, ..)| id.clone()).collect();
    let children = if ids.is_empty() {
        None
    } else {
        Some(Children::read(conn, &ids)?)
    };
    let mut out = Vec::with_capacity(rows.iter().map(|(_, j, _)| j.len() + 4096).sum());
    out.push(b'[');
    for (i, (id, json, places)) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut from = 0;
        for (nested, at) in places {
            out.extend_from_slice(&json[from..*at]);
            if let Some(children) = &children {
                children.write(*nested, id, &mut out);
            }
            from = *at;
        }
        out.extend_from_slice(&json[from..]);
    }
    out.push(b']');
    Ok((out, rows.len(), total))
}

/// The host of lineage `id` as of `at`, with its children of then.
pub fn get_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Host> {
    let row = versions::get_at(conn, &HOSTS, "h", &columns(at.is_union()), id, at, from_row)?
        .ok_or_else(|| ApiError::not_found("Host"))?;
    Ok(complete(conn, vec![row], Embed::Children, at)?.remove(0))
}

/// Every version of lineage `id`, without children (they have versions of their own).
pub fn history(
    conn: &Connection,
    id: &str,
    scope: &Scope,
    page: PageRequest,
) -> ApiResult<Option<History<Host>>> {
    versions::history(conn, &HOSTS, "h", &columns(true), id, scope, page, from_row)
}

/// The network of a host, for scope and same-network checks; `None` if there is no such host.
pub fn network_of(conn: &Connection, id: &str) -> ApiResult<Option<String>> {
    super::optional(
        conn.prepare_cached("SELECT network_id FROM hosts WHERE id = ?")?
            .query_row([id], |r| r.get(0)),
    )
}

#[derive(Debug, Default)]
pub struct HostFilter {
    pub network_id: Option<String>,
    pub ids: Vec<String>,
    pub tag_ids: Vec<String>,
    pub q: Option<String>,
    /// Only (or never) what discovery created and no longer sees.
    pub stale: Option<bool>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &HostFilter,
    order_by: &str,
    page: PageRequest,
    embed: Embed,
    at: &AsOf,
) -> ApiResult<(Vec<Host>, u64)> {
    let (from, params) = at.source(&HOSTS, "h");
    let filter = list_filter(scope, f, at, params);
    let cols = columns(at.is_union());
    let (rows, total) = paged(conn, &cols, &from, &filter, order_by, page, from_row)?;
    Ok((complete(conn, rows, embed, at)?, total))
}

fn list_filter(scope: &Scope, f: &HostFilter, at: &AsOf, params: Vec<Value>) -> Filter {
    let mut filter = Filter::over_source(params);
    filter.is(&versions::stale_sql("h"), f.stale);
    filter
        .scope("h.network_id", scope)
        .eq_opt("h.network_id", f.network_id.clone())
        .search(&["h.name", "h.hostname"], f.q.as_deref());
    if !f.ids.is_empty() {
        filter.in_ids(&at.lineage("h"), &f.ids);
    }
    if !f.tag_ids.is_empty() {
        filter.clause(
            &any_tag_clause(Tagged::Host, "h", at.is_union()),
            vec![Value::Text(json_ids(&f.tag_ids))],
        );
    }
    filter
}

fn json_text(v: &Option<Json>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

pub fn insert(conn: &Connection, h: &Host) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO hosts (id, network_id, name, hostname, description, hidden, virtualization, source,
                            created_at, updated_at, valid_from, last_seen_at, first_discovery_id,
                            last_discovery_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        h.id, h.network_id, h.name, h.hostname, h.description, h.hidden,
        json_text(&h.virtualization), h.source.to_string(), h.created_at, h.updated_at,
        h.temporal.valid_from, h.temporal.last_seen_at, h.temporal.first_discovery_id,
        h.temporal.last_discovery_id
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, h: &Host) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE hosts SET network_id = ?, name = ?, hostname = ?, description = ?, hidden = ?,
         virtualization = ?, updated_at = ?, valid_from = ?, last_seen_at = ? WHERE id = ?",
    )?
    .execute(params![
        h.network_id,
        h.name,
        h.hostname,
        h.description,
        h.hidden,
        json_text(&h.virtualization),
        h.updated_at,
        h.temporal.valid_from,
        h.temporal.last_seen_at,
        h.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM hosts WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// How many children the host has (IP addresses, ports, services), for the move-network rule.
pub fn child_count(conn: &Connection, id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM ip_addresses WHERE host_id = ?1)
                  + (SELECT count(*) FROM ports WHERE host_id = ?1)
                  + (SELECT count(*) FROM services WHERE host_id = ?1)",
        )?
        .query_row([id], |r| r.get(0))?)
}

/// The name of each host of `ids` as of `at`, in one query.
pub fn names(conn: &Connection, ids: &[String], at: &AsOf) -> ApiResult<HashMap<String, String>> {
    let (from, params) = at.source(&HOSTS, "h");
    let mut filter = Filter::over_source(params);
    filter.in_ids(&at.lineage("h"), ids);
    let cols = format!("{}, h.name", at.lineage("h"));
    let rows = super::query::all(conn, &cols, &from, &filter, "h.name", |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.into_iter().collect())
}

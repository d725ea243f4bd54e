//! Services, each returned with its bindings (one query for the bindings of a whole page).

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value as Json;

use super::bindings::{self, Binding};
use super::json_rows::{array, grouped, tag_id, text_at, Groups, Obj};
use super::query::{all, in_ids_sql, json_ids, paged, Filter, PageRequest, Scope};
use super::tags::{any_tag_clause, tags_of, Tagged};
use super::versions::{self, tags_column, AsOf, History, Temporal, SERVICES};
use super::{json_column, optional, or_not_found};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Service {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub host_id: String,
    #[schema(format = Uuid)]
    pub network_id: String,
    pub name: String,
    pub service_definition: String,
    pub position: i64,
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub tags: Vec<String>,
    #[schema(value_type = Option<Object>)]
    pub virtualization: Option<Json>,
    pub bindings: Vec<Binding>,
    #[schema(read_only, value_type = Object)]
    pub source: Json,
    /// The container an agent reported it runs in: `id`, `name`, `image`, `compose_project`,
    /// `compose_service`, `state`. Only on services an agent reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(read_only, value_type = Option<Object>)]
    pub container: Option<Json>,
    /// The program an agent reported it is: `name`, `exe`. Only on services an agent reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(read_only, value_type = Option<Object>)]
    pub process: Option<Json>,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
    #[serde(flatten)]
    pub temporal: Temporal,
}

const COLUMNS: &str = "s.id, s.host_id, s.network_id, s.name, s.service_definition, s.position, \
                       s.virtualization, s.source, s.created_at, s.updated_at, \
                       s.valid_from, s.last_seen_at, s.first_discovery_id, s.last_discovery_id";

pub(super) fn columns(union: bool) -> String {
    format!("{COLUMNS}, {}", versions::extra("s", union))
}

/// A service's members that come from other rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Nested {
    Tags,
    Bindings,
}

/// What an agent reported a service runs as (`container`, `process`), kept in its `source`.
pub fn runs_as(source: &Json, what: &str) -> Option<Json> {
    source
        .get("details")?
        .get(what)
        .filter(|v| v.is_object())
        .cloned()
}

impl Service {
    /// Sets `container` and `process` from `source`.
    pub fn with_runs_as(mut self) -> Self {
        self.container = runs_as(&self.source, "container");
        self.process = runs_as(&self.source, "process");
        self
    }
}

/// A live row of `columns(false)` as `Service`'s JSON; `nested` writes its tags and bindings
/// (JSON arrays) where they go, given the service's id.
pub(super) fn write_live(
    out: &mut Vec<u8>,
    r: &Row,
    mut nested: impl FnMut(Nested, &str, &mut Vec<u8>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let id = text_at(r, 0)?;
    let mut o = Obj::open(out);
    o.str("id", id);
    o.text("host_id", r, 1)?;
    o.text("network_id", r, 2)?;
    o.text("name", r, 3)?;
    o.text("service_definition", r, 4)?;
    o.int("position", r, 5)?;
    nested(Nested::Tags, id, o.key("tags"))?;
    o.json("virtualization", r, 6)?;
    nested(Nested::Bindings, id, o.key("bindings"))?;
    o.json("source", r, 7)?;
    // Only an agent's services and deployed ones carry these: other sources are not parsed.
    let source = text_at(r, 7)?;
    if source.contains("\"agent_key\"") || source.contains("\"container_key\"") {
        let parsed: Json = serde_json::from_str(source).unwrap_or(Json::Null);
        for what in ["container", "process"] {
            if let Some(v) = runs_as(&parsed, what) {
                o.raw(what, v.to_string().as_bytes());
            }
        }
    }
    o.text("created_at", r, 8)?;
    o.text("updated_at", r, 9)?;
    o.temporal_live(r, 10)?;
    o.close();
    Ok(())
}

fn from_row(r: &Row) -> rusqlite::Result<Service> {
    Ok(Service {
        temporal: Temporal::from_row(r, 10)?,
        tags: tags_column(r, 16)?.unwrap_or_default(),
        id: r.get(0)?,
        host_id: r.get(1)?,
        network_id: r.get(2)?,
        name: r.get(3)?,
        service_definition: r.get(4)?,
        position: r.get(5)?,
        virtualization: json_column(r, 6)?,
        bindings: Vec::new(),
        source: json_column(r, 7)?.unwrap_or(Json::Null),
        container: None,
        process: None,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    }
    .with_runs_as())
}

/// The live id of a row (its lineage for a closed version), which references name.
fn lineage(s: &Service) -> &str {
    s.temporal.lineage_id.as_deref().unwrap_or(&s.id)
}

/// Fills tags and bindings for a page of services: two queries, whatever the page size. As of
/// an instant the tags came with the rows, and the bindings are those of that instant.
fn complete(conn: &Connection, mut rows: Vec<Service>, at: &AsOf) -> ApiResult<Vec<Service>> {
    let ids: Vec<String> = rows.iter().map(|s| lineage(s).to_string()).collect();
    let mut tags = if at.is_live() {
        tags_of(conn, Tagged::Service, &ids)?
    } else {
        HashMap::new()
    };
    let mut bound = bindings::of_services_at(conn, &ids, at)?;
    for s in &mut rows {
        if let Some(t) = tags.remove(&s.id) {
            s.tags = t;
        }
        s.bindings = bound.remove(lineage(s)).unwrap_or_default();
    }
    Ok(rows)
}

/// The live service `id` as the API shows it (`Service`'s JSON, byte for byte), written from
/// its rows, and its network.
pub fn get_json(conn: &Connection, id: &str) -> ApiResult<Option<(Vec<u8>, Option<String>)>> {
    thread_local! {
        static SQL: [String; 3] = [
            format!("SELECT {} FROM services s WHERE s.id = ?", columns(false)),
            "SELECT entity_id, tag_id FROM service_tags WHERE entity_id = ? ORDER BY ord".into(),
            format!(
                "SELECT {} FROM bindings b WHERE b.service_id = ? ORDER BY b.ord",
                bindings::columns(false)
            ),
        ];
    }
    SQL.with(|[service, tags, bound]| {
        let mut stmt = conn.prepare_cached(service)?;
        let mut rows = stmt.query([id])?;
        let Some(r) = rows.next()? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(4096);
        write_live(&mut out, r, |nested, id, out| match nested {
            Nested::Tags => array(conn, tags, id, out, tag_id),
            Nested::Bindings => array(conn, bound, id, out, bindings::write_live),
        })?;
        Ok(Some((out, Some(text_at(r, 2)?.to_string()))))
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Service> {
    let row = get_row(conn, id)?;
    Ok(complete(conn, vec![row], &AsOf::Live)?.remove(0))
}

/// The service of lineage `id` as of `at`, with its tags and bindings of then.
pub fn get_at(conn: &Connection, id: &str, at: &AsOf) -> ApiResult<Service> {
    let row = versions::get_at(
        conn,
        &SERVICES,
        "s",
        &columns(at.is_union()),
        id,
        at,
        from_row,
    )?
    .ok_or_else(|| ApiError::not_found("Service"))?;
    Ok(complete(conn, vec![row], at)?.remove(0))
}

/// Every version of lineage `id` (without bindings, which have versions of their own).
pub fn history(
    conn: &Connection,
    id: &str,
    scope: &Scope,
    page: PageRequest,
) -> ApiResult<Option<History<Service>>> {
    versions::history(
        conn,
        &SERVICES,
        "s",
        &columns(true),
        id,
        scope,
        page,
        from_row,
    )
}

/// The service's own row with its tags, without bindings: for a write that replaces them anyway.
pub fn get_row(conn: &Connection, id: &str) -> ApiResult<Service> {
    let sql = format!("SELECT {} FROM services s WHERE s.id = ?", columns(false));
    let mut row = or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Service",
    )?;
    row.tags = tags_of(conn, Tagged::Service, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    Ok(row)
}

/// `(host_id, network_id)` of a service, for rules and scope.
pub fn placement(conn: &Connection, id: &str) -> ApiResult<Option<(String, String)>> {
    optional(
        conn.prepare_cached("SELECT host_id, network_id FROM services WHERE id = ?")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?))),
    )
}

/// The services of several hosts with their bindings, grouped by host, ordered by position.
pub fn of_hosts(
    conn: &Connection,
    host_ids: &[String],
    at: &AsOf,
) -> ApiResult<HashMap<String, Vec<Service>>> {
    let mut out: HashMap<String, Vec<Service>> = HashMap::new();
    if host_ids.is_empty() {
        return Ok(out);
    }
    let (from, params) = at.source_for(&SERVICES, "s", "host_id", host_ids);
    let mut filter = Filter::over_source(params);
    filter.in_ids("s.host_id", host_ids);
    let order = "s.host_id, s.position, s.created_at, s.id";
    let rows = all(
        conn,
        &columns(at.is_union()),
        &from,
        &filter,
        order,
        from_row,
    )?;
    for s in complete(conn, rows, at)? {
        out.entry(s.host_id.clone()).or_default().push(s);
    }
    Ok(out)
}

pub fn count_on_host(conn: &Connection, host_id: &str) -> ApiResult<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM services WHERE host_id = ?")?
        .query_row([host_id], |r| r.get(0))?)
}

#[derive(Debug, Default)]
pub struct ServiceFilter {
    pub network_id: Option<String>,
    pub host_id: Option<String>,
    pub ids: Vec<String>,
    pub tag_ids: Vec<String>,
    pub service_definition: Option<String>,
    pub q: Option<String>,
    /// Only (or never) what discovery created and no longer sees.
    pub stale: Option<bool>,
}

pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &ServiceFilter,
    order_by: &str,
    page: PageRequest,
    at: &AsOf,
) -> ApiResult<(Vec<Service>, u64)> {
    let (from, params) = at.source(&SERVICES, "s");
    let filter = list_filter(scope, f, at, params);
    let cols = columns(at.is_union());
    let (rows, total) = paged(conn, &cols, &from, &filter, order_by, page, from_row)?;
    Ok((complete(conn, rows, at)?, total))
}

/// `list` of live services, as the JSON array the API answers (byte for byte what the typed
/// path serializes), written from the rows; with the number of items and the total.
pub fn list_json(
    conn: &Connection,
    scope: &Scope,
    f: &ServiceFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<u8>, usize, u64)> {
    let (from, params) = AsOf::Live.source(&SERVICES, "s");
    let filter = list_filter(scope, f, &AsOf::Live, params);
    // Each service is written with the places of its tags and bindings kept, filled once the
    // page's tags and bindings are read (two queries, whatever the page size).
    let (rows, total) = paged(conn, &columns(false), &from, &filter, order_by, page, |r| {
        let mut json = Vec::with_capacity(768);
        let mut places = [0; 2];
        write_live(&mut json, r, |nested, _, out| {
            places[nested as usize] = out.len();
            Ok(())
        })?;
        Ok((text_at(r, 0)?.to_string(), json, places))
    })?;
    let ids: Vec<String> = rows.iter().map(|(id, ..)| id.clone()).collect();
    let (tags, bound) = if ids.is_empty() {
        (Groups::default(), Groups::default())
    } else {
        let (tags_within, param) = in_ids_sql("entity_id", &ids);
        let tags_sql = format!(
            "SELECT entity_id, tag_id FROM service_tags WHERE {tags_within} ORDER BY entity_id, ord"
        );
        let (within, _) = in_ids_sql("b.service_id", &ids);
        let bindings_sql = format!(
            "SELECT {} FROM bindings b WHERE {within} ORDER BY b.service_id, b.ord",
            bindings::columns(false)
        );
        (
            grouped(conn, &tags_sql, &param, 0, tag_id)?,
            grouped(conn, &bindings_sql, &param, 1, bindings::write_live)?,
        )
    };
    let mut out = Vec::with_capacity(rows.iter().map(|(_, j, _)| j.len() + 1024).sum());
    out.push(b'[');
    for (i, (id, json, [tags_at, bindings_at])) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&json[..*tags_at]);
        tags.array(id, &mut out);
        out.extend_from_slice(&json[*tags_at..*bindings_at]);
        bound.array(id, &mut out);
        out.extend_from_slice(&json[*bindings_at..]);
    }
    out.push(b']');
    Ok((out, rows.len(), total))
}

fn list_filter(scope: &Scope, f: &ServiceFilter, at: &AsOf, params: Vec<Value>) -> Filter {
    let mut filter = Filter::over_source(params);
    filter.is(&versions::stale_sql("s"), f.stale);
    filter
        .scope("s.network_id", scope)
        .eq_opt("s.network_id", f.network_id.clone())
        .eq_opt("s.host_id", f.host_id.clone())
        .eq_opt("s.service_definition", f.service_definition.clone())
        .search(&["s.name", "s.service_definition"], f.q.as_deref());
    if !f.ids.is_empty() {
        filter.in_ids(&at.lineage("s"), &f.ids);
    }
    if !f.tag_ids.is_empty() {
        filter.clause(
            &any_tag_clause(Tagged::Service, "s", at.is_union()),
            vec![Value::Text(json_ids(&f.tag_ids))],
        );
    }
    filter
}

fn json_text(v: &Option<Json>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

pub fn insert(conn: &Connection, s: &Service) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO services (id, host_id, network_id, name, service_definition, position, virtualization,
                               source, created_at, updated_at, valid_from, last_seen_at,
                               first_discovery_id, last_discovery_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        s.id, s.host_id, s.network_id, s.name, s.service_definition, s.position,
        json_text(&s.virtualization), s.source.to_string(), s.created_at, s.updated_at,
        s.temporal.valid_from, s.temporal.last_seen_at, s.temporal.first_discovery_id,
        s.temporal.last_discovery_id
    ])?;
    Ok(())
}

/// Writes `s` over the row of `stored`. A write that keeps the service where it was (host,
/// network, type, position) leaves those columns out: SQLite rewrites the index entries and checks
/// the foreign keys of every column a `SET` names, equal or not.
pub fn update(conn: &Connection, stored: &Service, s: &Service) -> ApiResult<()> {
    let placed_as_stored = s.host_id == stored.host_id
        && s.network_id == stored.network_id
        && s.service_definition == stored.service_definition
        && s.position == stored.position;
    if placed_as_stored {
        conn.prepare_cached(
            "UPDATE services SET name = ?, virtualization = ?, source = ?, updated_at = ?,
                    valid_from = ?, last_seen_at = ? WHERE id = ?",
        )?
        .execute(params![
            s.name,
            json_text(&s.virtualization),
            s.source.to_string(),
            s.updated_at,
            s.temporal.valid_from,
            s.temporal.last_seen_at,
            s.id
        ])?;
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE services SET host_id = ?, network_id = ?, name = ?, service_definition = ?, position = ?,
                virtualization = ?, source = ?, updated_at = ?, valid_from = ?, last_seen_at = ? WHERE id = ?",
    )?
    .execute(params![
        s.host_id, s.network_id, s.name, s.service_definition, s.position,
        json_text(&s.virtualization), s.source.to_string(), s.updated_at, s.temporal.valid_from,
        s.temporal.last_seen_at, s.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM services WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// `(name, host id, network id)` of each service of `ids` as of `at`, in one query.
pub fn names_and_hosts(
    conn: &Connection,
    ids: &[String],
    at: &AsOf,
) -> ApiResult<std::collections::HashMap<String, (String, String, String)>> {
    let (from, params) = at.source(&SERVICES, "s");
    let mut filter = Filter::over_source(params);
    filter.in_ids(&at.lineage("s"), ids);
    let cols = format!("{}, s.name, s.host_id, s.network_id", at.lineage("s"));
    let rows = all(conn, &cols, &from, &filter, "s.name", |r| {
        Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
    })?;
    Ok(rows.into_iter().collect())
}

/// The names of the live services of a host.
pub fn names_on_host(
    conn: &Connection,
    host_id: &str,
) -> ApiResult<std::collections::HashSet<String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM services WHERE host_id = ?")?;
    let names = stmt
        .query_map([host_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

//! Reads of the past: the state of the six versioned entities at an instant, and every version
//! of one lineage. The live tables hold live rows only; `<entity>_versions` hold closed ones
//! (written by the journal's trigger, never here).
//!
//! An as-of read swaps the live table for a union of the live rows that began by then and the
//! versions current then, with the same column names, so each entity's list and get SQL serves
//! both. That union also exposes `lineage` (the live id of every row) for filters on identity.

use rusqlite::types::Value;
use rusqlite::{Connection, Row};
use serde::Serialize;

use super::query::{all, paged, Filter, PageRequest, Scope};
use super::tags::Tagged;
use crate::domain::history::EntityType;
use crate::error::ApiResult;

/// The temporal fields of seed 002, on every versioned record.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Temporal {
    /// When this state began.
    #[schema(read_only, format = DateTime)]
    pub valid_from: String,
    /// When this state ended; null while live.
    #[schema(read_only, format = DateTime)]
    pub valid_to: Option<String>,
    /// The live id this closed version belongs to; null on live rows.
    #[schema(read_only, format = Uuid)]
    pub lineage_id: Option<String>,
    #[schema(read_only, format = Uuid)]
    pub first_discovery_id: Option<String>,
    #[schema(read_only, format = Uuid)]
    pub last_discovery_id: Option<String>,
    #[schema(read_only, format = DateTime)]
    pub last_seen_at: String,
    /// Created by discovery and not seen for `PORTOLAN_STALE_AFTER_HOURS` (default 168).
    #[schema(read_only)]
    pub stale: bool,
}

impl Temporal {
    /// A state that begins at `now`.
    pub fn starting(now: &str) -> Temporal {
        Temporal {
            valid_from: now.to_string(),
            valid_to: None,
            lineage_id: None,
            first_discovery_id: None,
            last_discovery_id: None,
            last_seen_at: now.to_string(),
            stale: false,
        }
    }

    /// The state changes at `now`.
    pub fn restart(&mut self, now: &str) {
        self.valid_from = now.to_string();
        self.last_seen_at = now.to_string();
    }

    /// Reads the columns `TEMPORAL` and then `extra` put at `start`.
    pub fn from_row(r: &Row, start: usize) -> rusqlite::Result<Temporal> {
        Ok(Temporal {
            valid_from: r.get(start)?,
            last_seen_at: r.get(start + 1)?,
            first_discovery_id: r.get(start + 2)?,
            last_discovery_id: r.get(start + 3)?,
            lineage_id: r.get(start + 4)?,
            valid_to: r.get(start + 5)?,
            stale: r.get::<_, Option<bool>>(start + 7)?.unwrap_or(false),
        })
    }
}

/// The temporal columns stored on live and closed rows alike, in `Temporal::from_row` order.
pub const TEMPORAL: &str = "valid_from, last_seen_at, first_discovery_id, last_discovery_id";

/// A versioned entity's two tables and the columns they share.
pub struct Versioned {
    pub live: &'static str,
    pub versions: &'static str,
    /// Columns of both tables, unprefixed, `TEMPORAL` last.
    pub columns: &'static str,
    pub tags: Option<Tagged>,
    /// Columns that hold JSON text (besides `tags`).
    pub json: &'static [&'static str],
}

pub const HOSTS: Versioned = Versioned {
    live: "hosts",
    versions: "host_versions",
    columns: "id, network_id, name, hostname, description, hidden, virtualization, source, \
              created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id",
    tags: Some(Tagged::Host),
    json: &["source"],
};
pub const SUBNETS: Versioned = Versioned {
    live: "subnets",
    versions: "subnet_versions",
    columns: "id, network_id, cidr, name, description, subnet_type, created_at, updated_at, \
              valid_from, last_seen_at, first_discovery_id, last_discovery_id",
    tags: Some(Tagged::Subnet),
    json: &[],
};
pub const IP_ADDRESSES: Versioned = Versioned {
    live: "ip_addresses",
    versions: "ip_address_versions",
    columns: "id, host_id, network_id, subnet_id, ip_address, mac_address, name, position, \
              created_at, updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id",
    tags: None,
    json: &[],
};
pub const PORTS: Versioned = Versioned {
    live: "ports",
    versions: "port_versions",
    columns: "id, host_id, network_id, number, protocol, created_at, updated_at, \
              valid_from, last_seen_at, first_discovery_id, last_discovery_id",
    tags: None,
    json: &[],
};
pub const SERVICES: Versioned = Versioned {
    live: "services",
    versions: "service_versions",
    columns: "id, host_id, network_id, name, service_definition, position, virtualization, \
              source, created_at, updated_at, valid_from, last_seen_at, first_discovery_id, \
              last_discovery_id",
    tags: Some(Tagged::Service),
    json: &["source"],
};
pub const BINDINGS: Versioned = Versioned {
    live: "bindings",
    versions: "binding_versions",
    columns: "id, service_id, network_id, type, port_id, ip_address_id, created_at, updated_at, \
              valid_from, last_seen_at, first_discovery_id, last_discovery_id",
    tags: None,
    json: &[],
};

/// The tables of a versioned kind of entity; `None` for kinds that keep no versions.
pub const DEPENDENCIES: Versioned = Versioned {
    live: "dependencies",
    versions: "dependency_versions",
    columns: "id, network_id, name, description, dependency_type, members, color, created_at, \
              updated_at, valid_from, last_seen_at, first_discovery_id, last_discovery_id",
    tags: Some(Tagged::Dependency),
    json: &["members"],
};

pub fn of(kind: EntityType) -> Option<&'static Versioned> {
    match kind {
        EntityType::Dependency => Some(&DEPENDENCIES),
        EntityType::Host => Some(&HOSTS),
        EntityType::Subnet => Some(&SUBNETS),
        EntityType::IpAddress => Some(&IP_ADDRESSES),
        EntityType::Port => Some(&PORTS),
        EntityType::Service => Some(&SERVICES),
        EntityType::Binding => Some(&BINDINGS),
        _ => None,
    }
}

/// Records a closed version from the `before` image of the journal entry `seq` that ended it
/// at `valid_to`: every column read out of the image, so the version is the entry's state.
/// The row's `seq` is the entry's, which is how the journal finds the state it closed, and how
/// the version's id (the entry's) is read back: it is stored as '', like the instants that
/// equal `valid_from` (`read_column`). Only `ops::journal` calls this, together with the entry.
pub fn close(
    conn: &Connection,
    t: &'static Versioned,
    seq: i64,
    lineage_id: &str,
    valid_to: &str,
    before: &serde_json::Map<String, serde_json::Value>,
) -> ApiResult<()> {
    let columns = state_columns(t);
    let sql = sql_once(t, "close", || {
        format!(
            "INSERT INTO {} (seq, id, lineage_id, valid_to, {}) VALUES (?, '', ?, ?{})",
            t.versions,
            columns.join(", "),
            ", ?".repeat(columns.len())
        )
    });
    let valid_from = as_extracted(before.get("valid_from"));
    let mut values: Vec<Value> = Vec::with_capacity(columns.len() + 3);
    values.extend([
        Value::Integer(seq),
        Value::Text(lineage_id.to_string()),
        Value::Text(valid_to.to_string()),
    ]);
    values.extend(columns.iter().map(|c| {
        let value = as_extracted(before.get(*c));
        if SAME_AS_VALID_FROM.contains(c) && value != Value::Null && value == valid_from {
            Value::Text(String::new())
        } else {
            value
        }
    }));
    conn.prepare_cached(sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// A value of an image as SQLite's `json_extract` gives it (which is how versions stored it
/// before `close` bound its values itself, and how migrations still read images): `true` and
/// `false` as 1 and 0, arrays and objects as their JSON text, a missing value as null.
fn as_extracted(value: Option<&serde_json::Value>) -> Value {
    use serde_json::Value as Json;
    match value {
        None | Some(Json::Null) => Value::Null,
        Some(Json::Bool(b)) => Value::Integer(i64::from(*b)),
        Some(Json::Number(n)) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().unwrap_or_default()),
        },
        Some(Json::String(s)) => Value::Text(s.clone()),
        Some(other) => Value::Text(other.to_string()),
    }
}

/// SQL text that depends on the table alone, made once per process: statements are cached per
/// connection by their text, and the writer runs these for every journal entry.
fn sql_once(
    t: &'static Versioned,
    purpose: &'static str,
    build: impl FnOnce() -> String,
) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static MADE: OnceLock<Mutex<HashMap<(&'static str, &'static str), &'static str>>> =
        OnceLock::new();
    let mut made = MADE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Bounded: one text per versioned table and purpose, kept for the life of the process.
    made.entry((t.versions, purpose))
        .or_insert_with(|| Box::leak(build().into_boxed_str()))
}

/// Instants a version stores as '' when they equal its `valid_from` (most do).
const SAME_AS_VALID_FROM: [&str; 3] = ["created_at", "updated_at", "last_seen_at"];

/// How `column` of the versions table `table` reads: a version's id stored as '' is the id of
/// the journal entry that closed it (its `seq`), and an instant stored as '' is its
/// `valid_from` (migration 20 and `close` store them so). Every reader of the versions tables
/// goes through this.
pub fn read_column(table: &str, column: &str) -> String {
    if column == "id" {
        format!(
            "coalesce(nullif({table}.id, ''), \
             (SELECT {} FROM journal j WHERE j.seq = {table}.seq))",
            super::changes::uuid_text("j.id")
        )
    } else if SAME_AS_VALID_FROM.contains(&column) {
        format!("coalesce(nullif({table}.{column}, ''), {table}.valid_from)")
    } else {
        format!("{table}.{column}")
    }
}

/// The columns a version holds of its state: the entity's columns but its id, and its tags.
fn state_columns(t: &Versioned) -> Vec<&'static str> {
    let mut columns: Vec<&str> = t.columns.split(',').map(str::trim).collect();
    columns.retain(|c| *c != "id");
    if t.tags.is_some() {
        columns.push("tags");
    }
    columns
}

/// The state the journal entry `seq` closed, as a JSON object keyed like the entity's image:
/// the lineage as `id`, then every state column (JSON columns as JSON), and `stale: false`
/// (what a live image almost always said), so that a fold names only what differs. `None`
/// when there is no such version.
pub fn closed_state(
    conn: &Connection,
    t: &'static Versioned,
    seq: i64,
) -> ApiResult<Option<serde_json::Map<String, serde_json::Value>>> {
    let sql = sql_once(t, "closed_state", || {
        let fields: Vec<String> = state_columns(t)
            .into_iter()
            .map(|c| {
                if c == "tags" || t.json.contains(&c) {
                    format!("'{c}', json({c})")
                } else {
                    format!("'{c}', {}", read_column(t.versions, c))
                }
            })
            .collect();
        format!(
            "SELECT json_object('id', lineage_id, {}, 'stale', json('false')) FROM {} WHERE seq = ?",
            fields.join(", "),
            t.versions
        )
    });
    let text: Option<String> =
        super::optional(conn.prepare_cached(sql)?.query_row([seq], |r| r.get(0)))?;
    Ok(text
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| match v {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }))
}

/// What `closed_state` reads back of a version `close` makes from `image`, worked out without
/// reading it (a write folds onto the version it just wrote): each state column as
/// `json_extract` stores it (`true`/`false` as 1/0, a missing value as null), and `stale: false`.
pub fn closed_state_of(
    t: &Versioned,
    lineage_id: &str,
    image: &serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value as Json;
    let mut state = serde_json::Map::new();
    state.insert("id".into(), Json::from(lineage_id));
    for column in state_columns(t) {
        let stored = match image.get(column) {
            None => Json::Null,
            Some(Json::Bool(b)) => Json::from(i64::from(*b)),
            Some(v) => v.clone(),
        };
        state.insert(column.into(), stored);
    }
    state.insert("stale".into(), Json::Bool(false));
    state
}

/// Gives every closed version the `seq` of the journal entry that closed it (found by the
/// entry's id), after rows came in without it (an import). A version whose entry is not in the
/// journal moves to a negative `seq`, out of the way of the journal's. A version whose id is ''
/// is found by its `seq` already, and stays.
pub fn rekey(conn: &Connection) -> ApiResult<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS entry_seqs (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
         DELETE FROM temp.entry_seqs;
         INSERT OR IGNORE INTO temp.entry_seqs SELECT id, seq FROM changes;",
    )?;
    for table in VERSION_TABLES {
        let misplaced: Vec<(i64, Option<i64>)> = {
            let mut stmt = conn.prepare(&format!(
                "SELECT v.rowid, e.seq FROM {table} v LEFT JOIN temp.entry_seqs e ON e.id = v.id
                 WHERE v.id != '' AND (e.seq IS NULL AND v.rowid > 0 OR e.seq IS NOT NULL AND e.seq != v.rowid)"
            ))?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if misplaced.is_empty() {
            continue;
        }
        // Out of the way first (below every rowid in use), then to their entries' seqs: no two
        // rows ever share a rowid on the way.
        let low: i64 = conn.query_row(
            &format!("SELECT min(coalesce(min(rowid), 0), 0) FROM {table}"),
            [],
            |r| r.get(0),
        )?;
        let mut aside = low;
        let mut moves = Vec::with_capacity(misplaced.len());
        for (rowid, seq) in &misplaced {
            aside -= 1;
            conn.execute(
                &format!("UPDATE {table} SET rowid = ? WHERE rowid = ?"),
                [aside, *rowid],
            )?;
            moves.push((aside, *seq));
        }
        for (from, seq) in moves {
            if let Some(seq) = seq {
                conn.execute(
                    &format!("UPDATE {table} SET rowid = ? WHERE rowid = ?"),
                    [seq, from],
                )?;
            }
        }
    }
    conn.execute_batch("DROP TABLE temp.entry_seqs;")?;
    Ok(())
}

pub const VERSION_TABLES: [&str; 7] = [
    "host_versions",
    "subnet_versions",
    "ip_address_versions",
    "port_versions",
    "service_versions",
    "binding_versions",
    "dependency_versions",
];

/// Which state a read answers: the live one, or the one at an instant (normalised RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    Live,
    At(String),
}

impl AsOf {
    pub fn is_live(&self) -> bool {
        matches!(self, AsOf::Live)
    }

    /// `FROM` text for `t` under `alias`, and the parameters it binds (before any filter's).
    pub fn source(&self, t: &Versioned, alias: &str) -> (String, Vec<Value>) {
        match self {
            AsOf::Live => (format!("{} {alias}", t.live), Vec::new()),
            AsOf::At(at) => {
                let sql = union(
                    t,
                    alias,
                    "valid_from <= ?",
                    "valid_from <= ? AND valid_to > ?",
                );
                let v = Value::Text(at.clone());
                (sql, vec![v.clone(), v.clone(), v])
            }
        }
    }

    /// `source`, narrowed inside both arms to rows whose `column` is one of `ids` (SQLite does
    /// not push an `IN` list into a union, and the children of a page would scan otherwise).
    /// The caller still filters on `column` outside, which costs nothing on live reads.
    pub fn source_for(
        &self,
        t: &Versioned,
        alias: &str,
        column: &str,
        ids: &[String],
    ) -> (String, Vec<Value>) {
        match self {
            AsOf::Live => self.source(t, alias),
            AsOf::At(at) => {
                let within = format!("{column} IN (SELECT value FROM json_each(?))");
                let sql = union(
                    t,
                    alias,
                    &format!("valid_from <= ? AND {within}"),
                    &format!("valid_from <= ? AND valid_to > ? AND {within}"),
                );
                let v = Value::Text(at.clone());
                let list = Value::Text(super::query::json_ids(ids));
                (sql, vec![v.clone(), list.clone(), v.clone(), v, list])
            }
        }
    }

    /// Whether reads go through the union of live rows and versions.
    pub fn is_union(&self) -> bool {
        !self.is_live()
    }

    /// The column holding each row's live id.
    pub fn lineage(&self, alias: &str) -> String {
        match self {
            AsOf::Live => format!("{alias}.id"),
            AsOf::At(_) => format!("{alias}.lineage"),
        }
    }
}

/// The select-list tail every versioned read ends with: `lineage_id, valid_to, tags` (which
/// only the union of live rows and versions has), then `stale`.
pub fn extra(alias: &str, union: bool) -> String {
    let stale = stale_sql(alias);
    if union {
        format!("{alias}.lineage_id, {alias}.valid_to, {alias}.tags, {stale}")
    } else {
        format!("NULL, NULL, NULL, {stale}")
    }
}

/// Whether a row is stale: created by discovery, and not seen for the configured hours.
pub fn stale_sql(alias: &str) -> String {
    format!(
        "({alias}.first_discovery_id IS NOT NULL AND {alias}.last_seen_at < \
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || \
         (SELECT value FROM settings WHERE key = 'stale_after_hours') || ' hours'))"
    )
}

/// Every version of one lineage (`?1`): the live row and the closed versions.
pub fn history_source(t: &Versioned, alias: &str) -> String {
    union(t, alias, "id = ?1", "lineage_id = ?1")
}

/// Live rows and closed versions under one alias, with `lineage`, `lineage_id`, `valid_to` and
/// `tags` (the live rows' tags read from their join table).
fn union(t: &Versioned, alias: &str, live_where: &str, version_where: &str) -> String {
    let (live_tags, version_tags) = match t.tags {
        Some(kind) => (
            format!(
                "(SELECT json_group_array(tag_id) FROM (SELECT tag_id FROM {} x \
                 WHERE x.entity_id = {}.id ORDER BY x.ord))",
                kind.table(),
                t.live
            ),
            "tags",
        ),
        None => ("NULL".to_string(), "NULL"),
    };
    let version_cols: Vec<String> = t
        .columns
        .split(',')
        .map(str::trim)
        .map(|c| format!("{} AS {c}", read_column(t.versions, c)))
        .collect();
    format!(
        "(SELECT {cols}, id AS lineage, NULL AS lineage_id, NULL AS valid_to, {live_tags} AS tags \
         FROM {live} WHERE {live_where} \
         UNION ALL \
         SELECT {version_cols}, lineage_id AS lineage, lineage_id, valid_to, {version_tags} \
         FROM {versions} WHERE {version_where}) {alias}",
        cols = t.columns,
        version_cols = version_cols.join(", "),
        live = t.live,
        versions = t.versions,
    )
}

/// The row of lineage `id` as of `at`; `columns` is the entity's select list under `alias`.
pub fn get_at<T>(
    conn: &Connection,
    t: &Versioned,
    alias: &str,
    columns: &str,
    id: &str,
    at: &AsOf,
    map: impl Fn(&Row) -> rusqlite::Result<T>,
) -> ApiResult<Option<T>> {
    let (from, params) = at.source(t, alias);
    let mut filter = Filter::over_source(params);
    filter.eq(&at.lineage(alias), id.to_string());
    let rows = all(
        conn,
        columns,
        &from,
        &filter,
        &format!("{alias}.valid_from DESC"),
        map,
    )?;
    Ok(rows.into_iter().next())
}

/// One lineage's versions, newest first, with the network of the newest one (for the caller's
/// scope check); `None` when the id never named such an entity (or its history was pruned).
pub struct History<T> {
    pub network_id: String,
    pub items: Vec<T>,
    pub total: u64,
}

#[allow(clippy::too_many_arguments)]
pub fn history<T>(
    conn: &Connection,
    t: &Versioned,
    alias: &str,
    columns: &str,
    id: &str,
    scope: &Scope,
    page: PageRequest,
    map: impl Fn(&Row) -> rusqlite::Result<T>,
) -> ApiResult<Option<History<T>>> {
    let from = history_source(t, alias);
    let order = format!(
        "({alias}.valid_to IS NOT NULL), {alias}.valid_to DESC, {alias}.valid_from DESC, {alias}.id DESC"
    );
    let newest = super::optional(
        conn.prepare_cached(&format!(
            "SELECT {alias}.network_id FROM {from} ORDER BY {order} LIMIT 1"
        ))?
        .query_row([id], |r| r.get::<_, String>(0)),
    )?;
    let Some(network_id) = newest else {
        return Ok(None);
    };
    let mut filter = Filter::over_source(vec![Value::Text(id.to_string())]);
    filter.scope(&format!("{alias}.network_id"), scope);
    let (items, total) = paged(conn, columns, &from, &filter, &order, page, map)?;
    Ok(Some(History {
        network_id,
        items,
        total,
    }))
}

/// Tag ids from the `tags` column of an as-of or history read (`None` on live reads).
pub fn tags_column(r: &Row, i: usize) -> rusqlite::Result<Option<Vec<String>>> {
    Ok(super::json_column(r, i)?.and_then(|v| serde_json::from_value(v).ok()))
}

/// A discovery saw the live row `id` again: `last_seen_at` and `last_discovery_id` move, and
/// nothing else (no new version: being seen is not a change of state).
pub fn touch_seen(
    conn: &Connection,
    t: &Versioned,
    id: &str,
    now: &str,
    discovery_id: &str,
) -> ApiResult<()> {
    conn.prepare_cached(&format!(
        "UPDATE {} SET last_seen_at = ?1, last_discovery_id = ?2 WHERE id = ?3",
        t.live
    ))?
    .execute([now, discovery_id, id])?;
    Ok(())
}

/// Whether `id` names a live row of `t` or the lineage of a closed one: a client-chosen id
/// must be new, or two objects would share one history.
pub fn id_in_use(conn: &Connection, t: &Versioned, id: &str) -> ApiResult<bool> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE id = ?1) \
            OR EXISTS (SELECT 1 FROM {} WHERE lineage_id = ?1)",
        t.live, t.versions
    );
    Ok(conn.prepare_cached(&sql)?.query_row([id], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_kinds_keep_versions_each_in_its_own_table() {
        let mut tables: Vec<&str> = EntityType::ALL
            .iter()
            .filter_map(|k| of(*k))
            .map(|t| t.versions)
            .collect();
        tables.sort();
        let mut pruned = VERSION_TABLES.to_vec();
        pruned.sort();
        assert_eq!(tables, pruned, "retention prunes every versions table");
    }
}

//! Tags and their attachment to networks, subnets, hosts and services.

use std::collections::HashMap;

use rusqlite::{params, Connection, Row};
use serde::Serialize;

use super::query::{in_ids_sql, paged, Filter, PageRequest};
use super::{optional, or_not_found};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tag {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    /// The server's one organization (see `GET /api/v1/organizations`).
    #[schema(read_only, format = Uuid)]
    pub organization_id: String,
    pub name: String,
    pub description: Option<String>,
    pub color: String,
    /// Marks a tag that names an application (as the 0.17 clients use it).
    pub is_application: bool,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
}

const COLUMNS: &str = concat!(
    "id, name, description, color, created_at, updated_at, ",
    "(SELECT value FROM settings WHERE key = 'organization_id'), is_application"
);

fn from_row(r: &Row) -> rusqlite::Result<Tag> {
    Ok(Tag {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        color: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
        organization_id: r.get(6)?,
        is_application: r.get(7)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Tag> {
    let sql = format!("SELECT {COLUMNS} FROM tags WHERE id = ?");
    or_not_found(conn.prepare_cached(&sql)?.query_row([id], from_row), "Tag")
}

pub fn id_by_name(conn: &Connection, name: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached("SELECT id FROM tags WHERE name = ?")?
            .query_row([name], |r| r.get(0)),
    )
}

pub struct TagFilter {
    pub q: Option<String>,
    pub color: Option<String>,
}

pub fn list(
    conn: &Connection,
    f: &TagFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<Tag>, u64)> {
    let mut filter = Filter::new();
    filter
        .search(&["t.name", "t.description"], f.q.as_deref())
        .eq_opt("t.color", f.color.clone());
    paged(conn, COLUMNS, "tags t", &filter, order_by, page, from_row)
}

pub fn insert(conn: &Connection, t: &Tag) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO tags (id, name, description, color, is_application, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        t.id,
        t.name,
        t.description,
        t.color,
        t.is_application,
        t.created_at,
        t.updated_at
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, t: &Tag) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE tags SET name = ?, description = ?, color = ?, is_application = ?, updated_at = ?
         WHERE id = ?",
    )?
    .execute(params![
        t.name,
        t.description,
        t.color,
        t.is_application,
        t.updated_at,
        t.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM tags WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// The kinds of object that carry tags, each with its own join table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagged {
    Network,
    Subnet,
    Host,
    Service,
    Dependency,
    ApiKey,
    Discovery,
    Agent,
}

impl Tagged {
    pub const ALL: [Tagged; 8] = [
        Tagged::Network,
        Tagged::Subnet,
        Tagged::Host,
        Tagged::Service,
        Tagged::Dependency,
        Tagged::ApiKey,
        Tagged::Discovery,
        Tagged::Agent,
    ];

    pub fn table(self) -> &'static str {
        match self {
            Tagged::Network => "network_tags",
            Tagged::Subnet => "subnet_tags",
            Tagged::Host => "host_tags",
            Tagged::Service => "service_tags",
            Tagged::Dependency => "dependency_tags",
            Tagged::ApiKey => "api_key_tags",
            Tagged::Discovery => "discovery_tags",
            Tagged::Agent => "agent_tags",
        }
    }
}

/// The tag ids of each of `entity_ids`, in attachment order, in one query.
pub fn tags_of(
    conn: &Connection,
    kind: Tagged,
    entity_ids: &[String],
) -> ApiResult<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if entity_ids.is_empty() {
        return Ok(out);
    }
    let (within, param) = in_ids_sql("entity_id", entity_ids);
    let sql = format!(
        "SELECT entity_id, tag_id FROM {} WHERE {within} ORDER BY entity_id, ord",
        kind.table()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([param], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (entity, tag) = row?;
        out.entry(entity).or_default().push(tag);
    }
    Ok(out)
}

/// Replaces the tags of one object. The ids were checked to exist by the caller.
pub fn set_tags(
    conn: &Connection,
    kind: Tagged,
    entity_id: &str,
    tag_ids: &[String],
) -> ApiResult<()> {
    conn.prepare_cached(&format!("DELETE FROM {} WHERE entity_id = ?", kind.table()))?
        .execute([entity_id])?;
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO {} (entity_id, tag_id, ord) VALUES (?, ?, ?)",
        kind.table()
    ))?;
    for (i, tag) in tag_ids.iter().enumerate() {
        insert.execute(params![entity_id, tag, i as i64])?;
    }
    Ok(())
}

/// The first of `tag_ids` that names no tag, as its index.
pub fn first_missing(conn: &Connection, tag_ids: &[String]) -> ApiResult<Option<usize>> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM tags WHERE id = ?")?;
    for (i, id) in tag_ids.iter().enumerate() {
        if !stmt.exists([id])? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// `EXISTS` clause for a `tag_ids` (any) filter on `alias.id`; over an as-of union (`union`),
/// on the tags each row carried then.
pub fn any_tag_clause(kind: Tagged, alias: &str, union: bool) -> String {
    if union {
        format!(
            "EXISTS (SELECT 1 FROM json_each({alias}.tags) x WHERE x.value IN (SELECT value FROM json_each(?)))"
        )
    } else {
        format!(
            "EXISTS (SELECT 1 FROM {} x WHERE x.entity_id = {alias}.id AND x.tag_id IN (SELECT value FROM json_each(?)))",
            kind.table()
        )
    }
}

/// Ids of the objects of one kind that carry the tag.
pub fn carriers(conn: &Connection, kind: Tagged, tag_id: &str) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT entity_id FROM {} WHERE tag_id = ? ORDER BY entity_id",
        kind.table()
    ))?;
    let rows = stmt
        .query_map([tag_id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

/// Takes one tag off one object.
pub fn detach(conn: &Connection, kind: Tagged, entity_id: &str, tag_id: &str) -> ApiResult<()> {
    conn.prepare_cached(&format!(
        "DELETE FROM {} WHERE entity_id = ? AND tag_id = ?",
        kind.table()
    ))?
    .execute(params![entity_id, tag_id])?;
    Ok(())
}

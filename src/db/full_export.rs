//! The SQL of the full export and import: a section's rows written out as JSON objects, and a
//! document's row checked against the table's columns and inserted as it is.

use std::io::Write;

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, ErrorCode};
use serde_json::{Map, Value};

use crate::domain::full_export::{path, Section, FORMAT, HISTORY_SECTIONS, SECTIONS, VERSION};
use crate::error::{ApiError, ApiResult};

/// A column as the document carries it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    integer: bool,
    required: bool,
    json: bool,
}

/// The columns of a section's table that the document carries, in table order.
pub fn columns(conn: &Connection, section: &Section) -> ApiResult<Vec<Column>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", section.table))?;
    let rows = stmt.query_map([], |r| {
        let name: String = r.get(1)?;
        let decl: String = r.get(2)?;
        let not_null: bool = r.get(3)?;
        let default: Option<String> = r.get(4)?;
        let pk: i64 = r.get(5)?;
        Ok(Column {
            json: section.json_columns.contains(&name.as_str()),
            integer: decl.eq_ignore_ascii_case("INTEGER"),
            // An INTEGER PRIMARY KEY (the journal's seq) is given by SQLite when absent.
            required: not_null && default.is_none() && !(pk == 1 && decl == "INTEGER"),
            name,
        })
    })?;
    let mut out = Vec::new();
    for c in rows {
        let c = c?;
        if !section.hidden.contains(&c.name.as_str()) {
            out.push(c);
        }
    }
    Ok(out)
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::internal(format!("cannot write the export: {e}"))
}

/// Writes the whole document to `out`, one row per line, from `conn`'s snapshot.
pub fn write_document(
    conn: &Connection,
    with_history: bool,
    exported_at: &str,
    out: &mut dyn Write,
) -> ApiResult<()> {
    let head = serde_json::json!({
        "format": FORMAT,
        "version": VERSION,
        "exported_at": exported_at,
        "organization_id": super::organizations::id(conn)?,
        "with_history": with_history,
    });
    let head = serde_json::to_string(&head).map_err(ApiError::internal)?;
    out.write_all(head.trim_end_matches('}').as_bytes())
        .map_err(io)?;
    let sections = SECTIONS
        .iter()
        .chain(HISTORY_SECTIONS.iter().filter(|_| with_history));
    for section in sections {
        write!(out, ",\n\"{}\": [", section.name).map_err(io)?;
        write_rows(conn, section, out)?;
        out.write_all(b"]").map_err(io)?;
    }
    out.write_all(b"\n}\n").map_err(io)?;
    out.flush().map_err(io)
}

fn write_rows(conn: &Connection, section: &Section, out: &mut dyn Write) -> ApiResult<()> {
    let columns = columns(conn, section)?;
    let versions = super::versions::VERSION_TABLES.contains(&section.table);
    let mut select: Vec<String> = columns
        .iter()
        .map(|c| match versions {
            // Read back what a version stores as '' (the sort uses these names, too).
            true => format!(
                "{} AS {}",
                super::versions::read_column("t", &c.name),
                c.name
            ),
            false => format!("t.{}", c.name),
        })
        .collect();
    let journal = section.table == "changes";
    if journal {
        // Not written out, but how an entry's stored images are found.
        select.push("t.seq".into());
    }
    if let Some(tags) = section.tags {
        select.push(format!(
            "(SELECT json_group_array(tag_id) FROM \
             (SELECT tag_id FROM {tags} WHERE entity_id = t.id ORDER BY ord))"
        ));
    }
    let sql = format!(
        "SELECT {} FROM {} t WHERE {} ORDER BY {}",
        select.join(", "),
        section.table,
        section.only.unwrap_or("1"),
        section.order
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut first = true;
    let mut shapes = super::history_fold::Shapes::default();
    while let Some(r) = rows.next()? {
        let mut row = Map::with_capacity(select.len());
        for (i, c) in columns.iter().enumerate() {
            row.insert(c.name.clone(), value_of(r.get_ref(i)?, c.json));
        }
        if section.tags.is_some() {
            row.insert("tag_ids".into(), value_of(r.get_ref(columns.len())?, true));
        }
        if journal {
            let seq: i64 = r.get(columns.len())?;
            super::history_fold::unfold_row(conn, &mut shapes, seq, &mut row)?;
        }
        out.write_all(if first { b"\n  " } else { b",\n  " })
            .map_err(io)?;
        first = false;
        serde_json::to_writer(&mut *out, &row).map_err(ApiError::internal)?;
    }
    if !first {
        out.write_all(b"\n").map_err(io)?;
    }
    Ok(())
}

fn value_of(v: ValueRef, json: bool) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => {
            let text = String::from_utf8_lossy(t);
            match json.then(|| serde_json::from_str(&text).ok()).flatten() {
                Some(parsed) => parsed,
                None => Value::String(text.into_owned()),
            }
        }
        ValueRef::Blob(_) => Value::Null,
    }
}

/// Inserts the document's row `index` of `section` as it is: every key a column of the table,
/// every value of the column's type, then the constraints of the schema. Errors name the path.
pub fn insert_row(
    conn: &Connection,
    section: &Section,
    columns: &[Column],
    index: usize,
    row: &Map<String, Value>,
) -> ApiResult<()> {
    let at = |field: &str| path(section.name, index, Some(field));
    for key in row.keys() {
        let known =
            columns.iter().any(|c| &c.name == key) || (key == "tag_ids" && section.tags.is_some());
        if !known {
            return Err(ApiError::validation(
                at(key),
                format!("\"{key}\" is not a field of {}", section.name),
            ));
        }
    }
    let mut names = Vec::with_capacity(columns.len());
    let mut values = Vec::with_capacity(columns.len());
    for c in columns {
        match row.get(&c.name) {
            None if c.required => {
                return Err(ApiError::validation(
                    at(&c.name),
                    format!("\"{}\" is required", c.name),
                ))
            }
            None => continue,
            Some(v) => {
                names.push(c.name.as_str());
                values.push(sql_value(c, v).map_err(|m| ApiError::validation(at(&c.name), m))?);
            }
        }
    }
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        section.table,
        names.join(", "),
        vec!["?"; names.len()].join(", ")
    );
    let inserted = conn
        .prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values.iter()));
    if let Err(e) = inserted {
        return Err(refusal(conn, section, index, row, e));
    }
    if let Some(tags) = section.tags {
        let ids = match row.get("tag_ids") {
            None | Some(Value::Null) => &Vec::new(),
            Some(Value::Array(ids)) => ids,
            Some(_) => {
                return Err(ApiError::validation(
                    at("tag_ids"),
                    "tag_ids must be an array of tag ids",
                ))
            }
        };
        let entity = row.get("id").and_then(Value::as_str).unwrap_or_default();
        for (ord, id) in ids.iter().enumerate() {
            let field = at(&format!("tag_ids[{ord}]"));
            let id = id
                .as_str()
                .ok_or_else(|| ApiError::validation(&field, "A tag id is a string"))?;
            let done = conn
                .prepare_cached(&format!(
                    "INSERT INTO {tags} (entity_id, tag_id, ord) VALUES (?, ?, ?)"
                ))?
                .execute(rusqlite::params![entity, id, ord as i64]);
            if let Err(e) = done {
                return Err(match e.sqlite_error_code() {
                    Some(ErrorCode::ConstraintViolation)
                        if super::tags::first_missing(conn, &[id.to_string()])?.is_some() =>
                    {
                        ApiError::validation(&field, format!("Tag {id} does not exist"))
                    }
                    Some(ErrorCode::ConstraintViolation) => {
                        ApiError::validation(&field, format!("Tag {id} is given twice"))
                    }
                    _ => e.into(),
                });
            }
        }
    }
    Ok(())
}

fn sql_value(c: &Column, v: &Value) -> Result<SqlValue, String> {
    Ok(match v {
        Value::Null if c.required => return Err(format!("\"{}\" cannot be null", c.name)),
        Value::Null => SqlValue::Null,
        _ if c.json => SqlValue::Text(v.to_string()),
        Value::Bool(b) if c.integer => SqlValue::Integer(*b as i64),
        Value::Number(n) if c.integer => SqlValue::Integer(
            n.as_i64()
                .ok_or_else(|| format!("\"{}\" must be an integer", c.name))?,
        ),
        Value::String(s) if !c.integer => SqlValue::Text(s.clone()),
        _ if c.integer => return Err(format!("\"{}\" must be an integer", c.name)),
        _ => return Err(format!("\"{}\" must be a string", c.name)),
    })
}

/// What the schema said no to, located in the document.
fn refusal(
    conn: &Connection,
    section: &Section,
    index: usize,
    row: &Map<String, Value>,
    e: rusqlite::Error,
) -> ApiError {
    let message = e.to_string();
    if e.sqlite_error_code() != Some(ErrorCode::ConstraintViolation) {
        return e.into();
    }
    let at = |field: Option<&str>| path(section.name, index, field);
    if let Some(cols) = message
        .strip_prefix("UNIQUE constraint failed: ")
        .map(|rest| rest.split(", ").collect::<Vec<_>>())
    {
        let fields: Vec<&str> = cols
            .iter()
            .filter_map(|c| c.split_once('.').map(|(_, f)| f))
            .collect();
        let field = fields.last().copied().unwrap_or("id");
        let described = fields
            .iter()
            .map(|f| {
                format!(
                    "{f} {}",
                    row.get(*f).map(Value::to_string).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        return ApiError::conflict(format!(
            "Another row of {} already has {described}",
            section.name
        ))
        .with_field(at(Some(field)));
    }
    if message.contains("FOREIGN KEY") {
        if let Ok(Some((field, table, id))) = missing_referent(conn, section, row) {
            return ApiError::validation(
                at(Some(&field)),
                format!("No row of {table} has id {id}"),
            )
            .with_param(&field, id);
        }
    }
    ApiError::validation(
        at(None),
        format!("The row breaks a rule of the schema: {message}"),
    )
}

/// The first reference of `row` whose target does not exist: `(field, table, id)`.
fn missing_referent(
    conn: &Connection,
    section: &Section,
    row: &Map<String, Value>,
) -> ApiResult<Option<(String, String, String)>> {
    let mut stmt = conn.prepare(&format!("PRAGMA foreign_key_list({})", section.table))?;
    let keys = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (table, from, to) in keys {
        let Some(id) = row.get(&from).and_then(Value::as_str) else {
            continue;
        };
        let to = to.unwrap_or_else(|| "id".into());
        let found: bool = conn.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE {to} = ?)"),
            [id],
            |r| r.get(0),
        )?;
        if !found {
            return Ok(Some((from, table, id.to_string())));
        }
    }
    Ok(None)
}

/// Whether the database holds no networks and no tags: an import may then give it the
/// document's organization id.
pub fn is_empty(conn: &Connection) -> ApiResult<bool> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM networks) AND NOT EXISTS (SELECT 1 FROM tags)",
        [],
        |r| r.get(0),
    )?)
}

pub fn set_organization(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.execute(
        "UPDATE settings SET value = ? WHERE key = 'organization_id'",
        [id],
    )?;
    Ok(())
}

/// Imported hooks hear what happens from now on, not the imported journal.
pub fn start_hooks_at_journal_end(conn: &Connection, ids: &[String]) -> ApiResult<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE webhooks SET cursor = (SELECT coalesce(max(seq), 0) FROM changes) WHERE id = ?",
    )?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

/// A subnet's network and CIDR, for the addresses an import places in it.
pub fn subnet(conn: &Connection, id: &str) -> ApiResult<Option<(String, String)>> {
    super::optional(
        conn.prepare_cached("SELECT network_id, cidr FROM subnets WHERE id = ?")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?))),
    )
}

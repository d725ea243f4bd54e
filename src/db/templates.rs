//! Service templates. Field names on the wire are camelCase, as in seed 003.

use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::{Map, Value};

use super::query::{paged, Filter, PageRequest};
use super::{json_column, optional, or_not_found};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    #[schema(read_only, format = Uuid)]
    pub id: String,
    pub name: String,
    pub container_image_id: String,
    pub image_tag: String,
    pub compose_template: Option<String>,
    pub health_check_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub base_env: Option<Map<String, Value>>,
    pub deploy_strategy: String,
    pub service_type_id: Option<String>,
    pub health_wait_ms: i64,
    pub health_retries: i64,
    pub health_interval_ms: i64,
    #[schema(read_only, value_type = Vec<crate::domain::compose::ExposedPort>)]
    pub exposed_ports: Value,
    #[schema(read_only)]
    pub compose_path: String,
    #[schema(read_only, format = DateTime)]
    pub created_at: String,
    #[schema(read_only, format = DateTime)]
    pub updated_at: String,
}

/// Where a deployment would write the rendered compose file.
pub fn compose_path(id: &str) -> String {
    format!("stacks/{id}/compose.yaml")
}

const COLUMNS: &str = "t.id, t.name, t.container_image_id, t.image_tag, t.compose_template, t.health_check_url, \
                       t.base_env, t.deploy_strategy, t.service_type_id, t.health_wait_ms, t.health_retries, \
                       t.health_interval_ms, t.exposed_ports, t.created_at, t.updated_at";

fn from_row(r: &Row) -> rusqlite::Result<Template> {
    let id: String = r.get(0)?;
    let base_env = match json_column(r, 6)? {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    Ok(Template {
        compose_path: compose_path(&id),
        id,
        name: r.get(1)?,
        container_image_id: r.get(2)?,
        image_tag: r.get(3)?,
        compose_template: r.get(4)?,
        health_check_url: r.get(5)?,
        base_env,
        deploy_strategy: r.get(7)?,
        service_type_id: r.get(8)?,
        health_wait_ms: r.get(9)?,
        health_retries: r.get(10)?,
        health_interval_ms: r.get(11)?,
        exposed_ports: json_column(r, 12)?.unwrap_or(Value::Array(Vec::new())),
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
    })
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Template> {
    let sql = format!("SELECT {COLUMNS} FROM service_templates t WHERE t.id = ?");
    or_not_found(
        conn.prepare_cached(&sql)?.query_row([id], from_row),
        "Service template",
    )
}

pub fn id_by_name(conn: &Connection, name: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached("SELECT id FROM service_templates WHERE name = ?")?
            .query_row([name], |r| r.get(0)),
    )
}

pub struct TemplateFilter {
    pub service_type_id: Option<String>,
    pub q: Option<String>,
}

pub fn list(
    conn: &Connection,
    f: &TemplateFilter,
    order_by: &str,
    page: PageRequest,
) -> ApiResult<(Vec<Template>, u64)> {
    let mut filter = Filter::new();
    filter
        .eq_opt("t.service_type_id", f.service_type_id.clone())
        .search(&["t.name", "t.container_image_id"], f.q.as_deref());
    paged(
        conn,
        COLUMNS,
        "service_templates t",
        &filter,
        order_by,
        page,
        from_row,
    )
}

fn env_text(t: &Template) -> Option<String> {
    t.base_env
        .as_ref()
        .map(|m| Value::Object(m.clone()).to_string())
}

pub fn insert(conn: &Connection, t: &Template) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO service_templates (id, name, container_image_id, image_tag, compose_template, health_check_url,
             base_env, deploy_strategy, service_type_id, health_wait_ms, health_retries, health_interval_ms,
             exposed_ports, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        t.id, t.name, t.container_image_id, t.image_tag, t.compose_template, t.health_check_url,
        env_text(t), t.deploy_strategy, t.service_type_id, t.health_wait_ms, t.health_retries,
        t.health_interval_ms, t.exposed_ports.to_string(), t.created_at, t.updated_at
    ])?;
    Ok(())
}

pub fn update(conn: &Connection, t: &Template) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE service_templates SET name = ?, container_image_id = ?, image_tag = ?, compose_template = ?,
             health_check_url = ?, base_env = ?, deploy_strategy = ?, service_type_id = ?, health_wait_ms = ?,
             health_retries = ?, health_interval_ms = ?, exposed_ports = ?, updated_at = ?
         WHERE id = ?",
    )?
    .execute(params![
        t.name, t.container_image_id, t.image_tag, t.compose_template, t.health_check_url, env_text(t),
        t.deploy_strategy, t.service_type_id, t.health_wait_ms, t.health_retries, t.health_interval_ms,
        t.exposed_ports.to_string(), t.updated_at, t.id
    ])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> ApiResult<()> {
    conn.prepare_cached("DELETE FROM service_templates WHERE id = ?")?
        .execute([id])?;
    Ok(())
}

/// Ids of the templates of a service type, for the 409 on deleting the type.
pub fn using_type(conn: &Connection, service_type_id: &str) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM service_templates WHERE service_type_id = ? ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([service_type_id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

pub fn clear_type(conn: &Connection, service_type_id: &str, now: &str) -> ApiResult<()> {
    conn.prepare_cached("UPDATE service_templates SET service_type_id = NULL, updated_at = ? WHERE service_type_id = ?")?
        .execute(params![now, service_type_id])?;
    Ok(())
}

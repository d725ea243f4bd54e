//! Deployments and their targets (one per host).

use rusqlite::types::Value as Sql;
use rusqlite::{params, Connection, Row};
use serde::Serialize;
use serde_json::Value as Json;

use super::query::{json_ids, paged, Filter, PageRequest, Scope};
use super::{json_column, optional, or_not_found};
use crate::error::ApiResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deployment {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub template_id: String,
    pub template_name: String,
    /// `containerImageId:imageTag`.
    pub image: String,
    pub host_ids: Vec<String>,
    /// The environment it runs with: `baseEnv`, the request's `env`, `IMAGE` and `TAG`.
    #[schema(value_type = Object)]
    pub env: Json,
    /// `sequential` or `parallel`.
    pub strategy: String,
    /// `apply` or `plan`.
    pub mode: String,
    /// `queued`, `running`, `healthy`, `failed`, `rolled_back`, `cancelled` or `undeployed`.
    pub status: String,
    pub targets: Vec<Target>,
    /// The rendered compose file.
    pub compose: String,
    /// Per host: the services and bindings it makes, and any conflict; `null` once applied
    /// without a plan.
    #[schema(value_type = Option<Vec<Object>>)]
    pub plan: Option<Json>,
    /// The template's health check as the deployment runs it.
    #[schema(value_type = Object)]
    pub health: Json,
    #[schema(value_type = Object)]
    pub created_by: Json,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    #[serde(skip)]
    pub cancelled: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Target {
    #[schema(format = Uuid)]
    pub host_id: String,
    #[schema(format = Uuid)]
    pub agent_id: Option<String>,
    /// `pending`, `starting`, `checking`, `healthy`, `failed`, `rolled_back` or `skipped`.
    pub status: String,
    /// The inventory service it made (the first, when the file has several services).
    #[schema(format = Uuid)]
    pub service_id: Option<String>,
    pub service_ids: Vec<String>,
    /// Health checks made.
    pub attempts: i64,
    pub error: Option<String>,
    /// The last 200 lines of compose output.
    pub log: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// What the agent does next: `up` or `down`.
    pub job: String,
    #[serde(skip)]
    pub position: i64,
    #[serde(skip)]
    pub network_id: String,
    #[serde(skip)]
    pub job_id: String,
    /// `waiting` (its turn has not come), `queued`, `claimed` (an agent works on it), `done`.
    #[serde(skip)]
    pub job_state: String,
    /// What the services it replaced were before, to restore them if it fails.
    #[serde(skip)]
    pub previous: Json,
    #[serde(skip)]
    pub heard_at: Option<String>,
}

const COLUMNS: &str = "d.id, d.template_id, d.template_name, d.image, d.env, d.strategy, d.mode, d.status, \
                       d.compose, d.plan, d.health, d.cancelled, d.created_by, d.created_at, d.finished_at";

fn from_row(r: &Row) -> rusqlite::Result<Deployment> {
    Ok(Deployment {
        id: r.get(0)?,
        template_id: r.get(1)?,
        template_name: r.get(2)?,
        image: r.get(3)?,
        host_ids: Vec::new(),
        env: json_column(r, 4)?.unwrap_or(Json::Null),
        strategy: r.get(5)?,
        mode: r.get(6)?,
        status: r.get(7)?,
        targets: Vec::new(),
        compose: r.get(8)?,
        plan: json_column(r, 9)?,
        health: json_column(r, 10)?.unwrap_or(Json::Null),
        cancelled: r.get(11)?,
        created_by: json_column(r, 12)?.unwrap_or(Json::Null),
        created_at: r.get(13)?,
        finished_at: r.get(14)?,
    })
}

const TARGET_COLUMNS: &str = "deployment_id, position, host_id, network_id, agent_id, job_id, job, job_state, \
                              status, services, previous, attempts, error, log, started_at, finished_at, heard_at";

fn target_from_row(r: &Row) -> rusqlite::Result<(String, Target)> {
    let services: Vec<String> = json_column(r, 9)?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    Ok((
        r.get(0)?,
        Target {
            position: r.get(1)?,
            host_id: r.get(2)?,
            network_id: r.get(3)?,
            agent_id: r.get(4)?,
            job_id: r.get(5)?,
            job: r.get(6)?,
            job_state: r.get(7)?,
            status: r.get(8)?,
            service_id: services.first().cloned(),
            service_ids: services,
            previous: json_column(r, 10)?.unwrap_or(Json::Array(Vec::new())),
            attempts: r.get(11)?,
            error: r.get(12)?,
            log: r.get(13)?,
            started_at: r.get(14)?,
            finished_at: r.get(15)?,
            heard_at: r.get(16)?,
        },
    ))
}

/// Fills each deployment's targets and host ids, in one statement for the page.
fn with_targets(conn: &Connection, mut list: Vec<Deployment>) -> ApiResult<Vec<Deployment>> {
    let ids: Vec<String> = list.iter().map(|d| d.id.clone()).collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TARGET_COLUMNS} FROM deployment_targets
         WHERE deployment_id IN (SELECT value FROM json_each(?)) ORDER BY deployment_id, position"
    ))?;
    let rows = stmt
        .query_map([json_ids(&ids)], target_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (deployment_id, target) in rows {
        if let Some(d) = list.iter_mut().find(|d| d.id == deployment_id) {
            d.host_ids.push(target.host_id.clone());
            d.targets.push(target);
        }
    }
    Ok(list)
}

pub fn get(conn: &Connection, id: &str) -> ApiResult<Deployment> {
    let d = or_not_found(
        conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM deployments d WHERE d.id = ?"
        ))?
        .query_row([id], from_row),
        "Deployment",
    )?;
    Ok(with_targets(conn, vec![d])?.remove(0))
}

#[derive(Debug, Default)]
pub struct DeploymentFilter {
    pub host_id: Option<String>,
    pub template_id: Option<String>,
    pub status: Option<String>,
}

/// Deployments newest first; a key scoped to networks sees those whose every host is in them.
pub fn list(
    conn: &Connection,
    scope: &Scope,
    f: &DeploymentFilter,
    page: PageRequest,
) -> ApiResult<(Vec<Deployment>, u64)> {
    let mut filter = Filter::new();
    if let Some(networks) = scope {
        filter.clause(
            "NOT EXISTS (SELECT 1 FROM deployment_targets t WHERE t.deployment_id = d.id
               AND t.network_id NOT IN (SELECT value FROM json_each(?)))",
            vec![Sql::Text(json_ids(networks))],
        );
    }
    if let Some(host) = &f.host_id {
        filter.clause(
            "EXISTS (SELECT 1 FROM deployment_targets t WHERE t.deployment_id = d.id AND t.host_id = ?)",
            vec![Sql::Text(host.clone())],
        );
    }
    filter
        .eq_opt("d.template_id", f.template_id.clone())
        .eq_opt("d.status", f.status.clone());
    let (page, total) = paged(
        conn,
        COLUMNS,
        "deployments d",
        &filter,
        "d.created_at DESC, d.id DESC",
        page,
        from_row,
    )?;
    Ok((with_targets(conn, page)?, total))
}

pub fn insert(conn: &Connection, d: &Deployment) -> ApiResult<()> {
    conn.prepare_cached(
        "INSERT INTO deployments (id, template_id, template_name, image, env, strategy, mode, status,
           compose, plan, health, cancelled, created_by, created_at, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        d.id,
        d.template_id,
        d.template_name,
        d.image,
        d.env.to_string(),
        d.strategy,
        d.mode,
        d.status,
        d.compose,
        d.plan.as_ref().map(Json::to_string),
        d.health.to_string(),
        d.cancelled,
        d.created_by.to_string(),
        d.created_at,
        d.finished_at,
    ])?;
    for t in &d.targets {
        conn.prepare_cached(&format!(
            "INSERT INTO deployment_targets ({TARGET_COLUMNS})
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))?
        .execute(params![
            d.id,
            t.position,
            t.host_id,
            t.network_id,
            t.agent_id,
            t.job_id,
            t.job,
            t.job_state,
            t.status,
            serde_json::to_string(&t.service_ids).unwrap_or_default(),
            t.previous.to_string(),
            t.attempts,
            t.error,
            t.log,
            t.started_at,
            t.finished_at,
            t.heard_at,
        ])?;
    }
    Ok(())
}

/// Stores the deployment's own fields (not its targets').
pub fn update(conn: &Connection, d: &Deployment) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE deployments SET mode = ?, status = ?, plan = ?, cancelled = ?, finished_at = ? WHERE id = ?",
    )?
    .execute(params![
        d.mode,
        d.status,
        d.plan.as_ref().map(Json::to_string),
        d.cancelled,
        d.finished_at,
        d.id
    ])?;
    Ok(())
}

pub fn update_target(conn: &Connection, deployment_id: &str, t: &Target) -> ApiResult<()> {
    conn.prepare_cached(
        "UPDATE deployment_targets SET agent_id = ?, job_id = ?, job = ?, job_state = ?, status = ?, services = ?,
           previous = ?, attempts = ?, error = ?, log = ?, started_at = ?, finished_at = ?, heard_at = ?
         WHERE deployment_id = ? AND position = ?",
    )?
    .execute(params![
        t.agent_id,
        t.job_id,
        t.job,
        t.job_state,
        t.status,
        serde_json::to_string(&t.service_ids).unwrap_or_default(),
        t.previous.to_string(),
        t.attempts,
        t.error,
        t.log,
        t.started_at,
        t.finished_at,
        t.heard_at,
        deployment_id,
        t.position,
    ])?;
    Ok(())
}

/// The deployment of the agent's oldest queued job, and the job's id.
pub fn next_job(conn: &Connection, agent_id: &str) -> ApiResult<Option<(String, String)>> {
    optional(
        conn.prepare_cached(
            "SELECT deployment_id, job_id FROM deployment_targets
             WHERE agent_id = ? AND job_state = 'queued' ORDER BY rowid LIMIT 1",
        )?
        .query_row([agent_id], |r| Ok((r.get(0)?, r.get(1)?))),
    )
}

/// The deployment whose target has job `job_id`.
pub fn of_job(conn: &Connection, job_id: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached("SELECT deployment_id FROM deployment_targets WHERE job_id = ?")?
            .query_row([job_id], |r| r.get(0)),
    )
}

/// Deployments with a job claimed by an agent that has not been heard of since `before`.
pub fn silent_jobs(conn: &Connection, before: &str) -> ApiResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT deployment_id FROM deployment_targets
         WHERE job_state = 'claimed' AND (heard_at IS NULL OR heard_at < ?)",
    )?;
    let rows = stmt
        .query_map([before], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

/// The service an earlier deployment of `template_id` left on a host for `compose_service`.
pub fn deployed_service(
    conn: &Connection,
    host_id: &str,
    template_id: &str,
    compose_service: &str,
) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT id FROM services WHERE host_id = ?
               AND json_extract(source, '$.type') = 'Deployment'
               AND json_extract(source, '$.details.template_id') = ?
               AND json_extract(source, '$.details.compose_service') = ?
             ORDER BY created_at LIMIT 1",
        )?
        .query_row([host_id, template_id, compose_service], |r| r.get(0)),
    )
}

/// The deployed service on a host that runs compose project `project`'s service `service`,
/// with its source: the agent's report adds the container to it.
pub fn service_of_container(
    conn: &Connection,
    host_id: &str,
    key: &str,
) -> ApiResult<Option<(String, Json)>> {
    optional(
        conn.prepare_cached(
            "SELECT id, source FROM services WHERE host_id = ?
               AND json_extract(source, '$.type') = 'Deployment'
               AND json_extract(source, '$.details.container_key') = ?
             ORDER BY created_at LIMIT 1",
        )?
        .query_row([host_id, key], |r| {
            Ok((r.get(0)?, json_column(r, 1)?.unwrap_or(Json::Null)))
        }),
    )
}

/// Sets a service's source alone (the container an agent found for a deployed service): the
/// source is not a state field, so no version is made.
pub fn set_service_source(conn: &Connection, service_id: &str, source: &Json) -> ApiResult<()> {
    conn.prepare_cached("UPDATE services SET source = ? WHERE id = ?")?
        .execute(params![source.to_string(), service_id])?;
    Ok(())
}

/// The address `ip` of a host, by id.
pub fn address_on_host(conn: &Connection, host_id: &str, ip: &str) -> ApiResult<Option<String>> {
    optional(
        conn.prepare_cached(
            "SELECT id FROM ip_addresses WHERE host_id = ? AND ip_address = ? ORDER BY created_at LIMIT 1",
        )?
        .query_row([host_id, ip], |r| r.get(0)),
    )
}

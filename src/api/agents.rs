//! `/api/v1/agents` (records: read Viewer, write Admin), `/api/v1/agent/report` (agent tokens
//! only), and the 0.17 clients' names for them: `/api/v1/daemons` and `/api/v1/auth/daemon`.

use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{list_response, on, Routes};
use crate::auth::{AgentAuth, Auth};
use crate::db::agents::{self as records, Agent, AgentFilter, Capabilities};
use crate::db::api_keys::MASK;
use crate::domain::agent_report::{Report, MAX_BYTES};
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::domain::text::Name;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::agent_report::{self, Announced};
use crate::ops::agents::{self, AgentInput, CreatedAgent};
use crate::ops::journal::Writer;
use crate::state::AppState;

pub fn routes(r: &mut Routes) {
    let base = "/api/v1/agents";
    r.at(base, [on(Method::GET, list), on(Method::POST, create)])
        .at(
            &format!("{base}/{{id}}"),
            [
                on(Method::GET, get),
                on(Method::PUT, update),
                on(Method::DELETE, delete),
            ],
        )
        .at(&format!("{base}/{{id}}/rotate"), [on(Method::POST, rotate)])
        .at_sized(
            "/api/v1/agent/report",
            MAX_BYTES,
            [on(Method::POST, report)],
        )
        .at("/api/v1/agent/jobs", [on(Method::GET, jobs)])
        .at(
            "/api/v1/agent/jobs/{id}/progress",
            [on(Method::POST, job_progress)],
        )
        .at_sized(
            "/api/v1/agent/jobs/{id}/result",
            MAX_BYTES,
            [on(Method::POST, job_result)],
        )
        .at("/api/v1/daemons", [on(Method::GET, daemons)])
        .at("/api/v1/daemons/{id}", [on(Method::GET, daemon)])
        .at(
            "/api/v1/auth/daemon",
            [
                on(Method::GET, daemon_keys),
                on(Method::POST, create_daemon_key),
            ],
        )
        .at(
            "/api/v1/auth/daemon/{id}",
            [on(Method::DELETE, delete_daemon_key)],
        );
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AgentInput)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// Required on create; on update it must be the agent's own network, or left out.
    #[serde(default)]
    #[schema(format = Uuid)]
    network_id: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "host_id")]
    _host_id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "machine_id")]
    _machine_id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "version")]
    _version: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "capabilities")]
    _capabilities: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "last_seen_at")]
    _last_seen_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "last_report")]
    _last_report: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "silent")]
    _silent: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "tags")]
    _tags: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_by")]
    _created_by: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

/// The peer's body for `POST /api/v1/auth/daemon`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DaemonKeyBody {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[schema(format = Uuid)]
    network_id: String,
}

fn name_of(name: &str) -> ApiResult<Name> {
    Name::parse(name, 100).map_err(|e| e.at("name"))
}

/// A page of the agents the key sees, in any of the three shapes (agents, daemons, keys).
async fn page_of<T: Serialize>(
    state: &AppState,
    auth: &Auth,
    req: &HttpRequest,
    searchable: bool,
    shape: impl Fn(Agent) -> T,
) -> ApiResult<HttpResponse> {
    let q = QueryParams::from_request(req)?;
    let page = q.page()?;
    let filter = AgentFilter {
        network_id: q.uuid("network_id")?,
        q: if searchable { q.text("q") } else { None },
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| records::list(c, &scope, &filter, page))
        .await?;
    let items: Vec<T> = items.into_iter().map(shape).collect();
    Ok(list_response(&items, page, total))
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    page_of(&state, &auth, &req, true, |a| a).await
}

async fn load(state: &AppState, auth: &Principal, id: &str) -> ApiResult<Agent> {
    let id = parse_uuid(id, "id")?;
    let agent = state.db.read(move |c| records::get(c, &id)).await?;
    auth.check_network(&agent.network_id)?;
    Ok(agent)
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    Ok(envelope::ok(&load(&state, &auth, &path).await?))
}

/// A created agent as answered, and as a replay answers it: without the token.
fn created_reply(created: &CreatedAgent) -> Reply {
    let redacted = CreatedAgent {
        token: MASK.to_string(),
        ..created.clone()
    };
    Reply::created(format!("/api/v1/agents/{}", created.agent.id), created)
        .secret_shown_once(&redacted)
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let b = body.parse::<AgentBody>()?;
    let network_id = match &b.network_id {
        Some(n) => parse_uuid(n, "network_id")?,
        None => return Err(ApiError::validation("network_id", "network_id is required")),
    };
    let input = AgentInput {
        name: name_of(&b.name)?,
        network_id,
        enabled: b.enabled.unwrap_or(true),
    };
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        Ok(created_reply(&agents::create(tx, who, input)?))
    })
    .await
}

async fn update(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = path_id(&path)?;
    let b = body.parse::<AgentBody>()?;
    let name = name_of(&b.name)?;
    let network = b
        .network_id
        .as_deref()
        .map(|n| parse_uuid(n, "network_id"))
        .transpose()?;
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        let stored = agents::reachable(tx, who, &id)?;
        if network.as_ref().is_some_and(|n| *n != stored.network_id) {
            return Err(ApiError::validation(
                "network_id",
                "An agent stays in its network: create a new agent for another one",
            ));
        }
        let enabled = b.enabled.unwrap_or(stored.enabled);
        Ok(Reply::ok(&agents::update(tx, who, &id, name, enabled)?))
    })
    .await
}

async fn delete(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = path_id(&path)?;
    super::write::write_as(&state, &req, auth.0, move |tx, who| {
        agents::delete(tx, who, &id)
    })
    .await?;
    Ok(envelope::deleted())
}

async fn rotate(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = path_id(&path)?;
    write_reply(&state, &req, auth.0, None, move |tx, who| {
        let rotated = agents::rotate(tx, who, &id)?;
        let redacted = CreatedAgent {
            token: MASK.to_string(),
            ..rotated.clone()
        };
        Ok(Reply::ok(&rotated).secret_shown_once(&redacted))
    })
    .await
}

/// `X-Portolan-Agent-Capabilities: docker,scan` and `X-Portolan-Agent-Interval: 60`.
fn announced(req: &HttpRequest) -> ApiResult<Announced> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let mut capabilities = Capabilities::default();
    for c in header("x-portolan-agent-capabilities")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        match c {
            "docker" => capabilities.docker = true,
            "scan" => capabilities.scan = true,
            "deploy" => capabilities.deploy = true,
            other => {
                return Err(ApiError::validation(
                    "X-Portolan-Agent-Capabilities",
                    format!("\"{other}\" is not one of docker, scan, deploy"),
                ))
            }
        }
    }
    let interval_s = match header("x-portolan-agent-interval") {
        None => 60,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|s| (1..=86_400).contains(s))
            .ok_or_else(|| {
                ApiError::validation(
                    "X-Portolan-Agent-Interval",
                    "seconds between reports, 1 to 86400",
                )
            })?,
    };
    Ok(Announced {
        capabilities,
        interval_s,
    })
}

async fn report(
    state: web::Data<AppState>,
    agent: AgentAuth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let report = body.parse::<Report>()?;
    report.check()?;
    let announced = announced(&req)?;
    let agent = agent.0;
    let request_id = req
        .extensions()
        .get::<crate::request_log::RequestId>()
        .map(|r| r.0.clone());
    let who = Principal::agent(&agent.id, &agent.name, &agent.network_id);
    let outcome = state
        .db
        .write(move |tx| {
            let mut writer = Writer::begin(tx, who, request_id)?;
            agent_report::reconcile(tx, &mut writer, &agent, &report, &announced)
        })
        .await?;
    if outcome.changed {
        log::info!(
            "agent report: host {} changed ({:?})",
            outcome.host_id,
            outcome.summary
        );
    }
    Ok(envelope::ok(&outcome))
}

/// An agent in the 0.17 clients' daemon shape.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Daemon {
    #[schema(format = Uuid)]
    id: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    #[schema(format = Uuid)]
    host_id: Option<String>,
    #[schema(format = Uuid)]
    network_id: String,
    name: String,
    /// Always `daemon_poll`: agents call the server, never the reverse.
    mode: &'static str,
    url: Option<String>,
    #[schema(value_type = Vec<uuid::Uuid>)]
    tags: Vec<String>,
    os: Option<String>,
    version: Option<String>,
    #[schema(format = DateTime)]
    last_seen: Option<String>,
    is_unreachable: bool,
    #[schema(format = Uuid)]
    api_key_id: String,
}

impl From<Agent> for Daemon {
    fn from(a: Agent) -> Self {
        let os = a
            .last_report
            .as_ref()
            .and_then(|r| r.get("os"))
            .and_then(Value::as_str)
            .map(str::to_string);
        Daemon {
            api_key_id: a.id.clone(),
            id: a.id,
            created_at: a.created_at,
            updated_at: a.updated_at,
            host_id: a.host_id,
            network_id: a.network_id,
            name: a.name,
            mode: "daemon_poll",
            url: None,
            tags: a.tags,
            os,
            version: a.version,
            last_seen: a.last_seen_at,
            is_unreachable: a.silent,
        }
    }
}

async fn daemons(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    page_of(&state, &auth, &req, false, Daemon::from).await
}

async fn daemon(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    Ok(envelope::ok(&Daemon::from(
        load(&state, &auth, &path).await?,
    )))
}

/// An agent's credential in the 0.17 clients' shape: the key is always masked.
#[derive(Serialize, utoipa::ToSchema, Clone)]
pub struct DaemonKey {
    #[schema(format = Uuid)]
    id: String,
    name: String,
    #[schema(format = Uuid)]
    network_id: String,
    key: &'static str,
    #[schema(format = DateTime)]
    last_used: Option<String>,
    is_enabled: bool,
    #[schema(format = Uuid)]
    daemon_id: String,
}

impl From<&Agent> for DaemonKey {
    fn from(a: &Agent) -> Self {
        DaemonKey {
            id: a.id.clone(),
            name: a.name.clone(),
            network_id: a.network_id.clone(),
            key: MASK,
            last_used: a.last_seen_at.clone(),
            is_enabled: a.enabled,
            daemon_id: a.id.clone(),
        }
    }
}

/// `POST /api/v1/auth/daemon`'s answer: the credential and, this once, its token.
#[derive(Serialize, utoipa::ToSchema, Clone)]
pub struct CreatedDaemonKey {
    api_key: DaemonKey,
    key: String,
}

async fn daemon_keys(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    page_of(&state, &auth, &req, false, |a| DaemonKey::from(&a)).await
}

async fn create_daemon_key(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let b = body.parse::<DaemonKeyBody>()?;
    let input = AgentInput {
        name: name_of(&b.name)?,
        network_id: parse_uuid(&b.network_id, "network_id")?,
        enabled: true,
    };
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        let created = agents::create(tx, who, input)?;
        let answer = CreatedDaemonKey {
            api_key: DaemonKey::from(&created.agent),
            key: created.token.clone(),
        };
        let redacted = CreatedDaemonKey {
            key: MASK.to_string(),
            ..answer.clone()
        };
        Ok(
            Reply::created(format!("/api/v1/agents/{}", created.agent.id), &answer)
                .secret_shown_once(&redacted),
        )
    })
    .await
}

async fn delete_daemon_key(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    delete(state, auth, path, req).await
}

/// A scan job as its agent runs it: the addresses already expanded and checked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScanJob {
    #[schema(format = Uuid)]
    id: String,
    /// Always `scan`.
    kind: &'static str,
    #[schema(format = Uuid)]
    network_id: String,
    addresses: Vec<String>,
    ports: Vec<u16>,
    #[schema(value_type = Object)]
    options: Value,
}

/// `GET /api/v1/agent/jobs?wait=30`: the agent's next scan job, waiting up to `wait` seconds
/// (at most 60) for one; `data` is `null` when none came.
async fn jobs(
    state: web::Data<AppState>,
    agent: AgentAuth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let q = QueryParams::from_request(&req)?;
    let wait = match q.one("wait") {
        None => 30,
        Some(w) => w
            .parse::<u64>()
            .ok()
            .filter(|w| *w <= 60)
            .ok_or_else(|| ApiError::validation("wait", "seconds to wait, 0 to 60"))?,
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
    let agent = agent.0;
    let mut look = true;
    loop {
        // Registered before looking, so that a job queued in between still wakes this poll.
        let queued = state.discoveries.jobs.notified();
        if look {
            let who = agent.clone();
            let claimed = state
                .db
                .write(move |tx| {
                    let now = crate::domain::clock::now();
                    // Deployments first: a person waits on them, a scan runs on its own.
                    if let Some(job) = crate::ops::deployments::claim(tx, &who, &now)? {
                        return Ok((Some(job), None));
                    }
                    Ok((None, crate::db::discoveries::claim_job(tx, &who.id, &now)?))
                })
                .await?;
            match claimed {
                (Some(deployment), _) => return Ok(envelope::ok(&deployment)),
                (None, Some(job)) => return Ok(envelope::ok(&scan_job(&state, job).await?)),
                (None, None) => {}
            }
        }
        // Woken by a new job, or every second to see whether the server is stopping.
        let slice = deadline.min(tokio::time::Instant::now() + std::time::Duration::from_secs(1));
        let woken = tokio::time::timeout_at(slice, queued).await.is_ok();
        look = woken;
        let stopping = state.stopping.load(std::sync::atomic::Ordering::Relaxed);
        if stopping || (!woken && tokio::time::Instant::now() >= deadline) {
            return Ok(envelope::ok(&Value::Null));
        }
    }
}

/// The job's addresses, expanded again from its targets (they were checked when it was made).
async fn scan_job(state: &AppState, d: crate::db::discoveries::Discovery) -> ApiResult<ScanJob> {
    let max = state.config.discovery_max_addresses as usize;
    let network = d.network_id.clone();
    let subnets = state
        .db
        .read(move |c| crate::db::discoveries::subnets_of(c, &network))
        .await?;
    let targets = d.targets.clone();
    let addresses = web::block(move || {
        let blocks: Vec<_> = subnets.into_iter().map(|(_, c)| c).collect();
        crate::domain::discovery::expand_targets(&targets, &blocks, max)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(ScanJob {
        id: d.id,
        kind: "scan",
        network_id: d.network_id,
        addresses: addresses.iter().map(ToString::to_string).collect(),
        ports: d.ports,
        options: d.options,
    })
}

async fn own_job(
    state: &AppState,
    agent: &Agent,
    id: &str,
) -> ApiResult<crate::db::discoveries::Discovery> {
    let (agent_id, job) = (agent.id.clone(), parse_uuid(id, "id")?);
    state
        .db
        .read(move |c| crate::db::discoveries::running_job(c, &agent_id, &job))
        .await?
        .ok_or_else(|| {
            ApiError::not_found("Running job of this agent").with_hint(
                "The job finished, failed (its agent was silent too long) or is another agent's",
            )
        })
}

async fn job_progress(
    state: web::Data<AppState>,
    agent: AgentAuth,
    path: web::Path<String>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let progress: crate::domain::discovery::Progress = body.parse()?;
    let mut job = own_job(&state, &agent.0, &path).await?;
    job.progress = progress;
    let (id, stored) = (job.id.clone(), job.progress);
    state
        .db
        .write(move |tx| {
            crate::db::discoveries::job_heard(tx, &id, &stored, &crate::domain::clock::now())
        })
        .await?;
    Ok(envelope::ok(&job))
}

/// What an agent found, or why its scan failed.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobResultBody {
    /// As `POST /api/v1/discoveries` takes them with source `observations`.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    observations: Option<Value>,
    #[serde(default)]
    progress: Option<crate::domain::discovery::Progress>,
    /// The scan could not run; the job fails with this message.
    #[serde(default)]
    error: Option<String>,
}

async fn job_result(
    state: web::Data<AppState>,
    agent: AgentAuth,
    path: web::Path<String>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let b: JobResultBody = body.parse()?;
    let mut observations = match (&b.error, b.observations) {
        (Some(_), _) => Vec::new(),
        (None, Some(raw)) => super::discoveries::parse_observations(raw)?,
        (None, None) => {
            return Err(ApiError::validation(
                "observations",
                "Send the observations, or an error",
            ))
        }
    };
    let mut job = own_job(&state, &agent.0, &path).await?;
    if let Some(p) = b.progress {
        job.progress = p;
    }
    let plan = job.mode == "plan";
    let kept = if let Some(error) = b.error {
        job.status = "failed".into();
        job.error = Some(format!("Agent {}: {error}", agent.0.name));
        job.finished_at = Some(crate::domain::clock::now());
        None
    } else {
        let probed = if job.options["close_missing"] == Value::Bool(true) {
            let expanded = scan_job(&state, job.clone()).await?;
            Some(crate::discovery::Probed {
                addresses: expanded
                    .addresses
                    .iter()
                    .filter_map(|a| a.parse().ok())
                    .collect(),
                ports: expanded.ports,
            })
        } else {
            None
        };
        crate::discovery::names::name_by_ptr(&mut observations, &state.discoveries.dns_servers)
            .await;
        let outcome =
            crate::discovery::reconcile_all(&state.db, &job, observations.clone(), probed, plan)
                .await;
        crate::discovery::finish(&mut job, outcome, plan, &observations)
    };
    let row = job.clone();
    state
        .db
        .write(move |tx| crate::db::discoveries::update(tx, &row, kept.as_ref()))
        .await?;
    Ok(envelope::ok(&job))
}

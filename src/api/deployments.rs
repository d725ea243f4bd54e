//! `/api/v1/deployments` (create, apply, cancel, undeploy: Admin; read: Viewer) and the agents'
//! side of their jobs, `/api/v1/agent/deployment-jobs/{id}/...` (agent tokens only).

use std::time::Duration;

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{list_response, on, Routes};
use crate::auth::{AgentAuth, Auth};
use crate::db::deployments::{self as records, Deployment, DeploymentFilter};
use crate::domain::deployment::{self as rules, TargetStatus};
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::deployments::{self, DeploymentRequest, Outcome, Progress};
use crate::ops::journal::Writer;
use crate::state::AppState;

pub fn routes(r: &mut Routes) {
    let base = "/api/v1/deployments";
    r.at(base, [on(Method::GET, list), on(Method::POST, create)])
        .at(&format!("{base}/{{id}}"), [on(Method::GET, get)])
        .at(&format!("{base}/{{id}}/apply"), [on(Method::POST, apply)])
        .at(&format!("{base}/{{id}}/cancel"), [on(Method::POST, cancel)])
        .at(
            &format!("{base}/{{id}}/undeploy"),
            [on(Method::POST, undeploy)],
        )
        .at(&format!("{base}/{{id}}/events"), [on(Method::GET, events)])
        .at(
            "/api/v1/agent/deployment-jobs/{id}/progress",
            [on(Method::POST, job_progress)],
        )
        .at(
            "/api/v1/agent/deployment-jobs/{id}/result",
            [on(Method::POST, job_result)],
        );
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = DeploymentInput)]
#[serde(deny_unknown_fields)]
pub struct DeploymentBody {
    #[schema(format = Uuid)]
    template_id: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    host_ids: Vec<String>,
    /// Over the template's `baseEnv`; `IMAGE` and `TAG` are always the template's.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    env: Value,
    /// `apply` (the default: reserve and run) or `plan` (check and show, nothing runs).
    #[serde(default)]
    mode: Option<String>,
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let status = q.text("status");
    if let Some(s) = &status {
        const ALL: [&str; 7] = [
            "queued",
            "running",
            "healthy",
            "failed",
            "rolled_back",
            "cancelled",
            "undeployed",
        ];
        if !ALL.contains(&s.as_str()) {
            return Err(ApiError::validation(
                "status",
                format!("One of {}", ALL.join(", ")),
            ));
        }
    }
    let filter = DeploymentFilter {
        host_id: q.uuid("host_id")?,
        template_id: q.uuid("template_id")?,
        status,
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| records::list(c, &scope, &filter, page))
        .await?;
    Ok(list_response(&items, page, total))
}

async fn load(state: &AppState, auth: &Principal, id: &str) -> ApiResult<Deployment> {
    let id = parse_uuid(id, "id")?;
    let d = state.db.read(move |c| records::get(c, &id)).await?;
    if d.targets.iter().any(|t| !auth.can_reach(&t.network_id)) {
        return Err(ApiError::not_found("Deployment"));
    }
    Ok(d)
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    Ok(envelope::ok(&load(&state, &auth, &path).await?))
}

fn accepted(d: &Deployment) -> Reply {
    let mut reply = Reply::created(format!("/api/v1/deployments/{}", d.id), d);
    reply.status = StatusCode::ACCEPTED;
    reply
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let b = body.parse::<DeploymentBody>()?;
    let plan_only = match b.mode.as_deref() {
        None | Some("apply") => false,
        Some("plan") => true,
        Some(_) => return Err(ApiError::validation("mode", "\"apply\" or \"plan\"")),
    };
    let template_id = parse_uuid(&b.template_id, "template_id")?;
    let host_ids = b
        .host_ids
        .iter()
        .enumerate()
        .map(|(i, h)| parse_uuid(h, &format!("host_ids[{i}]")))
        .collect::<ApiResult<Vec<_>>>()?;
    let env = rules::parse_env(&b.env).map_err(|e| e.at("env"))?;
    let request = DeploymentRequest {
        template_id,
        host_ids,
        env,
        plan_only,
    };
    let response = write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        let d = deployments::create(tx, who, request)?;
        Ok(if d.mode == "plan" {
            Reply::created(format!("/api/v1/deployments/{}", d.id), &d)
        } else {
            accepted(&d)
        })
    })
    .await?;
    state.discoveries.jobs.notify_waiters();
    Ok(response)
}

/// A write on one deployment, answered 202 (agents go on) and waking the agents' long polls.
async fn act(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
    op: fn(&rusqlite::Transaction, &Writer, &str) -> ApiResult<Deployment>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = path_id(&path)?;
    let response = write_reply(&state, &req, auth.0, None, move |tx, who| {
        Ok(accepted(&op(tx, who, &id)?))
    })
    .await?;
    state.discoveries.jobs.notify_waiters();
    Ok(response)
}

async fn apply(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    act(state, auth, path, req, deployments::apply_plan).await
}

async fn cancel(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    act(state, auth, path, req, deployments::cancel).await
}

async fn undeploy(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    act(state, auth, path, req, deployments::undeploy).await
}

/// Whether nothing more happens to the deployment.
fn settled(d: &Deployment) -> bool {
    !matches!(d.status.as_str(), "queued" | "running")
        && d.mode != "plan"
        && !d
            .targets
            .iter()
            .any(|t| t.job_state == "claimed" || t.job_state == "queued")
}

/// `GET /deployments/{id}/events`: `progress` with the whole deployment whenever it changes,
/// then `finished` with it once nothing more happens (at once for a finished one).
async fn events(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let first = load(&state, &auth, &path).await?;
    let id = first.id.clone();
    // A comment line every KEEP_ALIVE while nothing changes: a client that left is then noticed
    // (the write fails) instead of being polled for as long as a health wait lasts.
    const KEEP_ALIVE: Duration = Duration::from_secs(15);
    let stream =
        futures_util::stream::unfold(Some((state, id, None::<String>)), |step| async move {
            let (state, id, last) = step?;
            let quiet_since = std::time::Instant::now();
            loop {
                let key = id.clone();
                let d = match state.db.read(move |c| records::get(c, &key)).await {
                    Ok(d) => d,
                    Err(e) => {
                        let chunk = sse("error", &json!({"message": e.message}));
                        return Some((Ok::<_, actix_web::Error>(chunk), None));
                    }
                };
                let data = serde_json::to_value(&d).unwrap_or_default();
                if settled(&d) {
                    return Some((Ok(sse("finished", &data)), None));
                }
                let text = data.to_string();
                if last.as_deref() != Some(text.as_str()) {
                    return Some((Ok(sse("progress", &data)), Some((state, id, Some(text)))));
                }
                if state.stopping.load(std::sync::atomic::Ordering::Relaxed) {
                    return None;
                }
                if quiet_since.elapsed() >= KEEP_ALIVE {
                    let ping = web::Bytes::from_static(b": still running\n\n");
                    return Some((Ok(ping), Some((state, id, last))));
                }
                actix_web::rt::time::sleep(Duration::from_millis(250)).await;
            }
        });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}

fn sse(event: &str, data: &Value) -> web::Bytes {
    web::Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

/// What an agent says while it deploys.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentJobProgress {
    /// `starting` (compose runs) or `checking` (health checks).
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    attempts: Option<i64>,
    /// The compose output so far; the last 200 lines are kept.
    #[serde(default)]
    log: Option<String>,
}

/// How an agent's job ended.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentJobResult {
    /// `healthy`, `failed` or `rolled_back`; for a `down` job, `healthy` when the project is
    /// down.
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    attempts: Option<i64>,
    #[serde(default)]
    log: Option<String>,
}

fn status_of(s: Option<&str>, allowed: &[TargetStatus]) -> ApiResult<Option<TargetStatus>> {
    match s {
        None => Ok(None),
        Some(s) => TargetStatus::parse(s)
            .filter(|t| allowed.contains(t))
            .map(Some)
            .ok_or_else(|| {
                let names: Vec<&str> = allowed.iter().map(|t| t.as_str()).collect();
                ApiError::validation("status", format!("One of {}", names.join(", ")))
            }),
    }
}

fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<crate::request_log::RequestId>()
        .map(|r| r.0.clone())
}

async fn job_progress(
    state: web::Data<AppState>,
    agent: AgentAuth,
    path: web::Path<String>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let b: DeploymentJobProgress = body.parse()?;
    let status = status_of(
        b.status.as_deref(),
        &[TargetStatus::Starting, TargetStatus::Checking],
    )?;
    let job = parse_uuid(&path, "id")?;
    let agent = agent.0;
    let p = Progress {
        status,
        attempts: b.attempts,
        log: b.log,
    };
    let d = state
        .db
        .write(move |tx| deployments::progress(tx, &agent, &job, p, &crate::domain::clock::now()))
        .await?;
    Ok(envelope::ok(&d))
}

async fn job_result(
    state: web::Data<AppState>,
    agent: AgentAuth,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let b: DeploymentJobResult = body.parse()?;
    let status = status_of(
        Some(&b.status),
        &[
            TargetStatus::Healthy,
            TargetStatus::Failed,
            TargetStatus::RolledBack,
        ],
    )?
    .unwrap_or(TargetStatus::Failed);
    let job = parse_uuid(&path, "id")?;
    let agent = agent.0;
    let who = Principal::agent(&agent.id, &agent.name, &agent.network_id);
    let request_id = request_id(&req);
    let outcome = Outcome {
        status,
        error: b.error,
        attempts: b.attempts,
        log: b.log,
    };
    let d = state
        .db
        .write(move |tx| {
            let writer = Writer::begin(tx, who, request_id)?;
            deployments::finish(tx, &writer, &agent, &job, outcome)
        })
        .await?;
    // A sequential deployment's next host may have been queued.
    state.discoveries.jobs.notify_waiters();
    Ok(envelope::ok(&d))
}

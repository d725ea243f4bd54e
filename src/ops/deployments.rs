//! Deployments: every check before anything runs, the reservation of each host's services and
//! bindings through the binding rules in the request's transaction, then the agents' progress
//! and results, cancel and undeploy. The inventory always says what runs: a target that fails
//! gives its reservation back.

use rusqlite::Transaction;
use serde_json::{json, Map, Value};

use super::discovery::is_refusal;
use super::journal::Writer;
use super::ports::PortInput;
use super::services::ServiceInput;
use crate::db::agents::Agent;
use crate::db::deployments::{self as records, Deployment, Target};
use crate::db::hosts::Embed;
use crate::db::{self, templates::Template};
use crate::domain::bindings::{Target as Bound, Wanted};
use crate::domain::compose;
use crate::domain::deployment::{self as rules, PlannedService, TargetStatus};
use crate::domain::history::EntityType;
use crate::domain::port::PortNumber;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};

/// The most hosts one deployment reaches.
pub const MAX_HOSTS: usize = 100;

#[derive(Clone)]
pub struct DeploymentRequest {
    pub template_id: String,
    pub host_ids: Vec<String>,
    pub env: Map<String, Value>,
    pub plan_only: bool,
}

/// What the journal keeps of a deployment: no file, no log.
#[derive(serde::Serialize)]
struct JournalImage<'a> {
    id: &'a str,
    template_id: &'a str,
    template_name: &'a str,
    image: &'a str,
    host_ids: &'a [String],
    strategy: &'a str,
    mode: &'a str,
    status: &'a str,
    targets: Vec<Value>,
}

fn journal_image(d: &Deployment) -> JournalImage<'_> {
    JournalImage {
        id: &d.id,
        template_id: &d.template_id,
        template_name: &d.template_name,
        image: &d.image,
        host_ids: &d.host_ids,
        strategy: &d.strategy,
        mode: &d.mode,
        status: &d.status,
        targets: d
            .targets
            .iter()
            .map(|t| json!({"host_id": t.host_id, "status": t.status, "error": t.error}))
            .collect(),
    }
}

/// The agent on `host_id` that deploys: enabled, started with `--deploy`, not silent.
fn deploying_agent(tx: &Transaction, host_id: &str) -> ApiResult<Result<Agent, String>> {
    let agents = db::agents::on_host(tx, host_id)?;
    if agents.is_empty() {
        return Ok(Err("no agent reports this host".into()));
    }
    let why = if let Some(a) = agents
        .iter()
        .find(|a| a.enabled && a.capabilities.deploy && !a.silent)
    {
        return Ok(Ok(a.clone()));
    } else if agents.iter().all(|a| !a.enabled) {
        "its agent is disabled"
    } else if agents.iter().all(|a| !a.capabilities.deploy) {
        "its agent was not started with --deploy"
    } else {
        "its agent is silent"
    };
    Ok(Err(why.into()))
}

/// Checks a request and makes the deployment: a plan (nothing reserved, conflicts listed), or
/// an application whose reservations are made here, in the caller's transaction.
pub fn create(tx: &Transaction, who: &Writer, req: DeploymentRequest) -> ApiResult<Deployment> {
    if req.host_ids.is_empty() {
        return Err(ApiError::validation("host_ids", "Name at least one host"));
    }
    if req.host_ids.len() > MAX_HOSTS {
        return Err(ApiError::validation(
            "host_ids",
            format!("At most {MAX_HOSTS} hosts per deployment"),
        ));
    }
    let template = match db::templates::get(tx, &req.template_id) {
        Ok(t) => t,
        Err(e) if e.code == crate::error::ErrorCode::NotFound => {
            return Err(ApiError::validation(
                "template_id",
                "No service template has this id",
            ))
        }
        Err(e) => return Err(e),
    };
    let env = rules::environment(
        template.base_env.as_ref(),
        &req.env,
        &template.container_image_id,
        &template.image_tag,
    );
    let mut missing = template
        .compose_template
        .as_deref()
        .map(|t| compose::missing_variables(t, &env))
        .unwrap_or_default();
    for v in template
        .health_check_url
        .as_deref()
        .map(|u| compose::missing_variables(u, &env))
        .unwrap_or_default()
    {
        if !missing.contains(&v) {
            missing.push(v);
        }
    }
    let mut targets = Vec::new();
    for (i, host_id) in req.host_ids.iter().enumerate() {
        let field = format!("host_ids[{i}]");
        if req.host_ids[..i].contains(host_id) {
            return Err(ApiError::validation(field, "This host is named twice"));
        }
        let host = db::hosts::get(tx, host_id, Embed::Nothing)
            .ok()
            .filter(|h| who.can_reach(&h.network_id))
            .ok_or_else(|| ApiError::validation(&field, "No host with this id"))?;
        let agent = deploying_agent(tx, host_id)?.map_err(|why| {
            ApiError::validation(
                &field,
                format!("Host \"{}\" cannot deploy: {why}", host.name),
            )
            .with_hint("Run `portolan agent --deploy` on the host, reporting to this server")
        })?;
        targets.push(Target {
            host_id: host.id.clone(),
            agent_id: Some(agent.id.clone()),
            status: TargetStatus::Pending.as_str().into(),
            service_id: None,
            service_ids: Vec::new(),
            attempts: 0,
            error: None,
            log: String::new(),
            started_at: None,
            finished_at: None,
            job: "up".into(),
            position: i as i64,
            network_id: host.network_id.clone(),
            job_id: crate::domain::new_id(),
            job_state: "waiting".into(),
            previous: json!([]),
            heard_at: None,
        });
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(
            "env",
            format!("These variables have no value: {}", missing.join(", ")),
        )
        .with_param("missing", json!(missing))
        .with_hint("Give them in env, or in the template's baseEnv"));
    }
    let compose_file = rules::render(&template.name, template.compose_template.as_deref(), &env)
        .map_err(|e| e.at("env"))?;
    let planned =
        rules::planned_services(&template.name, &compose_file).map_err(|e| e.at("env"))?;
    let health_url = template
        .health_check_url
        .as_deref()
        .map(|u| compose::interpolate(u, &env))
        .transpose()
        .map_err(|e| e.at("env"))?;
    let mut d = Deployment {
        id: crate::domain::new_id(),
        template_id: template.id.clone(),
        template_name: template.name.clone(),
        image: format!("{}:{}", template.container_image_id, template.image_tag),
        host_ids: req.host_ids.clone(),
        env: Value::Object(env),
        strategy: template.deploy_strategy.clone(),
        mode: if req.plan_only { "plan" } else { "apply" }.into(),
        status: "queued".into(),
        targets,
        compose: compose_file,
        plan: None,
        health: json!({
            "url": health_url, "wait_ms": template.health_wait_ms,
            "retries": template.health_retries, "interval_ms": template.health_interval_ms,
        }),
        created_by: serde_json::to_value(&who.actor).unwrap_or_default(),
        created_at: who.now.clone(),
        finished_at: None,
        cancelled: false,
    };
    if req.plan_only {
        d.plan = Some(plan(tx, who, &d, &template, &planned)?);
    } else {
        reserve_all(tx, who, &mut d, &template, &planned)?;
    }
    records::insert(tx, &d)?;
    who.created(tx, EntityType::Deployment, &journal_image(&d))?;
    Ok(d)
}

/// What each host would get, and what stops it: reserved in a savepoint, then undone.
fn plan(
    tx: &Transaction,
    who: &Writer,
    d: &Deployment,
    template: &Template,
    planned: &[PlannedService],
) -> ApiResult<Value> {
    let mut out = Vec::new();
    for t in &d.targets {
        tx.execute_batch("SAVEPOINT plan")?;
        let outcome = reserve(tx, who, d, template, &t.host_id, planned);
        tx.execute_batch("ROLLBACK TO plan; RELEASE plan")?;
        let conflicts = match outcome {
            Ok(_) => Vec::new(),
            Err(e) if is_refusal(&e) => {
                let b = e.body(None);
                vec![
                    json!({"code": b["code"], "message": b["message"], "field": b["field"],
                            "hint": b["hint"], "params": b["params"]}),
                ]
            }
            Err(e) => return Err(e),
        };
        out.push(json!({
            "host_id": t.host_id,
            "services": planned,
            "conflicts": conflicts,
        }));
    }
    Ok(Value::Array(out))
}

/// Reserves every target's services and bindings and queues the first jobs. A refusal on any
/// host refuses the whole deployment, with the field naming the host.
fn reserve_all(
    tx: &Transaction,
    who: &Writer,
    d: &mut Deployment,
    template: &Template,
    planned: &[PlannedService],
) -> ApiResult<()> {
    let mut plan = Vec::new();
    for i in 0..d.targets.len() {
        let host_id = d.targets[i].host_id.clone();
        let (services, previous) = reserve(tx, who, d, template, &host_id, planned)
            .map_err(|e| e.under(&format!("host_ids[{i}]")))?;
        let t = &mut d.targets[i];
        t.service_id = services.first().cloned();
        t.service_ids = services;
        t.previous = Value::Array(previous);
        let first = i == 0 || d.strategy == "parallel";
        t.job_state = if first { "queued" } else { "waiting" }.into();
        plan.push(json!({"host_id": host_id, "services": planned, "conflicts": []}));
    }
    d.mode = "apply".into();
    d.plan = Some(Value::Array(plan));
    Ok(())
}

/// The source of a deployed service: the agent's report of its container finds it by
/// `container_key`.
fn deployed_source(d: &Deployment, service: &PlannedService) -> Value {
    json!({"type": "Deployment", "details": {
        "deployment_id": d.id, "template_id": d.template_id,
        "compose_service": service.compose_service,
        "container_key": format!("container:{}/{}", rules::project_name(&d.template_name), service.compose_service),
    }})
}

/// Makes (or takes over from an earlier deployment of the template) each planned service on
/// the host, bound as planned through the binding rules. Answers the service ids and what to
/// restore if the target fails.
fn reserve(
    tx: &Transaction,
    who: &Writer,
    d: &Deployment,
    template: &Template,
    host_id: &str,
    planned: &[PlannedService],
) -> ApiResult<(Vec<String>, Vec<Value>)> {
    let definition = template
        .service_type_id
        .clone()
        .unwrap_or_else(|| "Custom".into());
    let (mut services, mut previous) = (Vec::new(), Vec::new());
    for (s, service) in planned.iter().enumerate() {
        let mut wanted = Vec::new();
        let mut ports_made = Vec::new();
        for (b, binding) in service.bindings.iter().enumerate() {
            let protocol = binding.protocol.as_str();
            let port = match db::discoveries::port_of(tx, host_id, binding.port, protocol)? {
                Some(id) => id,
                None => {
                    let port = super::ports::create(
                        tx,
                        who,
                        PortInput {
                            host_id: host_id.to_string(),
                            network_id: None,
                            number: PortNumber::parse(i64::from(binding.port))
                                .map_err(|e| e.at("port"))?,
                            protocol: binding.protocol,
                        },
                    )?;
                    ports_made.push(port.id.clone());
                    port.id
                }
            };
            let ip = match binding.ip_address {
                Some(ip) => records::address_on_host(tx, host_id, &ip.to_string())?,
                None => None,
            };
            wanted.push(Wanted {
                field: format!("bindings[{b}]"),
                id: None,
                target: Bound::Port { port, ip },
            });
        }
        let name = Name::parse(&service.name, 100).map_err(|e| e.at("name"))?;
        let source = deployed_source(d, service);
        let existing =
            records::deployed_service(tx, host_id, &template.id, &service.compose_service)?;
        let made = match existing {
            Some(id) => {
                let stored = db::services::get(tx, &id)?;
                let kept: Vec<Value> = stored
                    .bindings
                    .iter()
                    .map(|b| json!({"port_id": b.port_id, "ip_address_id": b.ip_address_id}))
                    .collect();
                previous.push(json!({
                    "service_id": id, "created": false, "name": stored.name,
                    "service_definition": stored.service_definition, "source": stored.source,
                    "bindings": kept, "ports_made": ports_made,
                }));
                super::services::update(
                    tx,
                    who,
                    &id,
                    ServiceInput {
                        host_id: host_id.to_string(),
                        network_id: None,
                        name,
                        service_definition: definition.clone(),
                        position: None,
                        tags: stored.tags.clone(),
                        virtualization: stored.virtualization.clone(),
                        bindings: wanted,
                        expected_updated_at: None,
                        source: Some(source),
                    },
                )?
            }
            None => {
                let made = super::services::create(
                    tx,
                    who,
                    ServiceInput {
                        host_id: host_id.to_string(),
                        network_id: None,
                        name,
                        service_definition: definition.clone(),
                        position: None,
                        tags: Vec::new(),
                        virtualization: None,
                        bindings: wanted,
                        expected_updated_at: None,
                        source: Some(source),
                    },
                )
                .map_err(|e| e.under(&format!("services[{s}]")))?;
                previous.push(json!({
                    "service_id": made.id, "created": true, "ports_made": ports_made,
                }));
                made
            }
        };
        services.push(made.id);
    }
    Ok((services, previous))
}

/// Gives a target's reservation back: services it made are closed, services it took over are
/// what they were again, ports it made and nothing binds are closed.
fn release(tx: &Transaction, who: &Writer, t: &Target) -> ApiResult<()> {
    for p in t.previous.as_array().into_iter().flatten() {
        let id = p["service_id"].as_str().unwrap_or_default();
        let exists = db::services::get(tx, id).is_ok();
        if exists && p["created"] == true {
            super::services::delete(tx, who, id)?;
        } else if exists {
            let stored = db::services::get(tx, id)?;
            let bindings = p["bindings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| {
                    Some(Wanted {
                        field: String::new(),
                        id: None,
                        target: Bound::Port {
                            port: b["port_id"].as_str()?.to_string(),
                            ip: b["ip_address_id"].as_str().map(str::to_string),
                        },
                    })
                })
                .collect();
            let restored = ServiceInput {
                host_id: stored.host_id.clone(),
                network_id: None,
                name: Name::parse(p["name"].as_str().unwrap_or(&stored.name), 100)
                    .map_err(|e| e.at("name"))?,
                service_definition: p["service_definition"]
                    .as_str()
                    .unwrap_or(&stored.service_definition)
                    .to_string(),
                position: None,
                tags: stored.tags.clone(),
                virtualization: stored.virtualization.clone(),
                bindings,
                expected_updated_at: None,
                source: Some(p["source"].clone()),
            };
            tx.execute_batch("SAVEPOINT restore")?;
            match super::services::update(tx, who, id, restored) {
                Ok(_) => tx.execute_batch("RELEASE restore")?,
                // What it held was taken meanwhile: it is closed rather than left half true.
                Err(e) if is_refusal(&e) => {
                    tx.execute_batch("ROLLBACK TO restore; RELEASE restore")?;
                    super::services::delete(tx, who, id)?;
                }
                Err(e) => return Err(e),
            }
        }
        close_unbound_ports(tx, who, &p["ports_made"])?;
    }
    Ok(())
}

fn close_unbound_ports(tx: &Transaction, who: &Writer, ports: &Value) -> ApiResult<()> {
    for port in ports
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if db::ports::get(tx, port).is_ok() && db::ports::binding_ids(tx, port)?.is_empty() {
            super::ports::delete(tx, who, port, false)?;
        }
    }
    Ok(())
}

/// Recomputes the deployment's status from its targets' (kept while an undeploy runs),
/// journals a change, and stores it.
fn settle(
    tx: &Transaction,
    who: &Writer,
    before: &Deployment,
    d: &mut Deployment,
) -> ApiResult<()> {
    let statuses: Vec<TargetStatus> = d
        .targets
        .iter()
        .filter_map(|t| TargetStatus::parse(&t.status))
        .collect();
    let undeploying = d
        .targets
        .iter()
        .any(|t| t.job == "down" && t.job_state != "done");
    if d.mode != "plan" && !undeploying && d.status != "undeployed" {
        d.status = rules::overall(&statuses, d.cancelled, false).to_string();
    }
    let finished = !matches!(d.status.as_str(), "queued" | "running") && !undeploying;
    if finished && (d.finished_at.is_none() || d.status != before.status) {
        d.finished_at = Some(who.now.clone());
    }
    records::update(tx, d)?;
    for t in &d.targets {
        records::update_target(tx, &d.id, t)?;
    }
    if before.status != d.status {
        who.updated(
            tx,
            EntityType::Deployment,
            &journal_image(before),
            &journal_image(d),
        )?;
    }
    Ok(())
}

/// Runs a plan: every check again, then the reservation, as a `mode: apply` request would.
pub fn apply_plan(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<Deployment> {
    let before = records::get(tx, id)?;
    check_reach(who, &before)?;
    if before.mode != "plan" {
        return Err(ApiError::conflict("This deployment was already applied")
            .with_hint("Create a new deployment to run the template again"));
    }
    let template = db::templates::get(tx, &before.template_id).map_err(|_| {
        ApiError::conflict("The template of this plan was deleted").with_field("template_id")
    })?;
    let mut d = before.clone();
    for (i, t) in d.targets.iter_mut().enumerate() {
        let agent = deploying_agent(tx, &t.host_id)?.map_err(|why| {
            ApiError::validation(
                format!("host_ids[{i}]"),
                format!("This host cannot deploy: {why}"),
            )
        })?;
        t.agent_id = Some(agent.id);
    }
    let planned =
        rules::planned_services(&d.template_name, &d.compose).map_err(|e| e.at("compose"))?;
    reserve_all(tx, who, &mut d, &template, &planned)?;
    settle(tx, who, &before, &mut d)?;
    Ok(d)
}

fn check_reach(who: &Writer, d: &Deployment) -> ApiResult<()> {
    for t in &d.targets {
        who.check_network(&t.network_id)?;
    }
    Ok(())
}

/// Skips every target whose turn has not come, giving its reservation back.
fn skip_waiting(tx: &Transaction, who: &Writer, d: &mut Deployment) -> ApiResult<()> {
    for t in d.targets.iter_mut() {
        if t.job == "up" && matches!(t.job_state.as_str(), "waiting" | "queued") {
            release(tx, who, t)?;
            t.status = TargetStatus::Skipped.as_str().into();
            t.job_state = "done".into();
            t.finished_at = Some(who.now.clone());
        }
    }
    Ok(())
}

pub fn cancel(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<Deployment> {
    let before = records::get(tx, id)?;
    check_reach(who, &before)?;
    if !matches!(before.status.as_str(), "queued" | "running") || before.cancelled {
        return Err(ApiError::conflict(format!(
            "This deployment is {}: there is nothing to cancel",
            if before.cancelled {
                "cancelled"
            } else {
                before.status.as_str()
            }
        )));
    }
    let mut d = before.clone();
    d.cancelled = true;
    if d.mode == "plan" {
        for t in d.targets.iter_mut() {
            t.status = TargetStatus::Skipped.as_str().into();
            t.job_state = "done".into();
        }
        d.mode = "apply".into();
    }
    skip_waiting(tx, who, &mut d)?;
    settle(tx, who, &before, &mut d)?;
    Ok(d)
}

/// Asks each healthy target's agent to take the project down; the services close when it
/// did. A target whose services a later deployment of the template took over has nothing of
/// this deployment running.
pub fn undeploy(tx: &Transaction, who: &Writer, id: &str) -> ApiResult<Deployment> {
    let before = records::get(tx, id)?;
    check_reach(who, &before)?;
    if before.mode == "plan"
        || matches!(before.status.as_str(), "queued" | "running" | "undeployed")
    {
        return Err(ApiError::conflict(format!(
            "This deployment is {}: only a finished deployment can be undeployed",
            if before.mode == "plan" {
                "a plan"
            } else {
                before.status.as_str()
            }
        ))
        .with_hint("Cancel a running deployment first"));
    }
    let mut d = before.clone();
    for t in d.targets.iter_mut() {
        let still_ours = t.service_ids.iter().any(|s| {
            db::agents::service_origin(tx, s)
                .map(|(_, source)| source["details"]["deployment_id"] == json!(d.id))
                .unwrap_or(false)
        });
        if t.status == "healthy" && still_ours {
            let agent = deploying_agent(tx, &t.host_id)?.ok();
            t.agent_id = agent.map(|a| a.id).or(t.agent_id.take());
            t.job = "down".into();
            t.job_state = "queued".into();
            t.job_id = crate::domain::new_id();
            t.error = None;
        }
    }
    if d.targets.iter().all(|t| t.job != "down") {
        d.status = "undeployed".into();
    }
    settle(tx, who, &before, &mut d)?;
    Ok(d)
}

/// The job an agent takes next, claimed: `None` when it has none.
pub fn claim(tx: &Transaction, agent: &Agent, now: &str) -> ApiResult<Option<Value>> {
    let Some((deployment_id, job_id)) = records::next_job(tx, &agent.id)? else {
        return Ok(None);
    };
    let mut d = records::get(tx, &deployment_id)?;
    let t = d
        .targets
        .iter_mut()
        .find(|t| t.job_id == job_id)
        .ok_or_else(|| ApiError::internal("a job without its target"))?;
    t.job_state = "claimed".into();
    t.heard_at = Some(now.to_string());
    if t.job == "up" {
        t.status = TargetStatus::Starting.as_str().into();
        t.started_at = Some(now.to_string());
    }
    records::update_target(tx, &d.id, t)?;
    let job = json!({
        "id": t.job_id, "kind": "deploy", "action": t.job, "deployment_id": d.id,
        "template_id": d.template_id, "template_name": d.template_name,
        "project": rules::project_name(&d.template_name),
        "compose_path": db::templates::compose_path(&d.template_id),
        "compose": d.compose, "health": d.health,
    });
    // The first job taken starts the deployment.
    if d.status == "queued" {
        let before = d.clone();
        let who = Writer::begin(
            tx,
            crate::domain::principal::Principal::agent(&agent.id, &agent.name, &agent.network_id),
            None,
        )?;
        let mut after = d.clone();
        after.status = "running".into();
        records::update(tx, &after)?;
        who.updated(
            tx,
            EntityType::Deployment,
            &journal_image(&before),
            &journal_image(&after),
        )?;
    }
    Ok(Some(job))
}

/// The deployment and position of an agent's claimed job.
fn own_job(tx: &Transaction, agent: &Agent, job_id: &str) -> ApiResult<(Deployment, usize)> {
    let not_found = || {
        ApiError::not_found("Running deployment job of this agent")
            .with_hint("The job finished, was cancelled, or is another agent's")
    };
    let id = records::of_job(tx, job_id)?.ok_or_else(not_found)?;
    let d = records::get(tx, &id)?;
    let i = d
        .targets
        .iter()
        .position(|t| {
            t.job_id == job_id
                && t.job_state == "claimed"
                && t.agent_id.as_deref() == Some(agent.id.as_str())
        })
        .ok_or_else(not_found)?;
    Ok((d, i))
}

/// What an agent says while it works.
#[derive(Clone)]
pub struct Progress {
    pub status: Option<TargetStatus>,
    pub attempts: Option<i64>,
    pub log: Option<String>,
}

pub fn progress(
    tx: &Transaction,
    agent: &Agent,
    job_id: &str,
    p: Progress,
    now: &str,
) -> ApiResult<Deployment> {
    let (mut d, i) = own_job(tx, agent, job_id)?;
    let t = &mut d.targets[i];
    if let Some(s) = p.status.filter(|s| s.is_running() && t.job == "up") {
        t.status = s.as_str().into();
    }
    if let Some(a) = p.attempts {
        t.attempts = a;
    }
    if let Some(log) = p.log {
        t.log = rules::tail(&log);
    }
    t.heard_at = Some(now.to_string());
    records::update_target(tx, &d.id, t)?;
    Ok(d)
}

/// How a job ended, as its agent says.
#[derive(Clone)]
pub struct Outcome {
    /// `healthy`, `failed` or `rolled_back` for `up`; `healthy` (done) or `failed` for `down`.
    pub status: TargetStatus,
    pub error: Option<String>,
    pub attempts: Option<i64>,
    pub log: Option<String>,
}

pub fn finish(
    tx: &Transaction,
    who: &Writer,
    agent: &Agent,
    job_id: &str,
    outcome: Outcome,
) -> ApiResult<Deployment> {
    let (before, i) = own_job(tx, agent, job_id)?;
    end_job(tx, who, before, i, outcome)
}

fn end_job(
    tx: &Transaction,
    who: &Writer,
    before: Deployment,
    i: usize,
    outcome: Outcome,
) -> ApiResult<Deployment> {
    let mut d = before.clone();
    let sequential = d.strategy == "sequential";
    let t = &mut d.targets[i];
    t.job_state = "done".into();
    t.heard_at = Some(who.now.clone());
    if let Some(a) = outcome.attempts {
        t.attempts = a;
    }
    if let Some(log) = outcome.log {
        t.log = rules::tail(&log);
    }
    t.error = outcome.error;
    if t.job == "down" {
        if outcome.status == TargetStatus::Healthy {
            for s in t.service_ids.clone() {
                if db::services::get(tx, &s).is_ok() {
                    super::services::delete(tx, who, &s)?;
                }
            }
            for p in t.previous.clone().as_array().into_iter().flatten() {
                close_unbound_ports(tx, who, &p["ports_made"])?;
            }
            t.error = None;
        } else if t.error.is_none() {
            t.error = Some("the agent could not take the project down".into());
        }
        let downs = || d.targets.iter().filter(|t| t.job == "down");
        if downs().all(|t| t.job_state == "done" && t.error.is_none()) {
            d.status = "undeployed".into();
        }
    } else {
        let status = match outcome.status {
            s @ (TargetStatus::Healthy | TargetStatus::Failed | TargetStatus::RolledBack) => s,
            _ => TargetStatus::Failed,
        };
        t.status = status.as_str().into();
        t.finished_at = Some(who.now.clone());
        if status != TargetStatus::Healthy {
            release(tx, who, t)?;
        }
        if sequential && status != TargetStatus::Healthy {
            skip_waiting(tx, who, &mut d)?;
        } else if sequential && !d.cancelled {
            if let Some(next) = d.targets.iter_mut().find(|t| t.job_state == "waiting") {
                next.job_state = "queued".into();
            }
        }
    }
    settle(tx, who, &before, &mut d)?;
    Ok(d)
}

/// Fails the jobs of agents silent for longer than the timeout; answers how many.
pub fn fail_silent(
    tx: &Transaction,
    who: &Writer,
    cutoff: &str,
    timeout_s: u32,
) -> ApiResult<usize> {
    let mut failed = 0;
    for id in records::silent_jobs(tx, cutoff)? {
        let d = records::get(tx, &id)?;
        let stale: Vec<usize> = d
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                t.job_state == "claimed" && t.heard_at.as_deref().is_none_or(|h| h < cutoff)
            })
            .map(|(i, _)| i)
            .collect();
        let mut current = d;
        for i in stale {
            let agent = current.targets[i].agent_id.clone().unwrap_or_default();
            let name = db::agents::get(tx, &agent).map(|a| a.name).unwrap_or(agent);
            current = end_job(
                tx,
                who,
                current,
                i,
                Outcome {
                    status: TargetStatus::Failed,
                    error: Some(format!(
                        "Agent {name} went silent during the job for {timeout_s} s"
                    )),
                    attempts: None,
                    log: None,
                },
            )?;
            failed += 1;
        }
    }
    Ok(failed)
}

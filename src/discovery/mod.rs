//! Discovery's machinery: running scans in the background, reconciling what any source
//! observed in bounded write transactions, and starting scheduled scans.
//!
//! A scan runs on a thread of its own with its own async runtime: its thousands of concurrent
//! connects never share a worker with API requests, so the server keeps answering while it runs.

pub mod names;
pub mod nmap;
pub mod scanner;
pub mod schedules;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::db::discoveries::{self, Discovery, Summary};
use crate::db::Db;
use crate::domain::clock;
use crate::domain::discovery::Observation;
use crate::domain::principal::Principal;
use crate::error::{ApiError, ApiResult};
use crate::ops::discovery::{close_missing, reconcile, Context, Outcome};
use crate::ops::journal::Writer;
use scanner::{Progress, ScanSpec};

/// Observations per write transaction: long enough to amortize a commit, short enough that
/// API writes queued behind it wait milliseconds, not seconds.
const CHUNK: usize = 200;

/// A discovery in progress: its counters and its stop switch, shared with the scan's threads.
#[derive(Default)]
pub struct Live {
    pub cancel: Arc<AtomicBool>,
    pub progress: Arc<Mutex<Progress>>,
}

impl Live {
    pub fn progress(&self) -> Progress {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The discoveries this process is running.
#[derive(Default)]
pub struct Registry {
    runs: Mutex<HashMap<String, Arc<Live>>>,
    /// Woken when a scan job for an agent is queued: agents waiting on their long poll look.
    pub jobs: tokio::sync::Notify,
    /// Where scans look up the names of what they find; empty: the system's resolver.
    pub dns_servers: Vec<std::net::SocketAddr>,
}

impl Registry {
    /// A registry whose scans look names up on `dns_servers` (empty: the system's resolver).
    pub fn new(dns_servers: Vec<std::net::SocketAddr>) -> Self {
        Registry {
            dns_servers,
            ..Default::default()
        }
    }

    pub fn get(&self, id: &str) -> Option<Arc<Live>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Live>>> {
        self.runs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn begin(&self, id: &str) -> Arc<Live> {
        let live = Arc::new(Live::default());
        self.lock().insert(id.to_string(), live.clone());
        live
    }

    fn end(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// What limits `close_missing` to what a scan actually probed.
#[derive(Debug, Clone)]
pub struct Probed {
    pub addresses: Vec<IpAddr>,
    pub ports: Vec<u16>,
}

/// Reconciles `observations` for `discovery` and returns the outcome. Mode `apply` writes in
/// transactions of `CHUNK` observations; mode `plan` runs the same writes in one transaction
/// and rolls them back, keeping only the list of changes.
pub async fn reconcile_all(
    db: &Db,
    discovery: &Discovery,
    observations: Vec<Observation>,
    probed: Option<Probed>,
    plan: bool,
) -> ApiResult<Outcome> {
    let principal = Principal::discovery(&discovery.id, &discovery.source);
    let network = discovery.network_id.clone();
    let id = discovery.id.clone();
    if plan {
        return db
            .write(move |tx| {
                tx.execute_batch("SAVEPOINT plan")?;
                let planned = (|| {
                    let mut out = Outcome::default();
                    let who = writer(tx, principal, &id)?;
                    let ctx = Context::load(tx, &network)?;
                    reconcile(tx, &who, &ctx, &observations, &mut out)?;
                    if let Some(p) = &probed {
                        close_missing(tx, &who, &network, &p.addresses, &p.ports, &mut out)?;
                    }
                    Ok(out)
                })();
                tx.execute_batch("ROLLBACK TO plan; RELEASE plan")?;
                planned
            })
            .await;
    }
    let mut outcome = Outcome::default();
    for chunk in observations.chunks(CHUNK).map(<[Observation]>::to_vec) {
        let (principal, network, id) = (principal.clone(), network.clone(), id.clone());
        outcome = db
            .write(move |tx| {
                let mut out = outcome;
                let who = writer(tx, principal, &id)?;
                let ctx = Context::load(tx, &network)?;
                reconcile(tx, &who, &ctx, &chunk, &mut out)?;
                Ok(out)
            })
            .await?;
    }
    if let Some(p) = probed {
        outcome = db
            .write(move |tx| {
                let mut out = outcome;
                let who = writer(tx, principal, &id)?;
                close_missing(tx, &who, &network, &p.addresses, &p.ports, &mut out)?;
                Ok(out)
            })
            .await?;
    }
    Ok(outcome)
}

fn writer(
    tx: &rusqlite::Transaction,
    principal: Principal,
    discovery_id: &str,
) -> ApiResult<Writer> {
    let mut who = Writer::begin(tx, principal, None)?;
    who.discovery = Some(discovery_id.to_string());
    Ok(who)
}

/// Stores a finished reconciliation on the discovery: summary, plan (kept for a plan, and the
/// observations its apply will use), status and times.
pub fn finish(
    d: &mut Discovery,
    outcome: ApiResult<Outcome>,
    plan: bool,
    observations: &[Observation],
) -> Option<Value> {
    d.finished_at = Some(clock::now());
    match outcome {
        Ok(out) => {
            d.status = "completed".into();
            d.summary = Some(out.summary);
            if plan {
                d.plan = Some(serde_json::to_value(&out.plan).unwrap_or(Value::Null));
                return serde_json::to_value(observations).ok();
            }
            None
        }
        Err(e) => {
            d.status = "failed".into();
            d.error = Some(e.message.clone());
            None
        }
    }
}

/// Starts a queued scan in the background.
pub fn spawn_scan(
    db: Db,
    registry: Arc<Registry>,
    discovery: Discovery,
    spec: ScanSpec,
    close: bool,
) {
    let live = registry.begin(&discovery.id);
    // Readers see the totals at once, not zeros until the scan thread starts.
    *live.progress.lock().unwrap_or_else(|e| e.into_inner()) = discovery.progress;
    let name = format!("scan-{}", &discovery.id[..8.min(discovery.id.len())]);
    let started = std::thread::Builder::new().name(name).spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let id = discovery.id.clone();
        let dns = registry.dns_servers.clone();
        match runtime {
            Ok(rt) => rt.block_on(run_scan(&db, &live, discovery, spec, close, &dns)),
            Err(e) => log::error!("discovery {id}: no runtime: {e}"),
        }
        registry.end(&id);
    });
    if let Err(e) = started {
        log::error!("cannot start a scan thread: {e}");
    }
}

async fn run_scan(
    db: &Db,
    live: &Live,
    mut d: Discovery,
    spec: ScanSpec,
    close: bool,
    dns: &[std::net::SocketAddr],
) {
    d.status = "running".into();
    d.started_at = Some(clock::now());
    let row = d.clone();
    if let Err(e) = db
        .write(move |tx| discoveries::update(tx, &row, None))
        .await
    {
        log::error!("discovery {}: {e}", d.id);
        return;
    }
    let mut observations = {
        let scanning = scanner::scan(&spec, &live.progress, &live.cancel);
        tokio::pin!(scanning);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                found = &mut scanning => break found,
                _ = tick.tick() => {
                    let (id, progress) = (d.id.clone(), live.progress());
                    let _ = db.write(move |tx| discoveries::set_progress(tx, &id, &progress)).await;
                }
            }
        }
    };
    d.progress = live.progress();
    let metrics = crate::metrics::get();
    metrics.discovery_probes.inc_by(d.progress.probes_done);
    metrics.discovery_open_ports.inc_by(d.progress.open_found);
    let plan = d.mode == "plan";
    if live.cancel.load(Ordering::Relaxed) {
        d.status = "cancelled".into();
        d.finished_at = Some(clock::now());
        d.summary = Some(Summary::default());
        let row = d.clone();
        let _ = db
            .write(move |tx| discoveries::update(tx, &row, None))
            .await;
        return;
    }
    names::name_by_ptr(&mut observations, dns).await;
    let probed = close.then(|| Probed {
        addresses: spec.addresses.clone(),
        ports: spec.ports.clone(),
    });
    let outcome = reconcile_all(db, &d, observations.clone(), probed, plan).await;
    let kept = finish(&mut d, outcome, plan, &observations);
    let row = d.clone();
    if let Err(e) = db
        .write(move |tx| discoveries::update(tx, &row, kept.as_ref()))
        .await
    {
        log::error!("discovery {}: {e}", d.id);
    }
}

/// Asks a running discovery to stop; `false` if this process is not running it.
pub fn cancel(registry: &Registry, id: &str) -> bool {
    match registry.get(id) {
        Some(live) => {
            live.cancel.store(true, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// Waits until the discovery has left `running` (after a cancel), up to `limit`.
pub async fn settled(
    db: &Db,
    registry: &Registry,
    id: &str,
    limit: Duration,
) -> ApiResult<Discovery> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let key = id.to_string();
        let d = db.read(move |c| discoveries::get(c, &key)).await?;
        let done = !matches!(d.status.as_str(), "queued" | "running") && registry.get(id).is_none();
        if done || std::time::Instant::now() >= deadline {
            return Ok(d);
        }
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The 409 for a second scan of a network.
pub fn busy(running: &str) -> ApiError {
    ApiError::conflict("A scan of this network is already running")
        .with_param("discovery_id", running)
        .with_hint("Wait for it to finish, or cancel it")
}

/// How a scan probes; every field has a default.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanOptions {
    /// Per-probe timeout, 50 to 10,000 ms.
    #[serde(default = "default_timeout")]
    #[schema(minimum = 50, maximum = 10000)]
    pub timeout_ms: u64,
    /// Probes in flight at once, 1 to 2,048.
    #[serde(default = "default_concurrency")]
    #[schema(minimum = 1, maximum = 2048)]
    pub concurrency: usize,
    /// Ask open ports that stay silent for an HTTP answer (title, `Server`) as evidence.
    #[serde(default = "yes")]
    pub http_probe: bool,
    /// Delete discovered bindings on scanned addresses and ports that this scan did not see.
    #[serde(default)]
    pub close_missing: bool,
}

fn default_timeout() -> u64 {
    500
}
fn default_concurrency() -> usize {
    256
}
fn yes() -> bool {
    true
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            timeout_ms: default_timeout(),
            concurrency: default_concurrency(),
            http_probe: true,
            close_missing: false,
        }
    }
}

impl ScanOptions {
    pub fn check(&self) -> ApiResult<()> {
        if !(50..=10_000).contains(&self.timeout_ms) {
            return Err(ApiError::validation(
                "options.timeout_ms",
                "timeout_ms must be 50 to 10000",
            ));
        }
        if !(1..=2048).contains(&self.concurrency) {
            return Err(ApiError::validation(
                "options.concurrency",
                "concurrency must be 1 to 2048",
            ));
        }
        Ok(())
    }
}

/// What starting a scan needs, from the API or a schedule.
pub struct ScanRequest {
    pub network_id: String,
    pub targets: Vec<String>,
    pub ports: Value,
    pub mode: String,
    pub options: ScanOptions,
    pub schedule_id: Option<String>,
    pub created_by: Value,
    /// Run by this agent inside its segment instead of by the server.
    pub agent_id: Option<String>,
}

/// Checks a scan against the guards, stores it as `queued` and starts it: all checks and the
/// insert in one write, so two requests cannot both start a scan of one network.
pub async fn start_scan(
    db: &Db,
    registry: &Arc<Registry>,
    max_addresses: usize,
    request: ScanRequest,
) -> ApiResult<Discovery> {
    request.options.check()?;
    crate::domain::discovery::check_target_count(&request.targets)?;
    // Targets are expanded and checked against the subnets outside the writer, so that a
    // large request holds up no other write; the write then only confirms the subnets it used.
    let network = request.network_id.clone();
    let (subnets, catalog) = db
        .read(move |c| {
            if !crate::db::networks::exists(c, &network)? {
                return Err(crate::ops::missing_reference(
                    "network_id",
                    "Network",
                    &network,
                ));
            }
            Ok((
                discoveries::subnets_of(c, &network)?,
                discoveries::catalog(c)?,
            ))
        })
        .await?;
    let (targets, port_spec, checked) = (
        request.targets.clone(),
        request.ports.clone(),
        subnets.clone(),
    );
    let (addresses, ports) = tokio::task::spawn_blocking(move || {
        let blocks: Vec<_> = subnets.into_iter().map(|(_, c)| c).collect();
        let addresses = crate::domain::discovery::expand_targets(&targets, &blocks, max_addresses)?;
        let ports = crate::domain::discovery::parse_ports(&port_spec, &catalog)?;
        Ok::<_, ApiError>((addresses, ports))
    })
    .await
    .map_err(ApiError::internal)??;
    let (discovery, spec) = db
        .write(move |tx| {
            if discoveries::subnets_of(tx, &request.network_id)? != checked {
                return Err(ApiError::conflict(
                    "The network's subnets changed while the scan was being checked; send it again",
                )
                .with_field("targets"));
            }
            if let Some(running) = discoveries::active_scan(tx, &request.network_id)? {
                return Err(busy(&running));
            }
            if let Some(agent) = &request.agent_id {
                check_scan_agent(tx, agent, &request.network_id)?;
            }
            let now = clock::now();
            let d = Discovery {
                id: crate::ops::new_id(),
                network_id: request.network_id,
                source: "scan".into(),
                mode: request.mode,
                status: "queued".into(),
                targets: request.targets,
                ports: ports.clone(),
                options: serde_json::to_value(&request.options).unwrap_or(Value::Null),
                progress: Progress {
                    addresses_total: addresses.len() as u64,
                    probes_total: (addresses.len() * ports.len()) as u64,
                    ..Progress::default()
                },
                summary: None,
                plan: None,
                applied_at: None,
                error: None,
                schedule_id: request.schedule_id,
                created_by: request.created_by,
                created_at: now,
                started_at: None,
                finished_at: None,
                tags: Vec::new(),
                agent_id: request.agent_id.clone(),
            };
            discoveries::insert(tx, &d, None)?;
            let spec = ScanSpec {
                addresses,
                ports,
                timeout: Duration::from_millis(request.options.timeout_ms),
                concurrency: request.options.concurrency,
                http_probe: request.options.http_probe,
            };
            Ok((d, spec))
        })
        .await?;
    if discovery.agent_id.is_some() {
        // Its agent takes it on its long poll.
        registry.jobs.notify_waiters();
        return Ok(discovery);
    }
    let close = discovery.options["close_missing"] == Value::Bool(true);
    spawn_scan(db.clone(), registry.clone(), discovery.clone(), spec, close);
    Ok(discovery)
}

/// An agent may run a scan of a network: it is the network's, enabled, and announced `scan`.
fn check_scan_agent(tx: &rusqlite::Transaction, agent_id: &str, network_id: &str) -> ApiResult<()> {
    let agent = match crate::db::agents::get(tx, agent_id) {
        Err(e) if e.code == crate::error::ErrorCode::NotFound => {
            return Err(crate::ops::missing_reference("agent_id", "Agent", agent_id))
        }
        other => other?,
    };
    let refuse = |why: String| Err(ApiError::validation("agent_id", why));
    if agent.network_id != network_id {
        return refuse(format!("Agent {} reports into another network", agent.name));
    }
    if !agent.enabled {
        return refuse(format!("Agent {} is disabled", agent.name));
    }
    if !agent.capabilities.scan {
        return refuse(format!(
            "Agent {} does not scan: start it with --scan (it announces that when it reports)",
            agent.name
        ));
    }
    Ok(())
}

/// Reconciles an upload (nmap XML or pushed observations) at once: the discovery is stored,
/// reconciled and answered finished.
pub async fn run_upload(
    db: &Db,
    network_id: String,
    source: &str,
    mode: String,
    observations: Vec<Observation>,
    created_by: Value,
) -> ApiResult<Discovery> {
    let now = clock::now();
    let mut d = Discovery {
        id: crate::ops::new_id(),
        network_id,
        source: source.into(),
        mode,
        status: "running".into(),
        targets: observations.iter().map(|o| o.ip.to_string()).collect(),
        ports: Vec::new(),
        options: serde_json::json!({}),
        progress: Progress {
            addresses_total: observations.len() as u64,
            addresses_done: observations.len() as u64,
            open_found: observations.iter().map(|o| o.ports.len() as u64).sum(),
            ..Progress::default()
        },
        summary: None,
        plan: None,
        applied_at: None,
        error: None,
        schedule_id: None,
        created_by,
        created_at: now.clone(),
        started_at: Some(now),
        finished_at: None,
        tags: Vec::new(),
        agent_id: None,
    };
    let row = d.clone();
    db.write(move |tx| {
        if !crate::db::networks::exists(tx, &row.network_id)? {
            return Err(crate::ops::missing_reference(
                "network_id",
                "Network",
                &row.network_id,
            ));
        }
        discoveries::insert(tx, &row, None)
    })
    .await?;
    let plan = d.mode == "plan";
    let outcome = reconcile_all(db, &d, observations.clone(), None, plan).await;
    let kept = finish(&mut d, outcome, plan, &observations);
    let row = d.clone();
    db.write(move |tx| discoveries::update(tx, &row, kept.as_ref()))
        .await?;
    Ok(d)
}

/// Applies a plan once, against the state of now: rules are checked again, and what no longer
/// applies is skipped and counted.
pub async fn apply(db: &Db, id: &str) -> ApiResult<Discovery> {
    let key = id.to_string();
    let (mut d, observations) = db
        .write(move |tx| {
            let mut d = discoveries::get(tx, &key)?;
            if d.mode != "plan" {
                return Err(ApiError::conflict("Only a plan can be applied")
                    .with_param("mode", d.mode.as_str()));
            }
            if d.status != "completed" {
                return Err(ApiError::conflict("The plan is not ready")
                    .with_param("status", d.status.as_str()));
            }
            if let Some(at) = &d.applied_at {
                return Err(ApiError::conflict("This plan was already applied")
                    .with_param("applied_at", at.as_str()));
            }
            // Claimed in the same write that checked it: a second apply finds it taken.
            d.applied_at = Some(clock::now());
            discoveries::update(tx, &d, None)?;
            let observations = discoveries::observations(tx, &key)?
                .and_then(|v| serde_json::from_value::<Vec<Observation>>(v).ok())
                .unwrap_or_default();
            Ok((d, observations))
        })
        .await?;
    let probed = if d.source == "scan" && d.options["close_missing"] == Value::Bool(true) {
        // The addresses the scan probed: its targets, expanded again.
        let (targets, network) = (d.targets.clone(), d.network_id.clone());
        let addresses = db
            .read(move |c| {
                let subnets: Vec<_> = discoveries::subnets_of(c, &network)?
                    .into_iter()
                    .map(|(_, s)| s)
                    .collect();
                crate::domain::discovery::expand_targets(&targets, &subnets, usize::MAX)
            })
            .await?;
        Some(Probed {
            addresses,
            ports: d.ports.clone(),
        })
    } else {
        None
    };
    match reconcile_all(db, &d, observations, probed, false).await {
        Ok(out) => d.summary = Some(out.summary),
        Err(e) => {
            let row_id = d.id.clone();
            let _ = db
                .write(move |tx| {
                    tx.execute(
                        "UPDATE discoveries SET applied_at = NULL WHERE id = ?",
                        [row_id],
                    )?;
                    Ok(())
                })
                .await;
            return Err(e);
        }
    }
    let row = d.clone();
    db.write(move |tx| discoveries::update(tx, &row, None))
        .await?;
    Ok(d)
}

//! Discovery schedules: checked when written, and a thread that starts each due scan. A run that
//! would overlap a running scan of the same network waits for the next check.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{start_scan, Registry, ScanOptions, ScanRequest};
use crate::db::discoveries::{self, Schedule};
use crate::db::Db;
use crate::domain::clock;
use crate::error::{ApiError, ApiResult, ErrorCode};

/// How often due schedules are looked for.
const TICK: Duration = Duration::from_secs(1);

/// `now` plus `minutes`, in the API's timestamp format.
pub fn after_minutes(now: &str, minutes: i64) -> String {
    let start = clock::parse_rfc3339(now).unwrap_or_else(time::OffsetDateTime::now_utc);
    clock::format(start + time::Duration::minutes(minutes))
}

/// Checks a schedule's fields against the same guards as a scan started by hand.
pub fn check(tx: &rusqlite::Connection, s: &Schedule, max_addresses: usize) -> ApiResult<()> {
    if !crate::db::networks::exists(tx, &s.network_id)? {
        return Err(crate::ops::missing_reference(
            "network_id",
            "Network",
            &s.network_id,
        ));
    }
    if s.interval_minutes < 5 {
        return Err(ApiError::validation(
            "interval_minutes",
            "A schedule runs at most every 5 minutes",
        ));
    }
    if !matches!(s.mode.as_str(), "apply" | "plan") {
        return Err(ApiError::validation("mode", "mode is apply or plan"));
    }
    let options: ScanOptions = serde_json::from_value(s.options.clone())
        .map_err(|e| ApiError::validation("options", format!("Invalid options: {e}")))?;
    options.check()?;
    let subnets: Vec<_> = discoveries::subnets_of(tx, &s.network_id)?
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    crate::domain::discovery::expand_targets(&s.targets, &subnets, max_addresses)?;
    crate::domain::discovery::parse_ports(&s.ports, &discoveries::catalog(tx)?)?;
    Ok(())
}

/// Starts the scheduler thread; it runs until `stopping` is raised.
pub fn start(
    db: Db,
    registry: Arc<Registry>,
    max_addresses: usize,
    agent_job_timeout_s: u32,
    stopping: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    let started = std::thread::Builder::new()
        .name("discovery-schedules".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return log::error!("discovery schedules: no runtime: {e}"),
            };
            while !stopping.load(Ordering::Relaxed) {
                runtime.block_on(run_due(&db, &registry, max_addresses));
                runtime.block_on(fail_silent_jobs(&db, agent_job_timeout_s));
                std::thread::sleep(TICK);
            }
        });
    started
        .map_err(|e| log::error!("cannot start the discovery scheduler: {e}"))
        .ok()
}

/// Scan jobs whose agent did not take them, or went silent, fail after the timeout; so do
/// deployment jobs whose agent went silent (their reservations are given back).
async fn fail_silent_jobs(db: &Db, timeout_s: u32) {
    let cutoff = clock::format(
        time::OffsetDateTime::now_utc() - time::Duration::seconds(i64::from(timeout_s)),
    );
    let probe = cutoff.clone();
    let any = db
        .read(move |c| crate::db::deployments::silent_jobs(c, &probe))
        .await
        .is_ok_and(|ids| !ids.is_empty());
    if any {
        let deployments = db
            .write(move |tx| {
                let who = crate::ops::journal::Writer::begin(
                    tx,
                    crate::domain::principal::Principal::operator(
                        crate::domain::history::ActorKind::System,
                        "agent job timeout",
                    ),
                    None,
                )?;
                crate::ops::deployments::fail_silent(tx, &who, &cutoff, timeout_s)
            })
            .await;
        match deployments {
            Ok(0) => {}
            Ok(n) => log::warn!("{n} deployment job(s) of silent agents failed"),
            Err(e) => log::warn!("deployment jobs: {e}"),
        }
    }
    if !db.read(discoveries::has_open_jobs).await.unwrap_or(false) {
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    let cutoff = clock::format(now - time::Duration::seconds(i64::from(timeout_s)));
    let now = clock::format(now);
    let failed = db
        .write(move |tx| discoveries::fail_silent_jobs(tx, &now, &cutoff, timeout_s))
        .await;
    match failed {
        Ok(0) => {}
        Ok(n) => log::warn!("{n} scan job(s) of silent agents failed"),
        Err(e) => log::warn!("scan jobs: {e}"),
    }
}

async fn run_due(db: &Db, registry: &Arc<Registry>, max_addresses: usize) {
    let now = clock::now();
    let at = now.clone();
    let due = match db.read(move |c| discoveries::due_schedules(c, &at)).await {
        Ok(due) => due,
        Err(e) => return log::warn!("discovery schedules: {e}"),
    };
    for mut schedule in due {
        let request = ScanRequest {
            network_id: schedule.network_id.clone(),
            targets: schedule.targets.clone(),
            ports: schedule.ports.clone(),
            mode: schedule.mode.clone(),
            options: serde_json::from_value(schedule.options.clone()).unwrap_or_default(),
            schedule_id: Some(schedule.id.clone()),
            created_by: json!({"type": "system", "id": Value::Null,
                               "name": format!("schedule {}", schedule.name)}),
            agent_id: None,
        };
        match start_scan(db, registry, max_addresses, request).await {
            Ok(d) => schedule.last_discovery_id = Some(d.id),
            // The network's running scan goes first; this one waits for the next tick.
            Err(e) if e.code == ErrorCode::Conflict => continue,
            Err(e) => log::warn!("schedule {} could not start: {}", schedule.id, e.message),
        }
        schedule.last_run_at = Some(now.clone());
        schedule.next_run_at = after_minutes(&now, schedule.interval_minutes);
        if let Err(e) = db
            .write(move |tx| discoveries::schedule_ran(tx, &schedule))
            .await
        {
            log::warn!("discovery schedules: {e}");
        }
    }
}

//! The webhook worker: sends the outbox's deliveries, one at a time per hook in journal order,
//! many hooks at once, each on a thread of its own so that a slow receiver delays only itself.
//! API writes never wait for it: they only add rows to the outbox.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::db::webhooks::{self, Attempt, Due};
use crate::db::Db;
use crate::domain::clock;
use crate::domain::principal::Principal;
use crate::domain::webhooks::{backoff, payload, signature};
use crate::error::{ApiError, ApiResult};
use crate::ops::journal::Writer;

/// How often the outbox is looked at when no attempt has finished meanwhile.
const TICK: Duration = Duration::from_millis(200);
/// A delivery is retried for this long, then failed; a hook failing this long is disabled.
const GIVE_UP: time::Duration = time::Duration::hours(24);

/// What one HTTP attempt came to.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Sent {
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl Sent {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// One POST of an event to a receiver, signed when the hook has a secret.
pub fn send(
    url: &str,
    format: &str,
    secret: Option<&str>,
    event_type: &str,
    event_id: &str,
    event: &Value,
    timeout: Duration,
) -> Sent {
    let body = payload(format, event);
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut req = agent
        .post(url)
        .header("Content-Type", body.content_type)
        .header(
            "User-Agent",
            concat!("portolan/", env!("CARGO_PKG_VERSION")),
        )
        .header("X-Portolan-Event", event_type)
        .header("X-Portolan-Delivery", event_id)
        .header("X-Portolan-Timestamp", now.to_string());
    if let Some(secret) = secret {
        req = req.header(
            "X-Portolan-Signature-256",
            signature(secret, now, &body.body),
        );
    }
    if let Some(title) = &body.title {
        req = req.header("Title", title);
    }
    let started = Instant::now();
    let result = req.send(&body.body[..]);
    let latency_ms = started.elapsed().as_millis() as i64;
    match result {
        Ok(res) => Sent {
            status: Some(res.status().as_u16()),
            latency_ms,
            error: None,
        },
        Err(e) => Sent {
            status: None,
            latency_ms,
            error: Some(e.to_string()),
        },
    }
}

/// Starts the worker; it runs until `stopping` is raised.
pub fn start(db: Db, timeout: Duration, stopping: Arc<AtomicBool>) {
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    // A finished attempt wakes the loop, so that a hook's next delivery follows at once.
    let (finished, wake) = std::sync::mpsc::channel::<()>();
    let started = std::thread::Builder::new()
        .name("webhooks".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return log::error!("webhooks: no runtime: {e}"),
            };
            while !stopping.load(Ordering::Relaxed) {
                // New events become deliveries of the hooks that want them, in one write.
                let behind = runtime
                    .block_on(db.read(webhooks::any_behind))
                    .unwrap_or(false);
                if behind {
                    if let Err(e) = runtime.block_on(db.write(|tx| webhooks::hand_out(tx, 500))) {
                        log::warn!("webhooks: {e}");
                    }
                }
                let now = clock::now();
                let due = runtime.block_on(db.read(move |c| webhooks::due(c, &now)));
                match due {
                    Ok(due) => {
                        for d in due {
                            if in_flight
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(d.webhook_id.clone())
                            {
                                let (db, in_flight) = (db.clone(), in_flight.clone());
                                let finished = finished.clone();
                                std::thread::spawn(move || {
                                    let hook = d.webhook_id.clone();
                                    if let Err(e) = attempt(&db, d, timeout) {
                                        log::warn!("webhook {hook}: {e}");
                                    }
                                    in_flight
                                        .lock()
                                        .unwrap_or_else(|e| e.into_inner())
                                        .remove(&hook);
                                    let _ = finished.send(());
                                });
                            }
                        }
                    }
                    Err(e) => log::warn!("webhooks: {e}"),
                }
                let _ = wake.recv_timeout(TICK);
                while wake.try_recv().is_ok() {}
            }
        });
    if let Err(e) = started {
        log::error!("cannot start the webhook worker: {e}");
    }
}

/// The event a delivery announces: its journal entry, as `GET /api/v1/changes` shows it.
pub fn event(entry: &crate::db::changes::Change) -> Value {
    serde_json::json!({"id": entry.id, "type": format!("{}.{}", entry.entity_type, entry.action),
                       "time": entry.time, "data": entry})
}

fn attempt(db: &Db, d: Due, timeout: Duration) -> ApiResult<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ApiError::internal)?;
    let (id, seq) = (d.event_id.clone(), d.entry_seq);
    let entry = runtime.block_on(db.read(move |c| crate::db::changes::get(c, &id, seq)))?;
    // An entry pruned by history retention is announced by its id and type alone.
    let event = match &entry {
        Some(e) => event(e),
        None => serde_json::json!({"id": d.event_id, "type": d.event_type, "data": null}),
    };
    let sent = send(
        &d.url,
        &d.format,
        d.secret.as_deref(),
        &d.event_type,
        &d.event_id,
        &event,
        timeout,
    );
    let metrics = crate::metrics::get();
    let now = time::OffsetDateTime::now_utc();
    let first = clock::parse_rfc3339(&d.created_at).unwrap_or(now);
    let (status, next) = if sent.ok() {
        ("delivered", None)
    } else if now - first >= GIVE_UP {
        ("failed", None)
    } else {
        let wait = backoff(d.attempts as u32 + 1, rand::random::<f64>());
        ("pending", Some(clock::format(now + wait)))
    };
    metrics
        .webhook_deliveries
        .with_label_values(&[match status {
            "pending" => "retry",
            s => s,
        }])
        .inc();
    let stamp = clock::format(now);
    runtime.block_on(db.write(move |tx| {
        webhooks::record_attempt(
            tx,
            &Attempt {
                id: &d.id,
                webhook_id: &d.webhook_id,
                status,
                response_status: sent.status,
                latency_ms: sent.latency_ms,
                error: sent.error.as_deref(),
                next_attempt_at: next.as_deref(),
                now: &stamp,
            },
        )?;
        // A hook that has failed for a day is switched off, which the journal records.
        let hook = webhooks::get(tx, &d.webhook_id)?;
        let failing_long = hook
            .failing_since
            .as_deref()
            .and_then(clock::parse_rfc3339)
            .is_some_and(|since| now - since >= GIVE_UP);
        if failing_long {
            let who = Writer::begin(
                tx,
                Principal::operator(crate::domain::history::ActorKind::System, "webhook worker"),
                None,
            )?;
            crate::ops::webhooks::disable_failing(tx, &who, &d.webhook_id)?;
        }
        Ok(())
    }))
}

//! The webhook worker: sends the outbox's deliveries, one at a time per hook in journal order,
//! many hooks at once, each on a thread of its own so that a slow receiver delays only itself.
//! API writes never wait for it: they only add rows to the outbox.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::net::ToSocketAddrs;

use serde_json::Value;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::db::webhooks::{self, Attempt, Due};
use crate::db::Db;
use crate::domain::clock;
use crate::domain::outbound::Receivers;
use crate::domain::principal::Principal;
use crate::domain::webhooks::{backoff, payload, signature};
use crate::domain::Invalid;
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

/// Resolves a receiver's name as the system does and refuses it when any of its addresses is
/// one no receiver may have: the check and the connection use the same answer, so a name
/// cannot resolve to an allowed address for the check and a denied one for the connection.
#[derive(Debug)]
struct CheckedResolver(Receivers);

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addresses = DefaultResolver::default().resolve(uri, config, timeout)?;
        if let Some(denied) = addresses.iter().find(|a| self.0.refuses(a.ip())) {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "the receiver resolves to {}, which is not a permitted receiver address",
                    denied.ip()
                ),
            )));
        }
        Ok(addresses)
    }
}

/// At creation: a receiver named by a host name whose addresses include a refused one is
/// refused too. A name that does not resolve (yet) is accepted; delivery checks it again.
pub fn check_receiver_name(receivers: &Receivers, url: &str) -> Result<(), Invalid> {
    let parsed = receivers.check_url(url)?;
    if parsed.literal().is_some() {
        return Ok(());
    }
    let Ok(addresses) = (parsed.host.as_str(), parsed.port).to_socket_addrs() else {
        return Ok(());
    };
    for address in addresses {
        receivers
            .check_address(address.ip())
            .map_err(|e| Invalid::new(format!("{} resolves to {}", parsed.host, e.0)))?;
    }
    Ok(())
}

/// One POST of an event to a receiver, signed when the hook has a secret. Redirects are not
/// followed: a 3xx is a failed attempt, and its `Location` is what the error says.
#[allow(clippy::too_many_arguments)]
pub fn send(
    receivers: &Receivers,
    url: &str,
    format: &str,
    secret: Option<&str>,
    event_type: &str,
    event_id: &str,
    event: &Value,
    timeout: Duration,
) -> Sent {
    if let Err(e) = receivers.check_url(url) {
        return Sent {
            status: None,
            latency_ms: 0,
            error: Some(e.0),
        };
    }
    let body = payload(format, event);
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build();
    let agent = ureq::Agent::with_parts(
        config,
        DefaultConnector::default(),
        CheckedResolver(receivers.clone()),
    );
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
        Ok(res) if res.status().is_redirection() => {
            let location = res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("(none)");
            Sent {
                status: Some(res.status().as_u16()),
                latency_ms,
                error: Some(format!("redirect to {location} not followed")),
            }
        }
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

/// Starts the worker; it runs until `stopping` is raised, then waits (at most `timeout` and a
/// tick) for attempts under way, so that nothing writes after the shutdown checkpoint.
pub fn start(
    db: Db,
    receivers: Receivers,
    timeout: Duration,
    stopping: Arc<AtomicBool>,
) -> Option<JoinHandle<()>> {
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
                                let receivers = receivers.clone();
                                std::thread::spawn(move || {
                                    let hook = d.webhook_id.clone();
                                    if let Err(e) = attempt(&db, &receivers, d, timeout) {
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
            let give_up = Instant::now() + timeout + TICK;
            while !in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
                && Instant::now() < give_up
            {
                let _ = wake.recv_timeout(TICK);
            }
        });
    started
        .map_err(|e| log::error!("cannot start the webhook worker: {e}"))
        .ok()
}

/// The event a delivery announces: its journal entry, as `GET /api/v1/changes` shows it.
pub fn event(entry: &crate::db::changes::Change) -> Value {
    serde_json::json!({"id": entry.id, "type": format!("{}.{}", entry.entity_type, entry.action),
                       "time": entry.time, "data": entry})
}

fn attempt(db: &Db, receivers: &Receivers, d: Due, timeout: Duration) -> ApiResult<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ApiError::internal)?;
    let (id, seq) = (d.event_id.clone(), d.entry_seq);
    let mut entry = runtime.block_on(db.read(move |c| crate::db::changes::get(c, &id, seq)))?;
    if let Some(e) = entry.as_mut().filter(|_| !d.network_ids.is_empty()) {
        e.limit_to(&d.network_ids);
    }
    // An entry pruned by history retention is announced by its id and type alone.
    let event = match &entry {
        Some(e) => event(e),
        None => serde_json::json!({"id": d.event_id, "type": d.event_type, "data": null}),
    };
    let sent = send(
        receivers,
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

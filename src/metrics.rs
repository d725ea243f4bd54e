//! Prometheus metrics: one registry for the process, filled by the request middleware, the
//! database writer and discovery, and read by `GET /metrics`.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus::{
    exponential_buckets, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    pub write_wait_seconds: Histogram,
    pub write_hold_seconds: Histogram,
    pub database_bytes: IntGauge,
    pub entities: IntGaugeVec,
    pub discovery_probes: IntCounter,
    pub discovery_open_ports: IntCounter,
    pub webhook_deliveries: IntCounterVec,
    pub webhook_backlog: IntGauge,
}

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new("portolan_http_requests_total", "HTTP requests answered"),
        &["route", "method", "status"],
    )?;
    let request_seconds = HistogramVec::new(
        HistogramOpts::new(
            "portolan_http_request_duration_seconds",
            "Time to answer an HTTP request",
        )
        .buckets(exponential_buckets(0.0005, 2.0, 14)?),
        &["route"],
    )?;
    let write_wait_seconds = Histogram::with_opts(
        HistogramOpts::new(
            "portolan_write_wait_seconds",
            "Time a write waited for the database writer",
        )
        .buckets(exponential_buckets(0.0001, 2.0, 16)?),
    )?;
    let write_hold_seconds = Histogram::with_opts(
        HistogramOpts::new(
            "portolan_write_hold_seconds",
            "Time a write transaction held the database, commit included",
        )
        .buckets(exponential_buckets(0.0001, 2.0, 16)?),
    )?;
    let database_bytes = IntGauge::new(
        "portolan_database_size_bytes",
        "Size of the database file and its write-ahead log",
    )?;
    let entities = IntGaugeVec::new(
        Opts::new("portolan_entities", "Live objects of each kind"),
        &["kind"],
    )?;
    let discovery_probes = IntCounter::new(
        "portolan_discovery_probes_total",
        "TCP connects made by discovery scans",
    )?;
    let discovery_open_ports = IntCounter::new(
        "portolan_discovery_open_ports_total",
        "Open ports discovery scans found",
    )?;
    let webhook_deliveries = IntCounterVec::new(
        Opts::new(
            "portolan_webhook_deliveries_total",
            "Webhook delivery attempts by outcome: delivered, retry or failed",
        ),
        &["outcome"],
    )?;
    let webhook_backlog = IntGauge::new(
        "portolan_webhook_outbox_pending",
        "Webhook deliveries waiting to be sent",
    )?;
    let build_info = IntGaugeVec::new(
        Opts::new(
            "portolan_build_info",
            "The running version, as a label; always 1",
        ),
        &["version"],
    )?;
    build_info
        .with_label_values(&[env!("CARGO_PKG_VERSION")])
        .set(1);
    registry.register(Box::new(requests.clone()))?;
    registry.register(Box::new(request_seconds.clone()))?;
    registry.register(Box::new(write_wait_seconds.clone()))?;
    registry.register(Box::new(write_hold_seconds.clone()))?;
    registry.register(Box::new(database_bytes.clone()))?;
    registry.register(Box::new(entities.clone()))?;
    registry.register(Box::new(discovery_probes.clone()))?;
    registry.register(Box::new(discovery_open_ports.clone()))?;
    registry.register(Box::new(webhook_deliveries.clone()))?;
    registry.register(Box::new(webhook_backlog.clone()))?;
    registry.register(Box::new(build_info))?;
    Ok(Metrics {
        registry,
        requests,
        request_seconds,
        write_wait_seconds,
        write_hold_seconds,
        database_bytes,
        entities,
        discovery_probes,
        discovery_open_ports,
        webhook_deliveries,
        webhook_backlog,
    })
}

/// The process's metrics (one registry, as Prometheus scrapes a process).
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| build().expect("the metric definitions are valid"))
}

impl Metrics {
    pub fn observe_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.request_seconds
            .with_label_values(&[route])
            .observe(took.as_secs_f64());
    }

    pub fn observe_write(&self, waited: Duration, held: Duration) {
        self.write_wait_seconds.observe(waited.as_secs_f64());
        self.write_hold_seconds.observe(held.as_secs_f64());
    }

    /// The text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            log::warn!("metrics: {e}");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

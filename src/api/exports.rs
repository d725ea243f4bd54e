//! `/api/v1/exports/...`: the inventory as other programs read it.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::input::QueryParams;
use super::{on, Routes};
use crate::auth::Auth;
use crate::db::exports::ListenerFilter;
use crate::domain::role::Role;
use crate::error::ApiResult;
use crate::startup::AppState;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(
        &format!("{base}/prometheus-sd"),
        [on(Method::GET, prometheus_sd)],
    );
}

/// One target group of Prometheus's HTTP service discovery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetGroup {
    /// `address:port` (an IPv6 address in brackets).
    pub targets: Vec<String>,
    /// `__meta_portolan_network`, `_host`, `_service`, `_service_type`, `_category` and `_tags`
    /// (`,a,b,`: match one with a regex like `.*,prod,.*`).
    pub labels: BTreeMap<String, String>,
}

/// `GET /api/v1/exports/prometheus-sd`: what `http_sd_configs` reads, one target per service,
/// address and port; a port bound on all interfaces is one target per address of its host.
/// Plain JSON (no envelope): Prometheus reads the list itself.
async fn prometheus_sd(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let filter = ListenerFilter {
        network_id: q.uuid("network_id")?,
        service_type: q.text("service_type"),
        category: q.text("category"),
        tag: q.text("tag"),
    };
    let scope = auth.scope();
    let listeners = state
        .db
        .read(move |c| crate::db::exports::listeners(c, &scope, &filter))
        .await?;
    let groups: Vec<TargetGroup> = listeners
        .into_iter()
        .map(|l| {
            let host = if l.address.contains(':') {
                format!("[{}]", l.address)
            } else {
                l.address.clone()
            };
            let tags = if l.tags.is_empty() {
                String::new()
            } else {
                format!(",{},", l.tags.join(","))
            };
            let labels = [
                ("__meta_portolan_network", l.network),
                ("__meta_portolan_host", l.host),
                ("__meta_portolan_service", l.service),
                ("__meta_portolan_service_type", l.service_type),
                ("__meta_portolan_category", l.category),
                ("__meta_portolan_tags", tags),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            TargetGroup {
                targets: vec![format!("{host}:{}", l.port)],
                labels,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(groups))
}

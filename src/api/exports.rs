//! `/api/v1/exports/...`: the inventory as other programs read it.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use super::input::QueryParams;
use super::{on, Routes};
use crate::auth::Auth;
use crate::db::exports::ListenerFilter;
use crate::domain::exports::{self, ExportHost, ExportService};
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::http::header;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(
        &format!("{base}/prometheus-sd"),
        [on(Method::GET, prometheus_sd)],
    )
    .at(&format!("{base}/ansible"), [on(Method::GET, ansible)])
    .at(&format!("{base}/homepage"), [on(Method::GET, homepage)])
    .at(
        &format!("{base}/services.csv"),
        [on(Method::GET, services_csv)],
    );
}
/// The hosts a key may see (of one network, when asked), shaped for the exports.
async fn hosts(state: &AppState, auth: &Auth, req: &HttpRequest) -> ApiResult<Vec<ExportHost>> {
    auth.require(Role::Viewer)?;
    let network = QueryParams::from_request(req)?.uuid("network_id")?;
    let scope = auth.scope();
    let inv = state
        .db
        .read(move |c| crate::db::exports::inventory(c, &scope, network))
        .await?;
    let name = |map: &std::collections::HashMap<String, String>, id: &str| {
        map.get(id).cloned().unwrap_or_else(|| id.to_string())
    };
    Ok(inv
        .hosts
        .iter()
        .map(|h| {
            let addresses = h.ip_addresses.clone().unwrap_or_default();
            let ports = h.ports.clone().unwrap_or_default();
            ExportHost {
                id: h.id.clone(),
                name: h.name.clone(),
                network: name(&inv.networks, &h.network_id),
                addresses: addresses
                    .iter()
                    .map(|a| {
                        (
                            a.ip_address.clone(),
                            a.subnet_id.as_ref().map(|s| name(&inv.subnets, s)),
                        )
                    })
                    .collect(),
                tags: h.tags.iter().map(|t| name(&inv.tags, t)).collect(),
                services: h
                    .services
                    .iter()
                    .flatten()
                    .map(|s| ExportService {
                        name: s.name.clone(),
                        service_type: s.service_definition.clone(),
                        tags: s.tags.iter().map(|t| name(&inv.tags, t)).collect(),
                        listens: s
                            .bindings
                            .iter()
                            .filter_map(|b| {
                                let port =
                                    ports.iter().find(|p| Some(&p.id) == b.port_id.as_ref())?;
                                let address = b.ip_address_id.as_ref().and_then(|i| {
                                    addresses
                                        .iter()
                                        .find(|a| &a.id == i)
                                        .map(|a| a.ip_address.clone())
                                });
                                Some((
                                    address,
                                    port.number,
                                    port.protocol.clone(),
                                    port.port_type.to_string(),
                                ))
                            })
                            .collect(),
                    })
                    .collect(),
            }
        })
        .collect())
}

/// `GET /api/v1/exports/ansible?format=json|yaml`: an inventory `ansible-inventory` reads.
async fn ansible(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let format = QueryParams::from_request(&req)?
        .one("format")
        .unwrap_or("json")
        .to_string();
    if format != "json" && format != "yaml" {
        return Err(ApiError::validation("format", "format is json or yaml"));
    }
    let inventory = exports::ansible(&hosts(&state, &auth, &req).await?);
    Ok(if format == "yaml" {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/yaml"))
            .body(exports::to_yaml(&exports::ansible_yaml(&inventory)))
    } else {
        HttpResponse::Ok().json(inventory)
    })
}

/// `GET /api/v1/exports/homepage?group_by=network|tag`: a `services.yaml` for Homepage.
async fn homepage(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let by_tag = match QueryParams::from_request(&req)?.one("group_by") {
        None | Some("network") => false,
        Some("tag") => true,
        Some(other) => {
            return Err(ApiError::validation(
                "group_by",
                format!("\"{other}\" is not one of network, tag"),
            ))
        }
    };
    let doc = exports::homepage(&hosts(&state, &auth, &req).await?, by_tag);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/yaml"))
        .body(exports::to_yaml(&doc)))
}

/// `GET /api/v1/exports/services.csv`: a row per binding, RFC 4180 quoting.
async fn services_csv(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let network = QueryParams::from_request(&req)?.uuid("network_id")?;
    let scope = auth.scope();
    let rows = state
        .db
        .read(move |c| crate::db::exports::binding_rows(c, &scope, network))
        .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header_row = [
        "network",
        "host",
        "ip_address",
        "port",
        "protocol",
        "service",
        "service_type",
        "tags",
        "first_seen",
        "last_seen",
    ];
    out.write_record(header_row).map_err(ApiError::internal)?;
    for r in rows {
        out.write_record(r.iter().map(|cell| exports::csv_cell(cell).into_owned()))
            .map_err(ApiError::internal)?;
    }
    let bytes = out.into_inner().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"services.csv\"",
        ))
        .body(bytes))
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

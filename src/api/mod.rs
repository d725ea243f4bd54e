//! Thin HTTP handlers: parse the request, call `ops` or `db`, wrap the result in the envelope.

pub mod api_keys;
pub mod bindings;
pub mod hosts;
pub mod input;
pub mod ip_addresses;
pub mod networks;
pub mod ports;
pub mod resource;
pub mod service_types;
pub mod services;
pub mod subnets;
pub mod system;
pub mod tags;
pub mod templates;
pub mod ui;
pub mod write;

use actix_web::{web, HttpRequest, HttpResponse, Resource};

use crate::db::query::PageRequest;
use crate::envelope::{self, Pagination};
use crate::error::{ApiError, ApiResult, ErrorCode};
use input::parse_uuid;

/// Every route of the server.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(web::get().to(system::healthz)))
        .service(web::resource("/readyz").route(web::get().to(system::readyz)))
        .service(resource("/api/version").route(web::get().to(system::version)))
        .service(web::scope("/api/v1/networks").configure(networks::routes))
        .service(web::scope("/api/v1/subnets").configure(subnets::routes))
        .service(web::scope("/api/v1/hosts").configure(hosts::routes))
        .service(web::scope("/api/v1/ip-addresses").configure(ip_addresses::routes))
        .service(web::scope("/api/v1/interfaces").configure(ip_addresses::routes))
        .service(web::scope("/api/v1/ports").configure(ports::routes))
        .service(web::scope("/api/v1/tags").configure(tags::routes))
        .service(web::scope("/api/v1/service-types").configure(service_types::routes))
        .service(web::scope("/api/v1/services").configure(services::routes))
        .service(web::scope("/api/v1/bindings").configure(bindings::routes))
        .service(web::scope("/api/v1/service-templates").configure(templates::routes))
        .service(web::scope("/api/services").configure(templates::routes))
        .service(web::scope("/api/v1/auth/keys").configure(api_keys::routes))
        .default_service(web::to(ui::fallback));
}

/// A resource whose unsupported methods answer with the JSON 404 of unknown API paths.
pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(no_route))
}

pub async fn no_route(req: HttpRequest) -> ApiResult<HttpResponse> {
    Err(ApiError::new(
        ErrorCode::NotFound,
        format!("No route for {} {}", req.method(), req.path()),
    ))
}

/// The list envelope with its pagination meta.
pub fn list_response<T: serde::Serialize>(
    items: &[T],
    page: PageRequest,
    total: u64,
) -> HttpResponse {
    let has_more = match page.limit {
        Some(_) => page.offset + (items.len() as u64) < total,
        None => false,
    };
    envelope::list(
        items,
        Pagination {
            total_count: total,
            limit: page.limit.unwrap_or(0),
            offset: page.offset,
            has_more,
        },
    )
}

/// `tags` as given: each a UUID of an existing tag (checked in the transaction); duplicates collapse.
pub fn tag_ids(tags: Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, t) in tags.unwrap_or_default().iter().enumerate() {
        let id = parse_uuid(t, &format!("tags[{i}]"))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// The body of a bulk delete: a non-empty array of ids, each checked by `parse`.
pub fn bulk_ids(
    body: &input::JsonBody,
    parse: fn(&str) -> ApiResult<String>,
) -> ApiResult<Vec<String>> {
    let raw: Vec<String> = body.parse_any()?;
    if raw.is_empty() {
        return Err(ApiError::validation(
            "body",
            "Give at least one id to delete",
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, id)| {
            parse(id).map_err(|mut e| {
                e.field = Some(format!("[{i}]"));
                e
            })
        })
        .collect()
}

/// `null`, or `{"type": "<kind>", "details": {...}}` with the kind the resource allows.
pub fn virtualization(
    value: Option<serde_json::Value>,
    kind: &str,
) -> ApiResult<Option<serde_json::Value>> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let object = value
        .as_object()
        .ok_or_else(|| ApiError::validation("virtualization", "must be null or an object"))?;
    if object.get("type").and_then(serde_json::Value::as_str) != Some(kind) {
        return Err(ApiError::validation(
            "virtualization.type",
            format!("virtualization.type must be \"{kind}\""),
        ));
    }
    match object.get("details") {
        None | Some(serde_json::Value::Object(_)) => {}
        Some(_) => {
            return Err(ApiError::validation(
                "virtualization.details",
                "must be an object",
            ));
        }
    }
    if let Some(extra) = object.keys().find(|k| *k != "type" && *k != "details") {
        return Err(ApiError::validation(
            format!("virtualization.{extra}"),
            format!("Unknown field \"virtualization.{extra}\""),
        ));
    }
    Ok(Some(value))
}

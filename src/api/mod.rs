//! Thin HTTP handlers: parse the request, call `ops` or `db`, wrap the result in the envelope.

pub mod api_keys;
pub mod bindings;
pub mod hosts;
pub mod input;
pub mod ip_addresses;
pub mod networks;
pub mod ports;
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

/// The standard surface `""`, `/bulk-delete`, `/{id}` with the given handlers.
#[macro_export]
macro_rules! standard_routes {
    ($cfg:expr, list: $list:expr, create: $create:expr, get: $get:expr, update: $update:expr, delete: $delete:expr, bulk_delete: $bulk:expr) => {
        $cfg.service(
            $crate::api::resource("")
                .route(actix_web::web::get().to($list))
                .route(actix_web::web::post().to($create)),
        )
        .service($crate::api::resource("/bulk-delete").route(actix_web::web::post().to($bulk)))
        .service(
            $crate::api::resource("/{id}")
                .route(actix_web::web::get().to($get))
                .route(actix_web::web::put().to($update))
                .route(actix_web::web::delete().to($delete)),
        );
    };
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

/// The body of a bulk delete: a non-empty array of UUIDs.
pub fn bulk_ids(body: &input::JsonBody) -> ApiResult<Vec<String>> {
    let raw: Vec<String> = body.parse_any()?;
    if raw.is_empty() {
        return Err(ApiError::validation(
            "body",
            "Give at least one id to delete",
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, id)| parse_uuid(id, &format!("[{i}]")))
        .collect()
}

/// DELETE `/{id}` with `?cascade=`: runs `op(tx, id, cascade)` in one write transaction.
pub async fn delete_one<F>(
    state: &crate::startup::AppState,
    path: &web::Path<String>,
    req: &HttpRequest,
    op: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&rusqlite::Transaction, &str, bool) -> ApiResult<()> + Send + 'static,
{
    let id = input::path_id(path)?;
    let cascade = input::QueryParams::from_request(req)?.flag("cascade")?;
    state.db.write(move |tx| op(tx, &id, cascade)).await?;
    Ok(envelope::deleted())
}

/// POST `/bulk-delete`: every id through `op` in one transaction; all or nothing.
pub async fn delete_many<F>(
    state: &crate::startup::AppState,
    req: &HttpRequest,
    key_id: &str,
    body: &input::JsonBody,
    op: F,
) -> ApiResult<HttpResponse>
where
    F: Fn(&rusqlite::Transaction, &str, bool) -> ApiResult<()> + Send + 'static,
{
    let ids = bulk_ids(body)?;
    let cascade = input::QueryParams::from_request(req)?.flag("cascade")?;
    write::write_reply(state, req, key_id, Some(body), move |tx| {
        let result = crate::ops::bulk_delete(&ids, |id| op(tx, id, cascade))?;
        Ok(write::Reply::ok(&result))
    })
    .await
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

//! Thin HTTP handlers: parse the request, call `ops` or `db`, wrap the result in the envelope.

pub mod accounts;
pub mod agents;
pub mod api_keys;
pub mod bindings;
pub mod changes;
pub mod dependencies;
pub mod deployments;
pub mod discoveries;
pub mod discovery_schedules;
pub mod docs;
pub mod exports;
pub mod full_export;
pub mod hosts;
pub mod input;
pub mod ip_addresses;
pub mod map;
pub mod networks;
pub mod oidc;
pub mod openapi;
pub mod organizations;
pub mod ports;
pub mod precondition;
pub mod resource;
pub mod service_types;
pub mod services;
pub mod shares;
pub mod subnets;
pub mod system;
pub mod tag_assignments;
pub mod tags;
pub mod templates;
pub mod topology;
pub mod ui;
pub mod users;
pub mod webhooks;
pub mod write;

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder, Route};

use crate::db::query::PageRequest;
use crate::envelope::{self, Pagination};
use crate::error::{ApiError, ApiResult, ErrorCode};
use input::parse_uuid;

/// Every route of the server. The UI's fallback and the API reference's assets are not routes
/// of the API and are registered outside the table.
pub fn routes(cfg: &mut web::ServiceConfig) {
    register(cfg);
    docs::routes(cfg);
    cfg.default_service(web::to(ui::fallback));
}

/// Registers every API route and returns the table of what it registered, which the OpenAPI
/// document must describe one for one (`tests/api/openapi.rs`).
pub fn register(cfg: &mut web::ServiceConfig) -> Vec<RouteInfo> {
    let mut r = Routes {
        cfg,
        table: Vec::new(),
        scopes: Vec::new(),
    };
    r.at("/healthz", [on(Method::GET, system::healthz)])
        .at("/api/health", [on(Method::GET, system::health)])
        .at("/api/config", [on(Method::GET, system::config)])
        .at("/metrics", [on(Method::GET, system::metrics)])
        .at(
            "/download/portolan",
            [
                on(Method::GET, system::download),
                on(Method::HEAD, system::download),
            ],
        )
        .at("/readyz", [on(Method::GET, system::readyz)])
        .at("/api/version", [on(Method::GET, system::version)])
        .at("/api/openapi.json", [on(Method::GET, docs::openapi_json)])
        .at("/openapi.json", [on(Method::GET, docs::openapi_json)]);
    networks::routes(&mut r, "/api/v1/networks");
    map::routes(&mut r, "/api/v1/networks");
    subnets::routes(&mut r, "/api/v1/subnets");
    hosts::routes(&mut r, "/api/v1/hosts");
    ip_addresses::routes(&mut r, "/api/v1/ip-addresses");
    ip_addresses::routes(&mut r, "/api/v1/interfaces");
    ports::routes(&mut r, "/api/v1/ports");
    tag_assignments::routes(&mut r, "/api/v1/tags/assign");
    tags::routes(&mut r, "/api/v1/tags");
    service_types::routes(&mut r, "/api/v1/service-types");
    services::routes(&mut r, "/api/v1/services");
    dependencies::impact_route(&mut r, "/api/v1/services");
    bindings::routes(&mut r, "/api/v1/bindings");
    dependencies::routes(&mut r, "/api/v1/dependencies");
    templates::routes(&mut r, "/api/v1/service-templates");
    templates::routes(&mut r, "/api/services");
    api_keys::routes(&mut r, "/api/v1/auth/keys");
    r.at("/api/v1/auth/me", [on(Method::GET, api_keys::me)]);
    changes::routes(&mut r, "/api/v1/changes");
    organizations::routes(&mut r, "/api/v1/organizations");
    exports::routes(&mut r, "/api/v1/exports");
    full_export::routes(&mut r);
    webhooks::routes(&mut r, "/api/v1/webhooks");
    agents::routes(&mut r);
    deployments::routes(&mut r);
    accounts::routes(&mut r);
    oidc::routes(&mut r);
    users::routes(&mut r);
    shares::routes(&mut r);
    discoveries::routes(&mut r, "/api/v1/discoveries");
    discovery_schedules::routes(&mut r, "/api/v1/discovery-schedules");
    topology::routes(&mut r, "/api/v1/topology");
    hosts::routes(&mut r, "/api/hosts");
    subnets::routes(&mut r, "/api/subnets");
    dependencies::routes(&mut r, "/api/dependencies");
    discoveries::routes(&mut r, "/api/discovery");
    r.finish()
}

/// One registered route: a method on a path template in actix's (and OpenAPI's) `{name}` syntax.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteInfo {
    pub method: String,
    pub path: String,
}

/// Registers resources and keeps the table of every method on every path.
pub struct Routes<'a> {
    cfg: &'a mut web::ServiceConfig,
    table: Vec<RouteInfo>,
    /// `/api/v1/<collection>` scopes and their resources, in registration order. A request is
    /// matched against a scope's literal prefix first, so it meets the path patterns of one
    /// collection only instead of every pattern of the API in turn.
    scopes: Vec<(String, Vec<Resource>)>,
}

/// `/api/v1/hosts/{id}` -> (`/api/v1/hosts`, `/{id}`); paths outside `/api/v1/` have no scope.
fn scope_of(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/api/v1/")?;
    let end = "/api/v1/".len() + rest.find('/').unwrap_or(rest.len());
    Some(path.split_at(end))
}

impl Routes<'_> {
    pub fn at<const N: usize>(&mut self, path: &str, handlers: [(Method, Route); N]) -> &mut Self {
        let relative = scope_of(path).map_or(path, |(_, rest)| rest);
        self.add(resource(relative), path, handlers)
    }

    /// `at`, for a path whose bodies may be larger than the API's usual 1 MiB.
    pub fn at_sized<const N: usize>(
        &mut self,
        path: &str,
        max_body: usize,
        handlers: [(Method, Route); N],
    ) -> &mut Self {
        let relative = scope_of(path).map_or(path, |(_, rest)| rest);
        let res = resource(relative)
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(input::BodyLimit(max_body));
        self.add(res, path, handlers)
    }

    fn add<const N: usize>(
        &mut self,
        mut res: Resource,
        path: &str,
        handlers: [(Method, Route); N],
    ) -> &mut Self {
        for (method, route) in handlers {
            self.table.push(RouteInfo {
                method: method.as_str().to_ascii_lowercase(),
                path: path.to_string(),
            });
            res = res.route(route);
        }
        match scope_of(path) {
            Some((prefix, _)) => match self.scopes.iter_mut().find(|(p, _)| p == prefix) {
                Some((_, resources)) => resources.push(res),
                None => self.scopes.push((prefix.to_string(), vec![res])),
            },
            None => {
                self.cfg.service(res);
            }
        }
        self
    }

    /// Registers the scopes; the table of what was registered.
    fn finish(self) -> Vec<RouteInfo> {
        for (prefix, resources) in self.scopes {
            let mut scope = web::scope(&prefix).default_service(web::to(no_route));
            for res in resources {
                scope = scope.service(res);
            }
            self.cfg.service(scope);
        }
        self.table
    }
}

/// A handler for one method, for `Routes::at`.
pub fn on<F, Args>(method: Method, handler: F) -> (Method, Route)
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    (method.clone(), web::method(method).to(handler))
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
    envelope::list(items, pagination(items.len(), page, total))
}

/// `list_response` for items already serialized as one JSON array, `count` of them.
pub fn list_response_json(
    items: Vec<u8>,
    count: usize,
    page: PageRequest,
    total: u64,
) -> HttpResponse {
    envelope::list_json(items, pagination(count, page, total))
}

fn pagination(count: usize, page: PageRequest, total: u64) -> Pagination {
    let has_more = match page.limit {
        Some(_) => page.offset + (count as u64) < total,
        None => false,
    };
    Pagination {
        total_count: total,
        limit: page.limit.unwrap_or(0),
        offset: page.offset,
        has_more,
    }
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

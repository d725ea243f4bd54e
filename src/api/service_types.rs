//! `/api/v1/service-types`: the built-in catalogue (read-only) and custom types.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{JsonBody, QueryParams};
use super::list_response;
use super::write::{write_reply, Reply};
use crate::auth::Auth;
use crate::db::service_types::{DefaultPort, ServiceTypeFilter};
use crate::domain::port::{PortNumber, Protocol};
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, service_types::ServiceTypeInput};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::standard_routes!(cfg, list: list, create: create, get: get, update: update, delete: delete, bulk_delete: bulk_delete);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortBody {
    number: i64,
    protocol: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceTypeBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    category: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    generic: Option<bool>,
    #[serde(default)]
    default_ports: Option<Vec<PortBody>>,
    #[serde(default, rename = "builtin")]
    _builtin: IgnoredAny,
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl ServiceTypeBody {
    fn into_input(self) -> ApiResult<ServiceTypeInput> {
        let name = match (&self.name, &self.id) {
            (Some(n), Some(i)) if n != i => {
                return Err(ApiError::validation(
                    "id",
                    "id and name of a service type are the same value",
                ))
            }
            (Some(n), _) => n.clone(),
            (None, Some(i)) => i.clone(),
            (None, None) => return Err(ApiError::validation("name", "Field \"name\" is required")),
        };
        let mut default_ports = Vec::new();
        for (i, p) in self.default_ports.unwrap_or_default().iter().enumerate() {
            let field = format!("default_ports[{i}]");
            let number =
                PortNumber::parse(p.number).map_err(|e| e.at(&format!("{field}.number")))?;
            let protocol =
                Protocol::parse(&p.protocol).map_err(|e| e.at(&format!("{field}.protocol")))?;
            default_ports.push(DefaultPort {
                number: number.get(),
                protocol: protocol.as_str().to_string(),
            });
        }
        Ok(ServiceTypeInput {
            name: Name::parse(&name, 60).map_err(|e| e.at("name"))?,
            category: Name::parse(&self.category, 60).map_err(|e| e.at("category"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            generic: self.generic.unwrap_or(false),
            default_ports,
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = match q.one("order_by") {
        None => "st.id ASC".to_string(),
        Some(_) => q.order("st", &["created_at", "updated_at", "category"])?,
    };
    let builtin = match q.one("builtin") {
        None => None,
        Some(_) => Some(q.flag("builtin")?),
    };
    let filter = ServiceTypeFilter {
        category: q.text("category"),
        q: q.text("q"),
        builtin,
    };
    let (items, total) = state
        .db
        .read(move |c| crate::db::service_types::list(c, &filter, &order, page))
        .await?;
    Ok(list_response(&items, page, total))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = path.into_inner();
    let t = state
        .db
        .read(move |c| crate::db::service_types::get(c, &id))
        .await?;
    Ok(envelope::ok(&t))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    auth.check_global_write()?;
    let input = body.parse::<ServiceTypeBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let t = ops::service_types::create(tx, &who, input)?;
        Ok(Reply::created(
            format!("/api/v1/service-types/{}", encode_segment(&t.id)),
            &t,
        ))
    })
    .await
}

async fn update(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    auth.check_global_write()?;
    let id = path.into_inner();
    let input = body.parse::<ServiceTypeBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let t = ops::service_types::update(tx, &who, &id, input)?;
        Ok(Reply::ok(&t))
    })
    .await
}

async fn delete(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    auth.check_global_write()?;
    let id = path.into_inner();
    let cascade = QueryParams::from_request(&req)?.flag("cascade")?;
    let who = auth.0;
    state
        .db
        .write(move |tx| ops::service_types::delete(tx, &who, &id, cascade))
        .await?;
    Ok(envelope::deleted())
}

/// Bulk delete takes type names, not UUIDs.
async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    auth.check_global_write()?;
    let who = auth.0;
    let names: Vec<String> = body.parse_any()?;
    if names.is_empty() {
        return Err(ApiError::validation(
            "body",
            "Give at least one id to delete",
        ));
    }
    let cascade = QueryParams::from_request(&req)?.flag("cascade")?;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let result = ops::bulk_delete(&names, |id| {
            ops::service_types::delete(tx, &who, id, cascade)
        })?;
        Ok(Reply::ok(&result))
    })
    .await
}

/// Percent-encodes a path segment for the `Location` header (type ids contain spaces).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

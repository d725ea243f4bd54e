//! `/api/v1/ports`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{delete_many, delete_one, list_response};
use crate::auth::Auth;
use crate::db::ports::PortFilter;
use crate::domain::port::{PortNumber, Protocol};
use crate::domain::role::Role;
use crate::envelope;
use crate::error::ApiResult;
use crate::ops::{self, ports::PortInput};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::standard_routes!(cfg, list: list, create: create, get: get, update: update, delete: delete, bulk_delete: bulk_delete);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortBody {
    host_id: String,
    #[serde(default)]
    network_id: Option<String>,
    number: i64,
    protocol: String,
    /// Derived from number and protocol; a client's value is ignored.
    #[serde(default, rename = "type")]
    _type: IgnoredAny,
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl PortBody {
    fn into_input(self) -> ApiResult<PortInput> {
        Ok(PortInput {
            host_id: parse_uuid(&self.host_id, "host_id")?,
            network_id: self
                .network_id
                .map(|n| parse_uuid(&n, "network_id"))
                .transpose()?,
            number: PortNumber::parse(self.number).map_err(|e| e.at("number"))?,
            protocol: Protocol::parse(&self.protocol).map_err(|e| e.at("protocol"))?,
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("p", &["created_at", "number", "updated_at"])?;
    let number = match q.one("number") {
        None => None,
        Some(n) => Some(
            n.parse::<i64>()
                .ok()
                .and_then(|n| PortNumber::parse(n).ok())
                .ok_or_else(|| {
                    crate::domain::Invalid::new(format!(
                        "\"{n}\" is not a port number (1 to 65535)"
                    ))
                    .at("number")
                })?
                .get(),
        ),
    };
    let filter = PortFilter {
        host_id: q.uuid("host_id")?,
        network_id: q.uuid("network_id")?,
        number,
        protocol: q
            .parsed("protocol", Protocol::parse)?
            .map(|p| p.as_str().to_string()),
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::ports::list(c, &scope, &filter, &order, page))
        .await?;
    Ok(list_response(&items, page, total))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = path_id(&path)?;
    let port = state
        .db
        .read(move |c| crate::db::ports::get(c, &id))
        .await?;
    auth.check_network(&port.network_id)?;
    Ok(envelope::ok(&port))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let input = body.parse::<PortBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let port = ops::ports::create(tx, &who, input)?;
        Ok(Reply::created(format!("/api/v1/ports/{}", port.id), &port))
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
    let id = path_id(&path)?;
    let input = body.parse::<PortBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let port = ops::ports::update(tx, &who, &id, input)?;
        Ok(Reply::ok(&port))
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
    let who = auth.0;
    delete_one(&state, &path, &req, move |tx, id, cascade| {
        ops::ports::delete(tx, &who, id, cascade)
    })
    .await
}

async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    delete_many(&state, &req, &key_id, &body, move |tx, id, cascade| {
        ops::ports::delete(tx, &who, id, cascade)
    })
    .await
}

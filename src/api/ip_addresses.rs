//! `/api/v1/ip-addresses`, also served at `/api/v1/interfaces` for 0.13-era clients.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{delete_many, delete_one, list_response};
use crate::auth::Auth;
use crate::db::ip_addresses::IpAddressFilter;
use crate::domain::net::{parse_ip, MacAddress};
use crate::domain::role::Role;
use crate::domain::text::optional_text;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, ip_addresses::IpAddressInput};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::standard_routes!(cfg, list: list, create: create, get: get, update: update, delete: delete, bulk_delete: bulk_delete);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IpAddressBody {
    host_id: String,
    #[serde(default)]
    network_id: Option<String>,
    #[serde(default)]
    subnet_id: Option<String>,
    ip_address: String,
    #[serde(default)]
    mac_address: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    position: Option<i64>,
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl IpAddressBody {
    fn into_input(self) -> ApiResult<IpAddressInput> {
        if let Some(p) = self.position {
            if p < 0 {
                return Err(ApiError::validation(
                    "position",
                    "position must be 0 or more",
                ));
            }
        }
        Ok(IpAddressInput {
            host_id: parse_uuid(&self.host_id, "host_id")?,
            network_id: self
                .network_id
                .map(|n| parse_uuid(&n, "network_id"))
                .transpose()?,
            subnet_id: self
                .subnet_id
                .map(|s| parse_uuid(&s, "subnet_id"))
                .transpose()?,
            ip_address: parse_ip(&self.ip_address).map_err(|e| e.at("ip_address"))?,
            mac_address: self
                .mac_address
                .map(|m| MacAddress::parse(&m).map_err(|e| e.at("mac_address")))
                .transpose()?,
            name: optional_text(self.name.as_deref(), 100).map_err(|e| e.at("name"))?,
            position: self.position,
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("i", &["created_at", "ip_address", "position", "updated_at"])?;
    let filter = IpAddressFilter {
        host_id: q.uuid("host_id")?,
        subnet_id: q.uuid("subnet_id")?,
        network_id: q.uuid("network_id")?,
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::ip_addresses::list(c, &scope, &filter, &order, page))
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
    let record = state
        .db
        .read(move |c| crate::db::ip_addresses::get(c, &id))
        .await?;
    auth.check_network(&record.network_id)?;
    Ok(envelope::ok(&record))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let input = body.parse::<IpAddressBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let record = ops::ip_addresses::create(tx, &who, input)?;
        Ok(Reply::created(
            format!("/api/v1/ip-addresses/{}", record.id),
            &record,
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
    let id = path_id(&path)?;
    let input = body.parse::<IpAddressBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let record = ops::ip_addresses::update(tx, &who, &id, input)?;
        Ok(Reply::ok(&record))
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
        ops::ip_addresses::delete(tx, &who, id, cascade)
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
        ops::ip_addresses::delete(tx, &who, id, cascade)
    })
    .await
}

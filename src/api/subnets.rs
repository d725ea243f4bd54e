//! `/api/v1/subnets`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{delete_many, delete_one, list_response, tag_ids};
use crate::auth::Auth;
use crate::domain::enums::SubnetType;
use crate::domain::net::Cidr;
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::envelope;
use crate::error::ApiResult;
use crate::ops::{self, subnets::SubnetInput};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::standard_routes!(cfg, list: list, create: create, get: get, update: update, delete: delete, bulk_delete: bulk_delete);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubnetBody {
    network_id: String,
    cidr: String,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    subnet_type: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl SubnetBody {
    fn into_input(self) -> ApiResult<SubnetInput> {
        Ok(SubnetInput {
            network_id: parse_uuid(&self.network_id, "network_id")?,
            cidr: Cidr::parse(&self.cidr).map_err(|e| e.at("cidr"))?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            subnet_type: match self.subnet_type {
                Some(t) => SubnetType::parse(&t).map_err(|e| e.at("subnet_type"))?,
                None => SubnetType::None,
            },
            tags: tag_ids(self.tags)?,
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("s", &["created_at", "name", "cidr", "updated_at"])?;
    let network_id = q.uuid("network_id")?;
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::subnets::list(c, &scope, network_id, &order, page))
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
    let subnet = state
        .db
        .read(move |c| crate::db::subnets::get(c, &id))
        .await?;
    auth.check_network(&subnet.network_id)?;
    Ok(envelope::ok(&subnet))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let input = body.parse::<SubnetBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let subnet = ops::subnets::create(tx, &who, input)?;
        Ok(Reply::created(
            format!("/api/v1/subnets/{}", subnet.id),
            &subnet,
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
    let input = body.parse::<SubnetBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let subnet = ops::subnets::update(tx, &who, &id, input)?;
        Ok(Reply::ok(&subnet))
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
        ops::subnets::delete(tx, &who, id, cascade)
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
        ops::subnets::delete(tx, &who, id, cascade)
    })
    .await
}

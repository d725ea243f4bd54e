//! `/api/v1/networks`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{delete_many, delete_one, list_response, tag_ids};
use crate::auth::Auth;
use crate::db::networks::NetworkFilter;
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Name};
use crate::envelope;
use crate::error::ApiResult;
use crate::ops::{self, networks::NetworkInput};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::standard_routes!(cfg, list: list, create: create, get: get, update: update, delete: delete, bulk_delete: bulk_delete);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl NetworkBody {
    fn into_input(self) -> ApiResult<NetworkInput> {
        Ok(NetworkInput {
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            tags: tag_ids(self.tags)?,
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("n", &["created_at", "name", "updated_at"])?;
    let filter = NetworkFilter {
        ids: q.uuids("ids")?,
        tag_ids: q.uuids("tag_ids")?,
        q: q.text("q"),
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::networks::list(c, &scope, &filter, &order, page))
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
    let network = state
        .db
        .read(move |c| crate::db::networks::get(c, &id))
        .await?;
    auth.check_network(&network.id)?;
    Ok(envelope::ok(&network))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    auth.check_global_write()?;
    let input = body.parse::<NetworkBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let network = ops::networks::create(tx, &who, input)?;
        Ok(Reply::created(
            format!("/api/v1/networks/{}", network.id),
            &network,
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
    auth.require(Role::Admin)?;
    auth.check_global_write()?;
    let id = path_id(&path)?;
    let input = body.parse::<NetworkBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let network = ops::networks::update(tx, &who, &id, input)?;
        Ok(Reply::ok(&network))
    })
    .await
}

async fn delete(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    auth.check_global_write()?;
    let who = auth.0;
    delete_one(&state, &path, &req, move |tx, id, cascade| {
        ops::networks::delete(tx, &who, id, cascade)
    })
    .await
}

async fn bulk_delete(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    auth.check_global_write()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    delete_many(&state, &req, &key_id, &body, move |tx, id, cascade| {
        ops::networks::delete(tx, &who, id, cascade)
    })
    .await
}

//! `/api/v1/services` (seed 000).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::bindings::BindingBody;
use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{delete_many, delete_one, list_response, tag_ids, virtualization};
use crate::auth::Auth;
use crate::db::services::ServiceFilter;
use crate::domain::bindings::Wanted;
use crate::domain::role::Role;
use crate::domain::text::Name;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, services::ServiceInput};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::standard_routes!(cfg, list: list, create: create, get: get, update: update, delete: delete, bulk_delete: bulk_delete);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceBody {
    host_id: String,
    #[serde(default)]
    network_id: Option<String>,
    name: String,
    service_definition: String,
    #[serde(default)]
    position: Option<i64>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    virtualization: Option<Value>,
    #[serde(default)]
    bindings: Option<Vec<BindingBody>>,
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[serde(default, rename = "source")]
    _source: IgnoredAny,
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
}

impl ServiceBody {
    /// `keep_ids`: on PUT a binding's `id` selects the stored binding it updates; POST ignores it.
    fn into_input(self, keep_ids: bool) -> ApiResult<ServiceInput> {
        if let Some(p) = self.position {
            if p < 0 {
                return Err(ApiError::validation(
                    "position",
                    "position must be 0 or more",
                ));
            }
        }
        let mut bindings = Vec::new();
        for (i, b) in self.bindings.unwrap_or_default().iter().enumerate() {
            let field = format!("bindings[{i}]");
            let target = b.target(&field)?;
            let id = match (&b.id, keep_ids) {
                (Some(id), true) => Some(parse_uuid(id, &format!("{field}.id"))?),
                _ => None,
            };
            bindings.push(Wanted { field, id, target });
        }
        Ok(ServiceInput {
            host_id: parse_uuid(&self.host_id, "host_id")?,
            network_id: self
                .network_id
                .map(|n| parse_uuid(&n, "network_id"))
                .transpose()?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            service_definition: self.service_definition,
            position: if keep_ids { self.position } else { None },
            tags: tag_ids(self.tags)?,
            virtualization: virtualization(self.virtualization, "Docker")?,
            bindings,
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("s", &["created_at", "name", "position", "updated_at"])?;
    let filter = ServiceFilter {
        network_id: q.uuid("network_id")?,
        host_id: q.uuid("host_id")?,
        ids: q.uuids("ids")?,
        tag_ids: q.uuids("tag_ids")?,
        service_definition: q.text("service_definition"),
        q: q.text("q"),
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::services::list(c, &scope, &filter, &order, page))
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
    let service = state
        .db
        .read(move |c| crate::db::services::get(c, &id))
        .await?;
    auth.check_network(&service.network_id)?;
    Ok(envelope::ok(&service))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let input = body.parse::<ServiceBody>()?.into_input(false)?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let service = ops::services::create(tx, &who, input)?;
        Ok(Reply::created(
            format!("/api/v1/services/{}", service.id),
            &service,
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
    let input = body.parse::<ServiceBody>()?.into_input(true)?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let service = ops::services::update(tx, &who, &id, input)?;
        Ok(Reply::ok(&service))
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
    delete_one(&state, &path, &req, move |tx, id, _| {
        ops::services::delete(tx, &who, id)
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
    delete_many(&state, &req, &key_id, &body, move |tx, id, _| {
        ops::services::delete(tx, &who, id)
    })
    .await
}

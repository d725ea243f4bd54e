//! `/api/v1/hosts`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{delete_many, delete_one, list_response, tag_ids, virtualization};
use crate::auth::Auth;
use crate::db::hosts::HostFilter;
use crate::domain::role::Role;
use crate::domain::text::{optional_text, Hostname, Name};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, hosts::HostInput};
use crate::startup::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::standard_routes!(cfg, list: list, create: create, get: get, update: update, delete: delete, bulk_delete: bulk_delete);
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostBody {
    network_id: String,
    name: String,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    hidden: Option<bool>,
    #[serde(default)]
    virtualization: Option<Value>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[serde(default, rename = "source")]
    _source: IgnoredAny,
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
    #[serde(default, rename = "ip_addresses")]
    _ip_addresses: IgnoredAny,
    #[serde(default, rename = "ports")]
    _ports: IgnoredAny,
    #[serde(default, rename = "services")]
    _services: IgnoredAny,
}

impl HostBody {
    fn into_input(self) -> ApiResult<HostInput> {
        Ok(HostInput {
            network_id: parse_uuid(&self.network_id, "network_id")?,
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            hostname: self
                .hostname
                .map(|h| Hostname::parse(&h).map_err(|e| e.at("hostname")))
                .transpose()?,
            description: optional_text(self.description.as_deref(), 500)
                .map_err(|e| e.at("description"))?,
            hidden: self.hidden.unwrap_or(false),
            virtualization: virtualization(self.virtualization, "Proxmox")?,
            tags: tag_ids(self.tags)?,
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let order = q.order("h", &["created_at", "name", "hostname", "updated_at"])?;
    let children = match q.one("include") {
        None => false,
        Some("children") => true,
        Some(other) => {
            return Err(ApiError::validation(
                "include",
                format!("\"{other}\" is not one of children"),
            ))
        }
    };
    let filter = HostFilter {
        network_id: q.uuid("network_id")?,
        ids: q.uuids("ids")?,
        tag_ids: q.uuids("tag_ids")?,
        q: q.text("q"),
    };
    let scope = auth.scope();
    let (items, total) = state
        .db
        .read(move |c| crate::db::hosts::list(c, &scope, &filter, &order, page, children))
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
    let host = state
        .db
        .read(move |c| crate::db::hosts::get(c, &id, true))
        .await?;
    auth.check_network(&host.network_id)?;
    Ok(envelope::ok(&host))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let input = body.parse::<HostBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let host = ops::hosts::create(tx, &who, input)?;
        Ok(Reply::created(format!("/api/v1/hosts/{}", host.id), &host))
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
    let input = body.parse::<HostBody>()?.into_input()?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let host = ops::hosts::update(tx, &who, &id, input)?;
        Ok(Reply::ok(&host))
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
        ops::hosts::delete(tx, &who, id)
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
        ops::hosts::delete(tx, &who, id)
    })
    .await
}

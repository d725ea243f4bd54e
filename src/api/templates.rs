//! `/api/v1/service-templates`, and the seed-003 routes at `/api/services`, with the same handlers.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::input::{parse_uuid, JsonBody, QueryParams};
use super::precondition::{self, IfMatch};
use super::write::{write_as, write_reply, write_tagged, Reply};
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::templates::TemplateFilter;
use crate::domain::role::Role;
use crate::domain::template::parse_patch;
use crate::envelope;
use crate::error::ApiResult;
use crate::ops;
use crate::state::AppState;
use actix_web::http::Method;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(base, [on(Method::GET, list), on(Method::POST, create)])
        .at(
            &format!("{base}/{{id}}"),
            [
                on(Method::GET, get),
                on(Method::PATCH, patch),
                on(Method::DELETE, delete),
            ],
        );
}

/// The columns a list may be sorted by, besides the camelCase `createdAt` and `updatedAt`.
pub const ORDER_BY: &[&str] = &["created_at", "name", "updated_at"];

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let column = match q.one("order_by") {
        Some("createdAt") => Some("created_at"),
        Some("updatedAt") => Some("updated_at"),
        _ => None,
    };
    let order = match column {
        Some(c) => crate::db::query::order_sql("t", c, q.one("order_direction") == Some("desc")),
        None => q.order("t", ORDER_BY)?,
    };
    let filter = TemplateFilter {
        service_type_id: q.text("serviceTypeId"),
        q: q.text("q"),
    };
    let (items, total) = state
        .db
        .read(move |c| crate::db::templates::list(c, &filter, &order, page))
        .await?;
    Ok(list_response(&items, page, total))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = parse_uuid(&path, "id")?;
    let t = state
        .db
        .read(move |c| crate::db::templates::get(c, &id))
        .await?;
    Ok(envelope::ok_tagged(&t))
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    auth.check_global_write()?;
    let patch = parse_patch(&body.parse_any::<Value>()?, "POST")?;
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        let t = ops::templates::create(tx, who, patch)?;
        Ok(Reply::created(
            format!("/api/v1/service-templates/{}", t.id),
            &t,
        ))
    })
    .await
}

/// The spec's order: auth, role, scope, body shape, read-only fields, unknown fields, types and
/// ranges, then the template's existence (so a read-only field is 422 even for an unknown id).
async fn patch(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    auth.check_global_write()?;
    let patch = parse_patch(&body.parse_any::<Value>()?, "PATCH")?;
    let id = parse_uuid(&path, "id")?;
    let if_match = IfMatch::from_request(&req)?;
    write_tagged(&state, &req, auth.0, Some(&body), move |tx, who| {
        precondition::check(if_match.as_ref(), &crate::db::templates::get(tx, &id)?)?;
        ops::templates::patch(tx, who, &id, patch)
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
    let id = parse_uuid(&path, "id")?;
    let if_match = IfMatch::from_request(&req)?;
    write_as(&state, &req, auth.0, move |tx, who| {
        precondition::check(if_match.as_ref(), &crate::db::templates::get(tx, &id)?)?;
        ops::templates::delete(tx, who, &id)
    })
    .await?;
    Ok(envelope::deleted())
}

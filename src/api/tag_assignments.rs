//! `/api/v1/tags/assign`: one tag on many objects, or all the tags of one object. Registered
//! before `/api/v1/tags/{id}`, so that `assign` is never read as a tag id.

use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::input::{parse_uuid, JsonBody};
use super::write::{write_reply, Reply};
use super::{on, tag_ids, Routes};
use crate::auth::Auth;
use crate::db::tags::Tagged;
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::ops::tag_assignments;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::web;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(
        &format!("{base}/bulk-add"),
        [on(Method::POST, |s, a, r, b| bulk(s, a, r, b, true))],
    )
    .at(
        &format!("{base}/bulk-remove"),
        [on(Method::POST, |s, a, r, b| bulk(s, a, r, b, false))],
    )
    .at(base, [on(Method::PUT, assign)]);
}

/// The kinds of object that carry tags, as the peer names them.
#[derive(utoipa::ToSchema, Clone, Copy)]
#[allow(dead_code)]
pub enum TaggedKind {
    Network,
    Subnet,
    Host,
    Service,
    Dependency,
    UserApiKey,
    Discovery,
    Daemon,
}

/// Kinds the peer's clients name that carry no tags here: an agent's credential is its token,
/// not an object of its own.
const NOT_TAGGABLE: [&str; 2] = ["Credential", "DaemonApiKey"];

/// The peer's name of a kind; a kind it knows that has no tags and an unknown name are told
/// apart, each 400 on `entity_type`.
fn tagged_kind(name: &str) -> ApiResult<Tagged> {
    match name {
        "Network" => Ok(Tagged::Network),
        "Subnet" => Ok(Tagged::Subnet),
        "Host" => Ok(Tagged::Host),
        "Service" => Ok(Tagged::Service),
        "Dependency" => Ok(Tagged::Dependency),
        "UserApiKey" => Ok(Tagged::ApiKey),
        "Discovery" => Ok(Tagged::Discovery),
        "Daemon" => Ok(Tagged::Agent),
        other if NOT_TAGGABLE.contains(&other) => Err(ApiError::validation(
            "entity_type",
            format!("Entity type {other} does not support tagging"),
        )),
        other => Err(ApiError::validation(
            "entity_type",
            format!("\"{other}\" is not one of Network, Subnet, Host, Service, Dependency, UserApiKey, Discovery, Daemon"),
        )),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkTagBody {
    #[schema(value_type = TaggedKind)]
    entity_type: String,
    #[schema(value_type = Vec<uuid::Uuid>)]
    entity_ids: Vec<String>,
    #[schema(value_type = uuid::Uuid)]
    tag_id: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignTagsBody {
    #[schema(value_type = TaggedKind)]
    entity_type: String,
    #[schema(value_type = uuid::Uuid)]
    entity_id: String,
    /// The object's complete set of tags, in order.
    #[schema(value_type = Vec<uuid::Uuid>)]
    tag_ids: Vec<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Affected {
    /// Objects whose tags changed; those that already had (or lacked) the tag are not counted.
    pub affected_count: u64,
}

async fn bulk(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
    add: bool,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let parsed: BulkTagBody = body.parse()?;
    let kind = tagged_kind(&parsed.entity_type)?;
    let tag = parse_uuid(&parsed.tag_id, "tag_id")?;
    let mut ids: Vec<String> = Vec::with_capacity(parsed.entity_ids.len());
    for (i, id) in parsed.entity_ids.iter().enumerate() {
        let id = parse_uuid(id, &format!("entity_ids[{i}]"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        let affected_count = tag_assignments::bulk(tx, who, kind, &ids, &tag, add)?;
        Ok(Reply::ok(&Affected { affected_count }))
    })
    .await
}

async fn assign(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Member)?;
    let parsed: AssignTagsBody = body.parse()?;
    let kind = tagged_kind(&parsed.entity_type)?;
    let id = parse_uuid(&parsed.entity_id, "entity_id")?;
    let tags = tag_ids(Some(parsed.tag_ids)).map_err(|e| rename_field(e, "tags", "tag_ids"))?;
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        tag_assignments::assign(tx, who, kind, &id, tags)?;
        Ok(Reply::ok(
            &json!({"entity_id": id, "tag_ids": current(tx, kind, &id)?}),
        ))
    })
    .await
}

fn current(tx: &rusqlite::Transaction, kind: Tagged, id: &str) -> ApiResult<Vec<String>> {
    Ok(crate::db::tags::tags_of(tx, kind, &[id.to_string()])?
        .remove(id)
        .unwrap_or_default())
}

fn rename_field(e: ApiError, from: &str, to: &str) -> ApiError {
    match e.field.clone() {
        Some(f) if f.starts_with(from) => {
            let renamed = format!("{to}{}", &f[from.len()..]);
            e.with_field(renamed)
        }
        _ => e,
    }
}

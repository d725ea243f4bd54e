//! The standard surface of a resource (`GET /{id}`, `POST`, `PUT /{id}`, `DELETE /{id}`,
//! `POST /bulk-delete`) written once, generic over what differs between resources.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::{Connection, Transaction};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::input::{parse_uuid, JsonBody, QueryParams};
use super::precondition::IfMatch;
use super::write::{write_as, write_reply, write_tagged, Reply};
use super::{bulk_ids, list_response, on, Routes};
use crate::auth::Auth;
use crate::db::query::{PageRequest, Scope};
use crate::db::versions::{AsOf, History};
use crate::domain::role::Role;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::journal::Writer;
use crate::state::AppState;
use actix_web::http::Method;

pub trait Resource: 'static {
    /// The path segment under `/api/v1/`, for `Location`.
    const PATH: &'static str;
    /// The role that may write (reads need Viewer).
    const WRITE_ROLE: Role = Role::Member;
    /// Global resources belong to no network: only unscoped keys write them.
    const GLOBAL: bool = false;
    /// Versioned resources keep every state: they answer `at=` and `/{id}/history`. Other
    /// resources ignore `at` like any unknown parameter.
    const VERSIONED: bool = false;

    type Body: DeserializeOwned;
    type Input: Clone + Send + 'static;
    type Record: Serialize + Send + 'static;

    /// A create body, checked and converted once.
    fn input(body: Self::Body) -> ApiResult<Self::Input>;

    /// An update body; the same as a create body unless the resource says otherwise.
    fn update_input(body: Self::Body) -> ApiResult<Self::Input> {
        Self::input(body)
    }
    fn fetch(conn: &Connection, id: &str) -> ApiResult<Self::Record>;

    /// The record of lineage `id` as of `at`; only versioned resources are asked.
    fn fetch_at(conn: &Connection, id: &str, _at: &AsOf) -> ApiResult<Self::Record> {
        Self::fetch(conn, id)
    }

    /// Whether `fetch_json` answers (its answers are then kept between writes, `db::answers`).
    const LIVE_JSON: bool = false;

    /// The live record as its response JSON written from its rows, with its network: the read path
    /// of resources whose rows go to bytes without Rust structs. `None`: read with `fetch`.
    /// The bytes must equal `serde_json::to_vec(&fetch(..))` (the ETag is their digest), and
    /// must not depend on who asks (the caller's scope is checked on the network).
    fn fetch_json(_conn: &Connection, _id: &str) -> ApiResult<Option<(Vec<u8>, Option<String>)>> {
        Ok(None)
    }

    /// Every version of lineage `id`; only versioned resources are asked.
    fn history(
        _conn: &Connection,
        _id: &str,
        _scope: &Scope,
        _page: PageRequest,
    ) -> ApiResult<Option<History<Self::Record>>> {
        Ok(None)
    }
    /// The network whose scope a reader needs; `None` for global resources.
    fn network_of(record: &Self::Record) -> Option<&str>;
    fn id_of(record: &Self::Record) -> &str;
    fn create(tx: &Transaction, who: &Writer, input: Self::Input) -> ApiResult<Self::Record>;
    fn update(
        tx: &Transaction,
        who: &Writer,
        id: &str,
        input: Self::Input,
    ) -> ApiResult<Self::Record>;
    fn delete(tx: &Transaction, who: &Writer, id: &str, cascade: bool) -> ApiResult<()>;

    /// The id in a path; UUIDs unless the resource says otherwise.
    fn parse_id(raw: &str) -> ApiResult<String> {
        parse_uuid(raw, "id")
    }

    fn location(record: &Self::Record) -> String {
        format!("/api/v1/{}/{}", Self::PATH, Self::id_of(record))
    }

    /// The answer to a create: 201 with `Location`, unless the resource decides otherwise.
    fn create_reply(tx: &Transaction, who: &Writer, input: Self::Input) -> ApiResult<Reply> {
        let record = Self::create(tx, who, input)?;
        Ok(Reply::created(Self::location(&record), &record))
    }
}

fn check_write<R: Resource>(auth: &Auth) -> ApiResult<()> {
    auth.require(R::WRITE_ROLE)?;
    if R::GLOBAL {
        auth.check_global_write()?;
    }
    Ok(())
}

/// `If-Match` against the stored object, once the caller may see it (a scoped key learns
/// nothing about objects outside its networks from a 412).
fn check_unchanged<R: Resource>(
    tx: &Transaction,
    who: &Writer,
    if_match: Option<&IfMatch>,
    id: &str,
) -> ApiResult<()> {
    let Some(if_match) = if_match else {
        return Ok(());
    };
    let current = R::fetch(tx, id)?;
    if let Some(network) = R::network_of(&current) {
        who.check_network(network)?;
    }
    if_match.check(&current)
}

pub async fn get<R: Resource>(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = R::parse_id(&path)?;
    let at = if R::VERSIONED {
        QueryParams::from_request(&req)?.as_of()?
    } else {
        AsOf::Live
    };
    let live = at.is_live();
    if live && R::LIVE_JSON {
        let key = id.clone();
        let answer = state
            .db
            .read_cached(format!("{}/{id}", R::PATH), move |c| R::fetch_json(c, &key))
            .await?;
        if let Some((json, network)) = answer.as_ref() {
            if let Some(network) = network {
                auth.check_network(network)?;
            }
            return Ok(envelope::ok_tagged_json(json.clone()));
        }
    }
    let record = state.db.read(move |c| R::fetch_at(c, &id, &at)).await?;
    if let Some(network) = R::network_of(&record) {
        auth.check_network(network)?;
    }
    // Only the live state is a validator for writes; a past state has nothing to match.
    Ok(if live {
        envelope::ok_tagged(&record)
    } else {
        envelope::ok(&record)
    })
}

/// `GET /{id}/history`: the lineage's versions, newest first. Scope follows the newest version,
/// also after a delete; older versions in networks the key cannot see are left out.
pub async fn history<R: Resource>(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = R::parse_id(&path)?;
    let page = QueryParams::from_request(&req)?.page()?;
    let scope = auth.scope();
    let found = state
        .db
        .read(move |c| R::history(c, &id, &scope, page))
        .await?
        .ok_or_else(|| ApiError::not_found("Object"))?;
    auth.check_network(&found.network_id)?;
    Ok(list_response(&found.items, page, found.total))
}

pub async fn create<R: Resource>(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    check_write::<R>(&auth)?;
    let input = R::input(body.parse::<R::Body>()?)?;
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        R::create_reply(tx, who, input)
    })
    .await
}

pub async fn update<R: Resource>(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    check_write::<R>(&auth)?;
    let id = R::parse_id(&path)?;
    let if_match = IfMatch::from_request(&req)?;
    let input = R::update_input(body.parse::<R::Body>()?)?;
    write_tagged(&state, &req, auth.0, Some(&body), move |tx, who| {
        check_unchanged::<R>(tx, who, if_match.as_ref(), &id)?;
        R::update(tx, who, &id, input)
    })
    .await
}

pub async fn delete<R: Resource>(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    check_write::<R>(&auth)?;
    let id = R::parse_id(&path)?;
    let cascade = QueryParams::from_request(&req)?.flag("cascade")?;
    let if_match = IfMatch::from_request(&req)?;
    write_as(&state, &req, auth.0, move |tx, who| {
        check_unchanged::<R>(tx, who, if_match.as_ref(), &id)?;
        R::delete(tx, who, &id, cascade)
    })
    .await?;
    Ok(envelope::deleted())
}

/// Every id through `delete` in one transaction: ids that do not exist are skipped, any other
/// refusal aborts the whole request.
pub async fn bulk_delete<R: Resource>(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    check_write::<R>(&auth)?;
    let ids = bulk_ids(&body, R::parse_id)?;
    let cascade = QueryParams::from_request(&req)?.flag("cascade")?;
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        let result = crate::ops::bulk_delete(&ids, |id| R::delete(tx, who, id, cascade))?;
        Ok(Reply::ok(&result))
    })
    .await
}

/// Registers the standard surface of `R` under `base` with its own list handler.
pub fn routes<R, L, Args>(r: &mut Routes, base: &str, list: L)
where
    R: Resource,
    L: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    L::Output: actix_web::Responder + 'static,
{
    r.at(base, [on(Method::GET, list), on(Method::POST, create::<R>)])
        .at(
            &format!("{base}/bulk-delete"),
            [on(Method::POST, bulk_delete::<R>)],
        )
        .at(
            &format!("{base}/{{id}}"),
            [
                on(Method::GET, get::<R>),
                on(Method::PUT, update::<R>),
                on(Method::DELETE, delete::<R>),
            ],
        );
    if R::VERSIONED {
        r.at(
            &format!("{base}/{{id}}/history"),
            [on(Method::GET, history::<R>)],
        );
    }
}

/// For resources whose ids are not UUIDs: the raw path segment, non-empty.
pub fn any_id(raw: &str) -> ApiResult<String> {
    if raw.is_empty() {
        Err(ApiError::validation("id", "The id must not be empty"))
    } else {
        Ok(raw.to_string())
    }
}

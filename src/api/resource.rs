//! The standard surface of a resource (`GET /{id}`, `POST`, `PUT /{id}`, `DELETE /{id}`,
//! `POST /bulk-delete`) written once, generic over what differs between resources.

use actix_web::{web, HttpRequest, HttpResponse};
use rusqlite::{Connection, Transaction};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::input::{parse_uuid, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{bulk_ids, on, Routes};
use crate::auth::Auth;
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::startup::AppState;
use actix_web::http::Method;

pub trait Resource: 'static {
    /// The path segment under `/api/v1/`, for `Location`.
    const PATH: &'static str;
    /// The role that may write (reads need Viewer).
    const WRITE_ROLE: Role = Role::Member;
    /// Global resources belong to no network: only unscoped keys write them.
    const GLOBAL: bool = false;

    type Body: DeserializeOwned;
    type Input: Send + 'static;
    type Record: Serialize + Send + 'static;

    /// A create body, checked and converted once.
    fn input(body: Self::Body) -> ApiResult<Self::Input>;

    /// An update body; the same as a create body unless the resource says otherwise.
    fn update_input(body: Self::Body) -> ApiResult<Self::Input> {
        Self::input(body)
    }
    fn fetch(conn: &Connection, id: &str) -> ApiResult<Self::Record>;
    /// The network whose scope a reader needs; `None` for global resources.
    fn network_of(record: &Self::Record) -> Option<&str>;
    fn id_of(record: &Self::Record) -> &str;
    fn create(tx: &Transaction, who: &Principal, input: Self::Input) -> ApiResult<Self::Record>;
    fn update(
        tx: &Transaction,
        who: &Principal,
        id: &str,
        input: Self::Input,
    ) -> ApiResult<Self::Record>;
    fn delete(tx: &Transaction, who: &Principal, id: &str, cascade: bool) -> ApiResult<()>;

    /// The id in a path; UUIDs unless the resource says otherwise.
    fn parse_id(raw: &str) -> ApiResult<String> {
        parse_uuid(raw, "id")
    }

    fn location(record: &Self::Record) -> String {
        format!("/api/v1/{}/{}", Self::PATH, Self::id_of(record))
    }

    /// The answer to a create: 201 with `Location`, unless the resource decides otherwise.
    fn create_reply(tx: &Transaction, who: &Principal, input: Self::Input) -> ApiResult<Reply> {
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

pub async fn get<R: Resource>(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Viewer)?;
    let id = R::parse_id(&path)?;
    let record = state.db.read(move |c| R::fetch(c, &id)).await?;
    if let Some(network) = R::network_of(&record) {
        auth.check_network(network)?;
    }
    Ok(envelope::ok(&record))
}

pub async fn create<R: Resource>(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    check_write::<R>(&auth)?;
    let input = R::input(body.parse::<R::Body>()?)?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        R::create_reply(tx, &who, input)
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
    let input = R::update_input(body.parse::<R::Body>()?)?;
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        Ok(Reply::ok(&R::update(tx, &who, &id, input)?))
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
    let who = auth.0;
    state
        .db
        .write(move |tx| R::delete(tx, &who, &id, cascade))
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
    let who = auth.0;
    let key_id = who.key_id.clone();
    write_reply(&state, &req, &key_id, Some(&body), move |tx| {
        let result = crate::ops::bulk_delete(&ids, |id| R::delete(tx, &who, id, cascade))?;
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
}

/// For resources whose ids are not UUIDs: the raw path segment, non-empty.
pub fn any_id(raw: &str) -> ApiResult<String> {
    if raw.is_empty() {
        Err(ApiError::validation("id", "The id must not be empty"))
    } else {
        Ok(raw.to_string())
    }
}

//! `/api/v1/auth/keys`: role Admin; Admin and Owner keys are made by Owners only.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::precondition::{self, IfMatch};
use super::write::{write_as, write_reply, Reply};
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::api_keys::{ApiKey, MASK};
use crate::domain::clock;
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::domain::text::Name;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::journal::Writer;
use crate::ops::{
    self,
    api_keys::{ApiKeyInput, CreatedKey},
};
use crate::state::AppState;
use actix_web::http::Method;

pub fn routes(r: &mut Routes, base: &str) {
    r.at(base, [on(Method::GET, list), on(Method::POST, create)])
        .at(&format!("{base}/{{id}}/rotate"), [on(Method::POST, rotate)])
        .at(
            &format!("{base}/{{id}}"),
            [
                on(Method::GET, get),
                on(Method::PUT, update),
                on(Method::DELETE, delete),
            ],
        );
}

/// Who is calling: what the web UI shows after sign-in.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    /// The API key's id; `null` for a person signed in with a session.
    #[schema(format = Uuid)]
    key_id: Option<String>,
    role: &'static str,
    /// Empty: every network.
    #[schema(value_type = Vec<uuid::Uuid>)]
    network_ids: Vec<String>,
    /// How the caller signed in: `api_key`, or a session's `password`, `oidc` or `header`.
    auth: String,
    /// The person, for a session.
    user: Option<crate::db::users::User>,
}

pub async fn me(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    let who = auth.0;
    let user = match &who.session {
        Some(s) => {
            let id = s.user_id.clone();
            Some(
                state
                    .db
                    .read(move |c| crate::db::users::get(c, &id))
                    .await?,
            )
        }
        None => None,
    };
    Ok(envelope::ok(&Me {
        key_id: who.session.is_none().then_some(who.key_id),
        role: who.role.as_str(),
        network_ids: who.network_ids,
        auth: who
            .session
            .as_ref()
            .map_or_else(|| "api_key".to_string(), |s| s.auth.clone()),
        user,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ApiKeyInput)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    name: String,
    #[serde(default)]
    permissions: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    network_ids: Option<Vec<String>>,
    #[serde(default)]
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[serde(default)]
    is_enabled: Option<bool>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "key")]
    _key: IgnoredAny,
    /// Read-only here: set through `/tags/assign` (entity type `UserApiKey`).
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "tags")]
    _tags: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "last_used")]
    _last_used: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
    /// Read-only: the person who made the key while signed in.
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "owner_user_id")]
    _owner_user_id: IgnoredAny,
}

impl ApiKeyBody {
    fn into_input(self) -> ApiResult<ApiKeyInput> {
        let mut network_ids = Vec::new();
        for (i, n) in self.network_ids.unwrap_or_default().iter().enumerate() {
            let id = parse_uuid(n, &format!("network_ids[{i}]"))?;
            if !network_ids.contains(&id) {
                network_ids.push(id);
            }
        }
        let expires_at = match self.expires_at {
            None => None,
            Some(t) => Some(clock::format(clock::parse_rfc3339(&t).ok_or_else(
                || ApiError::validation("expires_at", format!("\"{t}\" is not an RFC 3339 time")),
            )?)),
        };
        Ok(ApiKeyInput {
            name: Name::parse(&self.name, 100).map_err(|e| e.at("name"))?,
            permissions: match self.permissions {
                Some(p) => Role::parse(&p).map_err(|e| e.at("permissions"))?,
                None => Role::Viewer,
            },
            network_ids,
            expires_at,
            is_enabled: self.is_enabled.unwrap_or(true),
        })
    }
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    ops::api_keys::may_manage_keys(&auth)?;
    let page = QueryParams::from_request(&req)?.page()?;
    let keys = state.db.read(crate::db::api_keys::list_all).await?;
    let visible: Vec<_> = keys
        .into_iter()
        .filter(|k| ops::api_keys::visible(&auth, k))
        .collect();
    let total = visible.len() as u64;
    let items: Vec<_> = visible
        .into_iter()
        .skip(page.offset as usize)
        .take(page.limit.map(|l| l as usize).unwrap_or(usize::MAX))
        .collect();
    Ok(list_response(&items, page, total))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    ops::api_keys::may_manage_keys(&auth)?;
    let id = path_id(&path)?;
    let key = state
        .db
        .read(move |c| crate::db::api_keys::get(c, &id))
        .await?;
    ops::api_keys::check_reach(&auth, &key)?;
    Ok(envelope::ok_with_etag(&key, etag(&key)))
}

/// A key's validator leaves out `last_used`, which every request with the key moves: using a
/// key is not a change to it.
fn etag(key: &ApiKey) -> String {
    envelope::etag_of(&ApiKey {
        last_used: None,
        ..key.clone()
    })
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    ops::api_keys::may_manage_keys(&auth)?;
    let input = body.parse::<ApiKeyBody>()?.into_input()?;
    change_keys(&state, &req, auth.0, Some(&body), move |tx, who| {
        let created = ops::api_keys::create(tx, who, input)?;
        let redacted = CreatedKey {
            key: MASK.to_string(),
            ..created.clone()
        };
        Ok(Reply::created(
            format!("/api/v1/auth/keys/{}", created.api_key.id),
            &created,
        )
        .secret_shown_once(&redacted))
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
    ops::api_keys::may_manage_keys(&auth)?;
    let id = path_id(&path)?;
    let if_match = IfMatch::from_request(&req)?;
    let input = body.parse::<ApiKeyBody>()?.into_input()?;
    change_keys(&state, &req, auth.0, Some(&body), move |tx, who| {
        check_unchanged(who, if_match.as_ref(), &id, tx)?;
        let key = ops::api_keys::update(tx, who, &id, input)?;
        Ok(Reply::ok(&key).with_etag(etag(&key)))
    })
    .await
}

async fn delete(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    ops::api_keys::may_manage_keys(&auth)?;
    let id = path_id(&path)?;
    let if_match = IfMatch::from_request(&req)?;
    let result = write_as(&state, &req, auth.0, move |tx, who| {
        check_unchanged(who, if_match.as_ref(), &id, tx)?;
        ops::api_keys::delete(tx, who, &id)
    })
    .await;
    state.keys.invalidate();
    result?;
    Ok(envelope::deleted())
}

/// `If-Match` against a key the caller may reach; out of reach, the write's own check answers.
fn check_unchanged(
    who: &Principal,
    if_match: Option<&IfMatch>,
    id: &str,
    tx: &rusqlite::Transaction,
) -> ApiResult<()> {
    let key = crate::db::api_keys::get(tx, id)?;
    match if_match {
        Some(IfMatch::Tags(tags))
            if ops::api_keys::visible(who, &key) && !tags.contains(&etag(&key)) =>
        {
            Err(precondition::failed(etag(&key)))
        }
        _ => Ok(()),
    }
}

async fn rotate(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    ops::api_keys::may_manage_keys(&auth)?;
    let id = path_id(&path)?;
    change_keys(&state, &req, auth.0, None, move |tx, who| {
        Ok(Reply::ok(&ops::api_keys::rotate(tx, who, &id)?).secret_shown_once(&MASK))
    })
    .await
}

/// A key change through `write_reply`, then the key cache is cleared so it takes effect at once.
async fn change_keys<F>(
    state: &AppState,
    req: &HttpRequest,
    who: Principal,
    body: Option<&JsonBody>,
    change: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&rusqlite::Transaction, &Writer) -> ApiResult<Reply> + Clone + Send + 'static,
{
    let result = write_reply(state, req, who, body, change).await;
    state.keys.invalidate();
    result
}

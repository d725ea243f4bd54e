//! `/api/v1/users` (Admin; Owner to make or change Owners): people's accounts, invites, and
//! one-time links to set a password.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::json;

use super::accounts::hashing;
use super::input::{parse_uuid, path_id, JsonBody, QueryParams};
use super::write::{write_reply, Reply};
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::api_keys::MASK;
use crate::db::users::{self as records, User, UserFilter};
use crate::domain::account::{check_password, may_grant, parse_username};
use crate::domain::password;
use crate::domain::role::Role;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::accounts;
use crate::ops::users::{self, UserInput};
use crate::state::AppState;

/// How long an invite or a password link works unless asked otherwise.
const LINK_HOURS: i64 = 24;

pub fn routes(r: &mut Routes) {
    let base = "/api/v1/users";
    r.at(base, [on(Method::GET, list), on(Method::POST, create)])
        .at(&format!("{base}/invites"), [on(Method::POST, invite)])
        .at(
            &format!("{base}/{{id}}"),
            [
                on(Method::GET, get),
                on(Method::PUT, update),
                on(Method::DELETE, delete),
            ],
        )
        .at(&format!("{base}/{{id}}/reset"), [on(Method::POST, reset)])
        .at(
            &format!("{base}/{{id}}/totp"),
            [on(Method::DELETE, turn_off_totp)],
        );
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = UserInput)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    #[schema(min_length = 1, max_length = 64)]
    username: String,
    /// On create only; without it the answer carries a one-time link to set it.
    #[serde(default)]
    #[schema(min_length = 10, max_length = 256)]
    password: Option<String>,
    /// `Viewer`, `Member`, `Admin` or `Owner`.
    role: String,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    network_ids: Option<Vec<String>>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "id")]
    _id: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "auth")]
    _auth: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "totp_enabled")]
    _totp_enabled: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "created_at")]
    _created_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "updated_at")]
    _updated_at: IgnoredAny,
    #[schema(read_only, value_type = Value)]
    #[serde(default, rename = "last_sign_in_at")]
    _last_sign_in_at: IgnoredAny,
}

/// The body's `network_ids` (none: every network), each a UUID.
fn network_ids_of(ids: Option<Vec<String>>) -> ApiResult<Vec<String>> {
    ids.unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, n)| parse_uuid(n, &format!("network_ids[{i}]")))
        .collect()
}

fn optional_text(v: Option<String>, field: &str, max: usize) -> ApiResult<Option<String>> {
    match v {
        Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => {
            Err(ApiError::validation(
                field,
                format!("At most {max} characters, no control characters"),
            ))
        }
        Some(s) if s.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn input_of(b: UserBody) -> ApiResult<(UserInput, Option<String>)> {
    let username = parse_username(&b.username).map_err(|e| e.at("username"))?;
    let role = Role::parse(&b.role).map_err(|e| e.at("role"))?;
    let network_ids = network_ids_of(b.network_ids)?;
    if let Some(p) = &b.password {
        check_password(p).map_err(|e| e.at("password"))?;
    }
    Ok((
        UserInput {
            username,
            display_name: optional_text(b.display_name, "display_name", 100)?,
            email: optional_text(b.email, "email", 254)?,
            role,
            network_ids,
            enabled: b.enabled.unwrap_or(true),
        },
        b.password,
    ))
}

async fn list(state: web::Data<AppState>, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let role = q.text("role");
    if let Some(r) = &role {
        Role::parse(r).map_err(|e| e.at("role"))?;
    }
    let filter = UserFilter {
        q: q.text("q"),
        role,
    };
    let (items, total) = state
        .db
        .read(move |c| records::list(c, &filter, page))
        .await?;
    Ok(list_response(&items, page, total))
}

async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = parse_uuid(&path, "id")?;
    Ok(envelope::ok(
        &state.db.read(move |c| records::get(c, &id)).await?,
    ))
}

/// A user made, with the link to set their password when none was given.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    user: User,
    /// `/#/password/<code>`, once; `null` when a password was given.
    password_link: Option<String>,
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let (input, given) = input_of(body.parse::<UserBody>()?)?;
    let hash = match given {
        Some(p) => Some(hashing(&state, move || password::hash(&p)).await?),
        None => None,
    };
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        let user = users::create(tx, who, input, "password", hash.as_deref())?;
        let link = match hash {
            Some(_) => None,
            None => {
                let (code, _) =
                    accounts::new_code(tx, "reset", Some(&user.id), None, None, LINK_HOURS)?;
                Some(format!("/#/password/{code}"))
            }
        };
        let shown = link.is_some();
        let made = CreatedUser {
            user,
            password_link: link,
        };
        let reply = Reply::created(format!("/api/v1/users/{}", made.user.id), &made);
        Ok(if shown {
            let redacted = CreatedUser {
                password_link: Some(MASK.into()),
                ..made
            };
            reply.secret_shown_once(&redacted)
        } else {
            reply
        })
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
    let id = path_id(&path)?;
    let (input, password) = input_of(body.parse::<UserBody>()?)?;
    if password.is_some() {
        return Err(ApiError::validation(
            "password",
            "A password is set by its person (POST /api/v1/auth/password) or with a link (POST /api/v1/users/{id}/reset)",
        ));
    }
    let response = write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        Ok(Reply::ok(&users::update(tx, who, &id, input)?))
    })
    .await?;
    state.keys.invalidate();
    Ok(response)
}

async fn delete(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = path_id(&path)?;
    super::write::write_as(&state, &req, auth.0, move |tx, who| {
        users::delete(tx, who, &id)
    })
    .await?;
    state.keys.invalidate();
    Ok(envelope::deleted())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    role: String,
    #[serde(default)]
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    network_ids: Option<Vec<String>>,
    /// 1 to 720; 24 unless given.
    #[serde(default)]
    expires_in_hours: Option<i64>,
}

async fn invite(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let b: InviteBody = body.parse()?;
    let role = Role::parse(&b.role).map_err(|e| e.at("role"))?;
    let networks = network_ids_of(b.network_ids)?;
    let hours = b.expires_in_hours.unwrap_or(LINK_HOURS);
    if !(1..=720).contains(&hours) {
        return Err(ApiError::validation("expires_in_hours", "1 to 720 hours"));
    }
    if !may_grant(auth.role, &auth.network_ids, role, &networks) {
        return Err(ApiError::forbidden_role(role.as_str())
            .with_message("An invite cannot give more than the inviter has"));
    }
    write_reply(&state, &req, auth.0, Some(&body), move |tx, _who| {
        users::check_networks(tx, &networks)?;
        let (code, expires_at) =
            accounts::new_code(tx, "invite", None, Some(role), Some(&networks), hours)?;
        let answer =
            json!({"code": code, "link": format!("/#/invite/{code}"), "expires_at": expires_at});
        let redacted = json!({"code": MASK, "link": MASK, "expires_at": expires_at});
        Ok(Reply::created("/api/v1/users".into(), &answer).secret_shown_once(&redacted))
    })
    .await
}

/// `POST /users/{id}/reset`: a one-time link to set a new password; the person's sessions end.
async fn reset(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = path_id(&path)?;
    let response = write_reply(&state, &req, auth.0, None, move |tx, who| {
        users::manageable(tx, who, &id)?;
        crate::db::sessions::delete_of_user(tx, &id, None)?;
        let (code, expires_at) =
            accounts::new_code(tx, "reset", Some(&id), None, None, LINK_HOURS)?;
        let answer =
            json!({"code": code, "link": format!("/#/password/{code}"), "expires_at": expires_at});
        let redacted = json!({"code": MASK, "link": MASK, "expires_at": expires_at});
        Ok(Reply::ok(&answer).secret_shown_once(&redacted))
    })
    .await?;
    state.keys.invalidate();
    Ok(response)
}

/// `DELETE /users/{id}/totp`: an Admin turns a person's second factor off (a lost phone).
async fn turn_off_totp(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let id = path_id(&path)?;
    let client = super::accounts::client(&req);
    let response = write_reply(&state, &req, auth.0, None, move |tx, who| {
        let user = users::manageable(tx, who, &id)?;
        crate::db::users::set_totp_secret(tx, &id, None, false)?;
        accounts::event(
            tx,
            "totp_disabled",
            Some(&id),
            &user.username,
            &client,
            &who.now,
        )?;
        Ok(Reply::ok(&crate::db::users::get(tx, &id)?))
    })
    .await?;
    state.keys.invalidate();
    Ok(response)
}

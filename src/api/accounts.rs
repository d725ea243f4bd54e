//! `/api/v1/auth/...` for people: first-run setup, sign-in and sign-out, the session, password
//! changes, sessions, invites and password links, and the audit. Passwords are hashed off the
//! request threads, two at a time; sign-in failures are throttled whatever the rate limit says.

use std::time::Instant;

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::input::{parse_uuid, JsonBody, QueryParams};
use super::{list_response, on, Routes};
use crate::auth::Auth;
use crate::db::sessions::{self, Session};
use crate::db::users::{self, User};
use crate::domain::account::{check_password, parse_username, session_cookie};
use crate::domain::history::ActorKind;
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::domain::{password, totp};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::ops::accounts::{self, Client};
use crate::ops::journal::Writer;
use crate::state::AppState;

pub fn routes(r: &mut Routes) {
    r.at("/api/v1/auth/setup", [on(Method::POST, setup)])
        .at("/api/v1/auth/sign-in", [on(Method::POST, sign_in)])
        .at("/api/v1/auth/sign-out", [on(Method::POST, sign_out)])
        .at("/api/v1/auth/session", [on(Method::GET, session)])
        .at("/api/v1/auth/password", [on(Method::POST, change_password)])
        .at("/api/v1/auth/sessions", [on(Method::GET, list_sessions)])
        .at(
            "/api/v1/auth/sessions/revoke-others",
            [on(Method::POST, revoke_others)],
        )
        .at(
            "/api/v1/auth/sessions/{id}",
            [on(Method::DELETE, delete_session)],
        )
        .at(
            "/api/v1/auth/invites/{code}/accept",
            [on(Method::POST, accept_invite)],
        )
        .at(
            "/api/v1/auth/password-links/{code}",
            [on(Method::POST, use_password_link)],
        )
        .at("/api/v1/auth/events", [on(Method::GET, events)])
        .at("/api/v1/auth/totp/setup", [on(Method::POST, totp_setup)])
        .at(
            "/api/v1/auth/totp/confirm",
            [on(Method::POST, totp_confirm)],
        )
        .at(
            "/api/v1/auth/totp/disable",
            [on(Method::POST, totp_disable)],
        );
}

pub fn client(req: &HttpRequest) -> Client {
    Client {
        address: req.peer_addr().map(|a| a.ip().to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(300).collect()),
    }
}

fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<crate::request_log::RequestId>()
        .map(|r| r.0.clone())
}

/// Runs Argon2id on the hashing threads, off the request threads, two at a time.
pub async fn hashing<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    state
        .accounts
        .hasher
        .run(work)
        .await
        .ok_or_else(|| ApiError::internal("the password hashing threads are gone"))
}

fn new_password(p: &str, field: &str) -> ApiResult<()> {
    check_password(p).map_err(|e| e.at(field))
}

/// The answer of a sign-in: the user and the CSRF token, with the session cookie set.
fn signed_in(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    user: &User,
    session: &Session,
    token: &str,
) -> HttpResponse {
    let mut res = envelope::ok(&json!({"user": user, "csrf_token": session.csrf_token}));
    *res.status_mut() = status;
    with_cookie(state, req, res, token)
}

/// `res` setting the session cookie of `token`, kept out of caches.
pub(super) fn with_cookie(
    state: &AppState,
    req: &HttpRequest,
    mut res: HttpResponse,
    token: &str,
) -> HttpResponse {
    let secure = state.config.cookie_secure || req.connection_info().scheme() == "https";
    let max_age = i64::from(state.config.session_max_days) * 86_400;
    if let Ok(v) = header::HeaderValue::from_str(&session_cookie(token, max_age, secure)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    no_store(res)
}

fn cleared(mut res: HttpResponse) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(&session_cookie("", 0, false)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupBody {
    /// The code of the first start's log or `<data dir>/setup-code`.
    code: String,
    username: String,
    #[schema(min_length = 10, max_length = 256)]
    password: String,
}

async fn setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let b: SetupBody = body.parse()?;
    let username = parse_username(&b.username).map_err(|e| e.at("username"))?;
    new_password(&b.password, "password")?;
    let hash = hashing(&state, move || password::hash(&b.password)).await?;
    let (client, max_days, request_id) = (
        client(&req),
        state.config.session_max_days,
        request_id(&req),
    );
    let code = b.code;
    let (user, session, token) = state
        .db
        .write(move |tx| {
            let who = Writer::begin(
                tx,
                Principal::operator(ActorKind::System, "setup"),
                request_id,
            )?;
            accounts::setup(tx, &who, &code, username, &hash, &client, max_days)
        })
        .await?;
    let _ = std::fs::remove_file(
        state
            .config
            .data_dir
            .join(crate::domain::account::SETUP_CODE_FILE),
    );
    log::info!("setup: Owner \"{}\" made", user.username);
    Ok(signed_in(
        &state,
        &req,
        StatusCode::CREATED,
        &user,
        &session,
        &token,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    username: String,
    password: String,
    /// A second-factor code, when the user has one.
    #[serde(default)]
    totp: Option<String>,
}

async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let b: SignInBody = body.parse()?;
    if !state.config.password_sign_in {
        return Err(ApiError::unauthorized(
            "Password sign-in is turned off here: use single sign-on",
        ));
    }
    let client = client(&req);
    let address = client.address.clone().unwrap_or_default();
    let locked = state
        .accounts
        .throttle()
        .locked(&b.username, &address, Instant::now());
    if let Some(wait) = locked {
        return Err(ApiError::rate_limited(wait).with_message(
            "Too many failed sign-ins for this username or from this address; try again later",
        ));
    }
    let name = b.username.clone();
    let found = state.db.read(move |c| users::by_username(c, &name)).await?;
    let stored_hash = found.as_ref().and_then(|(_, h)| h.clone());
    let given = b.password.clone();
    // An unknown user is checked against a fixed hash: the same answer in the same time.
    let matches = hashing(&state, move || {
        password::verify(&given, stored_hash.as_deref())
    })
    .await?;
    let user = match found {
        Some((user, _)) if matches && user.enabled => user,
        other => {
            state
                .accounts
                .throttle()
                .failed(&b.username, &address, Instant::now());
            let (id, username) = other
                .map(|(u, _)| (Some(u.id), u.username))
                .unwrap_or((None, b.username.clone()));
            let now = crate::domain::clock::now();
            let audit = client.clone();
            state
                .db
                .write(move |tx| {
                    accounts::event(tx, "sign_in_failed", id.as_deref(), &username, &audit, &now)
                })
                .await?;
            return Err(ApiError::unauthorized("Wrong username or password."));
        }
    };
    if user.totp_enabled {
        let Some(code) = b.totp.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(
                ApiError::unauthorized("Enter the code of your second factor").with_field("totp"),
            );
        };
        let (id, code) = (user.id.clone(), code.to_string());
        let accepted = state
            .db
            .write(move |tx| second_factor(tx, &id, &code))
            .await?;
        if !accepted {
            state
                .accounts
                .throttle()
                .failed(&b.username, &address, Instant::now());
            let (id, name, audit, now) = (
                user.id.clone(),
                user.username.clone(),
                client.clone(),
                crate::domain::clock::now(),
            );
            state
                .db
                .write(move |tx| {
                    accounts::event(tx, "sign_in_failed", Some(&id), &name, &audit, &now)
                })
                .await?;
            return Err(
                ApiError::unauthorized("That code is wrong, or was used already")
                    .with_field("totp"),
            );
        }
    }
    state.accounts.throttle().succeeded(&b.username);
    let max_days = state.config.session_max_days;
    let signed = user.clone();
    let (session, token) = state
        .db
        .write(move |tx| accounts::start_session(tx, &signed, "password", &client, max_days))
        .await?;
    let user = state.db.read(move |c| users::get(c, &user.id)).await?;
    Ok(signed_in(
        &state,
        &req,
        StatusCode::OK,
        &user,
        &session,
        &token,
    ))
}

fn session_of(auth: &Auth) -> ApiResult<&crate::domain::principal::SessionRef> {
    auth.session.as_ref().ok_or_else(|| {
        ApiError::unauthorized("Not signed in as a person: this needs a session, not an API key")
    })
}

/// `GET /auth/session`: the caller's session, or `data: null` without one (the web UI asks on
/// every load, before it knows whether anyone is signed in).
async fn session(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let proxied = proxied_person(&state, &req);
    let current = match crate::auth::session_cookie(&req) {
        None => None,
        Some(cookie) => match crate::auth::session_principal(state.clone(), cookie).await {
            Ok(p) => Some(p),
            Err(e) if e.code == crate::error::ErrorCode::Unauthorized => None,
            Err(e) => return Err(e),
        },
    };
    // A trusted proxy's person signs in here, unless this session is already theirs.
    if let Some((name, groups)) = proxied {
        let theirs = current.as_ref().is_some_and(|p| {
            p.actor
                .name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&name))
        });
        if !theirs {
            return header_sign_in(&state, &req, name, groups).await;
        }
    }
    let Some(principal) = current else {
        let none = envelope::ok(&serde_json::Value::Null);
        return Ok(if crate::auth::session_cookie(&req).is_some() {
            cleared(none)
        } else {
            none
        });
    };
    let s = principal
        .session
        .clone()
        .ok_or_else(|| ApiError::internal("a session principal without its session"))?;
    let id = s.user_id.clone();
    let user = state.db.read(move |c| users::get(c, &id)).await?;
    Ok(envelope::ok(&json!({
        "user": user, "csrf_token": s.csrf_token, "expires_at": s.expires_at, "auth": s.auth,
    })))
}

async fn sign_out(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let s = session_of(&auth)?.clone();
    let (client, name) = (client(&req), auth.actor.name.clone().unwrap_or_default());
    state
        .db
        .write(move |tx| {
            sessions::delete(tx, &s.id)?;
            accounts::event(
                tx,
                "sign_out",
                Some(&s.user_id),
                &name,
                &client,
                &crate::domain::clock::now(),
            )
        })
        .await?;
    state.keys.invalidate();
    Ok(cleared(envelope::ok(&json!({"signed_out": true}))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    #[schema(min_length = 10, max_length = 256)]
    new_password: String,
}

async fn change_password(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let s = session_of(&auth)?.clone();
    let b: PasswordBody = body.parse()?;
    new_password(&b.new_password, "new_password")?;
    let id = s.user_id.clone();
    let stored = state.db.read(move |c| users::password_hash(c, &id)).await?;
    let current = b.current_password;
    let ok = hashing(&state, move || {
        password::verify(&current, stored.as_deref())
    })
    .await?;
    if !ok {
        return Err(
            ApiError::unauthorized("The current password is wrong").with_field("current_password")
        );
    }
    let new = b.new_password;
    let hash = hashing(&state, move || password::hash(&new)).await?;
    let (client, name) = (client(&req), auth.actor.name.clone().unwrap_or_default());
    state
        .db
        .write(move |tx| {
            let now = crate::domain::clock::now();
            users::set_password(tx, &s.user_id, &hash, &now)?;
            accounts::end_other_sessions(tx, &s.user_id, Some(&s.id))?;
            accounts::event(
                tx,
                "password_changed",
                Some(&s.user_id),
                &name,
                &client,
                &now,
            )
        })
        .await?;
    state.keys.invalidate();
    Ok(envelope::ok(&json!({"password_changed": true})))
}

async fn list_sessions(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    let s = session_of(&auth)?.clone();
    let id = s.user_id.clone();
    let mut list = state.db.read(move |c| sessions::of_user(c, &id)).await?;
    for item in &mut list {
        item.current = item.id == s.id;
    }
    Ok(envelope::ok(&list))
}

async fn delete_session(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let s = session_of(&auth)?.clone();
    let target = parse_uuid(&path, "id")?;
    let (client, name) = (client(&req), auth.actor.name.clone().unwrap_or_default());
    state
        .db
        .write(move |tx| {
            // Only one's own: another person's session is as unknown as a made-up id.
            let mine = sessions::of_user(tx, &s.user_id)?
                .into_iter()
                .any(|x| x.id == target);
            if !mine {
                return Err(ApiError::not_found("Session"));
            }
            sessions::delete(tx, &target)?;
            accounts::event(
                tx,
                "session_revoked",
                Some(&s.user_id),
                &name,
                &client,
                &crate::domain::clock::now(),
            )
        })
        .await?;
    state.keys.invalidate();
    Ok(envelope::deleted())
}

async fn revoke_others(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let s = session_of(&auth)?.clone();
    let (client, name) = (client(&req), auth.actor.name.clone().unwrap_or_default());
    let ended = state
        .db
        .write(move |tx| {
            let n = accounts::end_other_sessions(tx, &s.user_id, Some(&s.id))?;
            accounts::event(
                tx,
                "session_revoked",
                Some(&s.user_id),
                &name,
                &client,
                &crate::domain::clock::now(),
            )?;
            Ok(n)
        })
        .await?;
    state.keys.invalidate();
    Ok(envelope::ok(&json!({"revoked": ended})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    username: String,
    #[schema(min_length = 10, max_length = 256)]
    password: String,
}

/// `POST /auth/invites/{code}/accept`: the invited person chooses a username and password and
/// is signed in; the code works once.
async fn accept_invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let b: AcceptBody = body.parse()?;
    let username = parse_username(&b.username).map_err(|e| e.at("username"))?;
    new_password(&b.password, "password")?;
    let hash = hashing(&state, move || password::hash(&b.password)).await?;
    let (client, max_days, request_id) = (
        client(&req),
        state.config.session_max_days,
        request_id(&req),
    );
    let code = path.into_inner();
    let (user, session, token) = state
        .db
        .write(move |tx| {
            let invite = accounts::take_code(tx, &code, "invite")?;
            let role = Role::parse(invite.role.as_deref().unwrap_or("Viewer"))
                .map_err(|e| e.at("role"))?;
            let networks: Vec<String> = invite
                .network_ids
                .as_deref()
                .and_then(|n| serde_json::from_str(n).ok())
                .unwrap_or_default();
            // The invite carries the inviter's grant; it is made as the server.
            let who = Writer::begin(
                tx,
                Principal::operator(ActorKind::System, "invite"),
                request_id,
            )?;
            let user = crate::ops::users::create(
                tx,
                &who,
                crate::ops::users::UserInput {
                    username,
                    display_name: None,
                    email: None,
                    role,
                    network_ids: networks,
                    enabled: true,
                },
                "password",
                Some(&hash),
            )?;
            accounts::event(
                tx,
                "invite_used",
                Some(&user.id),
                &user.username,
                &client,
                &who.now,
            )?;
            let (session, token) =
                accounts::start_session(tx, &user, "password", &client, max_days)?;
            Ok((user, session, token))
        })
        .await?;
    Ok(signed_in(
        &state,
        &req,
        StatusCode::CREATED,
        &user,
        &session,
        &token,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordLinkBody {
    #[schema(min_length = 10, max_length = 256)]
    password: String,
}

/// `POST /auth/password-links/{code}`: a link an Admin made (a new user without a password, or a
/// reset) sets the password once and ends the person's sessions.
async fn use_password_link(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let b: PasswordLinkBody = body.parse()?;
    new_password(&b.password, "password")?;
    let hash = hashing(&state, move || password::hash(&b.password)).await?;
    let client = client(&req);
    let code = path.into_inner();
    let user = state
        .db
        .write(move |tx| {
            let link = accounts::take_code(tx, &code, "reset")?;
            let id = link
                .user_id
                .ok_or_else(|| ApiError::internal("a password link without its user"))?;
            let user = users::get(tx, &id)?;
            let now = crate::domain::clock::now();
            users::set_password(tx, &id, &hash, &now)?;
            accounts::end_other_sessions(tx, &id, None)?;
            accounts::event(
                tx,
                "password_changed",
                Some(&id),
                &user.username,
                &client,
                &now,
            )?;
            Ok(user)
        })
        .await?;
    state.keys.invalidate();
    Ok(envelope::ok(
        &json!({"username": user.username, "password_changed": true}),
    ))
}

async fn events(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    auth.require(Role::Admin)?;
    let q = QueryParams::from_request(&req)?;
    let page = q.page()?;
    let (user, kind) = (q.uuid("user_id")?, q.text("type"));
    let (items, total) = state
        .db
        .read(move |c| sessions::events(c, user, kind, page))
        .await?;
    Ok(list_response(&items, page, total))
}

/// Whether `code` is the user's current TOTP code (not used before) or an unused recovery code;
/// either is then used up.
fn second_factor(tx: &rusqlite::Transaction, user_id: &str, code: &str) -> ApiResult<bool> {
    let (secret, enabled) = users::totp(tx, user_id)?;
    let Some(secret) = secret.filter(|_| enabled) else {
        return Ok(false);
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    if let Some(step) = totp::matching_step(&secret, code, now) {
        return users::take_totp_step(tx, user_id, step);
    }
    let hash = crate::domain::token::hash(&code.to_lowercase());
    users::use_recovery_code(tx, user_id, &hash, &crate::domain::clock::now())
}

fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// `POST /auth/totp/setup`: a new secret, its link and QR code; on only once confirmed.
async fn totp_setup(state: web::Data<AppState>, auth: Auth) -> ApiResult<HttpResponse> {
    let s = session_of(&auth)?.clone();
    let name = auth.actor.name.clone().unwrap_or_default();
    let secret = totp::new_secret();
    let stored = secret.clone();
    state
        .db
        .write(move |tx| {
            if users::totp(tx, &s.user_id)?.1 {
                return Err(ApiError::conflict(
                    "Your second factor is on: turn it off first",
                ));
            }
            users::set_totp_secret(tx, &s.user_id, Some(&stored), false)
        })
        .await?;
    let url = totp::url(&secret, &name);
    let svg = totp::qr_svg(&url);
    Ok(no_store(envelope::ok(
        &json!({"secret": secret, "otpauth_url": url, "qr_svg": svg}),
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeBody {
    /// The 6 digits the authenticator shows now.
    code: String,
}

/// `POST /auth/totp/confirm`: a code of the new secret turns it on (that code counts as used)
/// and answers ten recovery codes, once.
async fn totp_confirm(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let s = session_of(&auth)?.clone();
    let b: TotpCodeBody = body.parse()?;
    let (client, name) = (client(&req), auth.actor.name.clone().unwrap_or_default());
    let codes = totp::recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| crate::domain::token::hash(c))
        .collect();
    state
        .db
        .write(move |tx| {
            let (secret, enabled) = users::totp(tx, &s.user_id)?;
            let secret = match (secret, enabled) {
                (Some(secret), false) => secret,
                (_, true) => return Err(ApiError::conflict("Your second factor is on already")),
                (None, false) => {
                    return Err(ApiError::conflict(
                        "Start with POST /api/v1/auth/totp/setup",
                    ))
                }
            };
            let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
            let step = totp::matching_step(&secret, &b.code, now).ok_or_else(|| {
                ApiError::validation("code", "That is not the code your authenticator shows now")
            })?;
            users::set_totp_secret(tx, &s.user_id, Some(&secret), true)?;
            users::take_totp_step(tx, &s.user_id, step)?;
            users::add_recovery_codes(tx, &s.user_id, &hashes)?;
            accounts::event(
                tx,
                "totp_enabled",
                Some(&s.user_id),
                &name,
                &client,
                &crate::domain::clock::now(),
            )
        })
        .await?;
    state.keys.invalidate();
    Ok(no_store(envelope::ok(&json!({"recovery_codes": codes}))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpDisableBody {
    password: String,
}

/// `POST /auth/totp/disable`: with the password, the second factor and its recovery codes go.
async fn totp_disable(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let s = session_of(&auth)?.clone();
    let b: TotpDisableBody = body.parse()?;
    let id = s.user_id.clone();
    let stored = state.db.read(move |c| users::password_hash(c, &id)).await?;
    let given = b.password;
    if !hashing(&state, move || password::verify(&given, stored.as_deref())).await? {
        return Err(ApiError::unauthorized("The password is wrong").with_field("password"));
    }
    let (client, name) = (client(&req), auth.actor.name.clone().unwrap_or_default());
    state
        .db
        .write(move |tx| {
            users::set_totp_secret(tx, &s.user_id, None, false)?;
            accounts::event(
                tx,
                "totp_disabled",
                Some(&s.user_id),
                &name,
                &client,
                &crate::domain::clock::now(),
            )
        })
        .await?;
    Ok(envelope::ok(&json!({"totp_enabled": false})))
}

/// The person a trusted proxy names (`PORTOLAN_AUTH_HEADER`) and their groups, when the request
/// comes from an address in `PORTOLAN_TRUSTED_PROXIES`; from anywhere else the header is ignored.
fn proxied_person(state: &AppState, req: &HttpRequest) -> Option<(String, Option<String>)> {
    let (user_header, groups_header) = state.config.auth_header.as_ref()?;
    let peer = req.peer_addr()?.ip();
    if !state
        .config
        .trusted_proxies
        .iter()
        .any(|c| c.contains(peer))
    {
        return None;
    }
    let text = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let name = text(user_header)?;
    Some((name, groups_header.as_deref().and_then(text)))
}

/// Signs in a person a proxy or a provider vouched for, in one write authored by `by` (the
/// journal's name for any change to their account), with a new session.
pub(super) async fn sign_in_vouched(
    state: &AppState,
    req: &HttpRequest,
    by: &'static str,
    person: accounts::Vouched,
) -> ApiResult<(User, Session, String)> {
    let (client, max_days, auto) = (
        client(req),
        state.config.session_max_days,
        state.config.auto_create,
    );
    let request_id = request_id(req);
    let audited = person.clone();
    let signed_in = state
        .db
        .write(move |tx| {
            let who = Writer::begin(tx, Principal::operator(ActorKind::System, by), request_id)?;
            accounts::vouched_sign_in(tx, &who, person, auto, &client, max_days)
        })
        .await;
    match signed_in {
        Ok(signed_in) => {
            // A role read again from the groups takes effect at once for the person's keys too.
            state.keys.invalidate();
            Ok(signed_in)
        }
        Err(e) if is_refusal(&e) => Err(refuse_vouched(state, req, audited, e).await),
        Err(e) => Err(e),
    }
}

fn is_refusal(e: &ApiError) -> bool {
    matches!(
        e.http_status(),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    )
}

/// Answers `refusal` to a person another system vouched for, once the refusal is in the audit
/// (`sign_in_failed`, as a wrong password is): a disabled account, no account, no role.
pub(super) async fn refuse_vouched(
    state: &AppState,
    req: &HttpRequest,
    person: accounts::Vouched,
    refusal: ApiError,
) -> ApiError {
    let (client, now) = (client(req), crate::domain::clock::now());
    let audited = state
        .db
        .write(move |tx| accounts::vouched_refused(tx, &person, &client, &now))
        .await;
    match audited {
        Ok(()) => refusal,
        Err(e) => e,
    }
}

/// The refusal of a person whose groups map to no role.
pub(super) fn no_role() -> ApiError {
    ApiError::forbidden_role("a role from PORTOLAN_ROLE_MAP")
        .with_message("You are signed in, but none of your groups has a role here")
}

/// Signs in the person a trusted proxy names: their account (made at the first sign-in when
/// allowed), the role their groups map to (read again at every sign-in), a new session.
async fn header_sign_in(
    state: &AppState,
    req: &HttpRequest,
    name: String,
    groups: Option<String>,
) -> ApiResult<HttpResponse> {
    let username = parse_username(&name).map_err(|e| {
        ApiError::unauthorized(format!(
            "The proxy's user header is not a username: {}",
            e.0
        ))
    })?;
    let mut person = accounts::Vouched {
        auth: "header",
        identity: None,
        names: vec![username],
        display_name: None,
        email: None,
        role: None,
    };
    if let Some((_, Some(_))) = &state.config.auth_header {
        let groups = crate::domain::account::split_groups(groups.as_deref().unwrap_or(""));
        match state.config.role_map.role_of(groups) {
            Some(role) => person.role = Some(role),
            None => return Err(refuse_vouched(state, req, person, no_role()).await),
        }
    }
    let (user, session, token) =
        sign_in_vouched(state, req, "sign-in by proxy header", person).await?;
    // The session's shape, as GET /auth/session answers it.
    let res = envelope::ok(&json!({"user": user, "csrf_token": session.csrf_token,
                                   "expires_at": session.expires_at, "auth": "header"}));
    Ok(with_cookie(state, req, res, &token))
}

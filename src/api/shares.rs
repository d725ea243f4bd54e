//! Shares: read-only links to one network's map and hosts for someone without an account.
//! `/api/v1/networks/{id}/shares` (Admin) makes, lists and revokes them; `/api/v1/shares/{token}`
//! and its `map.svg` answer without a key (a password, when set, in `X-Portolan-Share-Password`).

use std::time::Instant;

use actix_web::http::{header, Method};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::accounts::hashing;
use super::input::{parse_uuid, JsonBody};
use super::write::{write_reply, Reply};
use super::{on, Routes};
use crate::auth::Auth;
use crate::db::api_keys::MASK;
use crate::db::hosts::{Embed, HostFilter};
use crate::db::query::PageRequest;
use crate::db::shares::{self, Share};
use crate::db::versions::AsOf;
use crate::domain::map;
use crate::domain::role::Role;
use crate::domain::{clock, password, token};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const PASSWORD_HEADER: &str = "X-Portolan-Share-Password";

pub fn routes(r: &mut Routes) {
    r.at(
        "/api/v1/networks/{id}/shares",
        [on(Method::GET, list), on(Method::POST, create)],
    )
    .at(
        "/api/v1/networks/{id}/shares/{share_id}",
        [on(Method::DELETE, delete)],
    )
    .at("/api/v1/shares/{token}", [on(Method::GET, shared)])
    .at(
        "/api/v1/shares/{token}/map.svg",
        [on(Method::GET, shared_svg)],
    );
}

fn network_of(auth: &Auth, id: &str) -> ApiResult<String> {
    auth.require(Role::Admin)?;
    let id = parse_uuid(id, "id")?;
    auth.check_network(&id)?;
    Ok(id)
}

async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = network_of(&auth, &path)?;
    let items = state
        .db
        .read(move |c| {
            crate::db::networks::get(c, &id)?;
            shares::of_network(c, &id)
        })
        .await?;
    Ok(envelope::ok(&items))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// RFC 3339; without it the link works until revoked.
    #[serde(default)]
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    /// Asked for when the link is opened.
    #[serde(default)]
    #[schema(min_length = 10, max_length = 256)]
    password: Option<String>,
}

async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    req: HttpRequest,
    body: JsonBody,
) -> ApiResult<HttpResponse> {
    let id = network_of(&auth, &path)?;
    let b: ShareBody = body.parse()?;
    let expires_at = match &b.expires_at {
        None => None,
        Some(t) => {
            let at = clock::parse_rfc3339(t)
                .ok_or_else(|| ApiError::validation("expires_at", "An RFC 3339 time"))?;
            if at <= time::OffsetDateTime::now_utc() {
                return Err(ApiError::validation("expires_at", "A time to come"));
            }
            Some(clock::format(at))
        }
    };
    let password_hash = match b.password {
        Some(p) => {
            crate::domain::account::check_password(&p).map_err(|e| e.at("password"))?;
            Some(hashing(&state, move || password::hash(&p)).await?)
        }
        None => None,
    };
    write_reply(&state, &req, auth.0, Some(&body), move |tx, who| {
        crate::db::networks::get(tx, &id)?;
        let secret = token::hex(&rand::random::<[u8; 32]>());
        let share = Share {
            id: crate::domain::new_id(),
            network_id: id.clone(),
            has_password: password_hash.is_some(),
            expires_at,
            created_by: serde_json::to_value(&who.actor).unwrap_or_default(),
            created_at: who.now.clone(),
            password_hash,
        };
        shares::insert(tx, &share, &token::hash(&secret))?;
        let answer = json!({"id": share.id, "token": secret, "link": format!("/share/{secret}"),
                            "expires_at": share.expires_at, "has_password": share.has_password});
        let mut redacted = answer.clone();
        redacted["token"] = json!(MASK);
        redacted["link"] = json!(MASK);
        Ok(
            Reply::created(format!("/api/v1/networks/{id}/shares"), &answer)
                .secret_shown_once(&redacted),
        )
    })
    .await
}

async fn delete(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (network, share) = path.into_inner();
    let network = network_of(&auth, &network)?;
    let share = parse_uuid(&share, "share_id")?;
    super::write::write_as(&state, &req, auth.0, move |tx, _who| {
        if shares::delete(tx, &network, &share)? == 0 {
            return Err(ApiError::not_found("Share"));
        }
        Ok(())
    })
    .await?;
    Ok(envelope::deleted())
}

/// The share of a token, if it is live and its password (when it has one) was given.
async fn open_share(state: &AppState, req: &HttpRequest, token_text: &str) -> ApiResult<Share> {
    let gone =
        || ApiError::not_found("Share").with_message("This link is unknown, revoked or expired");
    if token_text.len() != 64 || !token_text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(gone());
    }
    let hash = token::hash(token_text);
    let share = state
        .db
        .read(move |c| shares::by_token(c, &hash))
        .await?
        .ok_or_else(gone)?;
    if share
        .expires_at
        .as_deref()
        .is_some_and(|t| t <= clock::now().as_str())
    {
        return Err(gone());
    }
    let Some(stored) = share.password_hash.clone() else {
        return Ok(share);
    };
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let key = format!("share:{}", share.id);
    let locked = state
        .accounts
        .throttle()
        .locked(&key, &address, Instant::now());
    if let Some(wait) = locked {
        return Err(ApiError::rate_limited(wait)
            .with_message("Too many wrong passwords for this link; try again later"));
    }
    let given = req
        .headers()
        .get(PASSWORD_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(given) = given else {
        return Err(ApiError::unauthorized("This link asks for a password").with_field("password"));
    };
    if !hashing(state, move || password::verify(&given, Some(&stored))).await? {
        state
            .accounts
            .throttle()
            .failed(&key, &address, Instant::now());
        return Err(ApiError::unauthorized("Wrong password for this link").with_field("password"));
    }
    Ok(share)
}

async fn map_of(state: &AppState, network_id: String) -> ApiResult<map::MapInput> {
    state
        .db
        .read(move |c| {
            let network = crate::db::networks::get(c, &network_id)?;
            crate::db::map::load(c, &network_id, &network.name, &AsOf::Live)
        })
        .await
}

/// `GET /shares/{token}`: the network, its hosts with their addresses, ports and services, and
/// its map; nothing else.
async fn shared(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let share = open_share(&state, &req, &path).await?;
    let id = share.network_id.clone();
    let (network, hosts) = state
        .db
        .read(move |c| {
            let network = crate::db::networks::get(c, &id)?;
            let filter = HostFilter {
                network_id: Some(id.clone()),
                ..Default::default()
            };
            let page = PageRequest {
                limit: None,
                offset: 0,
            };
            let (hosts, _) = crate::db::hosts::list(
                c,
                &Some(vec![id.clone()]),
                &filter,
                "h.name COLLATE NOCASE, h.id",
                page,
                Embed::Children,
                &AsOf::Live,
            )?;
            Ok((network, hosts))
        })
        .await?;
    let input = map_of(&state, share.network_id.clone()).await?;
    let mut res = envelope::ok(&json!({
        "network": {"id": network.id, "name": network.name, "description": network.description},
        "hosts": hosts, "map": map::layout(&input, None), "expires_at": share.expires_at,
    }));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    Ok(res)
}

async fn shared_svg(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let share = open_share(&state, &req, &path).await?;
    let input = map_of(&state, share.network_id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "sandbox"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(map::svg(&map::layout(&input, None), &input)))
}

//! Bearer API keys and people's session cookies: the extractor that turns a request into a
//! `Principal`, and the CSRF check of cookie-authenticated writes.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::time::Instant;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};

use crate::db::agents::{self, Agent};
use crate::db::{api_keys, sessions};
use crate::domain::account::{session_from_cookies, CSRF_HEADER};
use crate::domain::clock;
use crate::domain::principal::Principal;
use crate::domain::principal::SessionRef;
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, CachedKey, LAST_USED_RESOLUTION_SECS};
use time::OffsetDateTime;

pub use crate::domain::token;

/// The authenticated caller. Extracting it answers 401 for a missing or unusable key.
pub struct Auth(pub Principal);

impl std::ops::Deref for Auth {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

/// The well-formed token (`scp_u_` key or `scp_a_` agent token) of the `Authorization: Bearer`
/// header.
pub fn bearer(req: &HttpRequest) -> ApiResult<String> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized("Missing API key: send Authorization: Bearer scp_u_...")
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("Malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::unauthorized("The Authorization header must use the Bearer scheme")
        })?;
    if !token::is_well_formed(token) && !token::is_agent_token(token) {
        return Err(ApiError::unauthorized("Invalid API key"));
    }
    Ok(token.to_string())
}

/// An agent token opens only the agent endpoints: elsewhere a working one is 403, any other 401.
async fn refuse_agent_token(state: &AppState, token: &str) -> ApiError {
    match agent_of(state, token).await {
        Ok(_) => ApiError::forbidden_role("API key").with_message(
            "An agent token opens only the agent endpoints (/api/v1/agent/...); use an API key",
        ),
        Err(e) => e,
    }
}

/// The enabled agent behind an `scp_a_` token, read from the database on every request, so that
/// disabling, rotating or deleting takes effect at once.
async fn agent_of(state: &AppState, token: &str) -> ApiResult<Agent> {
    let hash = token::hash(token);
    let agent = state
        .db
        .read(move |c| agents::find_by_hash(c, &hash))
        .await?
        .ok_or_else(|| ApiError::unauthorized("Invalid agent token"))?;
    if !agent.enabled {
        return Err(ApiError::unauthorized("This agent is disabled"));
    }
    Ok(agent)
}

/// The calling agent, on the agent endpoints. An API key there is 403.
pub struct AgentAuth(pub Agent);

impl FromRequest for AgentAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<AgentAuth, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            if !token::is_agent_token(&token) {
                authenticate(state, token).await?;
                return Err(ApiError::forbidden_role("agent").with_message(
                    "The agent endpoints take an agent token (scp_a_...), not an API key",
                ));
            }
            agent_of(&state, &token).await.map(AgentAuth)
        })
    }
}

fn check_expiry(expires_at: Option<OffsetDateTime>, now: OffsetDateTime) -> ApiResult<()> {
    match expires_at {
        Some(t) if t <= now => Err(ApiError::unauthorized("This API key has expired")),
        _ => Ok(()),
    }
}

fn record_use(state: &AppState, key_id: String, now: OffsetDateTime) {
    // Bookkeeping only: the request does not wait for it, and a busy database may skip it.
    let db = state.db.clone();
    actix_web::rt::spawn(async move {
        let stamp = clock::format(now);
        if let Err(e) = db
            .write(move |tx| api_keys::touch(tx, &key_id, &stamp))
            .await
        {
            log::debug!("could not record last_used: {e}");
        }
    });
}

/// The key behind `token`, from the cache or the database.
pub async fn authenticate(state: web::Data<AppState>, token: String) -> ApiResult<Principal> {
    if token::is_agent_token(&token) {
        return Err(refuse_agent_token(&state, &token).await);
    }
    let hash = token::hash(&token);
    let now = OffsetDateTime::now_utc();
    if let Some((principal, expires_at, touch)) = state.keys.get(&hash, now) {
        check_expiry(expires_at, now)?;
        if touch {
            record_use(&state, principal.key_id.clone(), now);
        }
        return Ok(principal);
    }
    let epoch = state.keys.epoch.load(Ordering::SeqCst);
    let lookup = hash.clone();
    let (key, owner) = state
        .db
        .read(move |c| {
            let Some(key) = api_keys::find_by_hash(c, &lookup)? else {
                return Ok(None);
            };
            let owner = match &key.owner_user_id {
                Some(id) => Some(crate::db::users::get(c, id)?),
                None => None,
            };
            Ok(Some((key, owner)))
        })
        .await?
        .ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
    if !key.is_enabled {
        return Err(ApiError::unauthorized("This API key is disabled"));
    }
    if owner.as_ref().is_some_and(|o| !o.enabled) {
        return Err(ApiError::unauthorized(
            "This API key's owner is disabled, and their keys with them",
        ));
    }
    let expires_at = key.expires_at.as_deref().and_then(clock::parse_rfc3339);
    check_expiry(expires_at, now)?;
    let mut last_used = key.last_used.as_deref().and_then(clock::parse_rfc3339);
    if last_used.is_none_or(|t| (now - t).whole_seconds() >= LAST_USED_RESOLUTION_SECS) {
        record_use(&state, key.id.clone(), now);
        last_used = Some(now);
    }
    let role = Role::parse(&key.permissions)
        .map_err(|_| ApiError::internal("stored key has an unknown role"))?;
    let (role, networks, owner) = match owner {
        None => (role, key.network_ids, None),
        Some(o) => {
            let owner_role = Role::parse(&o.role)
                .map_err(|_| ApiError::internal("stored user has an unknown role"))?;
            let (role, networks) = crate::domain::account::owned_key_reach(
                role,
                &key.network_ids,
                owner_role,
                &o.network_ids,
            )
            .ok_or_else(|| {
                ApiError::unauthorized("This API key reaches no network its owner may see")
            })?;
            let who = crate::domain::history::ActorUser {
                id: o.id,
                name: o.username,
            };
            (role, networks, Some(who))
        }
    };
    let principal = Principal::api_key(key.id, key.name, role, networks, owner);
    state.keys.put(
        hash,
        CachedKey {
            principal: principal.clone(),
            expires_at,
            last_used,
            fetched: Instant::now(),
            epoch,
        },
    );
    Ok(principal)
}

/// The person behind a session cookie, from the cache or the database. A session ends at its
/// absolute end, after its idle days, or when its user is disabled (which clears the cache).
pub async fn session_principal(state: web::Data<AppState>, cookie: String) -> ApiResult<Principal> {
    let ended = || ApiError::unauthorized("Your session has ended: sign in again");
    let token_hash = token::hash(&cookie);
    let cache_key = format!("session:{token_hash}");
    let now = OffsetDateTime::now_utc();
    let idle = time::Duration::days(i64::from(state.config.session_idle_days));
    if let Some((principal, expires_at, touch)) = state.keys.get(&cache_key, now) {
        if expires_at.is_some_and(|t| t <= now) {
            return Err(ended());
        }
        if touch {
            touch_session(&state, &principal, now);
        }
        return Ok(principal);
    }
    let epoch = state.keys.epoch.load(Ordering::SeqCst);
    let found = state
        .db
        .read(move |c| sessions::by_token(c, &token_hash))
        .await?
        .ok_or_else(ended)?;
    let sessions::SessionOwner {
        session,
        username,
        role,
        network_ids: networks,
        enabled,
    } = found;
    let expires_at = clock::parse_rfc3339(&session.expires_at).ok_or_else(ended)?;
    let last_used = clock::parse_rfc3339(&session.last_used_at).ok_or_else(ended)?;
    if !enabled || expires_at <= now || last_used + idle <= now {
        return Err(ended());
    }
    let role =
        Role::parse(&role).map_err(|_| ApiError::internal("stored user has an unknown role"))?;
    let principal = Principal::user(
        &session.user_id,
        &username,
        role,
        networks,
        SessionRef {
            id: session.id.clone(),
            user_id: session.user_id.clone(),
            csrf_token: session.csrf_token.clone(),
            auth: session.auth.clone(),
            expires_at: session.expires_at.clone(),
        },
    );
    let mut last_used = Some(last_used);
    if (now - last_used.unwrap_or(now)).whole_seconds() >= LAST_USED_RESOLUTION_SECS {
        touch_session(&state, &principal, now);
        last_used = Some(now);
    }
    state.keys.put(
        cache_key,
        CachedKey {
            principal: principal.clone(),
            expires_at: Some(expires_at),
            last_used,
            fetched: Instant::now(),
            epoch,
        },
    );
    Ok(principal)
}

/// Moves the session's idle end: bookkeeping the request does not wait for.
fn touch_session(state: &AppState, principal: &Principal, now: OffsetDateTime) {
    let Some(session) = principal.session.as_ref().map(|s| s.id.clone()) else {
        return;
    };
    let db = state.db.clone();
    actix_web::rt::spawn(async move {
        let stamp = clock::format(now);
        if let Err(e) = db
            .write(move |tx| sessions::touch(tx, &session, &stamp))
            .await
        {
            log::debug!("could not record a session's use: {e}");
        }
    });
}

/// A write authenticated by a session cookie must carry the session's CSRF token: another
/// site can make the browser send the cookie, but cannot read the token.
pub fn check_csrf(principal: &Principal, req: &HttpRequest) -> ApiResult<()> {
    let Some(session) = &principal.session else {
        return Ok(());
    };
    if matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS") {
        return Ok(());
    }
    let sent = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let expected = session.csrf_token.as_bytes();
    let same = sent.len() == expected.len()
        && sent
            .bytes()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::new(
            crate::error::ErrorCode::ForbiddenCsrf,
            format!("A change made with a session needs its CSRF token in {CSRF_HEADER}"),
        )
        .with_hint("Read it from the sign-in answer or GET /api/v1/auth/session"))
    }
}

/// The request's session cookie, when it has no Authorization header (a key wins).
pub fn session_cookie(req: &HttpRequest) -> Option<String> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    let cookies = req.headers().get(header::COOKIE)?.to_str().ok()?;
    session_from_cookies(cookies).map(str::to_string)
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Auth, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The rate limiter has usually authenticated the request already.
        if let Some(principal) = req.extensions().get::<Principal>().cloned() {
            let checked = check_csrf(&principal, req);
            return Box::pin(async move { checked.map(|()| Auth(principal)) });
        }
        let state = req.app_data::<web::Data<AppState>>().cloned();
        if let Some(cookie) = session_cookie(req) {
            let req = req.clone();
            return Box::pin(async move {
                let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
                let principal = session_principal(state, cookie).await?;
                check_csrf(&principal, &req)?;
                Ok(Auth(principal))
            });
        }
        let token = bearer(req);
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            authenticate(state, token).await.map(Auth)
        })
    }
}

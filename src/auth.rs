//! Bearer API keys: the token format, and the extractor that turns a request into a `Principal`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::time::Instant;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};

use crate::db::agents::{self, Agent};
use crate::db::api_keys;
use crate::domain::clock;
use crate::domain::principal::Principal;
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
    let key = state
        .db
        .read(move |c| api_keys::find_by_hash(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
    if !key.is_enabled {
        return Err(ApiError::unauthorized("This API key is disabled"));
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
    let principal = Principal::api_key(key.id, key.name, role, key.network_ids);
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

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Auth, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The rate limiter has usually authenticated the request already.
        if let Some(principal) = req.extensions().get::<Principal>().cloned() {
            return Box::pin(async move { Ok(Auth(principal)) });
        }
        let token = bearer(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            authenticate(state, token).await.map(Auth)
        })
    }
}

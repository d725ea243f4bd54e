//! Bearer API keys: the token format, and the extractor that turns a request into a `Principal`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};

use crate::db::api_keys;
use crate::domain::clock;
use crate::domain::principal::Principal;
use crate::domain::role::Role;
use crate::error::{ApiError, ApiResult};
use crate::startup::AppState;
use time::OffsetDateTime;

pub mod token {
    use rand::distr::{Alphanumeric, SampleString};
    use sha2::{Digest, Sha256};

    pub const PREFIX: &str = "scp_u_";
    const SECRET_LEN: usize = 32;

    /// A new `scp_u_` key: 32 base62 characters from the OS-seeded generator.
    pub fn generate() -> String {
        format!(
            "{PREFIX}{}",
            Alphanumeric.sample_string(&mut rand::rng(), SECRET_LEN)
        )
    }

    pub fn is_well_formed(token: &str) -> bool {
        token
            .strip_prefix(PREFIX)
            .is_some_and(|s| s.len() == SECRET_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric()))
    }

    /// Hex SHA-256 of the whole token: what the database stores and looks up.
    pub fn hash(token: &str) -> String {
        let digest = Sha256::digest(token.as_bytes());
        let mut out = String::with_capacity(64);
        for b in digest {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn generated_keys_are_well_formed_and_distinct() {
            let a = generate();
            let b = generate();
            assert!(is_well_formed(&a), "{a}");
            assert_ne!(a, b);
        }

        #[test]
        fn malformed_keys() {
            assert!(!is_well_formed("scp_u_short"));
            assert!(!is_well_formed(&format!("scp_x_{}", "a".repeat(32))));
            assert!(!is_well_formed(&format!("scp_u_{}-", "a".repeat(31))));
            assert!(is_well_formed(&format!(
                "scp_u_{}",
                "aZ9".repeat(10) + "ab"
            )));
        }

        #[test]
        fn hash_is_hex_sha256() {
            assert_eq!(
                hash("abc"),
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            );
        }
    }
}

/// The authenticated caller. Extracting it answers 401 for a missing or unusable key.
pub struct Auth(pub Principal);

impl std::ops::Deref for Auth {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.0
    }
}

/// The well-formed `scp_u_` token of the `Authorization: Bearer` header.
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
    if !token::is_well_formed(token) {
        return Err(ApiError::unauthorized("Invalid API key"));
    }
    Ok(token.to_string())
}

/// How stale `last_used` may get before a request refreshes it.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// How long a looked-up key is trusted without asking the database again. Changes made through
/// this server (rotate, disable, delete, ...) clear the cache at once; this bound only matters for
/// changes made by another process, such as `portolan keys revoke`.
const CACHE_TTL: Duration = Duration::from_secs(1);
const CACHE_MAX_ENTRIES: usize = 10_000;

struct CachedKey {
    principal: Principal,
    expires_at: Option<OffsetDateTime>,
    last_used: Option<OffsetDateTime>,
    fetched: Instant,
    epoch: u64,
}

/// Valid keys by hash, so that most requests authenticate without a database round trip.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, CachedKey>>,
    epoch: AtomicU64,
}

impl KeyCache {
    /// Forgets every key; called after any change to API keys.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedKey>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached principal if still trusted, and whether `last_used` needs a refresh.
    fn get(
        &self,
        hash: &str,
        now: OffsetDateTime,
    ) -> Option<(Principal, Option<OffsetDateTime>, bool)> {
        let epoch = self.epoch.load(Ordering::SeqCst);
        let mut entries = self.lock();
        let entry = entries.get_mut(hash)?;
        if entry.epoch != epoch || entry.fetched.elapsed() > CACHE_TTL {
            entries.remove(hash);
            return None;
        }
        let stale = entry
            .last_used
            .is_none_or(|t| (now - t).whole_seconds() >= LAST_USED_RESOLUTION_SECS);
        if stale {
            entry.last_used = Some(now);
        }
        Some((entry.principal.clone(), entry.expires_at, stale))
    }

    fn put(&self, hash: String, entry: CachedKey) {
        let mut entries = self.lock();
        if entries.len() >= CACHE_MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, entry);
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

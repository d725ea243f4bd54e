//! Token buckets: one per API key, and one per client IP address for requests without a valid
//! key. Every `/api/` response says where its bucket stands (`RateLimit`, `RateLimit-Policy`).

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::auth;
use crate::error::ApiError;
use crate::startup::AppState;

/// Requests per minute for clients without a valid key.
pub const ANONYMOUS_PER_MINUTE: u32 = 60;

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

struct Bucket {
    limiter: KeyedLimiter,
    per_minute: u32,
    burst: u32,
}

impl Bucket {
    /// A bucket of `per_minute` with a burst of one sixth of that (at least one).
    fn new(per_minute: u32) -> Option<Bucket> {
        let rate = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new((per_minute / 6).max(1))?;
        Some(Bucket {
            limiter: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
                .with_middleware::<StateInformationMiddleware>(),
            per_minute,
            burst: burst.get(),
        })
    }

    fn seconds_to_full(&self, remaining: u32) -> u64 {
        let per_token = 60.0 / self.per_minute as f64;
        ((self.burst.saturating_sub(remaining)) as f64 * per_token).ceil() as u64
    }
}

/// Both buckets; `None` when rate limiting is off (`PORTOLAN_RATE_LIMIT=0`).
pub struct Limits {
    keys: Bucket,
    addresses: Bucket,
    checks: AtomicU64,
}

/// Where a client's bucket stands after a request, and whether the request may pass.
pub struct Verdict {
    pub per_minute: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset: u64,
    /// `Some(seconds)` when the request is refused.
    pub retry_after: Option<u64>,
}

impl Verdict {
    /// The standard `RateLimit` pair, and the `X-RateLimit-*` trio older clients read.
    fn headers(&self) -> [(&'static str, String); 5] {
        [
            (
                "ratelimit-policy",
                format!("\"default\";q={};w=60", self.per_minute),
            ),
            (
                "ratelimit",
                format!("\"default\";r={};t={}", self.remaining, self.reset),
            ),
            ("x-ratelimit-limit", self.per_minute.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset.to_string()),
        ]
    }
}

impl Limits {
    pub fn new(per_minute: u32) -> Option<Limits> {
        Some(Limits {
            keys: Bucket::new(per_minute)?,
            addresses: Bucket::new(ANONYMOUS_PER_MINUTE)?,
            checks: AtomicU64::new(0),
        })
    }

    /// Takes a token from the bucket of `key` (a key id) or, without one, of `address`.
    pub fn check(&self, key: Option<&str>, address: &str) -> Verdict {
        // Forget idle buckets now and then, so that many clients cannot grow memory for ever.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.keys.limiter.retain_recent();
            self.addresses.limiter.retain_recent();
        }
        let (bucket, id) = match key {
            Some(k) => (&self.keys, format!("key:{k}")),
            None => (&self.addresses, format!("ip:{address}")),
        };
        let (remaining, retry_after) = match bucket.limiter.check_key(&id) {
            Ok(snapshot) => (snapshot.remaining_burst_capacity(), None),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let seconds = wait.max(Duration::from_millis(1)).as_secs_f64().ceil() as u64;
                (0, Some(seconds))
            }
        };
        Verdict {
            per_minute: bucket.per_minute,
            remaining,
            reset: bucket.seconds_to_full(remaining),
            retry_after,
        }
    }
}

fn set_headers(res: &mut ServiceResponse<BoxBody>, verdict: &Verdict) {
    for (name, value) in verdict.headers() {
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(HeaderName::from_static(name), v);
        }
    }
}

/// The API is limited; liveness, the API's description and the reference's assets are not.
fn is_limited(path: &str) -> bool {
    (path == "/api" || path.starts_with("/api/"))
        && path != "/api/openapi.json"
        && path != "/api/health"
        && !path.starts_with("/api/docs/")
}

/// Authenticates `/api/` requests once (the `Auth` extractor reuses the result), charges the
/// right bucket, and answers 429 when it is empty.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let limits = state.as_ref().and_then(|s| s.limits.as_ref());
    let path = req.path();
    let Some(state) = state
        .as_ref()
        .filter(|_| limits.is_some() && is_limited(path))
    else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let limits = state.limits.as_ref().expect("checked above");

    let principal = match auth::bearer(req.request()) {
        Ok(token) => auth::authenticate(state.clone(), token).await.ok(),
        Err(_) => None,
    };
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let verdict = limits.check(principal.as_ref().map(|p| p.key_id.as_str()), &address);
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    let mut res = match verdict.retry_after {
        None => next.call(req).await?.map_into_boxed_body(),
        Some(retry_after) => {
            let (http_req, _) = req.into_parts();
            ServiceResponse::new(
                http_req,
                actix_web::HttpResponse::from_error(ApiError::rate_limited(retry_after)),
            )
            .map_into_boxed_body()
        }
    };
    set_headers(&mut res, &verdict);
    Ok(res)
}

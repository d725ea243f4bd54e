//! Token buckets: one per API key, and one per client IP address for requests without a valid
//! key.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

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
    pub fn headers(&self) -> [(&'static str, String); 5] {
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

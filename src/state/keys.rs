//! Valid API keys by hash, so that most requests authenticate without a database round trip.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::domain::principal::Principal;

/// How stale `last_used` may get before a request refreshes it.
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// How long a looked-up key is trusted without asking the database again. Changes made through
/// this server (rotate, disable, delete, ...) clear the cache at once; this bound only matters for
/// changes made by another process, such as `portolan keys revoke`.
const CACHE_TTL: Duration = Duration::from_secs(1);
const CACHE_MAX_ENTRIES: usize = 10_000;

pub struct CachedKey {
    pub principal: Principal,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used: Option<OffsetDateTime>,
    pub fetched: Instant,
    pub epoch: u64,
}

/// Valid keys by hash, so that most requests authenticate without a database round trip.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, CachedKey>>,
    pub epoch: AtomicU64,
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
    pub fn get(
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

    pub fn put(&self, hash: String, entry: CachedKey) {
        let mut entries = self.lock();
        if entries.len() >= CACHE_MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, entry);
    }
}

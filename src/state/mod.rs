//! What every handler and middleware can reach, low in the house: it depends on the database,
//! the configuration and the discovery registry, and nothing that serves requests depends on
//! anything above it.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;

mod in_flight;
mod keys;
mod limits;

/// What people's sign-ins share: failures in a window, and the few hashes run at once.
pub struct Accounts {
    pub throttle: std::sync::Mutex<crate::domain::account::Throttle>,
    /// Argon2id takes 19 MiB and tens of milliseconds: two at a time keep a burst of sign-ins
    /// from taking the machine's memory and both cores from the readers.
    pub hashing: tokio::sync::Semaphore,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            throttle: std::sync::Mutex::new(crate::domain::account::Throttle::default()),
            hashing: tokio::sync::Semaphore::new(2),
        }
    }
}

pub use in_flight::InFlight;
pub use keys::{CachedKey, KeyCache, LAST_USED_RESOLUTION_SECS};
pub use limits::{Limits, Verdict, ANONYMOUS_PER_MINUTE};

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub keys: KeyCache,
    pub in_flight: InFlight,
    /// `None` when rate limiting is off.
    pub limits: Option<Limits>,
    /// Set when SIGINT or SIGTERM arrives: requests still arriving get 503.
    pub stopping: Arc<AtomicBool>,
    /// The discoveries this process runs.
    pub discoveries: Arc<crate::discovery::Registry>,
    /// The port the server is bound to (the configured one may be 0).
    pub port: u16,
    pub accounts: Accounts,
}

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
}

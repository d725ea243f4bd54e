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

/// What people's sign-ins share: failures in a window, and the threads that hash passwords.
pub struct Accounts {
    pub throttle: std::sync::Mutex<crate::domain::account::Throttle>,
    pub hasher: Hasher,
}

impl Default for Accounts {
    fn default() -> Self {
        Accounts {
            throttle: std::sync::Mutex::new(crate::domain::account::Throttle::default()),
            hasher: Hasher::start(2),
        }
    }
}

impl Accounts {
    /// The sign-in failures, locked (a panic elsewhere does not lose them).
    pub fn throttle(&self) -> std::sync::MutexGuard<'_, crate::domain::account::Throttle> {
        self.throttle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type HashJob = Box<dyn FnOnce() + Send>;

/// Two threads of their own hash and check passwords: Argon2id takes 19 MiB and tens of
/// milliseconds, so a burst of sign-ins neither takes both cores from the readers nor leaves
/// 19 MiB in the allocator of every blocking thread it touched.
pub struct Hasher {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>,
}

impl Hasher {
    fn start(threads: usize) -> Hasher {
        let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || loop {
                    let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                log::error!("cannot start a password hashing thread: {e}");
            }
        }
        Hasher {
            jobs: std::sync::Mutex::new(tx),
        }
    }

    /// Runs `work` on a hashing thread and answers its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move || {
            let _ = tx.send(work());
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .ok()?;
        rx.await.ok()
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
    /// Single sign-on, when `PORTOLAN_OIDC_ISSUER` is set.
    pub oidc: Option<Arc<crate::oidc::Oidc>>,
}

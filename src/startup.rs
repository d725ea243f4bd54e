//! Wiring: open the database, make sure a key exists, bind the listener, build the app.

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::api;
use crate::api::input::MAX_BODY_BYTES;
use crate::config::Config;
use crate::db::Db;
use crate::domain::history::ActorKind;
use crate::domain::principal::Principal;
use crate::ops;
use crate::ops::journal::Writer;
use crate::rate_limit;
use crate::request_log;
use crate::state::{AppState, InFlight, KeyCache, Limits};

pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    stopping: Arc<AtomicBool>,
    /// Threads that write on their own; joined before the shutdown checkpoint.
    background: Vec<std::thread::JoinHandle<()>>,
}

pub const INITIAL_KEY_FILE: &str = "initial-admin-key";
/// Threads per worker for blocking work other than the database's.
const BLOCKING_THREADS_PER_WORKER: usize = 4;

impl Application {
    /// Migrates, bootstraps the first key and binds; the server starts when `run` is awaited.
    pub fn build(config: Config) -> Result<Application, String> {
        if let Some(version) = &config.report_version {
            crate::envelope::report_version(version);
        }
        let db = Db::open(&config)?;
        log::info!(
            "data directory {}, database {}",
            config.data_dir.display(),
            config.db_path().display()
        );
        bootstrap_key(&db, &config)?;
        let stopping = Arc::new(AtomicBool::new(false));
        let mut background = Vec::new();
        background.extend(db.start_maintenance(
            config.db_path(),
            std::time::Duration::from_millis(500),
            config.busy_timeout_ms,
            config.history_days,
            stopping.clone(),
        ));

        let listener = TcpListener::bind(config.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        log::info!("listening on http://{addr} (web UI at http://{addr}/)");
        bootstrap_setup(&db, &config, addr)?;

        let discoveries = Arc::new(crate::discovery::Registry::new(config.dns_servers.clone()));
        background.extend(crate::delivery::start(
            db.clone(),
            config.webhook_receivers.clone(),
            std::time::Duration::from_millis(u64::from(config.webhook_timeout_ms)),
            stopping.clone(),
        ));
        background.extend(crate::discovery::schedules::start(
            db.clone(),
            discoveries.clone(),
            config.discovery_max_addresses as usize,
            config.agent_job_timeout_s,
            stopping.clone(),
        ));
        let state = web::Data::new(AppState {
            db: db.clone(),
            keys: KeyCache::default(),
            in_flight: InFlight::default(),
            limits: Limits::new(config.rate_limit_per_minute),
            stopping: stopping.clone(),
            discoveries,
            port: addr.port(),
            accounts: Default::default(),
            oidc: config
                .oidc
                .clone()
                .map(|c| Arc::new(crate::oidc::Oidc::new(c))),
            config,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .wrap(from_fn(rate_limit::middleware))
                .wrap(from_fn(request_log::middleware))
                .wrap(from_fn(crate::hardening::middleware))
                .configure(api::routes)
        })
        // Reads and writes have threads of their own (`db`); what is left for actix's blocking
        // pool is rare (spooling an import's body, a webhook's test delivery).
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        .listen(listener)
        .map_err(|e| format!("cannot serve on {addr}: {e}"))?
        .shutdown_timeout(10)
        .shutdown_signal(stop_signal(stopping.clone()))
        .run();
        Ok(Application {
            port: addr.port(),
            server,
            db,
            stopping,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Raised when a stop signal arrives; exposed so tests can observe the stopping state.
    pub fn stopping(&self) -> Arc<AtomicBool> {
        self.stopping.clone()
    }

    /// Serves until SIGINT/SIGTERM, waits for the background writers to stop, then folds the
    /// WAL into the database file.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await?;
        // The server also stops on its own handle (tests); the threads watch the flag.
        self.stopping.store(true, Ordering::SeqCst);
        let (db, background) = (self.db, self.background);
        let settled = actix_web::rt::task::spawn_blocking(move || {
            for thread in background {
                let _ = thread.join();
            }
            db.checkpoint()
        })
        .await;
        match settled {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("WAL checkpoint at shutdown failed: {e}"),
            Err(e) => log::warn!("WAL checkpoint at shutdown did not run: {e}"),
        }
        log::info!("stopped");
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM, after raising `stopping`; the server then stops accepting,
/// finishes what is in flight (up to 10 s), and `run` checkpoints the WAL.
async fn stop_signal(stopping: Arc<AtomicBool>) {
    let interrupt = actix_web::rt::signal::ctrl_c();
    #[cfg(unix)]
    {
        use actix_web::rt::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio_select(interrupt, async move {
                    terminate.recv().await;
                })
                .await
            }
            Err(e) => {
                log::warn!("cannot listen for SIGTERM: {e}");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    stopping.store(true, Ordering::SeqCst);
    log::info!("stopping: finishing requests in flight (at most 10 s)");
}

/// Waits for whichever of two futures finishes first.
async fn tokio_select<A, B>(a: A, b: B)
where
    A: std::future::Future,
    B: std::future::Future,
{
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(move |cx| {
        use std::task::Poll;
        let a = a.as_mut().poll(cx).is_ready();
        let b = b.as_mut().poll(cx).is_ready();
        if a || b {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// First start: an Owner key from `PORTOLAN_ADMIN_API_KEY`, or a new one written to a 0600 file.
fn bootstrap_key(db: &Db, config: &Config) -> Result<(), String> {
    let preset = config.admin_api_key.clone();
    let created = db
        .write_blocking(|tx| {
            let who = Principal::operator(ActorKind::System, "first start");
            ops::api_keys::bootstrap(tx, &Writer::begin(tx, who, None)?, preset.as_deref())
        })
        .map_err(|e| format!("cannot create the initial API key: {e}"))?;
    match (created, preset.is_some()) {
        (Some(_), true) => log::info!("created the Owner key from PORTOLAN_ADMIN_API_KEY"),
        (Some(key), false) => {
            let path = config.data_dir.join(INITIAL_KEY_FILE);
            write_private(&path, &key)?;
            // The key itself never goes to the log: logs are shipped and kept where secrets are not.
            log::info!(
                "created the Owner key \"initial-admin\" and wrote it to {} (readable by this user only); open http://{}/ and paste it there",
                path.display(),
                config.listen
            );
        }
        (None, _) => {}
    }
    Ok(())
}

/// With no person's account yet, a one-time setup link for the first Owner (valid 24 h), in the
/// log and in `<data dir>/setup-code`; a new one at each start until someone uses one.
fn bootstrap_setup(db: &Db, config: &Config, addr: std::net::SocketAddr) -> Result<(), String> {
    let code = db
        .write_blocking(|tx| {
            if crate::db::users::count(tx)? > 0 {
                return Ok(None);
            }
            tx.execute(
                "UPDATE one_time_codes SET used_at = ?1 WHERE purpose = 'setup' AND used_at IS NULL",
                [crate::domain::clock::now()],
            )?;
            ops::accounts::new_code(tx, "setup", None, None, None, 24).map(|(code, _)| Some(code))
        })
        .map_err(|e| format!("cannot make the setup code: {e}"))?;
    let path = config
        .data_dir
        .join(crate::domain::account::SETUP_CODE_FILE);
    match code {
        Some(code) => {
            write_private(&path, &code)?;
            log::info!(
                "no account yet: open http://{addr}/#/setup/{code} to make the Owner (valid 24 h, once; also in {})",
                path.display()
            );
        }
        None => {
            let _ = std::fs::remove_file(&path);
        }
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(format!("{contents}\n").as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

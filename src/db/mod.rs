//! Storage: pools, pragmas, migrations, and the SQL of each entity (one module per entity).
//!
//! Writes go through a pool of exactly one connection, each in a `BEGIN IMMEDIATE` transaction,
//! so the rules checked inside a write see the state they commit against. Reads run on reader
//! threads, each with a read-only connection of its own (WAL lets them run beside the writer).

pub mod agents;
pub mod answers;
pub mod api_keys;
pub mod bindings;
pub mod changes;
pub mod dependencies;
pub mod deployments;
pub mod discoveries;
pub mod exports;
pub mod full_export;
pub mod history_fold;
pub mod hosts;
pub mod idempotency;
pub mod ip_addresses;
mod json_rows;
pub mod map;
pub mod networks;
pub mod organizations;
pub mod ports;
pub mod query;
mod readers;
pub mod service_types;
pub mod services;
pub mod sessions;
pub mod shares;
pub mod subnets;
pub mod tags;
pub mod templates;
pub mod topology;
pub mod users;
pub mod versions;
pub mod webhooks;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, ErrorCode as SqliteCode, OpenFlags, Transaction, TransactionBehavior};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};

mod embedded {
    refinery::embed_migrations!("migrations");
}

type SqlitePool = Pool<SqliteConnectionManager>;

/// Prepared statements kept per connection. The API uses about a hundred distinct statements;
/// rusqlite's default of 16 would re-parse SQL on most requests.
const STATEMENT_CACHE: usize = 256;

/// Both pools, and the writer thread that commits the server's writes in groups. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    /// Read connections for the command line and readiness checks; the server's reads go
    /// through `readers`, which hold the rest.
    read: SqlitePool,
    readers: readers::Readers,
    write: SqlitePool,
    writer: writer::Writer,
    /// Live answers kept until the next write (`answers`).
    answers: Arc<answers::Answers>,
}

/// Page cache of the write connection, in KiB: a write touches the hot index pages of several
/// tables, and its batches keep them warm.
const WRITE_CACHE_KIB: u32 = 16_000;
/// Page cache of each read connection, in KiB: reads are point lookups whose pages the OS keeps
/// cached anyway; a smaller cache per connection bounds memory at scale L.
const READ_CACHE_KIB: u32 = 8_000;

/// The data directory holds the inventory and its keys' hashes: created 0700, and an existing
/// one made 0700 too (installs before this rule had 0755).
pub fn make_private_dir(dir: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot create directory {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    Ok(())
}

/// The database file is created 0600 before SQLite opens it, since SQLite gives its `-wal` and
/// `-shm` files the database's mode; an existing file is made 0600, and so are those two.
pub fn make_private_file(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let fail = |e: std::io::Error| format!("cannot open {}: {e}", path.display());
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(fail)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(fail)?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Turns off SQLite's allocation statistics, before the first connection opens: with them on,
/// every allocation SQLite makes (a page copied into a savepoint's journal, a row read) takes a
/// process-wide mutex to count bytes that nothing here reads (no heap limit is set). The writer
/// spent about 5% of its time in that mutex (perf, `bench/run M`). A process that opened a
/// connection earlier keeps the statistics: SQLite refuses the setting then, and nothing breaks.
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config with SQLITE_CONFIG_MEMSTATUS takes one int; SQLite returns
        // SQLITE_MISUSE without changing anything when it is already initialised.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::os::raw::c_int,
            )
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            log::debug!("SQLite kept its allocation statistics (sqlite3_config: {rc})");
        }
    });
}

fn pragmas(busy_timeout_ms: u32, durable: bool, cache_kib: u32) -> String {
    format!(
        "PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = {busy_timeout_ms};
         PRAGMA synchronous = {};
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{cache_kib};",
        if durable { "FULL" } else { "NORMAL" }
    )
}

impl Db {
    /// Creates the data directory, migrates the database, and opens both pools.
    pub fn open(config: &Config) -> Result<Db, String> {
        configure_sqlite();
        make_private_dir(&config.data_dir)?;
        let path = config.db_path();
        make_private_file(&path)?;
        migrate(&path)?;

        let init = pragmas(config.busy_timeout_ms, config.durable, READ_CACHE_KIB);
        let write_init = pragmas(config.busy_timeout_ms, config.durable, WRITE_CACHE_KIB);
        let write_manager = SqliteConnectionManager::file(&path).with_init(move |c| {
            // A write prepares a dozen statements, the journal's insert with its triggers among
            // them; the default cache of 16 would compile them again on most writes.
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            c.execute_batch(&write_init)
        });
        let timeout = Duration::from_millis(config.busy_timeout_ms as u64);
        let write = Pool::builder()
            .max_size(1)
            .connection_timeout(timeout)
            .build(write_manager)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;

        let read_manager = SqliteConnectionManager::file(&path)
            .with_flags(
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(move |c| {
                c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                c.execute_batch(&init)
            });
        let read = Pool::builder()
            .max_size(config.read_pool_size + 1)
            .min_idle(Some(1))
            .connection_timeout(timeout)
            .build(read_manager)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let answers = Arc::new(answers::Answers::default());
        let writer = writer::Writer::start(write.clone(), answers.clone())?;
        let readers = readers::Readers::start(&read, config.read_pool_size)?;
        let db = Db {
            read,
            readers,
            write,
            writer,
            answers,
        };
        db.write_blocking(|tx| service_types::sync_builtins(tx))
            .map_err(|e| format!("cannot load the service-type catalogue: {e}"))?;
        let stale_after = config.stale_after_hours;
        db.write_blocking(|tx| {
            // Reads mark stale what discovery no longer sees; the threshold lives with the data.
            tx.execute(
                "UPDATE settings SET value = ? WHERE key = 'stale_after_hours'",
                [stale_after.to_string()],
            )?;
            // A stop cannot finish a discovery; the next start says so instead of leaving it
            // running for ever.
            discoveries::fail_interrupted(tx, &crate::domain::clock::now()).map(drop)
        })
        .map_err(|e| format!("cannot prepare discovery: {e}"))?;
        Ok(db)
    }

    /// Runs `f` on a read connection, off the async workers, in one read transaction: a
    /// consistent snapshot across its statements, and one shared lock instead of one per
    /// statement.
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.readers.read(f).await
    }

    /// `read`, with its answer kept under `key` and served again until a write commits (see
    /// `answers`). Only for live reads whose result does not depend on the caller beyond what
    /// `key` says; a failed read is not kept.
    pub async fn read_cached<T, F>(&self, key: String, f: F) -> ApiResult<Arc<T>>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: answers::Weight + Send + Sync + 'static,
    {
        if let Some(hit) = self.answers.get::<T>(&key) {
            return Ok(hit);
        }
        let generation = self.answers.generation();
        let value = Arc::new(self.readers.read(f).await?);
        self.answers.put(key, generation, value.clone());
        Ok(value)
    }

    /// Runs `f` as one write: committed only if `f` succeeds, answered only once committed.
    /// Writes waiting at the same time share a transaction (`writer`); none of them occupies an
    /// async worker or a blocking thread meanwhile. `f` may run again (a copy of it) after its
    /// batch rolled back, so it acts on the transaction alone.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Transaction) -> ApiResult<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.writer.write(f).await
    }

    /// `write`, for a write that must run exactly once (its batch then runs each write in a
    /// savepoint of its own).
    pub async fn write_once<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Transaction) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer.write_once(f).await
    }

    /// The blocking form of `write`, for the command line.
    pub fn write_blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Transaction) -> ApiResult<T>,
    {
        let mut conn = self.write.get().map_err(pool_error)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        self.answers.changed();
        Ok(out)
    }

    /// The blocking form of `read`, for the command line and readiness checks.
    pub fn read_blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T>,
    {
        let conn = self.read.get().map_err(pool_error)?;
        f(&conn)
    }

    /// Background upkeep on a thread and connection of its own, until `stopping` is raised: copies
    /// committed WAL frames into the database file every `interval` (so that writers never wait
    /// for a checkpoint), and every ten minutes (first at start) forgets idempotent responses
    /// older than 24 h and, when `history_days` is not 0, history older than that.
    pub fn start_maintenance(
        &self,
        path: PathBuf,
        interval: Duration,
        busy_timeout_ms: u32,
        history_days: u32,
        stopping: Arc<AtomicBool>,
    ) -> Option<std::thread::JoinHandle<()>> {
        let spawned = std::thread::Builder::new()
            .name("db-maintenance".into())
            .spawn(move || {
                let conn = match Connection::open(&path) {
                    Ok(c) => c,
                    Err(e) => {
                        return log::error!("database maintenance cannot open the database: {e}")
                    }
                };
                if let Err(e) = conn.busy_timeout(Duration::from_millis(busy_timeout_ms as u64)) {
                    log::warn!("database maintenance: {e}");
                }
                let purge_every =
                    (Duration::from_secs(600).as_millis() / interval.as_millis().max(1)).max(1);
                let mut ticks: u128 = 0;
                while !stopping.load(Ordering::Relaxed) {
                    if ticks.is_multiple_of(purge_every) {
                        purge_idempotency(&conn);
                        purge_deliveries(&conn);
                        purge_accounts(&conn);
                        if history_days > 0 {
                            prune_history(&conn, history_days);
                        }
                    }
                    ticks += 1;
                    std::thread::sleep(interval);
                    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
                        log::warn!("WAL checkpoint failed: {e}");
                    }
                }
            });
        spawned
            .map_err(|e| log::error!("cannot start database maintenance: {e}"))
            .ok()
    }

    /// Folds the WAL back into the database file and empties it; used at shutdown, once nothing
    /// else writes. A checkpoint that a reader still holds back reports `busy` rather than an
    /// error, so it is retried for up to five seconds before giving up.
    pub fn checkpoint(&self) -> ApiResult<()> {
        let conn = self.write.get().map_err(pool_error)?;
        let give_up = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let busy: i64 =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE);", [], |row| row.get(0))?;
            if busy == 0 {
                return Ok(());
            }
            if std::time::Instant::now() >= give_up {
                return Err(ApiError::unavailable(
                    "the WAL could not be emptied: a reader held it for 5 s",
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Applies pending migrations on a connection of its own, before any pool exists. A database
/// that already holds data is first copied to `backups/pre-migration-<version>-<time>.db`.
pub fn migrate(path: &Path) -> Result<usize, String> {
    migrate_to(path, None)
}

/// `migrate`, stopping at schema version `target` when given (tests build older databases).
pub fn migrate_to(path: &Path, target: Option<i32>) -> Result<usize, String> {
    let mut conn =
        Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
        .map_err(|e| format!("cannot configure {}: {e}", path.display()))?;
    let mut runner = embedded::migrations::runner();
    if let Some(version) = target {
        runner = runner.set_target(refinery::Target::Version(version));
    }
    let latest = runner
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
        .map(|v| target.map_or(v, |t| v.min(t)))
        .unwrap_or(0);
    let has_history: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let applied = if has_history {
        runner
            .get_last_applied_migration(&mut conn)
            .map_err(|e| format!("cannot read the schema version: {e}"))?
    } else {
        None
    };
    if let Some(current) = applied.filter(|m| m.version() < latest) {
        let dir = path.parent().unwrap_or(Path::new(".")).join("backups");
        make_private_dir(&dir)?;
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .map_err(|e| e.to_string())?;
        let dest = dir.join(format!("pre-migration-{}-{stamp}.db", current.version()));
        backup(path, &dest)?;
        log::info!(
            "backed up the database before migrating to {}",
            dest.display()
        );
    }
    let report = runner
        .run(&mut conn)
        .map_err(|e| format!("migration failed: {e}"))?;
    let folded = history_fold::fold_existing(&mut conn)
        .map_err(|e| format!("folding the journal's images failed: {e}"))?;
    if folded > 0 {
        log::info!("folded {folded} journal images onto their versions");
    }
    Ok(report.applied_migrations().len())
}

/// A consistent copy of the database at `source` (SQLite's online backup, safe beside a running
/// server), checked with `PRAGMA integrity_check` before it is declared good.
pub fn backup(source: &Path, dest: &Path) -> Result<(), String> {
    let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("cannot open {}: {e}", source.display()))?;
    let mut out =
        Connection::open(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    // All pages in one step, under one read transaction: a consistent snapshot that a busy
    // writer cannot force to restart (WAL lets the writer go on meanwhile).
    let copied = rusqlite::backup::Backup::new(&conn, &mut out)
        .and_then(|b| b.step(-1))
        .map_err(|e| format!("backup to {} failed: {e}", dest.display()))?;
    if copied != rusqlite::backup::StepResult::Done {
        return Err(format!(
            "backup to {} did not complete ({copied:?})",
            dest.display()
        ));
    }
    // A backup is one self-contained file, without -wal and -shm companions.
    out.execute_batch("PRAGMA journal_mode = DELETE;")
        .map_err(|e| format!("cannot finish {}: {e}", dest.display()))?;
    drop(out);
    let copy = Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("cannot open the copy {}: {e}", dest.display()))?;
    let verdict: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("cannot check {}: {e}", dest.display()))?;
    if verdict != "ok" {
        return Err(format!(
            "the copy {} failed its integrity check: {verdict}",
            dest.display()
        ));
    }
    Ok(())
}

fn pool_error(e: r2d2::Error) -> ApiError {
    let mut err = ApiError::unavailable("The database is busy; retry shortly");
    err.cause = Some(e.to_string());
    err
}

/// Driver errors become API errors here, once. Rules check uniqueness and references before
/// writing, so a constraint failure reaching this point is reported without a field.
impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked => {
                    let mut err = ApiError::unavailable("The database is busy; retry shortly");
                    err.cause = Some(e.to_string());
                    err
                }
                SqliteCode::ConstraintViolation => {
                    let mut err = ApiError::conflict("The change conflicts with stored data");
                    err.cause = Some(e.to_string());
                    err
                }
                _ => ApiError::internal(e),
            },
            _ => ApiError::internal(e),
        }
    }
}

/// Maps "no row" to a 404 for `what`, leaving other errors to the general translation.
/// How many live objects of each kind there are, for `/metrics`.
pub fn entity_counts(conn: &Connection) -> ApiResult<Vec<(&'static str, i64)>> {
    const KINDS: [(&str, &str); 10] = [
        ("network", "networks"),
        ("subnet", "subnets"),
        ("host", "hosts"),
        ("ip_address", "ip_addresses"),
        ("port", "ports"),
        ("service", "services"),
        ("binding", "bindings"),
        ("dependency", "dependencies"),
        ("tag", "tags"),
        ("discovery", "discoveries"),
    ];
    let mut out = Vec::with_capacity(KINDS.len());
    for (kind, table) in KINDS {
        let n: i64 = conn
            .prepare_cached(&format!("SELECT count(*) FROM {table}"))?
            .query_row([], |r| r.get(0))?;
        out.push((kind, n));
    }
    Ok(out)
}

pub fn or_not_found<T>(r: rusqlite::Result<T>, what: &str) -> ApiResult<T> {
    match r {
        Ok(v) => Ok(v),
        Err(rusqlite::Error::QueryReturnedNoRows) => Err(ApiError::not_found(what)),
        Err(e) => Err(e.into()),
    }
}

/// `Some(row)` or `None` for a query expected to return at most one row.
pub fn optional<T>(r: rusqlite::Result<T>) -> ApiResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A nullable TEXT column holding JSON.
pub fn json_column(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<String> = r.get(i)?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

/// How long an idempotent response is replayed.
pub const IDEMPOTENCY_RETENTION: time::Duration = time::Duration::hours(24);

fn prune_history(conn: &Connection, days: u32) {
    let cutoff = crate::domain::clock::format(
        time::OffsetDateTime::now_utc() - time::Duration::days(days.into()),
    );
    match changes::prune_before(conn, &cutoff) {
        Ok(0) => {}
        Ok(n) => log::info!("pruned {n} journal entries and versions older than {days} days"),
        Err(e) => log::warn!("could not prune history: {e}"),
    }
}

/// How long finished webhook deliveries stay in their hook's log.
pub const DELIVERY_RETENTION: time::Duration = time::Duration::days(7);

fn purge_deliveries(conn: &Connection) {
    let cutoff = crate::domain::clock::format(time::OffsetDateTime::now_utc() - DELIVERY_RETENTION);
    match webhooks::purge_finished_before(conn, &cutoff) {
        Ok(0) => {}
        Ok(n) => log::info!("forgot {n} webhook deliveries finished more than 7 days ago"),
        Err(e) => log::warn!("could not purge webhook deliveries: {e}"),
    }
}

/// Sessions past their end (or unused for longer than any idle limit), the sign-in audit after
/// 90 days, and one-time codes a week after they were used or ran out.
fn purge_accounts(conn: &Connection) {
    let now = time::OffsetDateTime::now_utc();
    let at = |d: i64| crate::domain::clock::format(now - time::Duration::days(d));
    let stamp = crate::domain::clock::format(now);
    let purged = sessions::delete_expired(conn, &stamp, &at(365))
        .and_then(|s| Ok(s + sessions::delete_events_before(conn, &at(90))?))
        .and_then(|n| {
            Ok(n + conn.execute(
                "DELETE FROM one_time_codes WHERE coalesce(used_at, expires_at) < ?",
                [at(7)],
            )?)
        });
    match purged {
        Ok(0) => {}
        Ok(n) => log::info!("forgot {n} ended sessions, old sign-in events and used codes"),
        Err(e) => log::warn!("could not purge ended sessions: {e}"),
    }
}

fn purge_idempotency(conn: &Connection) {
    let cutoff =
        crate::domain::clock::format(time::OffsetDateTime::now_utc() - IDEMPOTENCY_RETENTION);
    match idempotency::purge_before(conn, &cutoff) {
        Ok(0) => {}
        Ok(n) => log::info!("forgot {n} idempotent responses older than 24 h"),
        Err(e) => log::warn!("could not purge idempotent responses: {e}"),
    }
}

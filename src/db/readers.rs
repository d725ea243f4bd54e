//! Read connections, each owned by a thread of its own. A read is queued once and taken by
//! whichever reader is free, instead of first waiting for a blocking thread and then, on that
//! thread, for a pooled connection (two hand-offs, and sleeping threads that a profile showed
//! waking only to find every connection taken).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

use crate::error::{ApiError, ApiResult};

type Job = Box<dyn FnOnce(&Connection) + Send>;

#[derive(Clone)]
pub struct Readers {
    jobs: mpsc::Sender<Job>,
}

impl Readers {
    /// Starts `count` reader threads, each holding one connection of `pool` for as long as it
    /// runs. The threads end when the last `Readers` is dropped.
    pub fn start(pool: &Pool<SqliteConnectionManager>, count: u32) -> Result<Readers, String> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..count {
            let conn = pool
                .get()
                .map_err(|e| format!("cannot open a read connection: {e}"))?;
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("db-reader-{n}"))
                .spawn(move || loop {
                    // The lock is held while waiting: one idle reader waits on the queue, the
                    // others on the lock, and each job wakes exactly one thread.
                    let next = queue.lock().map(|q| q.recv());
                    let Ok(Ok(job)) = next else { return };
                    if catch_unwind(AssertUnwindSafe(|| job(&conn))).is_err() {
                        log::error!("a read panicked; its request was answered with an error");
                    }
                    // Whatever ended the job, the next one starts outside any transaction.
                    if !conn.is_autocommit() {
                        if let Err(e) = conn.execute_batch("ROLLBACK") {
                            log::error!("a read connection cannot leave its transaction: {e}");
                            return;
                        }
                    }
                })
                .map_err(|e| format!("cannot start a database reader: {e}"))?;
        }
        Ok(Readers { jobs })
    }

    /// Runs `f` on a reader's connection inside one read transaction (a consistent snapshot
    /// across its statements) and answers with its result.
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<ApiResult<T>>();
        let job: Job = Box::new(move |conn| {
            let _ = answer.send(in_snapshot(conn, f));
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::unavailable("The database readers have stopped"))?;
        answered
            .await
            .map_err(|_| ApiError::internal("a database reader dropped a read"))?
    }
}

/// `f` between `BEGIN` and `COMMIT`, both prepared once per connection (a transaction object
/// would parse them on every read).
fn in_snapshot<T>(conn: &Connection, f: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let out = f(conn);
    let ended = conn
        .prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]));
    let out = out?;
    ended?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn pool(dir: &std::path::Path) -> Pool<SqliteConnectionManager> {
        let path = dir.join("readers.db");
        Connection::open(&path)
            .and_then(|c| c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x);"))
            .unwrap();
        Pool::builder()
            .max_size(2)
            .build(SqliteConnectionManager::file(path))
            .unwrap()
    }

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_failed_or_panicking_read_leaves_the_connection_ready_for_the_next() {
        let dir = std::env::temp_dir().join(format!("portolan-readers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let readers = Readers::start(&pool(&dir), 1).unwrap();
        block_on(async {
            let failed: ApiResult<()> = readers
                .read(|c| {
                    c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?;
                    Err(ApiError::not_found("Thing"))
                })
                .await;
            assert!(matches!(failed.unwrap_err().code, ErrorCode::NotFound));
            let panicked: ApiResult<()> = readers.read(|_| panic!("a bug")).await;
            assert!(matches!(panicked.unwrap_err().code, ErrorCode::Internal));
            let in_tx = readers.read(|c| Ok(c.is_autocommit())).await.unwrap();
            assert!(!in_tx, "each read runs in a transaction of its own");
            let count: i64 = readers
                .read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
                .await
                .unwrap();
            assert_eq!(count, 0);
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

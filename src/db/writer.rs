//! Group commit: one thread owns the write connection and runs the writes that are waiting
//! together in one `BEGIN IMMEDIATE` transaction.
//!
//! A commit costs a WAL frame for every page it dirtied, and concurrent writes dirty the same
//! hot pages (the journal's tail, index tails, a service's rows), so a batch writes them once.
//! Semantics are those of one transaction per write: writes run one after the other, each sees
//! the ones before it, a refused write leaves nothing behind, and no write is answered before
//! the batch that holds it has committed.
//!
//! A refused write must be undone alone. A savepoint around each write does that, but SQLite
//! then copies every page a write touches into the savepoint's journal first, and the hot pages
//! are touched by every write: about a sixth of a binding write's time. Most refusals come from
//! the rules, before anything is written, and need no undoing; so a batch whose writes can all
//! run again runs them bare. When one is refused after it changed rows (or panics), the whole
//! batch is rolled back and runs again, each write in a savepoint of its own, as a batch with a
//! write that cannot run again always does.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Transaction, TransactionBehavior};

use super::answers::Answers;
use crate::error::{ApiError, ApiResult};

/// The most writes one transaction takes: enough to share the hot pages, few enough that the
/// last write of a batch does not wait long for the first.
const MAX_BATCH: usize = 32;

/// One queued write: run inside the batch's transaction, then answered with the batch's outcome.
trait Job: Send {
    /// Runs the write; whether it succeeded. Its result is kept until `answer`; running it
    /// again replaces it.
    fn run(&mut self, tx: &Transaction) -> bool;
    /// Whether `run` can be called again, after the transaction of an earlier run rolled back.
    fn runs_again(&self) -> bool;
    /// Answers the caller once the batch has committed, or with the error that stopped it.
    fn answer(self: Box<Self>, committed: ApiResult<()>);
    /// When the caller queued it.
    fn queued(&self) -> Instant;
}

struct Pending<T, F> {
    queued: Instant,
    write: Option<F>,
    /// How to keep the write for another run (its `Clone`), when it has one.
    again: Option<fn(&F) -> F>,
    result: Option<ApiResult<T>>,
    answer: tokio::sync::oneshot::Sender<ApiResult<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    F: FnOnce(&Transaction) -> ApiResult<T> + Send,
    T: Send,
{
    fn run(&mut self, tx: &Transaction) -> bool {
        // What an earlier run answered went with its transaction.
        self.result = None;
        let write = match (self.again, self.write.as_ref()) {
            (Some(copy), Some(write)) => copy(write),
            _ => match self.write.take() {
                Some(write) => write,
                None => return false,
            },
        };
        let result = write(tx);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn runs_again(&self) -> bool {
        self.again.is_some() && self.write.is_some()
    }

    fn answer(self: Box<Self>, committed: ApiResult<()>) {
        let out = match (committed, self.result) {
            (Err(e), _) => Err(e),
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(ApiError::internal("the write did not run to its end")),
        };
        let _ = self.answer.send(out);
    }

    fn queued(&self) -> Instant {
        self.queued
    }
}

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread on `pool` (of one connection). The thread ends when the last
    /// `Writer` is dropped. Each commit empties `answers` before any write of it is answered.
    pub fn start(
        pool: Pool<SqliteConnectionManager>,
        answers: Arc<Answers>,
    ) -> Result<Writer, String> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run_batch(&pool, &answers, batch);
                }
            })
            .map_err(|e| format!("cannot start the database writer: {e}"))?;
        Ok(Writer { jobs })
    }

    /// Runs `f` as one write and answers once it is committed. `f` may run more than once (a
    /// copy each time, in a transaction that rolled back when not the last): it must not act
    /// outside the transaction.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Transaction) -> ApiResult<T> + Clone + Send + 'static,
        T: Send + 'static,
    {
        self.queue(f, Some(F::clone)).await
    }

    /// `write`, for a write that runs exactly once: its batch runs each write in a savepoint.
    pub async fn write_once<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Transaction) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.queue(f, None).await
    }

    async fn queue<T, F>(&self, f: F, again: Option<fn(&F) -> F>) -> ApiResult<T>
    where
        F: FnOnce(&Transaction) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<ApiResult<T>>();
        let job = Pending {
            queued: Instant::now(),
            write: Some(f),
            again,
            result: None,
            answer,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| ApiError::unavailable("The database writer has stopped"))?;
        answered
            .await
            .map_err(|_| ApiError::internal("the database writer dropped a write"))?
    }
}

fn run_batch(pool: &Pool<SqliteConnectionManager>, answers: &Answers, batch: Vec<Box<dyn Job>>) {
    let began = Instant::now();
    let waits: Vec<Duration> = batch
        .iter()
        .map(|j| began.duration_since(j.queued()))
        .collect();
    run_transaction(pool, answers, batch);
    let held = began.elapsed();
    let metrics = crate::metrics::get();
    for waited in waits {
        metrics.observe_write(waited, held);
    }
}

fn run_transaction(
    pool: &Pool<SqliteConnectionManager>,
    answers: &Answers,
    mut batch: Vec<Box<dyn Job>>,
) {
    let mut conn = match pool.get() {
        Ok(c) => c,
        Err(e) => return answer_all(batch, Err(super::pool_error(e))),
    };
    if batch.iter().all(|job| job.runs_again()) {
        match run_bare(&mut conn, &mut batch) {
            Bare::Ended(outcome) => {
                if outcome.is_ok() {
                    answers.changed();
                }
                return answer_all(batch, outcome);
            }
            Bare::Undone => {}
        }
    }
    run_in_savepoints(&mut conn, answers, batch)
}

enum Bare {
    /// Committed, or stopped by an error of the transaction itself (answered to every write).
    Ended(ApiResult<()>),
    /// A write was refused after it had changed rows: rolled back, nothing kept.
    Undone,
}

/// Runs every write of `batch` without a savepoint. A refused write that changed no row leaves
/// the transaction as it found it; one that did cannot be undone alone.
fn run_bare(conn: &mut rusqlite::Connection, batch: &mut [Box<dyn Job>]) -> Bare {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return Bare::Ended(Err(e.into())),
    };
    for job in batch.iter_mut() {
        let changes = tx.total_changes();
        match catch_unwind(AssertUnwindSafe(|| job.run(&tx))) {
            Ok(true) => {}
            // Refused by a rule before it wrote: nothing to undo. (An error SQLite answers by
            // rolling back the whole transaction leaves the connection in autocommit.)
            Ok(false) if tx.total_changes() == changes && !tx.is_autocommit() => {}
            // Refused after it wrote, or panicked part-way.
            _ => return Bare::Undone,
        }
    }
    Bare::Ended(tx.commit().map_err(ApiError::from))
}

/// Runs each write of `batch` in a savepoint of its own, so that a refused one is undone alone.
fn run_in_savepoints(conn: &mut rusqlite::Connection, answers: &Answers, batch: Vec<Box<dyn Job>>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return answer_all(batch, Err(e.into())),
    };
    let mut done: Vec<Box<dyn Job>> = Vec::with_capacity(batch.len());
    let mut queued = batch.into_iter();
    while let Some(mut job) = queued.next() {
        // Prepared once: `execute_batch` would parse the text again for every write.
        let savepoint = |sql: &str| tx.prepare_cached(sql).and_then(|mut s| s.execute([]));
        if let Err(e) = savepoint("SAVEPOINT write") {
            job.answer(Err(e.into()));
            continue;
        }
        // A panicking write is a failed write: its savepoint is rolled back, and it answers 500.
        let ok = catch_unwind(AssertUnwindSafe(|| job.run(&tx))).unwrap_or(false);
        let ended = if ok {
            savepoint("RELEASE write")
        } else {
            savepoint("ROLLBACK TO write").and_then(|_| savepoint("RELEASE write"))
        };
        done.push(job);
        if let Err(e) = ended {
            // Past a savepoint that would not close, the batch cannot be trusted: none commits.
            log::error!("database writer: {e}");
            let err = ApiError::internal(e);
            answer_all(done, Err(err.clone()));
            return answer_all(queued.collect(), Err(err));
        }
    }
    let committed = tx.commit().map_err(ApiError::from);
    if committed.is_ok() {
        answers.changed();
    }
    answer_all(done, committed);
}

fn answer_all(jobs: Vec<Box<dyn Job>>, outcome: ApiResult<()>) {
    for job in jobs {
        job.answer(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fixture {
        _dir: tempfile::TempDir,
        pool: Pool<SqliteConnectionManager>,
        writer: Writer,
        runtime: tokio::runtime::Runtime,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let manager = SqliteConnectionManager::file(dir.path().join("w.db"));
        let pool = Pool::builder().max_size(1).build(manager).unwrap();
        pool.get()
            .unwrap()
            .execute_batch("CREATE TABLE t (name TEXT PRIMARY KEY)")
            .unwrap();
        let writer = Writer::start(pool.clone(), Arc::new(Answers::default())).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        Fixture {
            _dir: dir,
            pool,
            writer,
            runtime,
        }
    }

    /// How a test write ends once it ran.
    #[derive(Clone, Copy)]
    enum End {
        Commit,
        RefuseBeforeWriting,
        RefuseAfterWriting,
        Panic,
    }

    /// A write of `name` that counts its runs.
    fn write_of(
        name: &'static str,
        end: End,
        runs: &Arc<AtomicUsize>,
    ) -> impl FnOnce(&Transaction) -> ApiResult<()> + Clone + Send + 'static {
        let runs = runs.clone();
        move |tx| {
            runs.fetch_add(1, Ordering::SeqCst);
            if let End::RefuseBeforeWriting = end {
                return Err(ApiError::validation("name", "refused by a rule"));
            }
            tx.execute("INSERT INTO t (name) VALUES (?)", [name])?;
            match end {
                End::RefuseAfterWriting => Err(ApiError::validation("name", "refused late")),
                End::Panic => panic!("a write that panics"),
                _ => Ok(()),
            }
        }
    }

    impl Fixture {
        /// Runs `writes` as one batch (queued while a first write holds the writer), and
        /// answers each one's outcome.
        fn batch(&self, writes: Vec<(&'static str, End, bool)>) -> Vec<(ApiResult<()>, usize)> {
            let (started, wait_start) = mpsc::channel::<()>();
            let (release, wait_release) = mpsc::channel::<()>();
            let counters: Vec<Arc<AtomicUsize>> = writes
                .iter()
                .map(|_| Arc::new(AtomicUsize::new(0)))
                .collect();
            let outcomes = self.runtime.block_on(async {
                let writer = self.writer.clone();
                let gate = tokio::spawn(async move {
                    writer
                        .write_once(move |_| {
                            started.send(()).unwrap();
                            wait_release.recv().unwrap();
                            Ok(())
                        })
                        .await
                });
                tokio::task::yield_now().await;
                wait_start.recv().unwrap();
                let mut handles = Vec::new();
                for ((name, end, once), runs) in writes.into_iter().zip(&counters) {
                    let writer = self.writer.clone();
                    let write = write_of(name, end, runs);
                    handles.push(tokio::spawn(async move {
                        if once {
                            writer.write_once(write).await
                        } else {
                            writer.write(write).await
                        }
                    }));
                    tokio::task::yield_now().await;
                }
                release.send(()).unwrap();
                gate.await.unwrap().unwrap();
                let mut outcomes = Vec::new();
                for h in handles {
                    outcomes.push(h.await.unwrap());
                }
                outcomes
            });
            outcomes
                .into_iter()
                .zip(counters)
                .map(|(o, runs)| (o, runs.load(Ordering::SeqCst)))
                .collect()
        }

        fn names(&self) -> Vec<String> {
            let conn = self.pool.get().unwrap();
            let mut stmt = conn.prepare("SELECT name FROM t ORDER BY name").unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        }
    }

    fn code(outcome: &ApiResult<()>) -> Option<ErrorCode> {
        outcome.as_ref().err().map(|e| e.code)
    }

    /// Runs a, b and c as one batch (a once only when `a_once`), b ending as `b`; checks that
    /// a and c committed alone, and answers b's error code and each write's runs.
    fn a_b_c(b: End, a_once: bool) -> (Option<ErrorCode>, Vec<usize>) {
        let f = fixture();
        let out = f.batch(vec![
            ("a", End::Commit, a_once),
            ("b", b, false),
            ("c", End::Commit, false),
        ]);
        assert!(out[0].0.is_ok() && out[2].0.is_ok());
        assert_eq!(f.names(), ["a", "c"]);
        (code(&out[1].0), out.iter().map(|o| o.1).collect())
    }

    #[test]
    fn a_write_refused_before_it_wrote_leaves_the_others_run_once() {
        let (code, runs) = a_b_c(End::RefuseBeforeWriting, false);
        assert_eq!(code, Some(ErrorCode::Validation));
        assert_eq!(runs, [1, 1, 1]);
    }

    #[test]
    fn a_write_refused_after_it_wrote_is_undone_alone_and_the_batch_runs_again() {
        let (code, runs) = a_b_c(End::RefuseAfterWriting, false);
        assert_eq!(code, Some(ErrorCode::Validation));
        // Bare: a, then b stops the batch; again in savepoints: a, b, c.
        assert_eq!(runs, [2, 2, 1]);
    }

    #[test]
    fn a_panicking_write_answers_500_and_the_others_commit() {
        let (code, _) = a_b_c(End::Panic, false);
        assert_eq!(code, Some(ErrorCode::Internal));
    }

    #[test]
    fn a_batch_with_a_write_that_runs_once_runs_each_in_a_savepoint() {
        let (code, runs) = a_b_c(End::RefuseAfterWriting, true);
        assert_eq!(code, Some(ErrorCode::Validation));
        assert_eq!(runs, [1, 1, 1]);
    }

    #[test]
    fn a_refused_write_that_is_alone_leaves_nothing() {
        let f = fixture();
        let out = f.batch(vec![("b", End::RefuseAfterWriting, false)]);
        assert_eq!(code(&out[0].0), Some(ErrorCode::Validation));
        assert!(f.names().is_empty());
    }
}

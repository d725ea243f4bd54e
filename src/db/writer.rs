//! Group commit: one thread owns the write connection and runs the writes that are waiting
//! together in one `BEGIN IMMEDIATE` transaction, each in a savepoint of its own.
//!
//! A commit costs a WAL frame for every page it dirtied, and concurrent writes dirty the same
//! hot pages (the journal's tail, index tails, a service's rows), so a batch writes them once.
//! Semantics are those of one transaction per write: writes run one after the other, each sees
//! the ones before it, a refused write rolls back to its savepoint alone, and no write is
//! answered before the batch that holds it has committed.

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
    /// Runs the write; whether it succeeded (a failed write is rolled back to its savepoint).
    fn run(&mut self, tx: &Transaction) -> bool;
    /// Answers the caller once the batch has committed, or with the error that stopped it.
    fn answer(self: Box<Self>, committed: ApiResult<()>);
    /// When the caller queued it.
    fn queued(&self) -> Instant;
}

struct Pending<T, F> {
    queued: Instant,
    write: Option<F>,
    result: Option<ApiResult<T>>,
    answer: tokio::sync::oneshot::Sender<ApiResult<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    F: FnOnce(&Transaction) -> ApiResult<T> + Send,
    T: Send,
{
    fn run(&mut self, tx: &Transaction) -> bool {
        let Some(write) = self.write.take() else {
            return false;
        };
        let result = write(tx);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
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

    /// Runs `f` as one write and answers once it is committed.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Transaction) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<ApiResult<T>>();
        let job = Pending {
            queued: Instant::now(),
            write: Some(f),
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
    batch: Vec<Box<dyn Job>>,
) {
    let mut conn = match pool.get() {
        Ok(c) => c,
        Err(e) => return answer_all(batch, Err(super::pool_error(e))),
    };
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

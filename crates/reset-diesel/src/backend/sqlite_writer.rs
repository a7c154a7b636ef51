//! SQLite's one connection, owned by one thread that runs store calls in batches: whatever
//! queued while the previous batch ran goes into one `BEGIN IMMEDIATE … COMMIT`, each call in a
//! savepoint of its own (so one call's failure rolls back only that call). This is group commit:
//! under load, many short transactions share one commit and no call pays a thread hop or a
//! pool checkout. A call's result is released only after its batch committed; if the commit
//! fails, every call of the batch gets the error. SQLite has one writer at a time anyway, so
//! one thread loses no parallelism.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use diesel::connection::SimpleConnection as _;
use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};
use diesel::{Connection as _, ConnectionError, SqliteConnection};
use tokio::sync::oneshot;

/// Calls per batch at most, so one batch's latency stays bounded.
const MAX_BATCH: usize = 64;

/// Hands a batched call its result once the batch's fate is known (`Some` = the commit failed).
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

/// A call of a batch: runs in its savepoint and returns how to deliver its result.
type Call = Box<dyn FnOnce(&mut SqliteConnection) -> Deliver + Send>;

enum Job {
    /// Runs inside the batch's transaction, in its own savepoint.
    Batched(Call),
    /// Runs alone, outside any transaction (migrations).
    Alone(Box<dyn FnOnce(&mut SqliteConnection) + Send>),
}

/// The handle the store holds; cheap to share.
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sqlite::Writer")
    }
}

fn gone() -> DieselError {
    DieselError::DatabaseError(
        DatabaseErrorKind::ClosedConnection,
        Box::new("the SQLite writer thread stopped".to_owned()),
    )
}

impl Writer {
    /// Opens `path` (WAL, `synchronous = NORMAL`, a busy timeout, foreign keys) and starts the
    /// thread that owns it.
    pub fn open(path: &str) -> Result<Self, ConnectionError> {
        let mut conn = SqliteConnection::establish(path)?;
        conn.batch_execute(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
        )
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("reset-sqlite".into())
            .spawn(move || serve(conn, &queue))
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
        Ok(Self { jobs })
    }

    /// Runs `f` in the next batch and returns its result once that batch committed.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut SqliteConnection) -> QueryResult<T> + Send + 'static,
    ) -> QueryResult<T> {
        let (tx, rx) = oneshot::channel::<QueryResult<T>>();
        let job = Job::Batched(Box::new(move |conn| {
            let result = conn.transaction(f);
            Box::new(move |commit_error: Option<&str>| {
                let result = match commit_error {
                    Some(e) => Err(DieselError::DatabaseError(
                        DatabaseErrorKind::Unknown,
                        Box::new(format!("the batch did not commit: {e}")),
                    )),
                    None => result,
                };
                let _ = tx.send(result);
            })
        }));
        self.jobs.send(job).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Runs `f` alone, outside any batch or transaction of ours (it may open its own).
    pub async fn alone<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut SqliteConnection) -> T + Send + 'static,
    ) -> QueryResult<T> {
        let (tx, rx) = oneshot::channel::<T>();
        let job = Job::Alone(Box::new(move |conn| {
            let _ = tx.send(f(conn));
        }));
        self.jobs.send(job).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())
    }
}

/// The thread: take what is queued, run it as one batch, deliver, repeat until every handle
/// is dropped.
fn serve(mut conn: SqliteConnection, queue: &mpsc::Receiver<Job>) {
    let mut next = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let mut batch = match first {
            Job::Alone(f) => {
                if std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut conn))).is_err() {
                    tracing::error!("a SQLite job panicked");
                }
                continue;
            }
            Job::Batched(f) => vec![f],
        };
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Job::Batched(f)) => batch.push(f),
                Ok(alone) => {
                    next = Some(alone);
                    break;
                }
                Err(_) => break,
            }
        }
        run_batch(&mut conn, batch);
    }
}

fn run_batch(conn: &mut SqliteConnection, batch: Vec<Call>) {
    let mut delivers: Vec<Deliver> = Vec::with_capacity(batch.len());
    let outcome = conn.immediate_transaction(|conn| {
        for job in batch {
            match std::panic::catch_unwind(AssertUnwindSafe(|| job(conn))) {
                Ok(deliver) => delivers.push(deliver),
                Err(_) => {
                    // Its sender is gone with it, so its caller sees the writer as stopped;
                    // the savepoint state is unknown, so the whole batch rolls back.
                    tracing::error!("a SQLite job panicked; its batch rolls back");
                    return Err(DieselError::RollbackTransaction);
                }
            }
        }
        Ok::<(), DieselError>(())
    });
    let failure = outcome.err().map(|e| e.to_string());
    if let Some(e) = &failure {
        tracing::error!(error = %e, calls = delivers.len(), "a SQLite batch did not commit");
    }
    for deliver in delivers {
        deliver(failure.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::RunQueryDsl as _;
    use diesel::sql_types::BigInt;

    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    async fn count(w: &Writer) -> i64 {
        w.run(|c| {
            diesel::sql_query("SELECT count(*) AS n FROM t")
                .get_result::<N>(c)
                .map(|r| r.n)
        })
        .await
        .expect("count")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_call_rolls_back_alone_and_the_rest_commit() {
        let dir = tempfile::tempdir().expect("dir");
        let w = std::sync::Arc::new(
            Writer::open(dir.path().join("t.db").to_str().expect("path")).expect("open"),
        );
        w.alone(|c| c.batch_execute("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
            .await
            .expect("gone")
            .expect("create");
        let calls = (0..200).map(|i| {
            let w = w.clone();
            tokio::spawn(async move {
                w.run(move |c| {
                    diesel::sql_query(format!("INSERT INTO t (x) VALUES ({i})")).execute(c)?;
                    if i % 10 == 0 {
                        // Fails after its own insert: that insert must not survive.
                        diesel::sql_query(format!("INSERT INTO t (x) VALUES ({i})")).execute(c)?;
                    }
                    Ok(i)
                })
                .await
            })
        });
        let results = futures_util::future::join_all(calls).await;
        let failed = results
            .iter()
            .filter(|r| r.as_ref().expect("task").is_err())
            .count();
        assert_eq!(failed, 20);
        assert_eq!(count(&w).await, 180);
    }
}

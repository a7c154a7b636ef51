//! SQLite's one connection, owned by one thread that runs store calls in batches: whatever
//! queued while the previous batch ran goes into one `BEGIN IMMEDIATE … COMMIT`, each call in a
//! savepoint of its own (so one call's failure rolls back only that call). This is group commit:
//! under load, many short transactions share one commit and no call pays a thread hop or a
//! pool checkout. A call's result is released only after its batch committed; if the batch
//! fails (the commit, a panic, SQLite ending the transaction by itself), every call of it gets
//! the error, and the connection is replaced when its state is in doubt. SQLite has one writer at a time anyway, so
//! one thread loses no parallelism.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use std::num::NonZeroU32;

use diesel::connection::{AnsiTransactionManager, SimpleConnection as _, TransactionManager as _};
use diesel::result::{DatabaseErrorKind, Error as DieselError, QueryResult};
use diesel::{Connection as _, ConnectionError, SqliteConnection};
use tokio::sync::oneshot;

/// Calls per batch at most, so one batch's latency stays bounded.
const MAX_BATCH: usize = 64;

/// Hands a batched call its result once the batch's fate is known (`Some` = it failed, why).
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

/// A call of a batch: given the connection, runs in its savepoint; given `None`, it was not
/// run. Either way it returns how to deliver its result.
type Call = Box<dyn FnOnce(Option<&mut SqliteConnection>) -> Deliver + Send>;

enum Job {
    /// Runs inside the batch's transaction, in its own savepoint; the span is the caller's,
    /// told the batch's size (see [`record_batch_size`]).
    Batched(Call, tracing::Span),
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

fn failed(why: String) -> DieselError {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(why))
}

/// Opens `path` with a busy timeout, WAL, `synchronous = NORMAL` and foreign keys. The WAL is
/// checkpointed by a thread of its own (see [`checkpoints`]); the writer checkpoints only as a
/// safety net, past `SAFETY_NET_PAGES`. The busy timeout comes first: switching to WAL takes a
/// lock, and another process on the file (a CLI command finishing, its checkpoint thread) may
/// hold one for a moment, which without the timeout failed the open at once ("database is
/// locked").
fn open_connection(path: &str) -> Result<SqliteConnection, ConnectionError> {
    let mut conn = SqliteConnection::establish(path)?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = {SAFETY_NET_PAGES};"
    ))
    .map_err(ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
}

/// WAL pages after which a commit of the writer checkpoints by itself (~80 MB), should the
/// checkpoint thread fall behind or fail to open. SQLite's default, 1,000 pages, put a
/// checkpoint inside a commit every second or so under load: every call queued behind that
/// batch waited for it (request-reset for unknown identifiers, p99 28–29 ms with it, 10–17 ms
/// without it; docs/benchmarks.md).
const SAFETY_NET_PAGES: u32 = 20_000;

/// How often the checkpoint thread copies the WAL back into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The checkpoint thread: on a connection of its own, `PRAGMA wal_checkpoint(PASSIVE)` every
/// [`CHECKPOINT_EVERY`], which copies committed pages back while the writer goes on writing
/// (never waiting for it, nor making it wait). Ends when the writer thread does.
fn checkpoints(path: String, writer_alive: std::sync::Weak<()>) {
    let Ok(mut conn) = SqliteConnection::establish(&path) else {
        tracing::warn!("SQLite: no checkpoint connection; the writer checkpoints by itself");
        return;
    };
    // A checkpoint that finds the file busy waits a little instead of failing.
    let _ = conn.batch_execute("PRAGMA busy_timeout = 1000;");
    while writer_alive.upgrade().is_some() {
        std::thread::sleep(CHECKPOINT_EVERY);
        if let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::debug!(error = %e, "SQLite: a checkpoint failed; the next one tries again");
        }
    }
}

impl Writer {
    /// Opens `path` and starts the thread that owns the connection.
    pub fn open(path: &str) -> Result<Self, ConnectionError> {
        let conn = open_connection(path)?;
        let (jobs, queue) = mpsc::channel();
        let alive = std::sync::Arc::new(());
        if path != ":memory:" {
            let (path, alive) = (path.to_owned(), std::sync::Arc::downgrade(&alive));
            std::thread::Builder::new()
                .name("reset-sqlite-checkpoint".into())
                .spawn(move || checkpoints(path, alive))
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
        }
        let path = path.to_owned();
        std::thread::Builder::new()
            .name("reset-sqlite".into())
            .spawn(move || {
                serve(&path, conn, &queue);
                drop(alive);
            })
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
        Ok(Self { jobs })
    }

    /// Runs `f` in the next batch and returns its result once that batch committed.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut SqliteConnection) -> QueryResult<T> + Send + 'static,
    ) -> QueryResult<T> {
        let (tx, rx) = oneshot::channel::<QueryResult<T>>();
        let job = Job::Batched(
            Box::new(move |conn: Option<&mut SqliteConnection>| {
                let result = conn.map(|conn| conn.transaction(f));
                Box::new(move |failure: Option<&str>| {
                    let result = match (failure, result) {
                        (Some(why), _) => Err(failed(format!("the batch did not commit: {why}"))),
                        (None, Some(result)) => result,
                        (None, None) => Err(failed("the call was not run".to_owned())),
                    };
                    let _ = tx.send(result);
                })
            }),
            tracing::Span::current(),
        );
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
/// is dropped. A batch that leaves the connection in doubt (a panic, a transaction SQLite
/// ended by itself) gets a fresh connection: closing one rolls back whatever it had open.
fn serve(path: &str, mut conn: SqliteConnection, queue: &mpsc::Receiver<Job>) {
    let mut next = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let healthy = match first {
            Job::Alone(f) => {
                let ran = std::panic::catch_unwind(AssertUnwindSafe(|| f(&mut conn))).is_ok();
                ran && depth(&mut conn) == Some(0)
            }
            Job::Batched(f, span) => {
                let (mut batch, mut spans) = (vec![f], vec![span]);
                while batch.len() < MAX_BATCH {
                    match queue.try_recv() {
                        Ok(Job::Batched(f, span)) => {
                            batch.push(f);
                            spans.push(span);
                        }
                        Ok(alone) => {
                            next = Some(alone);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                crate::backend::record_batch_size(&spans);
                run_batch(&mut conn, batch)
            }
        };
        if !healthy {
            tracing::error!("the SQLite connection was left in doubt; opening a fresh one");
            match reopen(path) {
                Some(fresh) => conn = fresh,
                None => return,
            }
        }
    }
}

/// A fresh connection, tried a few times; `None` stops the writer (every call then fails
/// with "the SQLite writer thread stopped").
fn reopen(path: &str) -> Option<SqliteConnection> {
    for attempt in 1..=5 {
        match open_connection(path) {
            Ok(conn) => return Some(conn),
            Err(e) => {
                tracing::error!(error = %e, attempt, "cannot reopen the SQLite database");
                std::thread::sleep(std::time::Duration::from_millis(200 * attempt));
            }
        }
    }
    None
}

/// Transactions open on the connection, as diesel counts them (`None`: unknown, broken).
fn depth(conn: &mut SqliteConnection) -> Option<u32> {
    AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .ok()
        .map(|d| d.map_or(0, NonZeroU32::get))
}

/// One batch; `false` when the connection must be replaced.
fn run_batch(conn: &mut SqliteConnection, batch: Vec<Call>) -> bool {
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(&mut *conn, "BEGIN IMMEDIATE") {
        let why = format!("cannot begin: {e}");
        for call in batch {
            call(None)(Some(&why));
        }
        return depth(conn) == Some(0);
    }
    let mut calls = batch.into_iter();
    let mut delivers: Vec<Deliver> = Vec::new();
    let mut broken = None;
    for call in calls.by_ref() {
        match std::panic::catch_unwind(AssertUnwindSafe(|| call(Some(&mut *conn)))) {
            // The panicking call's sender went with it: its caller sees the writer as stopped.
            Err(_) => broken = Some("a call of the batch panicked"),
            Ok(deliver) => delivers.push(deliver),
        }
        // Some errors (a full disk, an I/O error) make SQLite end the whole transaction; later
        // calls would then commit on their own, outside the batch. Stop here instead.
        if broken.is_none() && depth(conn) != Some(1) {
            broken = Some("the batch's transaction ended early");
        }
        if broken.is_some() {
            break;
        }
    }
    let failure = match broken {
        Some(why) => Some(why.to_owned()),
        None => AnsiTransactionManager::commit_transaction(&mut *conn)
            .err()
            .map(|e| e.to_string()),
    };
    if let Some(why) = &failure {
        tracing::error!(error = %why, calls = delivers.len(), "a SQLite batch did not commit");
        // Unwind every level left open (a panicking call leaves its savepoints behind).
        for _ in 0..8 {
            if depth(conn) == Some(0)
                || AnsiTransactionManager::rollback_transaction(&mut *conn).is_err()
            {
                break;
            }
        }
    }
    for deliver in delivers {
        deliver(failure.as_deref());
    }
    for call in calls {
        call(None)(failure.as_deref());
    }
    broken.is_none() && depth(conn) == Some(0)
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_call_fails_alone_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().expect("dir");
        let w = Writer::open(dir.path().join("t.db").to_str().expect("path")).expect("open");
        w.alone(|c| c.batch_execute("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
            .await
            .expect("gone")
            .expect("create");
        #[allow(clippy::panic)]
        let boom = w
            .run(|c| -> QueryResult<()> {
                diesel::sql_query("INSERT INTO t (x) VALUES (1)").execute(c)?;
                panic!("a bug in a query")
            })
            .await;
        assert!(boom.is_err());
        w.run(|c| diesel::sql_query("INSERT INTO t (x) VALUES (2)").execute(c))
            .await
            .expect("the writer still works");
        assert_eq!(
            count(&w).await,
            1,
            "the panicking call's insert was rolled back"
        );
    }
}

//! Group commit on PostgreSQL and MySQL: calls of one kind (rate-limit hits, account lookups,
//! issue transactions; on PostgreSQL also secret lookups and "sent" marks) that queue while
//! earlier ones run are sent together, writes in one transaction, as SQLite's writer thread
//! does with its queue. Under load a request no longer pays its own
//! round trip, commit and row locks: 32 requests from one client IP bump that IP's counter once.
//! Idle, a call goes out at once, alone.
//!
//! A batch that fails for a reason of its own (not an unreachable database) is run again one
//! call at a time, so one bad call cannot fail the calls that happened to share its batch.

use std::future::Future;
use std::sync::Arc;

use reset_core::error::StoreError;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// How a queue runs its batches: how many at once, each on its own pooled connection, and how
/// many calls each takes at most.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Batches running at once.
    pub in_flight: usize,
    /// Calls in one batch at most.
    pub max_batch: usize,
}

/// PostgreSQL's queues: while one batch runs, the next fills. More would only split the queue
/// into smaller batches that wait on the same rows (the shared IP counter) and cost more calls:
/// with 4, the database took more CPU for the same rate (`reset-load --only request`,
/// docs/benchmarks.md). MySQL runs one at a time (`mysql_batches.rs`): its statements cost more
/// than its waits, so fewer, larger batches win.
#[cfg(feature = "postgres")]
pub const PG: Shape = Shape {
    in_flight: 2,
    max_batch: 64,
};

/// PostgreSQL's hit batches: one at a time, because each plans on the counters the one before
/// it wrote (`backend/swap.rs`); a second at once would plan on the same values and find them
/// moved.
#[cfg(feature = "postgres")]
pub const PG_HITS: Shape = Shape { in_flight: 1, ..PG };

type Reply<R> = oneshot::Sender<Result<R, StoreError>>;

/// A queued call: the job, where its answer goes, and the caller's span (told the batch's size,
/// see [`record_batch_size`](crate::backend::record_batch_size)).
type Queued<J, R> = (J, Reply<R>, tracing::Span);

/// A queue of calls of one kind, run in batches by `run`.
pub struct Batcher<J, R> {
    queue: mpsc::UnboundedSender<Queued<J, R>>,
}

impl<J, R> Batcher<J, R>
where
    J: Clone + Send + 'static,
    R: Send + 'static,
{
    /// Starts the task that runs the batches; it ends when the batcher is dropped.
    /// `run` gets the jobs in arrival order and answers each, in the same order.
    pub fn start<P, F, Fut>(pool: P, shape: Shape, run: F) -> Self
    where
        P: Clone + Send + Sync + 'static,
        F: Fn(P, Vec<J>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<R>, StoreError>> + Send + 'static,
    {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(dispatch(pool, shape, Arc::new(run), jobs));
        Self { queue }
    }

    /// Queues `job` and waits for its answer.
    pub async fn call(&self, job: J) -> Result<R, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((job, reply, tracing::Span::current()))
            .map_err(|_| StoreError::Unavailable("the store is shutting down".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the batch was dropped".into()))?
    }
}

async fn dispatch<P, J, R, F, Fut>(
    pool: P,
    shape: Shape,
    run: Arc<F>,
    mut queue: mpsc::UnboundedReceiver<Queued<J, R>>,
) where
    J: Clone + Send + 'static,
    P: Clone + Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(P, Vec<J>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<R>, StoreError>> + Send + 'static,
{
    let in_flight = Arc::new(Semaphore::new(shape.in_flight.max(1)));
    while let Some(first) = queue.recv().await {
        // Waiting for a free slot first lets the queue fill meanwhile.
        let Ok(slot) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < shape.max_batch {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let spans: Vec<tracing::Span> = batch.iter().map(|(_, _, span)| span.clone()).collect();
        crate::backend::record_batch_size(&spans);
        let batch = batch
            .into_iter()
            .map(|(job, reply, _)| (job, reply))
            .collect();
        let (pool, run) = (pool.clone(), run.clone());
        tokio::spawn(async move {
            answer(&pool, run.as_ref(), batch).await;
            drop(slot);
        });
    }
}

/// Runs one batch and answers its callers; on a failure of the batch's own, each call alone.
async fn answer<P, J, R, F, Fut>(pool: &P, run: &F, batch: Vec<(J, Reply<R>)>)
where
    P: Clone + Send + Sync + 'static,
    J: Clone,
    F: Fn(P, Vec<J>) -> Fut,
    Fut: Future<Output = Result<Vec<R>, StoreError>>,
{
    let jobs: Vec<J> = batch.iter().map(|(j, _)| j.clone()).collect();
    match run(pool.clone(), jobs).await {
        Ok(results) if results.len() == batch.len() => {
            for ((_, reply), result) in batch.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Ok(_) => {
            for (_, reply) in batch {
                let _ = reply.send(Err(StoreError::Query(
                    "a batch answered a different number of calls".into(),
                )));
            }
        }
        Err(e) if batch.len() > 1 && !matches!(e, StoreError::Unavailable(_)) => {
            tracing::debug!(error = %e, calls = batch.len(), "batch failed; running its calls one at a time");
            for (job, reply) in batch {
                let alone = run(pool.clone(), vec![job]).await;
                let _ = reply.send(alone.and_then(|mut r| {
                    r.pop()
                        .ok_or_else(|| StoreError::Query("a call got no answer".into()))
                }));
            }
        }
        Err(e) => {
            for (_, reply) in batch {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

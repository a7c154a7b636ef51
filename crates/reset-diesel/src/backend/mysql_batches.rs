//! Group commit on MySQL/MariaDB, as on PostgreSQL: the request path's rate-limit hits, account
//! lookups (`mysql_find.rs`), secret lookups and issue transactions queue with other requests'
//! and run in batches (`backend/batch.rs`), one transaction per batch of writes (a hit batch is
//! usually one autocommit statement, `backend/swap.rs`), with set-based statements. A MySQL
//! statement costs the server far more than the work it does, and each commit waits for the log:
//! a batch of 32 requests pays for a handful of statements and one commit where each request
//! paid for ~30 and two.

use diesel_async::AsyncConnection as _;
use diesel_async::pooled_connection::deadpool::Pool;
use reset_core::counters::HitAsk;
use reset_core::error::StoreError;
use reset_core::identity::AccountLookup;
use reset_core::rate_limit::CounterState;
use reset_core::store::{IssueOutcome, IssueRequest, SecretRecord, User};

use super::batch::{Batcher, Shape};
use super::mysql::{Conn, hit_all, issue_all, secrets_by_hash};
use super::mysql_find::find_all;
use super::swap::{Remembered, hit_batch};
use crate::errors::{query, unavailable};

/// One batch of each kind at a time: a MySQL batch's cost is its statements, not its waits, so
/// fewer, larger batches serve more requests (2 in flight: ~25 % fewer on `reset-load --only
/// request`, 2026-12-07). Hits need it too: each batch plans on the counters the one before it
/// wrote.
const ONE: Shape = Shape {
    in_flight: 1,
    max_batch: 64,
};

/// Issue batches take up to 128: a batch's round trips and its commit cost the same whatever
/// its size, and under load the queue is that deep (`reset-load --only request`, 2026-12-07,
/// when a batch ran ~15 statements: +11…+29 % against 64, the answers' p99 mostly in the 40s,
/// where 64's were in the 30s; 256 put it over 50 ms, and so did 192 without gaining; two in
/// flight lost 22…48 % on all but the hot account, waiting on each other's locks). Since
/// 2026-12-08 a batch is five round trips (`BEGIN`, the lock, one read, one script of writes,
/// `COMMIT`); two in flight were tried again and were bimodal, not better. docs/benchmarks.md
/// has the runs.
const ISSUES: Shape = Shape {
    max_batch: 128,
    ..ONE
};

/// The batched calls: rate-limit hits, account lookups, secret lookups and issue transactions.
pub struct Batches {
    hits: Batcher<HitAsk, Vec<CounterState>>,
    finds: Batcher<AccountLookup, Option<User>>,
    secrets: Batcher<String, Option<SecretRecord>>,
    issues: Batcher<IssueRequest, (IssueOutcome, bool)>,
}

impl Batches {
    /// Starts the four queues' tasks on the current runtime; each ends when `Batches` is dropped.
    pub fn start(pool: &Pool<Conn>) -> Self {
        let remembered = std::sync::Arc::new(Remembered::default());
        Self {
            // Without locks first (`backend/swap.rs`).
            hits: Batcher::start(pool.clone(), ONE, move |pool, jobs| {
                let remembered = remembered.clone();
                async move {
                    let mut conn = pool.get().await.map_err(unavailable)?;
                    hit_batch(&mut *conn, &remembered, &jobs, async |c| {
                        c.transaction(async |c| hit_all(c, &jobs).await).await
                    })
                    .await
                    .map_err(query)
                }
            }),
            // Reads only: no transaction (each statement reads committed rows).
            finds: Batcher::start(pool.clone(), ONE, |pool, jobs| async move {
                let mut conn = pool.get().await.map_err(unavailable)?;
                find_all(&mut conn, &jobs).await.map_err(query)
            }),
            secrets: Batcher::start(pool.clone(), ONE, |pool, jobs| async move {
                let mut conn = pool.get().await.map_err(unavailable)?;
                secrets_by_hash(&mut conn, &jobs).await.map_err(query)
            }),
            issues: Batcher::start(pool.clone(), ISSUES, |pool, jobs| async move {
                let mut conn = pool.get().await.map_err(unavailable)?;
                issue_all(&mut conn, jobs).await.map_err(query)
            }),
        }
    }

    /// See [`reset_core::store::ResetState::hit`].
    pub async fn hit(
        &self,
        now: i64,
        hits: Vec<reset_core::rate_limit::CounterHit>,
        then_restart: Vec<reset_core::rate_limit::CounterHit>,
    ) -> Result<Vec<CounterState>, StoreError> {
        let job = HitAsk {
            now,
            hits,
            then_restart,
        };
        self.hits.call(job).await
    }

    /// See [`reset_core::directory::UserDirectory::find`].
    pub async fn find(&self, lookup: AccountLookup) -> Result<Option<User>, StoreError> {
        self.finds.call(lookup).await
    }

    /// See [`reset_core::store::ResetState::secret_by_hash`].
    pub async fn secret_by_hash(&self, hash: String) -> Result<Option<SecretRecord>, StoreError> {
        self.secrets.call(hash).await
    }

    /// See [`reset_core::store::ResetState::issue`]: what the request did, and whether it
    /// queued anything for the outbox worker.
    pub async fn issue(&self, request: IssueRequest) -> Result<(IssueOutcome, bool), StoreError> {
        self.issues.call(request).await
    }
}

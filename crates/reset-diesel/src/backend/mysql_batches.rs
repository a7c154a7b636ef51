//! Group commit on MySQL/MariaDB, as on PostgreSQL: the request path's rate-limit hits, account
//! lookups (`mysql_find.rs`) and issue transactions queue with other requests' and run in
//! batches (`backend/batch.rs`), one transaction per batch of writes, with set-based statements. A MySQL statement costs the server far
//! more than the work it does, and each commit waits for the log: a batch of 32 requests pays
//! for a handful of statements and one commit where each request paid for ~30 and two.

use std::collections::BTreeMap;

use diesel::result::QueryResult;
use diesel_async::AsyncConnection as _;
use diesel_async::pooled_connection::deadpool::Pool;
use reset_core::error::StoreError;
use reset_core::identity::AccountLookup;
use reset_core::rate_limit::CounterState;
use reset_core::store::{IssueOutcome, IssueRequest, User};

use super::batch::Batcher;

/// One batch of each kind at a time: a MySQL batch's cost is its statements, not its waits, so
/// fewer, larger batches serve more requests (2 in flight: ~25 % fewer on `reset-load --only
/// request`, 2026-12-07).
const IN_FLIGHT: usize = 1;
use super::mysql::{Conn, issue_all};
use super::mysql_counters::{add_all, restarted, write_counters};
use super::mysql_find::find_all;
use crate::errors::{query, unavailable};
use crate::queries::limits::{HitJob, state, window_ms};

/// The batched calls: rate-limit hits, account lookups and issue transactions.
pub struct Batches {
    hits: Batcher<HitJob, Vec<CounterState>>,
    finds: Batcher<AccountLookup, Option<User>>,
    issues: Batcher<IssueRequest, (IssueOutcome, bool)>,
}

impl Batches {
    /// Starts the three queues' tasks on the current runtime; each ends when `Batches` is dropped.
    pub fn start(pool: &Pool<Conn>) -> Self {
        Self {
            hits: Batcher::start(pool.clone(), IN_FLIGHT, |pool, jobs| async move {
                let mut conn = pool.get().await.map_err(unavailable)?;
                conn.transaction(async |c| hit_all(c, &jobs).await)
                    .await
                    .map_err(query)
            }),
            // Reads only: no transaction (each statement reads committed rows).
            finds: Batcher::start(pool.clone(), IN_FLIGHT, |pool, jobs| async move {
                let mut conn = pool.get().await.map_err(unavailable)?;
                find_all(&mut conn, &jobs).await.map_err(query)
            }),
            issues: Batcher::start(pool.clone(), IN_FLIGHT, |pool, jobs| async move {
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
        let job = HitJob {
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

    /// See [`reset_core::store::ResetState::issue`]: what the request did, and whether it
    /// queued anything for the outbox worker.
    pub async fn issue(&self, request: IssueRequest) -> Result<(IssueOutcome, bool), StoreError> {
        self.issues.call(request).await
    }
}

/// The rate-limit transactions of several requests, inside the caller's transaction, as
/// PostgreSQL's `reset_hit` runs them: each counter is written once, in key order (two batches
/// never wait on each other in a cycle), its n hits added at the latest of their clocks, and
/// its i-th hit reads the count before the batch plus i; then every request none of whose
/// counters went over starts its `then_restart` counters afresh.
pub async fn hit_all(conn: &mut Conn, jobs: &[HitJob]) -> QueryResult<Vec<Vec<CounterState>>> {
    // Per counter: hits, latest clock, window.
    let mut counters: BTreeMap<&str, (i32, i64, i64)> = BTreeMap::new();
    for job in jobs {
        for h in &job.hits {
            let c = counters
                .entry(h.key.as_str())
                .or_insert((0, job.now, window_ms(h)));
            c.0 += 1;
            c.1 = c.1.max(job.now);
            c.2 = c.2.min(window_ms(h));
        }
    }
    let after = add_all(conn, &counters).await?;
    // The i-th hit of a counter reads its count before the batch plus i.
    let mut seen: BTreeMap<&str, i32> = BTreeMap::new();
    let mut states = Vec::with_capacity(jobs.len());
    let mut restart: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for job in jobs {
        let mut over = false;
        let mut mine = Vec::with_capacity(job.hits.len());
        for h in &job.hits {
            let (count, start) = after.get(h.key.as_str()).copied().unwrap_or((0, job.now));
            let n = counters.get(h.key.as_str()).map_or(1, |c| c.0);
            let i = seen.entry(h.key.as_str()).or_insert(0);
            *i += 1;
            let s = state(job.now, window_ms(h), count - n + *i, start);
            over |= s.exceeds(&h.limit);
            mine.push(s);
        }
        if !over {
            for c in &job.then_restart {
                restart.insert(c.key.as_str(), (job.now, window_ms(c)));
            }
        }
        states.push(mine);
    }
    let restart: Vec<_> = restart
        .into_iter()
        .map(|(key, (now, window))| restarted(key, now, window))
        .collect();
    write_counters(conn, &restart).await?;
    Ok(states)
}

//! PostgreSQL: the production store; several instances may share it. A request's rate-limit
//! hits are usually one call to a function of `migrations/postgres-functions.sql` (`hits.rs`),
//! its issue transaction two (`issue.rs`), and the store sends them in batches
//! (`backend/batch.rs`, [`Batches`]); the other queries are the shared statements
//! (`crate::queries`), whose per-backend statements `Conn` implements
//! (`crate::queries::hooks`: `counters.rs`).

use diesel_async::AsyncConnection as _;

mod conn;
pub use conn::Conn;

returning_queries!(Conn, [async], [.await]);

/// Runs `$work` (an expression using `$c`, a `&mut Conn`, that makes a future) on `$conn`,
/// inside a transaction behind a transaction pooler (see [`Pooling`]). A macro: an async
/// closure taken as a parameter cannot say that its future is `Send`.
macro_rules! in_transaction_if {
    ($pooling:expr, $conn:expr, |$c:ident| $work:expr) => {{
        let conn: &mut $crate::backend::pg::Conn = $conn;
        #[allow(unused_imports)]
        use diesel_async::AsyncConnection as _;
        match $pooling {
            $crate::backend::pg::Pooling::Transaction => {
                conn.transaction(async |$c| $work.await).await
            }
            $crate::backend::pg::Pooling::Session => {
                let $c = conn;
                $work.await
            }
        }
    }};
}
pub(crate) use in_transaction_if;

/// Listens on the `reset_outbox` channel on a connection of its own (outside the pool) and wakes
/// `queued` for each notification. Once listening it wakes once (a notification may have been
/// missed while it was not); a connection that stays silent for a minute is checked with a
/// `SELECT 1` (a connection dropped without a reset would otherwise hang until TCP keepalive),
/// and a lost one is replaced a second later. Runs until its task is aborted.
pub async fn listen(target: Target, queued: std::sync::Arc<tokio::sync::Notify>) {
    use futures_util::StreamExt as _;
    use std::time::Duration;
    loop {
        if let Ok(mut conn) = target.establish().await {
            let listening = diesel::sql_query("LISTEN reset_outbox")
                .execute(&mut conn)
                .await;
            if listening.is_ok() {
                queued.notify_one();
                loop {
                    let next = {
                        let mut notifications = std::pin::pin!(conn.notifications_stream());
                        tokio::time::timeout(Duration::from_secs(60), notifications.next()).await
                    };
                    match next {
                        Ok(Some(Ok(_))) => queued.notify_one(),
                        Ok(_) => break,
                        Err(_silent) => {
                            let alive = tokio::time::timeout(
                                Duration::from_secs(5),
                                diesel::sql_query("SELECT 1").execute(&mut conn),
                            )
                            .await;
                            if !matches!(alive, Ok(Ok(_))) {
                                break;
                            }
                        }
                    }
                }
            }
        }
        tracing::warn!("outbox: the LISTEN connection to PostgreSQL is down; reconnecting");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Tells every instance's worker (see [`listen`]) that messages were queued, once per wake of
/// `announce`: run after the commit, outside the transaction, so no transaction takes
/// PostgreSQL's commit-time `NOTIFY` lock, and calls that queue while one notification is on its
/// way share the next. Runs until its task is aborted.
pub async fn announce_queued(
    pool: diesel_async::pooled_connection::deadpool::Pool<Conn>,
    pooling: Pooling,
    announce: std::sync::Arc<tokio::sync::Notify>,
) {
    loop {
        announce.notified().await;
        if let Err(e) = notify_all(&pool, pooling).await {
            tracing::debug!(error = %e, "outbox: NOTIFY failed; other instances will poll");
        }
    }
}

/// `SELECT pg_notify('reset_outbox', '')` on a pooled connection.
pub async fn notify_all(
    pool: &diesel_async::pooled_connection::deadpool::Pool<Conn>,
    pooling: Pooling,
) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    in_transaction_if!(pooling, &mut conn, |c| {
        diesel::sql_query("SELECT pg_notify('reset_outbox', '')").execute(c)
    })
    .map(|_| ())
    .map_err(|e| e.to_string())
}

query_prelude!([async], [.await], diesel_async::RunQueryDsl, awaited);

mod calls;
mod counters;
mod hits;
mod issue;
mod target;
mod tls;
pub use calls::claim_outbox;
pub use target::{Pooling, SslMode, Target, TargetError};

use reset_core::error::StoreError;
use reset_core::rate_limit::{CounterHit as Hit, CounterState as State};
use reset_core::store::{IssueOutcome as Outcome, IssueRequest as Request};

/// The calls made once per request or message, batched (see `backend/batch.rs`): rate-limit hits,
/// account lookups, secret lookups, issue transactions, and the worker's "sent" marks.
pub struct Batches {
    hits: crate::backend::batch::Batcher<reset_core::counters::HitAsk, Vec<State>>,
    finds: crate::backend::batch::Batcher<AccountLookup, Option<User>>,
    secrets: crate::backend::batch::Batcher<String, Option<SecretRecord>>,
    issues: crate::backend::batch::Batcher<Request, (Outcome, bool)>,
    sent: crate::backend::batch::Batcher<(i64, String), ()>,
}

impl Batches {
    /// Starts the five queues' tasks on the current runtime (the store is opened on one); each
    /// ends when `Batches` is dropped, with the store.
    pub fn start(
        pool: &diesel_async::pooled_connection::deadpool::Pool<Conn>,
        pooling: Pooling,
    ) -> Self {
        use crate::errors::{query, unavailable};
        // A queue whose batches run `$call(connection, jobs)` on a pooled connection; with
        // `transaction`, always in a transaction of its own (locks held from load to write).
        macro_rules! queue {
            (transaction $call:path) => {
                crate::backend::batch::Batcher::start(
                    pool.clone(),
                    crate::backend::batch::PG,
                    move |pool, jobs| async move {
                        let mut conn = pool.get().await.map_err(unavailable)?;
                        conn.transaction(async |c| $call(c, &jobs).await)
                            .await
                            .map_err(query)
                    },
                )
            };
            ($call:path) => {
                crate::backend::batch::Batcher::start(
                    pool.clone(),
                    crate::backend::batch::PG,
                    move |pool, jobs| async move {
                        let mut conn = pool.get().await.map_err(unavailable)?;
                        in_transaction_if!(pooling, &mut conn, |c| $call(c, &jobs)).map_err(query)
                    },
                )
            };
        }
        let remembered = std::sync::Arc::new(crate::backend::swap::Remembered::default());
        Self {
            hits: crate::backend::batch::Batcher::start(
                pool.clone(),
                crate::backend::batch::PG_HITS,
                move |pool, jobs| {
                    let remembered = remembered.clone();
                    async move {
                        let mut conn = pool.get().await.map_err(unavailable)?;
                        let mut unlocked = hits::Unlocked {
                            conn: &mut conn,
                            pooling,
                        };
                        crate::backend::swap::hit_batch(
                            &mut unlocked,
                            &remembered,
                            &jobs,
                            async |c| c.transaction(async |c| hit_all(c, &jobs).await).await,
                        )
                        .await
                        .map_err(query)
                    }
                },
            ),
            finds: queue!(calls::find_all),
            secrets: queue!(calls::secrets_by_hash),
            issues: queue!(transaction issue::issue_all),
            sent: queue!(calls::sent_all),
        }
    }

    /// See [`reset_core::store::ResetState::hit`].
    pub async fn hit(
        &self,
        now: i64,
        hits: Vec<Hit>,
        then_restart: Vec<Hit>,
    ) -> Result<Vec<State>, StoreError> {
        self.hits
            .call(reset_core::counters::HitAsk {
                now,
                hits,
                then_restart,
            })
            .await
    }

    /// See [`reset_core::directory::UserDirectory::find`].
    pub async fn find(&self, lookup: AccountLookup) -> Result<Option<User>, StoreError> {
        self.finds.call(lookup).await
    }

    /// See [`reset_core::store::ResetState::secret_by_hash`].
    pub async fn secret_by_hash(&self, hash: String) -> Result<Option<SecretRecord>, StoreError> {
        self.secrets.call(hash).await
    }

    /// See [`reset_core::store::Outbox::outbox_sent`].
    pub async fn sent(&self, now: i64, id: String) -> Result<(), StoreError> {
        self.sent.call((now, id)).await
    }

    /// See [`reset_core::store::ResetState::issue`].
    /// What the request did, and whether it queued anything for the outbox worker.
    pub async fn issue(&self, request: Request) -> Result<(Outcome, bool), StoreError> {
        self.issues.call(request).await
    }
}

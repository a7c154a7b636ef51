//! [`DieselStore`]: the [`Store`] port over the per-backend queries.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
#[cfg(feature = "sqlite")]
use diesel_migrations::MigrationHarness as _;
use reset_core::admin_token::{AdminToken, NewAdminToken};
use reset_core::error::StoreError;
use reset_core::identity::AccountLookup;
use reset_core::message::EventDelivery;
use reset_core::rate_limit::{CounterHit, CounterState, Limit};
use reset_core::store::{
    AccountChange, Accounts, AdminTokens, CodeTry, Completion, IssueOutcome, IssueRequest, NewUser,
    Outbox, OutboxMessage, OutboxStats, ResetState, Retention, SecretRecord, Swept, User,
};
use reset_core::{PasswordChange, SessionsEnded, UserDirectory};

#[cfg(feature = "mysql")]
use crate::backend::mysql;
#[cfg(feature = "postgres")]
use crate::backend::pg;
#[cfg(feature = "sqlite")]
use crate::backend::sqlite;
use crate::connect::{Backend, ConnectError, DatabaseUrl, PoolOptions, Pools, pools};
use tokio::sync::Notify;

use crate::errors::query;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::errors::unavailable;
use crate::migrate;
use crate::rows::{OutboxEntry, RowCounts, ms};

/// The store over PostgreSQL, MySQL/MariaDB or SQLite.
pub struct DieselStore {
    pools: Pools,
    /// Woken when this process queued a message, or (PostgreSQL) another instance did: see
    /// [`Outbox::queued`].
    queued: Arc<Notify>,
    /// PostgreSQL: where the `LISTEN` connection and the migrations go (a session of their
    /// own); the listener starts with the first [`Outbox::queued`] (a process with no worker,
    /// such as a CLI command, never opens it).
    #[cfg(feature = "postgres")]
    session: Option<pg::Target>,
    /// The `LISTEN` task, stopped with the store.
    listener: std::sync::OnceLock<tokio::task::AbortHandle>,
    /// PostgreSQL: wakes the task that tells other instances, after the commit (see
    /// `pg::announce_queued`), and that task, stopped with the store.
    announce: Option<(Arc<Notify>, tokio::task::AbortHandle)>,
    backend: Backend,
    /// Migration versions a ready database has applied.
    expected: Vec<String>,
}

impl Drop for DieselStore {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.get() {
            listener.abort();
        }
        if let Some((_, task)) = &self.announce {
            task.abort();
        }
    }
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with `$conn` a connection and `$db` the query module of whichever backend this
/// store uses: awaited on PostgreSQL; on SQLite run whole on the writer thread (so `$body` may
/// only capture owned values). With `postgres: |batches| …`, PostgreSQL runs that instead: the
/// calls it sends in batches (see `pg::Batches`).
macro_rules! with_conn {
    // PostgreSQL and MySQL both run their batched calls (see `backend/batch.rs`).
    ($self:ident, $db:ident, |$conn:ident| $body:expr, postgres: |$batches:ident| $batched:expr, mysql: |$mbatches:ident| $mbatched:expr) => {
        match &$self.pools {
            #[cfg(feature = "postgres")]
            Pools::Pg(_, $batches, _) => $batched.await,
            #[cfg(feature = "mysql")]
            Pools::Mysql(_, $mbatches) => $mbatched.await,
            #[cfg(feature = "sqlite")]
            Pools::Sqlite(writer) => {
                #[allow(unused_imports)]
                use sqlite as $db;
                writer.run(move |$conn| $body).await.map_err(query)
            }
        }
    };
    ($self:ident, $db:ident, |$conn:ident| $body:expr) => {
        with_conn!($self, $db, |$conn| $body, pg: |pool, _batches| {
            let pooled: &mut pg::Conn = &mut *pool.get().await.map_err(unavailable)?;
            #[allow(unused_imports)]
            use pg as $db;
            pg::in_transaction_if!(pool_mode($self), pooled, |$conn| $body).map_err(query)
        })
    };
    ($self:ident, $db:ident, |$conn:ident| $body:expr, postgres: |$batches:ident| $batched:expr) => {
        with_conn!($self, $db, |$conn| $body, pg: |_pool, $batches| $batched.await)
    };
    ($self:ident, $db:ident, |$conn:ident| $body:expr, pg: |$pool:ident, $batches:ident| $pg:expr) => {
        match &$self.pools {
            #[cfg(feature = "postgres")]
            Pools::Pg($pool, $batches, _) => $pg,
            #[cfg(feature = "mysql")]
            Pools::Mysql(pool, _) => {
                let $conn = &mut *pool.get().await.map_err(unavailable)?;
                #[allow(unused_imports)]
                use mysql as $db;
                $body.await.map_err(query)
            }
            #[cfg(feature = "sqlite")]
            Pools::Sqlite(writer) => {
                #[allow(unused_imports)]
                use sqlite as $db;
                writer.run(move |$conn| $body).await.map_err(query)
            }
        }
    };
}

/// How the PostgreSQL pool's connections may be used.
#[cfg(feature = "postgres")]
fn pool_mode(store: &DieselStore) -> pg::Pooling {
    match &store.pools {
        Pools::Pg(_, _, pooling) => *pooling,
        #[allow(unreachable_patterns)]
        _ => pg::Pooling::Session,
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
fn migration_error(e: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    StoreError::Query(format!("migration failed: {e}"))
}

impl DieselStore {
    /// Opens a pool for `url` (`postgres://…` or `sqlite://path`) and checks that it connects.
    /// A SQLite file and its folder are created when missing.
    pub async fn connect(url: &str, options: PoolOptions) -> Result<Self, ConnectError> {
        let url = DatabaseUrl::parse(url)?;
        let backend = url.backend();
        let pools = pools(&url, &options)?;
        let expected = match &pools {
            #[cfg(feature = "postgres")]
            Pools::Pg(..) => migrate::versions::<diesel::pg::Pg>(&migrate::POSTGRES),
            #[cfg(feature = "mysql")]
            Pools::Mysql(..) => migrate::versions::<diesel::mysql::Mysql>(&migrate::MYSQL),
            #[cfg(feature = "sqlite")]
            Pools::Sqlite(_) => migrate::versions::<diesel::sqlite::Sqlite>(&migrate::SQLITE),
        };
        #[cfg(feature = "postgres")]
        let mut session = None;
        let announce = match (&url, &pools) {
            #[cfg(feature = "postgres")]
            (DatabaseUrl::Postgres(u), Pools::Pg(pool, _, pooling)) => {
                let target = pg::Target::parse(options.listen_url.as_deref().unwrap_or(u))?;
                if target.pooling() == pg::Pooling::Transaction {
                    tracing::warn!(
                        "the database URL goes through a pooler in transaction mode (pgbouncer=true) and no RESET_DATABASE_LISTEN_URL reaches PostgreSQL in a session: other instances' workers will find new messages by polling, not at once, and migrations cannot run"
                    );
                }
                session = Some(target);
                let announce = Arc::new(Notify::new());
                let task = tokio::spawn(pg::announce_queued(
                    pool.clone(),
                    *pooling,
                    announce.clone(),
                ));
                Some((announce, task.abort_handle()))
            }
            _ => None,
        };
        let store = Self {
            pools,
            queued: Arc::new(Notify::new()),
            #[cfg(feature = "postgres")]
            session,
            listener: std::sync::OnceLock::new(),
            announce,
            backend,
            expected,
        };
        store
            .ping()
            .await
            .map_err(|e| ConnectError::Connect(e.to_string()))?;
        Ok(store)
    }

    /// Which database the store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> Result<(), StoreError> {
        with_conn!(self, db, |conn| db::ping(conn))
    }

    /// Applies the pending embedded migrations; returns how many ran. On PostgreSQL, then the
    /// functions file (`migrations/postgres-functions.sql`) when it changed since it was last
    /// applied (not counted). Needs a multi-threaded tokio runtime: diesel-async's synchronous
    /// harness runs on a blocking thread (`migrate::run_pending`).
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        match &self.pools {
            #[cfg(feature = "postgres")]
            Pools::Pg(..) => {
                // On a session of its own: behind a transaction pooler the harness's
                // statements outside its transactions could reach different servers.
                let session = self
                    .session
                    .as_ref()
                    .ok_or_else(|| StoreError::Unavailable("no PostgreSQL session URL".into()))?;
                if session.pooling() == pg::Pooling::Transaction {
                    return Err(StoreError::Query(
                        "migrations need a session of their own, which a pooler in transaction mode (pgbouncer=true) does not give: set RESET_DATABASE_LISTEN_URL to PostgreSQL itself (or a session-mode pool)".into(),
                    ));
                }
                let conn = session
                    .establish()
                    .await
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                let (mut conn, applied) = migrate::run_pending(conn, migrate::POSTGRES)
                    .await
                    .map_err(migration_error)?;
                // Then the functions (migrations/postgres-functions.sql, not a migration), on the
                // same session: applied only when the file changed since the last run.
                match migrate::apply_postgres_functions(&mut conn).await {
                    Ok(true) => tracing::info!("PostgreSQL functions (re)installed"),
                    Ok(false) => {}
                    Err(e) => {
                        return Err(StoreError::Query(format!(
                            "migration failed: migrations/postgres-functions.sql: {e}"
                        )));
                    }
                }
                Ok(applied)
            }
            #[cfg(feature = "mysql")]
            Pools::Mysql(pool, _) => {
                let conn = pool.get().await.map_err(unavailable)?;
                let (mut conn, applied) = migrate::run_pending(conn, migrate::MYSQL)
                    .await
                    .map_err(migration_error)?;
                // Rate-limit hits rely on the check `rate_limits_swap` (`backend/mysql_hits.rs`).
                if !crate::backend::mysql_hits::refuses_moved_counters(&mut conn)
                    .await
                    .map_err(query)?
                {
                    return Err(StoreError::Query(
                        "migration failed: this MySQL server does not enforce the check rate_limits_swap on rate_limits (MySQL 8.0.16+ or MariaDB 10.2+ enforce CHECK constraints; a database made before the check needs recreating)".into(),
                    ));
                }
                Ok(applied)
            }
            #[cfg(feature = "sqlite")]
            Pools::Sqlite(writer) => writer
                .alone(|conn| {
                    conn.run_pending_migrations(migrate::SQLITE)
                        .map(|v| v.len())
                        .map_err(|e| e.to_string())
                })
                .await
                .map_err(query)?
                .map_err(|e| StoreError::Query(format!("migration failed: {e}"))),
        }
    }

    /// Adds an account to the built-in directory (see `ResetService::prepare_user`), as the
    /// operator's command line.
    pub async fn create_user(&self, now: DateTime<Utc>, user: NewUser) -> Result<User, StoreError> {
        let mut created = self.create_accounts(now, vec![user], "cli", false).await?;
        created
            .pop()
            .ok_or_else(|| StoreError::Query("no account was created".into()))
    }

    /// Every account of the built-in directory, oldest first.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let mut all: Vec<User> = Vec::new();
        loop {
            let after = all.last().map(|u| u.id.clone());
            let page = self.list_accounts(after.as_deref(), 1000).await?;
            let done = page.len() < 1000;
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// Rows in the tables the retention sweep keeps small.
    pub async fn row_counts(&self) -> Result<RowCounts, StoreError> {
        with_conn!(self, db, |conn| db::row_counts(conn))
    }

    /// How many live reset secrets and unrevoked admin tokens were hashed under the key `id`
    /// (see [`reset_core::Keyring`]): a key is retired only once both are zero.
    pub async fn key_usage(&self, id: &str, now: DateTime<Utc>) -> Result<(u64, u64), StoreError> {
        if !reset_core::keyring::valid_id(id) {
            return Ok((0, 0));
        }
        let prefix = format!("{id}:");
        let bare = id == reset_core::keyring::FIRST_KEY_ID;
        with_conn!(self, db, |conn| db::key_usage(conn, &prefix, bare, ms(now)))
    }

    /// A user's audit event kinds, oldest first.
    pub async fn audit_kinds(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let user_id = user_id.to_owned();
        with_conn!(self, db, |conn| db::audit_kinds(conn, &user_id))
    }

    /// Outbox messages, newest first: all, or those in `state` (`pending`, `retrying`, `dead`,
    /// `sent`). Payloads are left out: they may hold a secret.
    pub async fn outbox_list(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let state = state.map(str::to_owned);
        with_conn!(self, db, |conn| db::outbox_list(
            conn,
            state.as_deref(),
            i64::from(limit)
        ))
    }

    /// Queues dead messages again (`ids` empty: all of them); returns how many.
    pub async fn outbox_retry(
        &self,
        now: DateTime<Utc>,
        ids: &[String],
    ) -> Result<usize, StoreError> {
        let ids = ids.to_vec();
        let queued = with_conn!(self, db, |conn| db::outbox_retry(conn, ms(now), &ids))?;
        // Usually called from the CLI, which has no worker and may exit at once: tell the
        // servers' workers before returning.
        #[cfg(feature = "postgres")]
        if let (true, Pools::Pg(pool, _, pooling)) = (queued > 0, &self.pools) {
            let _ = pg::notify_all(pool, *pooling).await;
        }
        self.woken(queued > 0);
        Ok(queued)
    }

    /// Wakes this process's worker when a call queued messages (a permit is kept if it is busy,
    /// so no wake-up is lost).
    fn woken(&self, queued: bool) {
        if queued {
            self.queued.notify_one();
            if let Some((announce, _)) = &self.announce {
                announce.notify_one();
            }
        }
    }
}

/// The built-in directory: the `users` and `user_emails` tables.
#[async_trait]
impl UserDirectory for DieselStore {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        let lookup = lookup.clone();
        with_conn!(
            self,
            db,
            |conn| db::find_user(conn, &lookup),
            postgres: |batches| batches.find(lookup),
            mysql: |batches| batches.find(lookup)
        )
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let id = id.to_owned();
        with_conn!(self, db, |conn| db::user(conn, &id))
    }

    /// Stores the argon2id hash: the built-in table's logins check it.
    async fn set_password(
        &self,
        id: &str,
        change: &PasswordChange<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (id, hash) = (id.to_owned(), change.argon2id().to_owned());
        with_conn!(self, db, |conn| db::set_password_hash(
            conn,
            &id,
            &hash,
            ms(at)
        ))
    }

    async fn record_change(&self, id: &str, _at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.to_owned();
        with_conn!(self, db, |conn| db::bump_sequence(conn, &id))
    }

    /// The built-in table keeps no sessions: the application that logs its users in (against
    /// this table's hashes) keeps its own, and ends them on the `password.changed` webhook.
    async fn revoke_sessions(&self, _id: &str) -> Result<SessionsEnded, StoreError> {
        Ok(SessionsEnded::NoneKept)
    }
}

/// The built-in directory's administration (the user API, `user import`).
#[async_trait]
impl Accounts for DieselStore {
    async fn create_accounts(
        &self,
        now: DateTime<Utc>,
        users: Vec<NewUser>,
        by: &str,
        dry_run: bool,
    ) -> Result<Vec<User>, StoreError> {
        let by = by.to_owned();
        with_conn!(self, db, |conn| db::create_accounts(
            conn,
            ms(now),
            users,
            &by,
            dry_run
        ))
    }

    async fn taken(
        &self,
        usernames: &[String],
        emails: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let (usernames, emails) = (usernames.to_vec(), emails.to_vec());
        with_conn!(self, db, |conn| db::taken(conn, &usernames, &emails))
    }

    async fn account(&self, id: &str) -> Result<Option<User>, StoreError> {
        let id = id.to_owned();
        with_conn!(self, db, |conn| db::user(conn, &id))
    }

    async fn update_account(
        &self,
        now: DateTime<Utc>,
        id: &str,
        change: &AccountChange,
        by: &str,
    ) -> Result<Option<User>, StoreError> {
        let (id, change, by) = (id.to_owned(), change.clone(), by.to_owned());
        with_conn!(self, db, |conn| db::update_account(
            conn,
            ms(now),
            &id,
            &change,
            &by
        ))
    }

    async fn delete_account(
        &self,
        now: DateTime<Utc>,
        id: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        let (id, by) = (id.to_owned(), by.to_owned());
        with_conn!(self, db, |conn| db::delete_account(conn, ms(now), &id, &by))
    }

    async fn list_accounts(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let after = after.map(str::to_owned);
        with_conn!(self, db, |conn| db::list_accounts(
            conn,
            after.as_deref(),
            limit
        ))
    }
}

#[async_trait]
impl ResetState for DieselStore {
    async fn ready(&self) -> Result<(), StoreError> {
        let applied: Vec<String> = with_conn!(self, db, |conn| db::applied_versions(conn))?;
        match self.expected.iter().find(|v| !applied.contains(v)) {
            None => Ok(()),
            Some(missing) => Err(StoreError::Unavailable(format!(
                "migration {missing} is not applied"
            ))),
        }
    }

    async fn hit(
        &self,
        now: DateTime<Utc>,
        hits: &[CounterHit],
        then_restart: &[CounterHit],
    ) -> Result<Vec<CounterState>, StoreError> {
        let (hits, then_restart) = (hits.to_vec(), then_restart.to_vec());
        with_conn!(
            self,
            db,
            |conn| db::hit(conn, ms(now), &hits, &then_restart),
            postgres: |batches| batches.hit(ms(now), hits, then_restart),
            mysql: |batches| batches.hit(ms(now), hits, then_restart)
        )
    }

    async fn restart(&self, now: DateTime<Utc>, counters: &[CounterHit]) -> Result<(), StoreError> {
        let counters = counters.to_vec();
        with_conn!(self, db, |conn| db::restart(conn, ms(now), &counters))
    }

    async fn issue(&self, request: IssueRequest) -> Result<IssueOutcome, StoreError> {
        // A store that batches tells the caller's span its batch's size; alone, it is one.
        tracing::Span::current().record("db.operation.batch.size", 1);
        let (outcome, queued) = with_conn!(
            self,
            db,
            |conn| db::issue(conn, request),
            postgres: |batches| batches.issue(request),
            mysql: |batches| batches.issue(request)
        )?;
        // Decoy messages wake the worker as real ones do, and only when they were queued (an
        // unknown identifier past its send cap wakes nothing, as a known account does not).
        self.woken(queued);
        Ok(outcome)
    }

    async fn secret_by_hash(&self, hash: &str) -> Result<Option<SecretRecord>, StoreError> {
        let hash = hash.to_owned();
        with_conn!(
            self,
            db,
            |conn| db::secret_by_hash(conn, &hash),
            postgres: |batches| batches.secret_by_hash(hash),
            mysql: |batches| batches.secret_by_hash(hash)
        )
    }

    async fn live_code(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SecretRecord>, StoreError> {
        let user_id = user_id.to_owned();
        with_conn!(self, db, |conn| db::live_code(conn, &user_id, ms(now)))
    }

    async fn code_try(
        &self,
        now: DateTime<Utc>,
        counter: &CounterHit,
        user_id: &str,
        budget: Limit,
        share: &CounterHit,
    ) -> Result<CodeTry, StoreError> {
        let (counter, user_id, share) = (counter.clone(), user_id.to_owned(), share.clone());
        with_conn!(self, db, |conn| db::code_try(
            conn,
            ms(now),
            &counter,
            &user_id,
            budget,
            &share
        ))
    }

    async fn password_history(&self, user_id: &str, n: u32) -> Result<Vec<String>, StoreError> {
        let user_id = user_id.to_owned();
        with_conn!(self, db, |conn| db::password_history(conn, &user_id, n))
    }

    async fn consume(
        &self,
        now: DateTime<Utc>,
        secret_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let (secret_id, user_id) = (secret_id.to_owned(), user_id.to_owned());
        with_conn!(self, db, |conn| db::consume(
            conn,
            ms(now),
            &secret_id,
            &user_id
        ))
    }

    async fn release(&self, secret_id: &str, used_at: DateTime<Utc>) -> Result<(), StoreError> {
        let secret_id = secret_id.to_owned();
        with_conn!(self, db, |conn| db::release(conn, &secret_id, ms(used_at)))
    }

    async fn after_reset(&self, completion: Completion) -> Result<(), StoreError> {
        with_conn!(self, db, |conn| db::after_reset(conn, completion))?;
        self.woken(true);
        Ok(())
    }

    async fn cancel(
        &self,
        now: DateTime<Utc>,
        request_id: &str,
        ip: Option<String>,
        events: Vec<EventDelivery>,
    ) -> Result<bool, StoreError> {
        let request_id = request_id.to_owned();
        let cancelled = with_conn!(self, db, |conn| db::cancel(
            conn,
            ms(now),
            &request_id,
            ip,
            events
        ))?;
        self.woken(cancelled);
        Ok(cancelled)
    }
    async fn audit(
        &self,
        now: DateTime<Utc>,
        user_id: Option<&str>,
        kind: &'static str,
        ip: Option<String>,
    ) -> Result<(), StoreError> {
        let user_id = user_id.map(str::to_owned);
        with_conn!(self, db, |conn| db::audit(
            conn,
            ms(now),
            user_id.as_deref(),
            kind,
            ip.as_deref(),
            serde_json::json!({})
        ))
    }

    async fn sweep(
        &self,
        now: DateTime<Utc>,
        retention: &Retention,
        batch: u32,
    ) -> Result<Swept, StoreError> {
        let retention = *retention;
        with_conn!(self, db, |conn| db::sweep(
            conn,
            ms(now),
            retention,
            i64::from(batch)
        ))
    }
}

#[async_trait]
impl Outbox for DieselStore {
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_secs: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let lease_ms = i64::try_from(lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
        with_conn!(self, db, |conn| db::claim_outbox(
            conn,
            ms(now),
            limit,
            lease_ms
        ))
    }

    async fn outbox_sent(&self, now: DateTime<Utc>, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        with_conn!(
            self,
            db,
            |conn| db::outbox_sent(conn, ms(now), &id),
            postgres: |batches| batches.sent(ms(now), id)
        )
    }

    async fn outbox_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (id, error) = (id.to_owned(), error.to_owned());
        with_conn!(self, db, |conn| db::outbox_failed(
            conn,
            &id,
            &error,
            ms(retry_at)
        ))
    }

    async fn outbox_dead(
        &self,
        now: DateTime<Utc>,
        id: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let (id, reason) = (id.to_owned(), reason.to_owned());
        with_conn!(self, db, |conn| db::outbox_dead(
            conn,
            ms(now),
            &id,
            &reason
        ))
    }

    async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        with_conn!(self, db, |conn| db::outbox_stats(conn))
    }

    async fn queued(&self, at_most: std::time::Duration) {
        #[cfg(feature = "postgres")]
        if let Some(session) = self
            .session
            .as_ref()
            .filter(|s| s.pooling() == pg::Pooling::Session)
        {
            self.listener.get_or_init(|| {
                tokio::spawn(pg::listen(session.clone(), self.queued.clone())).abort_handle()
            });
        }
        let _ = tokio::time::timeout(at_most, self.queued.notified()).await;
    }
}

#[async_trait]
impl AdminTokens for DieselStore {
    async fn insert_admin_token(&self, token: NewAdminToken) -> Result<(), StoreError> {
        with_conn!(self, db, |conn| db::insert_admin_token(conn, &token))
    }

    async fn admin_token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<(AdminToken, String)>, StoreError> {
        let hash = hash.to_owned();
        with_conn!(self, db, |conn| db::admin_token_by_hash(conn, &hash))
    }

    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>, StoreError> {
        with_conn!(self, db, |conn| db::list_admin_tokens(conn))
    }

    async fn revoke_admin_token(&self, now: DateTime<Utc>, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        with_conn!(self, db, |conn| db::revoke_admin_token(conn, ms(now), &id))
    }
}

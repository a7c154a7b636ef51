//! PostgreSQL: the production store; several instances may share it.

use diesel_async::AsyncConnection as _;

pub type Conn = diesel_async::AsyncPgConnection;

skip_locked_claim!();

/// Serialises transactions about one account until the transaction ends, with an advisory
/// lock on its id (the account may live in another application's database, so there may be no
/// row of ours to lock).
async fn lock_user(conn: &mut Conn, id: &str) -> QueryResult<()> {
    // The two-key form, with a fixed first key, keeps clear of a host application's own
    // advisory locks in a shared database.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('reset-password'), hashtext($1))")
        .bind::<diesel::sql_types::Text, _>(id)
        .execute(conn)
        .await
        .map(|_| ())
}

returning_queries!(Conn, [async], [.await]);

/// Listens on the `reset_outbox` channel on a connection of its own (outside the pool) and wakes
/// `queued` for each notification. Once listening it wakes once (a notification may have been
/// missed while it was not); a connection that stays silent for a minute is checked with a
/// `SELECT 1` (a connection dropped without a reset would otherwise hang until TCP keepalive),
/// and a lost one is replaced a second later. Runs until its task is aborted.
pub async fn listen(url: String, queued: std::sync::Arc<tokio::sync::Notify>) {
    use futures_util::StreamExt as _;
    use std::time::Duration;
    loop {
        if let Ok(mut conn) = Conn::establish(&url).await {
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
    announce: std::sync::Arc<tokio::sync::Notify>,
) {
    loop {
        announce.notified().await;
        if let Err(e) = notify_all(&pool).await {
            tracing::debug!(error = %e, "outbox: NOTIFY failed; other instances will poll");
        }
    }
}

/// `SELECT pg_notify('reset_outbox', '')` on a pooled connection.
pub async fn notify_all(
    pool: &diesel_async::pooled_connection::deadpool::Pool<Conn>,
) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    diesel::sql_query("SELECT pg_notify('reset_outbox', '')")
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The rate-limit transaction on a request's path commits without waiting for its WAL flush
/// (`synchronous_commit = off` for this transaction only): a database crash may forget its
/// last few hits (under a second's worth), which only lets a limit restart early, and the answer
/// no longer waits for a disk flush. Every other transaction (secrets, tries, outbox) keeps
/// full durability.
async fn relax_durability(conn: &mut Conn) -> QueryResult<()> {
    diesel::sql_query("SET LOCAL synchronous_commit = off")
        .execute(conn)
        .await
        .map(|_| ())
}

query_prelude!([async], [.await], diesel_async::RunQueryDsl);

//! PostgreSQL: the production store; several instances may share it.

use diesel_async::AsyncConnection as _;

pub type Conn = diesel_async::AsyncPgConnection;

/// Due messages, locked with `FOR UPDATE SKIP LOCKED` so concurrent workers skip each other's.
async fn claim_ids(conn: &mut Conn, now: i64, limit: i64) -> QueryResult<Vec<String>> {
    outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::dead_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

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

query_prelude!([async], [.await], diesel_async::RunQueryDsl);

//! SQLite: the zero-setup default for a single instance. One connection, owned by one thread
//! that runs store calls in batches (see [`Writer`]), so writers never race for SQLite's single
//! write lock and many calls share one commit.

use diesel::Connection as _;

pub use super::sqlite_writer::Writer;

/// The connection the queries run on, inside the writer thread.
pub type Conn = diesel::SqliteConnection;

/// Due messages; SQLite has one writer at a time, so no row locking is needed.
fn claim_ids(conn: &mut Conn, now: i64, limit: i64) -> QueryResult<Vec<String>> {
    outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::dead_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)
}

/// Nothing to lock: the single connection already runs one transaction at a time.
#[allow(clippy::unnecessary_wraps)]
fn lock_user(_conn: &mut Conn, _id: &str) -> QueryResult<()> {
    Ok(())
}

/// Nothing to lock (see [`lock_user`]).
#[allow(clippy::unnecessary_wraps)]
fn lock_holders(_conn: &mut Conn, _holders: &[String]) -> QueryResult<()> {
    Ok(())
}

returning_queries!(Conn, [], []);

/// SQLite's writer already shares one commit among the calls queued together.
#[allow(clippy::unnecessary_wraps)]
fn relax_durability(_conn: &mut Conn) -> QueryResult<()> {
    Ok(())
}

query_prelude!([], [], diesel::RunQueryDsl);
hit_by_statements!(Conn, [], []);
find_by_statements!(Conn, [], []);
secret_by_statements!(Conn, [], []);
/// See `newest_by_row` (`queries/issue.rs`): one seek per account costs SQLite little.
fn newest_of(conn: &mut Conn, accounts: &[String]) -> QueryResult<Vec<(String, String)>> {
    newest_by_row(conn, accounts)
}

/// See `kills_by_row` (`queries/issue.rs`).
fn kill_all(conn: &mut Conn, kills: &[crate::issue::writes::KillRow]) -> QueryResult<()> {
    kills_by_row(conn, kills)
}

/// See `counters_by_row` (`queries/issue.rs`).
fn write_counters(
    conn: &mut Conn,
    counters: &[crate::issue::writes::CounterInsert],
) -> QueryResult<()> {
    counters_by_row(conn, counters)
}

/// The conflict target of the counters' upsert.
macro_rules! upsert_key {
    () => {
        rate_limits::key
    };
}
issue_by_plan!(Conn, [], []);
worker_by_statements!(Conn, [], []);

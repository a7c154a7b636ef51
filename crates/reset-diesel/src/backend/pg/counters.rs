//! PostgreSQL's counter statements (see [`crate::queries::limits`]): one call locks and reads
//! the counters a plan moves, one writes them (for hits that took no lock, only where they still
//! hold what was read: `hits.rs`). Functions (`migrations/postgres-functions.sql`) so that each
//! is prepared once per connection; neither decides anything.

use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text};
use diesel_async::RunQueryDsl as _;

use super::conn::Conn;
use crate::backend::swap::Was;
use crate::issue::writes::CounterInsert;
use crate::queries::limits::{CounterRows, LockFor};

diesel::define_sql_function! {
    /// `migrations/postgres-functions.sql`: counters locked in key order and read.
    fn reset_counters_lock(keys: Array<Text>, relax: Bool) -> diesel::pg::sql_types::Record<(Text, Integer, BigInt)>;
}

diesel::define_sql_function! {
    /// `migrations/postgres-functions.sql`: counters written where they still hold what was
    /// read.
    #[allow(clippy::too_many_arguments)]
    fn reset_counters_write(keys: Array<Text>, starts: Array<BigInt>, counts: Array<Integer>, ends: Array<BigInt>, was_counts: Array<Nullable<Integer>>, was_starts: Array<Nullable<BigInt>>, any: Array<Bool>, relax: Bool) -> Integer;
}

/// PostgreSQL's counters: a function call each (a code try's, and hits that fall back to locks).
impl crate::queries::hooks::awaited::Counters for Conn {
    /// The same call whatever exists; for [`LockFor::Hits`] the transaction commits without
    /// waiting for its WAL flush.
    async fn lock_counters(
        &mut self,
        keys: &[String],
        purpose: LockFor,
    ) -> QueryResult<CounterRows> {
        let relax = purpose == LockFor::Hits;
        if keys.is_empty() && !relax {
            return Ok(Vec::new());
        }
        diesel::select(reset_counters_lock(keys, relax))
            .load(self)
            .await
    }

    async fn write_counters(&mut self, counters: &[CounterInsert]) -> QueryResult<()> {
        write_where(self, counters, &vec![Was::Any; counters.len()], false).await
    }
}

/// Writes counters' values (rows in key order) in one autocommit call, each only if it still
/// holds what `was` (one per row) says was read; otherwise nothing is written and the call fails
/// with a serialization failure ([`moved`]). Commits without waiting for the log, as hits may.
pub async fn swap_counters(
    conn: &mut Conn,
    counters: &[CounterInsert],
    was: &[Was],
) -> QueryResult<()> {
    write_where(conn, counters, was, true).await
}

async fn write_where(
    conn: &mut Conn,
    counters: &[CounterInsert],
    was: &[Was],
    relax: bool,
) -> QueryResult<()> {
    if counters.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = counters.iter().map(|c| c.key.as_str()).collect();
    let starts: Vec<i64> = counters.iter().map(|c| c.window_start).collect();
    let counts: Vec<i32> = counters.iter().map(|c| c.count).collect();
    let ends: Vec<i64> = counters.iter().map(|c| c.expires_at).collect();
    let was_counts: Vec<Option<i32>> = was.iter().map(|w| w.held().0).collect();
    let was_starts: Vec<Option<i64>> = was.iter().map(|w| w.held().1).collect();
    let any: Vec<bool> = was.iter().map(|w| *w == Was::Any).collect();
    diesel::select(reset_counters_write(
        keys, starts, counts, ends, was_counts, was_starts, any, relax,
    ))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Whether `e` is [`swap_counters`] finding a counter moved since it was read.
pub fn moved(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::SerializationFailure,
            _
        )
    )
}

//! PostgreSQL's counter statements (see [`crate::queries::limits`]): one call locks and reads
//! the counters a plan moves, one writes them. Functions (`migrations/postgres-functions.sql`)
//! so that each is prepared once per connection; neither decides anything.

use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Text};
use diesel_async::RunQueryDsl as _;

use super::conn::Conn;
use crate::issue::writes::CounterInsert;
use crate::queries::limits::LockFor;

diesel::define_sql_function! {
    /// `migrations/postgres-functions.sql`: counters locked in key order and read.
    fn reset_counters_lock(keys: Array<Text>, relax: Bool) -> diesel::pg::sql_types::Record<(Text, Integer, BigInt)>;
}

diesel::define_sql_function! {
    /// `migrations/postgres-functions.sql`: counters written as they are.
    fn reset_counters_write(keys: Array<Text>, starts: Array<BigInt>, counts: Array<Integer>, ends: Array<BigInt>) -> Integer;
}

/// Locks the counters `keys` names (sorted) and reads them: key, count, window start. A missing
/// one is created as a placeholder ([`reset_core::counters::PLACEHOLDER_START`]), which the
/// caller's write replaces; the same call whatever exists. For [`LockFor::Hits`] the
/// transaction commits without waiting for its WAL flush.
pub async fn lock_counters(
    conn: &mut Conn,
    keys: &[String],
    purpose: LockFor,
) -> QueryResult<Vec<(String, i32, i64)>> {
    let relax = purpose == LockFor::Hits;
    if keys.is_empty() && !relax {
        return Ok(Vec::new());
    }
    diesel::select(reset_counters_lock(keys, relax))
        .load(conn)
        .await
}

/// Writes counters' values as they are, in one call (rows in key order).
pub async fn write_counters(conn: &mut Conn, counters: &[CounterInsert]) -> QueryResult<()> {
    if counters.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = counters.iter().map(|c| c.key.as_str()).collect();
    let starts: Vec<i64> = counters.iter().map(|c| c.window_start).collect();
    let counts: Vec<i32> = counters.iter().map(|c| c.count).collect();
    let ends: Vec<i64> = counters.iter().map(|c| c.expires_at).collect();
    diesel::select(reset_counters_write(keys, starts, counts, ends))
        .execute(conn)
        .await
        .map(|_| ())
}

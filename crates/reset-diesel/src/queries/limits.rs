//! Fixed-window counters: locked and read in key order, moved by
//! [`reset_core::counters`] (the one fixed-window rule), written as they are. Each backend's
//! connection brings two statements of its own ([`crate::queries::hooks`]'s `Counters`):
//! `lock_counters` (lock and read rows in key order, creating a missing one as a placeholder so
//! that it can be locked; optionally committing without waiting for the log) and
//! `write_counters` (rows as they are).

macro_rules! limit_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// Starts counters afresh (count 0, window from `now`), in one transaction.
        pub $($async)* fn restart(conn: &mut $C, now: i64, counters: &[CounterHit]) -> QueryResult<()> {
            let mut moved = Counters::new();
            for c in counters {
                moved.restart(now, c);
            }
            let rows = counter_rows(&moved);
            conn.transaction($($async)* move |conn| conn.write_counters(&rows)$($aw)*)
            $($aw)*
        }

        /// The rate-limit transactions of a batch of requests (one on SQLite), in arrival order,
        /// inside the caller's transaction: the counters they bump are locked and read in key
        /// order, planned ([`reset_core::counters::plan_hits`]) and written once each.
        pub $($async)* fn hit_all(conn: &mut $C, asks: &[HitAsk]) -> QueryResult<Vec<Vec<CounterState>>> {
            let mut counters = Counters::new();
            counters.read(conn.lock_counters(&hit_keys(asks), LockFor::Hits)$($aw)*?);
            let states = plan_hits(&mut counters, asks);
            conn.write_counters(&counter_rows(&counters))$($aw)*?;
            Ok(states)
        }

        /// Deletes at most `batch` counters whose window is over.
        pub $($async)* fn sweep_limits(conn: &mut $C, now: i64, batch: i64) -> QueryResult<usize> {
            let over = rate_limits::table
                .filter(rate_limits::expires_at.le(now))
                .select(rate_limits::key)
                .limit(batch)
                .load::<String>(conn)
                $($aw)*?;
            // Two statements, ids first: not every backend takes LIMIT inside IN (…).
            diesel::delete(rate_limits::table.filter(rate_limits::key.eq_any(&over)))
                .execute(conn)
                $($aw)*
        }

    };
}

/// The rows of every counter `counters` moved, in key order.
pub fn counter_rows(
    counters: &reset_core::counters::Counters,
) -> Vec<crate::issue::writes::CounterInsert> {
    counters
        .writes()
        .iter()
        .map(crate::issue::writes::CounterInsert::from)
        .collect()
}

/// The rows of the counters `keys` names: key, count, window start (each backend's
/// `lock_counters` reads them, locking them where it must; PostgreSQL's is a function, and its
/// hits read them without a lock, `backend/pg/hits.rs`).
#[allow(clippy::type_complexity)]
pub fn counters_named(
    keys: &[String],
) -> diesel::dsl::Select<
    diesel::dsl::Filter<
        crate::schema::rate_limits::table,
        diesel::dsl::EqAny<crate::schema::rate_limits::key, &[String]>,
    >,
    (
        crate::schema::rate_limits::key,
        crate::schema::rate_limits::count,
        crate::schema::rate_limits::window_start,
    ),
> {
    use crate::schema::rate_limits;
    use diesel::{ExpressionMethods as _, QueryDsl as _};
    rate_limits::table
        .filter(rate_limits::key.eq_any(keys))
        .select((
            rate_limits::key,
            rate_limits::count,
            rate_limits::window_start,
        ))
}

/// Counter rows as read: key, count, window start (ms).
pub type CounterRows = Vec<(String, i32, i64)>;

/// What counters are locked for: what a backend may trade for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockFor {
    /// Rate-limit hits. Their commit need not wait for the log (a database crash may forget the
    /// last hits, which only lets a limit restart early), and a backend may read first and
    /// create only what is missing: whether a request's counter exists depends on the
    /// identifier's and the address's own history, never on whether an account exists.
    Hits,
    /// A code try: durable, and the same statements whatever exists. A code's own try counter
    /// is new for each code an account is sent, which an unknown identifier's never is: reading
    /// first would tell them apart by timing.
    Try,
}

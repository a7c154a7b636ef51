//! Fixed-window counters: one atomic upsert per hit, so limits hold across instances.
//! `hit_by_statements!` is the rate-limit transaction as statements, for SQLite; PostgreSQL runs
//! `reset_hit` (`migrations/postgres-functions.sql`) and MySQL `backend/mysql_batches.rs`.

macro_rules! limit_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// Starts counters afresh (count 0, window from `now`), in one transaction.
        pub $($async)* fn restart(conn: &mut $C, now: i64, counters: &[CounterHit]) -> QueryResult<()> {
            let counters = counters.to_vec();
            conn.transaction($($async)* move |conn| restart_all(conn, now, &counters)$($aw)*)
            $($aw)*
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

/// One request's rate-limit hits and the counters it restarts when none goes over (see
/// [`reset_core::store::ResetState::hit`]): a job of the batched rate-limit transactions
/// (PostgreSQL, MySQL).
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[derive(Debug, Clone)]
pub struct HitJob {
    pub now: i64,
    pub hits: Vec<reset_core::rate_limit::CounterHit>,
    pub then_restart: Vec<reset_core::rate_limit::CounterHit>,
}

/// A counter's window in milliseconds.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub fn window_ms(c: &reset_core::rate_limit::CounterHit) -> i64 {
    c.limit.window().num_milliseconds()
}

/// The state of a counter from its row.
pub fn state(
    now: i64,
    window_ms: i64,
    count: i32,
    start: i64,
) -> reset_core::rate_limit::CounterState {
    let left_ms = (start + window_ms - now).max(0);
    reset_core::rate_limit::CounterState {
        count: u32::try_from(count).unwrap_or(0),
        resets_in_secs: u64::try_from((left_ms + 999) / 1000).unwrap_or(0),
    }
}

/// The rate-limit transaction of a request, statement by statement (SQLite; PostgreSQL and
/// MySQL batch theirs: `reset_hit`, `backend/mysql_batches.rs`).
#[cfg(feature = "sqlite")]
macro_rules! hit_by_statements {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// See [`reset_core::store::Store::hit`]: one transaction.
        pub $($async)* fn hit(
            conn: &mut $C,
            now: i64,
            hits: &[CounterHit],
            then_restart: &[CounterHit],
        ) -> QueryResult<Vec<CounterState>> {
            let (hits, then_restart) = (hits.to_vec(), then_restart.to_vec());
            conn.transaction($($async)* move |conn| {
                // Counters may lose their last hits in a database crash; nothing else may.
                relax_durability(conn)$($aw)*?;
                let mut states = Vec::with_capacity(hits.len());
                for h in &hits {
                    states.push(bump(conn, now, h)$($aw)*?);
                }
                if !states.iter().zip(&hits).any(|(s, h)| s.exceeds(&h.limit)) {
                    restart_all(conn, now, &then_restart)$($aw)*?;
                }
                Ok(states)
            })
            $($aw)*
        }
    };
}

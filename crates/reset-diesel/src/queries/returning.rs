//! The statements whose SQL differs by backend: counters bumped with `INSERT … ON CONFLICT …
//! RETURNING` (PostgreSQL and SQLite; MySQL has its own in `backend/mysql.rs`), and a message
//! dead-lettered with `UPDATE … RETURNING`.

macro_rules! returning_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// Bumps a counter, restarting its window when the old one has passed, in one
        /// `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement. `expires_at` keeps the
        /// window's end, for the retention sweep.
        pub $($async)* fn bump(conn: &mut $C, now: i64, hit: &CounterHit) -> QueryResult<CounterState> {
            let window = hit.limit.window().num_milliseconds();
            let expired = || rate_limits::window_start.le(now - window);
            let (count, start): (i32, i64) = diesel::insert_into(rate_limits::table)
                .values((
                    rate_limits::key.eq(&hit.key),
                    rate_limits::window_start.eq(now),
                    rate_limits::count.eq(1),
                    rate_limits::expires_at.eq(now + window),
                ))
                .on_conflict(rate_limits::key)
                .do_update()
                .set((
                    rate_limits::count.eq(diesel::dsl::case_when(expired(), 1.into_sql::<Integer>())
                        .otherwise(rate_limits::count + 1)),
                    rate_limits::window_start.eq(diesel::dsl::case_when(expired(), now.into_sql::<BigInt>())
                        .otherwise(rate_limits::window_start)),
                    rate_limits::expires_at.eq(diesel::dsl::case_when(expired(), (now + window).into_sql::<BigInt>())
                        .otherwise(rate_limits::window_start + window)),
                ))
                .returning((rate_limits::count, rate_limits::window_start))
                .get_result(conn)
                $($aw)*?;
            Ok(state(now, window, count, start))
        }

        /// Starts counters afresh, inside the caller's transaction.
        pub $($async)* fn restart_all(conn: &mut $C, now: i64, counters: &[CounterHit]) -> QueryResult<()> {
            {
                for c in counters {
                    let end = now + c.limit.window().num_milliseconds();
                    diesel::insert_into(rate_limits::table)
                        .values((rate_limits::key.eq(&c.key), rate_limits::window_start.eq(now), rate_limits::count.eq(0), rate_limits::expires_at.eq(end)))
                        .on_conflict(rate_limits::key)
                        .do_update()
                        .set((rate_limits::window_start.eq(now), rate_limits::count.eq(0), rate_limits::expires_at.eq(end)))
                        .execute(conn)$($aw)*?;
                }
                Ok(())
            }
        }

        /// Marks a message dead unless it was sent or dead already; returns its user, kind and
        /// channel when it did.
        pub $($async)* fn mark_dead(conn: &mut $C, now: i64, id: &str, reason: &str) -> QueryResult<Option<(Option<String>, String, String)>> {
            diesel::update(outbox::table.find(id))
                .filter(outbox::sent_at.is_null())
                .filter(outbox::dead_at.is_null())
                .set((outbox::dead_at.eq(now), outbox::last_error.eq(reason)))
                .returning((outbox::user_id, outbox::kind, outbox::channel))
                .get_result(conn)
                $($aw)*
                .optional()
        }
    };
}

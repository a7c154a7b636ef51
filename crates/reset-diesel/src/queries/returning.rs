//! The statements whose SQL differs by backend: a message dead-lettered with `UPDATE …
//! RETURNING` (PostgreSQL and SQLite; MySQL has its own in `backend/mysql.rs`).

macro_rules! returning_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
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

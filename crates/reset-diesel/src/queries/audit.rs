//! The audit trail: append-only (the retention sweep removes old events), never a secret in
//! `details`.

macro_rules! audit_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// Appends one audit event.
        pub $($async)* fn audit(
            conn: &mut $C,
            now: i64,
            user_id: Option<&str>,
            kind: &str,
            ip: Option<&str>,
            details: serde_json::Value,
        ) -> QueryResult<()> {
            diesel::insert_into(audit_events::table)
                .values(audit_row(&new_id(), now, user_id, kind, ip, &details))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }

        /// One audit event's columns (also the statement path's `audit_once`, `secrets.rs`).
        fn audit_row<'a>(
            id: &'a str,
            now: i64,
            user_id: Option<&'a str>,
            kind: &'a str,
            ip: Option<&'a str>,
            details: &serde_json::Value,
        ) -> (
            diesel::dsl::Eq<audit_events::id, &'a str>,
            diesel::dsl::Eq<audit_events::user_id, Option<&'a str>>,
            diesel::dsl::Eq<audit_events::kind, &'a str>,
            diesel::dsl::Eq<audit_events::at, i64>,
            diesel::dsl::Eq<audit_events::ip, Option<&'a str>>,
            diesel::dsl::Eq<audit_events::details, String>,
        ) {
            (
                audit_events::id.eq(id),
                audit_events::user_id.eq(user_id),
                audit_events::kind.eq(kind),
                audit_events::at.eq(now),
                audit_events::ip.eq(ip),
                audit_events::details.eq(details.to_string()),
            )
        }

        /// Deletes at most `batch` audit events from before `before`.
        pub $($async)* fn sweep_audit(conn: &mut $C, before: i64, batch: i64) -> QueryResult<usize> {
            let old = audit_events::table
                .filter(audit_events::at.lt(before))
                .select(audit_events::id)
                .limit(batch)
                .load::<String>(conn)
                $($aw)*?;
            // Two statements, ids first: not every backend takes LIMIT inside IN (…).
            diesel::delete(audit_events::table.filter(audit_events::id.eq_any(&old)))
                .execute(conn)
                $($aw)*
        }

        /// Audit event kinds of a user, oldest first (for tests and operators).
        pub $($async)* fn audit_kinds(conn: &mut $C, user_id: &str) -> QueryResult<Vec<String>> {
            audit_events::table
                .filter(audit_events::user_id.eq(user_id))
                .order((audit_events::at.asc(), audit_events::id.asc()))
                .select(audit_events::kind)
                .load(conn)
                $($aw)*
        }
    };
}

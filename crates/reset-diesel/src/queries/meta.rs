//! The database itself: reachable, and which migrations it has.

macro_rules! meta_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        pub $($async)* fn ping(conn: &mut $C) -> QueryResult<()> {
            diesel::select(1.into_sql::<Integer>()).execute(conn)$($aw)*?;
            Ok(())
        }

        /// Rows in the tables the retention sweep keeps small (the decoy not counted).
        pub $($async)* fn row_counts(conn: &mut $C) -> QueryResult<RowCounts> {
            let n = |c: i64| u64::try_from(c).unwrap_or(0);
            Ok(RowCounts {
                reset_secrets: n(reset_secrets::table.filter(reset_secrets::id.ne(DECOY_ID)).count().get_result(conn)$($aw)*?),
                rate_limits: n(rate_limits::table.count().get_result(conn)$($aw)*?),
                outbox: n(outbox::table.count().get_result(conn)$($aw)*?),
                audit_events: n(audit_events::table.count().get_result(conn)$($aw)*?),
            })
        }

        /// The versions in Diesel's migration table.
        pub $($async)* fn applied_versions(conn: &mut $C) -> QueryResult<Vec<String>> {
            crate::schema::__diesel_schema_migrations::table
                .select(crate::schema::__diesel_schema_migrations::version)
                .load(conn)$($aw)*
        }
    };
}

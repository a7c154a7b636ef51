//! The database itself: reachable, and which migrations it has.

macro_rules! meta_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        pub $($async)* fn ping(conn: &mut $C) -> QueryResult<()> {
            diesel::select(1.into_sql::<Integer>()).execute(conn)$($aw)*?;
            Ok(())
        }

        /// The versions in Diesel's migration table.
        pub $($async)* fn applied_versions(conn: &mut $C) -> QueryResult<Vec<String>> {
            crate::schema::__diesel_schema_migrations::table
                .select(crate::schema::__diesel_schema_migrations::version)
                .load(conn)$($aw)*
        }
    };
}

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

        /// Live reset secrets and unrevoked admin tokens whose stored hashes start with
        /// `prefix` (a key id and `:`, no LIKE wildcards in it): what still needs that key.
        /// `bare`: bare hashes (from before key ids, the first key's) count too.
        pub $($async)* fn key_usage(conn: &mut $C, prefix: &str, bare: bool, now: i64) -> QueryResult<(u64, u64)> {
            let n = |c: i64| u64::try_from(c).unwrap_or(0);
            let pattern = format!("{prefix}%");
            // A bare hash holds no ':'; with `bare` off this second pattern matches nothing.
            let untagged = if bare { "%:%" } else { "%" };
            let secrets = reset_secrets::table
                .filter(
                    reset_secrets::secret_hash
                        .like(&pattern)
                        .or(reset_secrets::secret_hash.not_like(untagged)),
                )
                .filter(reset_secrets::id.ne(DECOY_ID))
                .filter(reset_secrets::used_at.is_null())
                .filter(reset_secrets::superseded_at.is_null())
                .filter(reset_secrets::expires_at.gt(now))
                .count()
                .get_result(conn)$($aw)*?;
            let tokens = admin_tokens::table
                .filter(
                    admin_tokens::token_hash
                        .like(&pattern)
                        .or(admin_tokens::token_hash.not_like(untagged)),
                )
                .filter(admin_tokens::revoked_at.is_null())
                .count()
                .get_result(conn)$($aw)*?;
            Ok((n(secrets), n(tokens)))
        }

        /// The versions in Diesel's migration table.
        pub $($async)* fn applied_versions(conn: &mut $C) -> QueryResult<Vec<String>> {
            crate::schema::__diesel_schema_migrations::table
                .select(crate::schema::__diesel_schema_migrations::version)
                .load(conn)$($aw)*
        }
    };
}

//! Administrators' bearer tokens (hashes only).

macro_rules! admin_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        pub $($async)* fn insert_admin_token(conn: &mut $C, t: &NewAdminToken) -> QueryResult<()> {
            diesel::insert_into(admin_tokens::table)
                .values((
                    admin_tokens::id.eq(&t.token.id),
                    admin_tokens::name.eq(&t.token.name),
                    admin_tokens::token_hash.eq(&t.hash),
                    admin_tokens::scopes.eq(t.token.scopes.join(" ")),
                    admin_tokens::created_at.eq(ms(t.token.created_at)),
                ))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }

        pub $($async)* fn admin_token_by_hash(conn: &mut $C, hash: &str) -> QueryResult<Option<(AdminToken, String)>> {
            let row: Option<AdminTokenRow> = admin_tokens::table
                .filter(admin_tokens::token_hash.eq(hash))
                .select(AdminTokenRow::as_select())
                .first(conn)
                $($aw)*
                .optional()?;
            Ok(row.map(|r| {
                let hash = r.token_hash.clone();
                (r.into_token(), hash)
            }))
        }

        pub $($async)* fn list_admin_tokens(conn: &mut $C) -> QueryResult<Vec<AdminToken>> {
            let rows: Vec<AdminTokenRow> = admin_tokens::table
                .order((admin_tokens::created_at.asc(), admin_tokens::id.asc()))
                .select(AdminTokenRow::as_select())
                .load(conn)
                $($aw)*?;
            Ok(rows.into_iter().map(AdminTokenRow::into_token).collect())
        }

        pub $($async)* fn revoke_admin_token(conn: &mut $C, now: i64, id: &str) -> QueryResult<bool> {
            let n = diesel::update(admin_tokens::table.find(id))
                .filter(admin_tokens::revoked_at.is_null())
                .set(admin_tokens::revoked_at.eq(now))
                .execute(conn)
                $($aw)*?;
            Ok(n == 1)
        }
    };
}

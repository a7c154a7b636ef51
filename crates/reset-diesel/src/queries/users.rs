//! Accounts and their addresses.

macro_rules! user_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// The account's addresses, in order; for a row that was not found, the same query
        /// under an id that matches nothing.
        $($async)* fn with_emails(conn: &mut $C, row: Option<UserRow>) -> QueryResult<Option<User>> {
            let id = row.as_ref().map_or(String::new(), |r| r.id.clone());
            let emails = user_emails::table
                .filter(user_emails::user_id.eq(&id))
                .order(user_emails::position.asc())
                .select(user_emails::address)
                .load::<String>(conn)
                $($aw)*?;
            Ok(row.map(|r| r.into_user(emails)))
        }

        pub $($async)* fn user(conn: &mut $C, id: &str) -> QueryResult<Option<User>> {
            if id == DECOY_ID {
                return Ok(None);
            }
            let row = users::table
                .find(id)
                .select(UserRow::as_select())
                .first(conn)
                $($aw)*
                .optional()?
                // Byte for byte: MySQL's collations pad, so `id ` would find `id` (and the
                // decoy) there.
                .filter(|r: &UserRow| r.id == id);
            with_emails(conn, row)$($aw)*
        }

        pub $($async)* fn create_user(conn: &mut $C, now: i64, new: NewUser) -> QueryResult<User> {
            let id = new_id();
            conn.transaction($($async)* move |conn| {
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(&id),
                        users::username.eq(&new.username),
                        users::password_hash.eq(&new.password_hash),
                        users::org_id
                            .eq(new.org_id.clone().unwrap_or_else(|| DEFAULT_ORG.to_owned())),
                        users::locale.eq(&new.locale),
                        users::phone.eq(&new.phone),
                        users::password_changed_at.eq(new.password_hash.as_ref().map(|_| now)),
                        users::sequence.eq(1i64),
                        users::created_at.eq(now),
                    ))
                    .execute(conn)
                    $($aw)*?;
                for (position, address) in new.emails.iter().enumerate() {
                    diesel::insert_into(user_emails::table)
                        .values((
                            user_emails::address.eq(address),
                            user_emails::user_id.eq(&id),
                            user_emails::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                            user_emails::verified.eq(false),
                        ))
                        .execute(conn)
                        $($aw)*?;
                }
                let row = users::table
                    .find(&id)
                    .select(UserRow::as_select())
                    .first(conn)
                    $($aw)*?;
                with_emails(conn, Some(row))$($aw)*?.ok_or(diesel::result::Error::NotFound)
            })
            $($aw)*
        }

        pub $($async)* fn list_users(conn: &mut $C) -> QueryResult<Vec<User>> {
            let rows = users::table
                .filter(users::id.ne(DECOY_ID))
                .order(users::created_at.asc())
                .select(UserRow::as_select())
                .load(conn)
                $($aw)*?;
            let mut emails: Vec<(String, String)> = user_emails::table
                .order((user_emails::user_id.asc(), user_emails::position.asc()))
                .select((user_emails::user_id, user_emails::address))
                .load(conn)
                $($aw)*?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    let mine: Vec<String> = emails
                        .iter()
                        .filter(|(u, _)| *u == r.id)
                        .map(|(_, a)| a.clone())
                        .collect();
                    emails.retain(|(u, _)| *u != r.id);
                    r.into_user(mine)
                })
                .collect())
        }

        /// Up to `n` earlier hashes, newest first.
        pub $($async)* fn password_history(conn: &mut $C, user_id: &str, n: u32) -> QueryResult<Vec<String>> {
            password_history::table
                .filter(password_history::user_id.eq(user_id))
                .order((password_history::created_at.desc(), password_history::id.desc()))
                .select(password_history::password_hash)
                .limit(i64::from(n))
                .load(conn)
                $($aw)*
        }

        /// The built-in directory's password change.
        pub $($async)* fn set_password_hash(conn: &mut $C, id: &str, hash: &str, now: i64) -> QueryResult<()> {
            diesel::update(users::table.find(id))
                .set((users::password_hash.eq(hash), users::password_changed_at.eq(now), users::sequence.eq(users::sequence + 1)))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }

        /// One more change of the account (its `sequence`).
        pub $($async)* fn bump_sequence(conn: &mut $C, id: &str) -> QueryResult<()> {
            diesel::update(users::table.find(id))
                .set(users::sequence.eq(users::sequence + 1))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }
    };
}

/// The directory lookup as statements (SQLite, MySQL); PostgreSQL makes the same reads in one
/// call to `reset_find` (`backend/pg/calls.rs`).
#[cfg(any(feature = "sqlite", feature = "mysql"))]
macro_rules! find_by_statements {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// The account both names belong to (or the one name given). Every lookup reads one
        /// account row and its addresses: the named account's, or the decoy's when there is
        /// none (see [`crate::DECOY_ID`]), so no timing tells a known account from an unknown
        /// one.
        pub $($async)* fn find_user(conn: &mut $C, lookup: &AccountLookup) -> QueryResult<Option<User>> {
            let (row, owns) = match (&lookup.username, &lookup.email) {
                (Some(name), email) => {
                    let row: Option<UserRow> = users::table
                        .filter(users::username.eq(name).or(users::id.eq(DECOY_ID)))
                        .order(users::id.eq(DECOY_ID))
                        .select(UserRow::as_select())
                        .first(conn)
                        $($aw)*
                        .optional()?;
                    let owns = match email {
                        Some(e) => {
                            let id = row.as_ref().map_or(String::new(), |r| r.id.clone());
                            let n: i64 = user_emails::table
                                .filter(user_emails::address.eq(e))
                                .filter(user_emails::user_id.eq(&id))
                                .count()
                                .get_result(conn)
                                $($aw)*?;
                            n > 0
                        }
                        None => true,
                    };
                    (row, owns)
                }
                (None, Some(e)) => {
                    let row: Option<UserRow> = users::table
                        .inner_join(user_emails::table)
                        // The decoy's address is the empty string: both on the address index.
                        .filter(user_emails::address.eq_any([e.as_str(), ""]))
                        .order(users::id.eq(DECOY_ID))
                        .select(UserRow::as_select())
                        .first(conn)
                        $($aw)*
                        .optional()?;
                    (row, true)
                }
                (None, None) => (None, false),
            };
            let user = with_emails(conn, row)$($aw)*?;
            Ok(user.filter(|u| owns && u.id != DECOY_ID))
        }
    };
}

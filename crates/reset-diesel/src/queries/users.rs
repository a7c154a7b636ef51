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

        /// Creates `new`, all or none, each with its `user_created` event; with `dry_run` the
        /// transaction is rolled back. The accounts as written.
        pub $($async)* fn create_accounts(
            conn: &mut $C,
            now: i64,
            new: Vec<NewUser>,
            by: &str,
            dry_run: bool,
        ) -> QueryResult<Vec<User>> {
            let users: Vec<User> = new
                .into_iter()
                .map(|n| UserRow {
                    id: new_id(),
                    username: n.username,
                    password_changed_at: n.password_hash.as_ref().map(|_| now),
                    password_hash: n.password_hash,
                    org_id: n.org_id.unwrap_or_else(|| DEFAULT_ORG.to_owned()),
                    locale: n.locale,
                    phone: n.phone,
                    sequence: 1,
                    created_at: now,
                    disabled: n.disabled,
                }
                .into_user(n.emails))
                .collect();
            let details = serde_json::json!({ "by": by });
            let written = conn.transaction($($async)* |conn| {
                // Rows in chunks: one statement per chunk keeps every backend under its limit
                // of bound parameters.
                for chunk in users.chunks(200) {
                    let rows: Vec<_> = chunk.iter().map(user_values).collect();
                    diesel::insert_into(users::table).values(rows).execute(conn)$($aw)*?;
                    let addresses: Vec<_> = chunk
                        .iter()
                        .flat_map(|u| u.emails.iter().enumerate().map(move |(i, a)| email_values(&u.id, i, a)))
                        .collect();
                    if !addresses.is_empty() {
                        diesel::insert_into(user_emails::table).values(addresses).execute(conn)$($aw)*?;
                    }
                    let events: Vec<_> = chunk
                        .iter()
                        .map(|u| (u, new_id()))
                        .collect::<Vec<_>>();
                    let events: Vec<_> = events
                        .iter()
                        .map(|(u, id)| audit_row(id, now, Some(&u.id), "user_created", None, &details))
                        .collect();
                    diesel::insert_into(audit_events::table).values(events).execute(conn)$($aw)*?;
                }
                if dry_run {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                Ok(())
            })
            $($aw)*;
            match written {
                Err(diesel::result::Error::RollbackTransaction) if dry_run => Ok(users),
                other => other.map(|()| users),
            }
        }

        /// Which of `usernames` and `addresses` belong to an account, with its id.
        pub $($async)* fn taken(
            conn: &mut $C,
            usernames: &[String],
            addresses: &[String],
        ) -> QueryResult<Vec<(String, String)>> {
            let mut taken = Vec::new();
            for chunk in usernames.chunks(500) {
                let found: Vec<(String, String)> = users::table
                    .filter(users::username.eq_any(chunk))
                    .filter(users::id.ne(DECOY_ID))
                    .select((users::username, users::id))
                    .load(conn)
                    $($aw)*?;
                taken.extend(found);
            }
            for chunk in addresses.chunks(500) {
                let found: Vec<(String, String)> = user_emails::table
                    .filter(user_emails::address.eq_any(chunk))
                    .filter(user_emails::user_id.ne(DECOY_ID))
                    .select((user_emails::address, user_emails::user_id))
                    .load(conn)
                    $($aw)*?;
                taken.extend(found);
            }
            Ok(taken)
        }

        /// Applies `change` to the account and counts it, in one transaction with its
        /// `user_updated` event; ends its live secrets when the change says so.
        pub $($async)* fn update_account(
            conn: &mut $C,
            now: i64,
            id: &str,
            change: &AccountChange,
            by: &str,
        ) -> QueryResult<Option<User>> {
            if id == DECOY_ID {
                return Ok(None);
            }
            conn.transaction($($async)* |conn| {
                let bumped = diesel::update(users::table.find(id))
                    .set(users::sequence.eq(users::sequence + 1))
                    .execute(conn)
                    $($aw)*?;
                if bumped == 0 {
                    return Ok(None);
                }
                let fields = AccountFields {
                    phone: change.phone.clone(),
                    locale: change.locale.clone(),
                    disabled: change.disabled,
                };
                if fields.phone.is_some() || fields.locale.is_some() || fields.disabled.is_some() {
                    diesel::update(users::table.find(id)).set(&fields).execute(conn)$($aw)*?;
                }
                if let Some(emails) = &change.emails {
                    diesel::delete(user_emails::table.filter(user_emails::user_id.eq(id)))
                        .execute(conn)
                        $($aw)*?;
                    let rows: Vec<_> = emails.iter().enumerate().map(|(i, a)| email_values(id, i, a)).collect();
                    if !rows.is_empty() {
                        diesel::insert_into(user_emails::table).values(rows).execute(conn)$($aw)*?;
                    }
                }
                if change.ends_secrets() {
                    end_live_secrets(conn, id, now)$($aw)*?;
                }
                let details = serde_json::json!({ "by": by, "changed": change_names(change) });
                diesel::insert_into(audit_events::table)
                    .values(audit_row(&new_id(), now, Some(id), "user_updated", None, &details))
                    .execute(conn)
                    $($aw)*?;
                user(conn, id)$($aw)*
            })
            $($aw)*
        }

        /// Deletes the account with its addresses and password history and ends its live
        /// secrets, with a `user_deleted` event; `false` when there was none.
        pub $($async)* fn delete_account(conn: &mut $C, now: i64, id: &str, by: &str) -> QueryResult<bool> {
            if id == DECOY_ID {
                return Ok(false);
            }
            conn.transaction($($async)* |conn| {
                diesel::delete(user_emails::table.filter(user_emails::user_id.eq(id)))
                    .execute(conn)
                    $($aw)*?;
                let deleted = diesel::delete(users::table.find(id)).execute(conn)$($aw)*?;
                if deleted == 0 {
                    return Ok(false);
                }
                diesel::delete(password_history::table.filter(password_history::user_id.eq(id)))
                    .execute(conn)
                    $($aw)*?;
                end_live_secrets(conn, id, now)$($aw)*?;
                let details = serde_json::json!({ "by": by });
                diesel::insert_into(audit_events::table)
                    .values(audit_row(&new_id(), now, Some(id), "user_deleted", None, &details))
                    .execute(conn)
                    $($aw)*?;
                Ok(true)
            })
            $($aw)*
        }

        /// Supersedes the account's live secrets (they stop working at once).
        $($async)* fn end_live_secrets(conn: &mut $C, id: &str, now: i64) -> QueryResult<()> {
            diesel::update(
                reset_secrets::table
                    .filter(reset_secrets::user_id.eq(id))
                    .filter(reset_secrets::used_at.is_null())
                    .filter(reset_secrets::superseded_at.is_null()),
            )
            .set(reset_secrets::superseded_at.eq(now))
            .execute(conn)
            $($aw)*?;
            Ok(())
        }

        /// Up to `limit` accounts whose id sorts after `after`, by id.
        pub $($async)* fn list_accounts(conn: &mut $C, after: Option<&str>, limit: u32) -> QueryResult<Vec<User>> {
            let rows: Vec<UserRow> = users::table
                .filter(users::id.ne(DECOY_ID))
                .filter(users::id.gt(after.unwrap_or("")))
                .order(users::id.asc())
                .limit(i64::from(limit))
                .select(UserRow::as_select())
                .load(conn)
                $($aw)*?;
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            let emails: Vec<(String, String)> = user_emails::table
                .filter(user_emails::user_id.eq_any(&ids))
                .order((user_emails::user_id.asc(), user_emails::position.asc()))
                .select((user_emails::user_id, user_emails::address))
                .load(conn)
                $($aw)*?;
            let mut by_user: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
            for (user_id, address) in emails {
                by_user.entry(user_id).or_default().push(address);
            }
            Ok(rows
                .into_iter()
                .map(|r| {
                    let mine = by_user.remove(&r.id).unwrap_or_default();
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

/// The directory lookup as statements (SQLite); PostgreSQL makes the same reads for a batch of
/// lookups in one call to `reset_find` (`backend/pg/calls.rs`), MySQL in three statements
/// (`backend/mysql_find.rs`).
#[cfg(feature = "sqlite")]
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

//! Issuing, finding, counting and consuming reset secrets.

macro_rules! secret_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// `used_at IS NULL AND superseded_at IS NULL`: the secret was not used or killed.
        fn unspent() -> diesel::dsl::And<diesel::dsl::IsNull<reset_secrets::used_at>, diesel::dsl::IsNull<reset_secrets::superseded_at>> {
            reset_secrets::used_at.is_null().and(reset_secrets::superseded_at.is_null())
        }

        pub $($async)* fn live_code(conn: &mut $C, user_id: &str, now: i64) -> QueryResult<Option<SecretRecord>> {
            let row: Option<SecretRow> = reset_secrets::table
                .filter(reset_secrets::user_id.eq(user_id))
                .filter(reset_secrets::kind.eq(SecretKind::Code.as_str()))
                .filter(unspent())
                .filter(reset_secrets::expires_at.gt(now))
                .order(reset_secrets::created_at.desc())
                .select(SecretRow::as_select())
                .first(conn)
                $($aw)*
                .optional()?;
            Ok(row.and_then(SecretRow::into_record))
        }

        /// See [`reset_core::store::ResetState::code_try`], planned by
        /// [`reset_core::counters::TryAsk`]. The same statements run whether or not `user_id`
        /// names an account with a live code, and whether or not the guessing address's share
        /// is spent: one read of a secret row (the decoy code when there is no live one), two
        /// locks of counters (the identifier's and the share's, then two the first decides) and
        /// one write of the four. No timing tells the cases apart.
        pub $($async)* fn code_try(conn: &mut $C, now: i64, counter: &CounterHit, user_id: &str, budget: Limit, share: &CounterHit) -> QueryResult<CodeTry> {
            let ask = TryAsk {
                now,
                counter: counter.clone(),
                user_id: user_id.to_owned(),
                budget,
                share: share.clone(),
            };
            conn.transaction($($async)* move |conn| {
                // The account's newest live code, else the decoy's: one row read either way.
                let row: Option<SecretRow> = reset_secrets::table
                    .filter(
                        reset_secrets::user_id.eq(&ask.user_id)
                            .and(reset_secrets::kind.eq(SecretKind::Code.as_str()))
                            .and(unspent())
                            .and(reset_secrets::expires_at.gt(now))
                            .or(reset_secrets::id.eq(DECOY_ID)),
                    )
                    .order((reset_secrets::id.eq(DECOY_ID), reset_secrets::request_id.desc()))
                    .select(SecretRow::as_select())
                    .first(conn)
                    $($aw)*
                    .optional()?;
                let code = row.and_then(SecretRow::into_record).filter(|c| c.id != DECOY_ID);
                let mut counters = Counters::new();
                counters.read(conn.lock_counters(&ask.first_keys(), LockFor::Try)$($aw)*?);
                let tally = ask.tally(&mut counters);
                counters.read(conn.lock_counters(&tally.then_keys(&ask, code.as_ref()), LockFor::Try)$($aw)*?);
                let done = tally.finish(&ask, &mut counters, code);
                conn.write_counters(&crate::queries::limits::counter_rows(&counters))$($aw)*?;
                Ok(done)
            })
            $($aw)*
        }

        /// Deletes at most `batch` secrets expired before `before`.
        pub $($async)* fn sweep_secrets(conn: &mut $C, before: i64, batch: i64) -> QueryResult<usize> {
            let old = reset_secrets::table
                .filter(reset_secrets::expires_at.le(before))
                .select(reset_secrets::id)
                .limit(batch)
                .load::<String>(conn)
                $($aw)*?;
            // Two statements, ids first: not every backend takes LIMIT inside IN (…).
            diesel::delete(reset_secrets::table.filter(reset_secrets::id.eq_any(&old)))
                .execute(conn)
                $($aw)*
        }

        /// Consumes the secret in one statement: unspent and unexpired. A code's tries are
        /// counted by `code_try`, which hands out a code only while it has tries left.
        pub $($async)* fn consume(conn: &mut $C, now: i64, secret_id: &str, user_id: &str) -> QueryResult<bool> {
            let consumed = diesel::update(reset_secrets::table)
                .filter(reset_secrets::id.eq(secret_id))
                .filter(reset_secrets::user_id.eq(user_id))
                .filter(unspent())
                .filter(reset_secrets::expires_at.gt(now))
                .set(reset_secrets::used_at.eq(now))
                .execute(conn)
                $($aw)*?;
            Ok(consumed == 1)
        }

        /// Un-consumes a secret, only if this consumption is still the one recorded.
        pub $($async)* fn release(conn: &mut $C, secret_id: &str, used_at: i64) -> QueryResult<()> {
            diesel::update(reset_secrets::table)
                .filter(reset_secrets::id.eq(secret_id))
                .filter(reset_secrets::used_at.eq(used_at))
                .set(reset_secrets::used_at.eq(None::<i64>))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }

        /// See [`reset_core::store::Store::after_reset`].
        pub $($async)* fn after_reset(conn: &mut $C, c: Completion) -> QueryResult<()> {
            conn.transaction($($async)* move |conn| {
                let now = ms(c.now);
                if c.keep_history > 0 {
                    if let Some(old) = &c.previous_hash {
                        diesel::insert_into(password_history::table)
                            .values((
                                password_history::id.eq(new_id()),
                                password_history::user_id.eq(&c.user_id),
                                password_history::password_hash.eq(old),
                                password_history::created_at.eq(now),
                            ))
                            .execute(conn)
                            $($aw)*?;
                    }
                }
                diesel::update(reset_secrets::table)
                    .filter(reset_secrets::user_id.eq(&c.user_id))
                    .filter(unspent())
                    .set(reset_secrets::superseded_at.eq(now))
                    .execute(conn)
                    $($aw)*?;
                if let Some(to) = &c.notice_to {
                    let payload = MessagePayload { username: Some(c.username.clone()), traceparent: c.traceparent.clone(), ..MessagePayload::default() };
                    enqueue(conn, now, Some(&c.user_id), MessageKind::PasswordChanged, Channel::Email, to, &c.locale, &payload)$($aw)*?;
                }
                audit(conn, now, Some(&c.user_id), c.audit_kind, c.ip.as_deref(), serde_json::json!({ "via": c.via }))$($aw)*?;
                enqueue_events(conn, now, &c.user_id, &c.events)$($aw)*?;
                Ok(())
            })
            $($aw)*
        }

        /// Kills the request's live secrets; audits when there were any.
        pub $($async)* fn cancel(conn: &mut $C, now: i64, request_id: &str, ip: Option<String>, events: Vec<EventDelivery>) -> QueryResult<bool> {
            let request_id = request_id.to_owned();
            conn.transaction($($async)* move |conn| {
                let user_id: Option<String> = reset_secrets::table
                    .filter(reset_secrets::request_id.eq(&request_id))
                    .select(reset_secrets::user_id)
                    .first(conn)
                    $($aw)*
                    .optional()?;
                let killed = diesel::update(reset_secrets::table)
                    .filter(reset_secrets::request_id.eq(&request_id))
                    .filter(unspent())
                    .set(reset_secrets::superseded_at.eq(now))
                    .execute(conn)
                    $($aw)*?;
                if killed > 0 {
                    audit(conn, now, user_id.as_deref(), "password_reset_cancelled", ip.as_deref(), serde_json::json!({ "request_id": request_id }))$($aw)*?;
                    if let Some(user_id) = &user_id {
                        enqueue_events(conn, now, user_id, &events)$($aw)*?;
                    }
                }
                Ok(killed > 0)
            })
            $($aw)*
        }
    };
}

/// The secrets several hashes name, in order, in one statement: the secret lookups that queue
/// together (`backend/batch.rs`) on PostgreSQL and MySQL.
#[cfg(any(feature = "postgres", feature = "mysql"))]
macro_rules! secrets_by_hashes {
    ($C:ty) => {
        /// The secrets `hashes` name, in order: one statement for the batch.
        pub async fn secrets_by_hash(
            conn: &mut $C,
            hashes: &[String],
        ) -> diesel::result::QueryResult<Vec<Option<reset_core::store::SecretRecord>>> {
            use crate::schema::reset_secrets;
            use diesel::{ExpressionMethods as _, QueryDsl as _, SelectableHelper as _};
            use diesel_async::RunQueryDsl as _;
            let rows: Vec<crate::rows::SecretRow> = reset_secrets::table
                .filter(reset_secrets::secret_hash.eq_any(hashes))
                .select(crate::rows::SecretRow::as_select())
                .load(conn)
                .await?;
            let by_hash: std::collections::HashMap<String, reset_core::store::SecretRecord> = rows
                .into_iter()
                .filter_map(|r| {
                    let hash = r.secret_hash.clone();
                    r.into_record().map(|record| (hash, record))
                })
                .collect();
            Ok(hashes.iter().map(|h| by_hash.get(h).cloned()).collect())
        }
    };
}

/// The secret lookup as a statement (SQLite; MySQL's and PostgreSQL's request paths look up the
/// hashes that queue together in one statement: `secrets_by_hashes!`).
#[cfg(feature = "sqlite")]
macro_rules! secret_by_statements {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        pub $($async)* fn secret_by_hash(conn: &mut $C, hash: &str) -> QueryResult<Option<SecretRecord>> {
            let row: Option<SecretRow> = reset_secrets::table
                .filter(reset_secrets::secret_hash.eq(hash))
                .select(SecretRow::as_select())
                .first(conn)
                $($aw)*
                .optional()?;
            Ok(row.and_then(SecretRow::into_record))
        }
    };
}

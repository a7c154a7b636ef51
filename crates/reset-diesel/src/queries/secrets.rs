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

        /// See [`reset_core::store::ResetState::code_try`]. The same five statements run whether
        /// or not `user_id` names an account with a live code, and whether or not the guessing
        /// address's share is spent, each reading or writing one row
        /// (the decoy code is read when there is no live one; the code's own try count is a
        /// counter, `codetry:{secret id}`, else `codetry:none:{user_id}`): no timing tells the
        /// cases apart.
        pub $($async)* fn code_try(conn: &mut $C, now: i64, counter: &CounterHit, user_id: &str, budget: Limit, share: &CounterHit) -> QueryResult<CodeTry> {
            let (counter, user_id, share) = (counter.clone(), user_id.to_owned(), share.clone());
            conn.transaction($($async)* move |conn| {
                let state = bump(conn, now, &counter)$($aw)*?;
                // The account's newest live code, else the decoy's: one row read either way.
                let row: Option<SecretRow> = reset_secrets::table
                    .filter(
                        reset_secrets::user_id.eq(&user_id)
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
                let own = match &code {
                    Some(c) => format!("codetry:{}", c.id),
                    None => format!("codetry:none:{user_id}"),
                };
                // The guessing address's share of the account's budget first: past it, the try
                // finds no code and spends nothing more, neither the budget nor the code's own
                // tries, so a stranger can neither spend the owner's budget nor burn the owner's
                // codes from one address.
                let within_share = share.limit.is_off()
                    || bump(conn, now, &share)$($aw)*?.count <= share.limit.max;
                // Past the share the same two writes go to counters of the share's own (two per
                // account and address, swept with it), so such a try costs what any other does:
                // its timing cannot tell whose share is spent (a known account's identifiers
                // share one; each unknown identifier has its own).
                let (own, spent) = if within_share {
                    (own, guess_budget_key(&user_id))
                } else {
                    (format!("spent:tries:{}", share.key), format!("spent:budget:{}", share.key))
                };
                let tries = bump(conn, now, &CounterHit { key: own, limit: counter.limit })$($aw)*?;
                let guess = if budget.is_off() { Limit::new(1, budget.window_secs.max(1)) } else { budget };
                bump(conn, now, &CounterHit { key: spent, limit: guess })$($aw)*?;
                let code = code
                    .filter(|c| within_share && tries.count <= c.max_attempts)
                    .map(|c| SecretRecord { attempts: tries.count, ..c });
                Ok(CodeTry { counter: state, code })
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

/// The issue transaction, statement by statement (SQLite, MySQL; PostgreSQL runs the same
/// decisions in its `reset_issue` function, `migrations/postgres-functions.sql`).
#[cfg(any(feature = "sqlite", feature = "mysql"))]
macro_rules! issue_by_statements {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        use reset_core::rate_limit::send_cap_key;
        use reset_core::store::{IssueOutcome, IssueRequest, UnknownTarget, Target};
        use crate::rows::{cap_details, int, requested_details};

        /// A counter's count in its current window, without bumping it.
        pub $($async)* fn peek(conn: &mut $C, now: i64, key: &str, limit: Limit) -> QueryResult<u32> {
            let window = limit.window().num_milliseconds();
            let count: Option<i32> = rate_limits::table
                .filter(rate_limits::key.eq(key))
                .filter(rate_limits::window_start.gt(now - window))
                .select(rate_limits::count)
                .first(conn)
                $($aw)*
                .optional()?;
            Ok(count.map_or(0, |c| u32::try_from(c).unwrap_or(0)))
        }

        /// Kills every live secret of the account.
        $($async)* fn supersede(conn: &mut $C, now: i64, user_id: &str) -> QueryResult<usize> {
            diesel::update(reset_secrets::table)
                .filter(reset_secrets::user_id.eq(user_id))
                .filter(unspent())
                .set(reset_secrets::superseded_at.eq(now))
                .execute(conn)
                $($aw)*
        }

        /// See [`reset_core::store::IssueRequest`]: one transaction. An unknown account's
        /// request is audited, then rehearsed: the same statements run for the decoy account
        /// (see [`crate::DECOY_ID`]) in a savepoint that is rolled back, so that the work done
        /// after the answer costs the same whether or not the account exists (it competes with
        /// the answer, and with the next request, for the CPU and this connection). Where the
        /// rehearsal would have issued, counted against the identifier's stand-in account
        /// ([`reset_core::store::UnknownTarget::account`]), its send caps are counted and its
        /// messages queued as decoys, outside the savepoint.
        /// Also whether anything was queued for the outbox worker (messages, events, decoys).
        pub $($async)* fn issue(conn: &mut $C, req: IssueRequest) -> QueryResult<(IssueOutcome, bool)> {
            conn.transaction($($async)* move |conn| {
                let now = ms(req.now);
                // The request's `reset_requested` event, under the request's id: an earlier
                // attempt's, committed, stays as it is; one still in flight is waited for by
                // the unique index.
                let user_id = req.target.known().map(|u| u.user_id.as_str());
                let ip = req.ip.as_deref();
                let details = requested_details(&req);
                if !audit_once(conn, &req.request_id, now, user_id, "reset_requested", ip, details)$($aw)*? {
                    // An earlier attempt of this request committed before its answer was lost
                    // (`retried`): nothing is counted or queued twice, for a known account or
                    // an unknown one.
                    return done_before(conn, &req)$($aw)*;
                }
                let user = match &req.target {
                    Target::Known(user) => user.clone(),
                    Target::Unknown(unknown) => {
                        let queued = rehearse(conn, &req, unknown)$($aw)*?;
                        if queued {
                            let needed = u32::try_from(unknown.recipients).unwrap_or(u32::MAX);
                            bump_caps(conn, now, &req, unknown.account(), needed)$($aw)*?;
                            enqueue_decoys(conn, now, &req, unknown)$($aw)*?;
                        }
                        return Ok((IssueOutcome::NotIssued, queued));
                    }
                };
                let account = user.user_id.clone();
                let outcome = issue_to(conn, &req, user, &account, Some(&req.events))$($aw)*?;
                let queued = matches!(outcome, IssueOutcome::Issued { .. });
                Ok((outcome, queued))
            })
            $($aw)*
        }

        /// Appends one audit event under `id` unless an event with that id is already there (a
        /// retried request's, written by an earlier attempt that committed): whether it wrote.
        $($async)* fn audit_once(
            conn: &mut $C,
            id: &str,
            now: i64,
            user_id: Option<&str>,
            kind: &str,
            ip: Option<&str>,
            details: serde_json::Value,
        ) -> QueryResult<bool> {
            let written = diesel::insert_or_ignore_into(audit_events::table)
                .values(audit_row(id, now, user_id, kind, ip, &details))
                .execute(conn)
                $($aw)*?;
            Ok(written > 0)
        }

        /// What an earlier, committed attempt of the request did: issued if it stored secrets.
        /// Reports something queued, so a worker that was never woken for it is.
        $($async)* fn done_before(conn: &mut $C, req: &IssueRequest) -> QueryResult<(IssueOutcome, bool)> {
            let Some(user) = req.target.known() else {
                return Ok((IssueOutcome::NotIssued, true));
            };
            let done: Option<String> = reset_secrets::table
                .filter(reset_secrets::request_id.eq(&req.request_id))
                .select(reset_secrets::id)
                .first(conn)
                $($aw)*
                .optional()?;
            let outcome = match done {
                Some(_) => IssueOutcome::Issued { user_id: user.user_id.clone() },
                None => IssueOutcome::NotIssued,
            };
            Ok((outcome, true))
        }

        /// Runs an unknown account's request against the decoy account in a savepoint that is
        /// rolled back: whether a known account's request would have issued (counted against
        /// the identifier's stand-in account).
        $($async)* fn rehearse(conn: &mut $C, req: &IssueRequest, unknown: &UnknownTarget) -> QueryResult<bool> {
            // A statement's own error (a deadlock, say) wins over the savepoint's rollback
            // failing after it (MySQL drops savepoints with the transaction).
            let slot = std::sync::Arc::new(std::sync::Mutex::new(None));
            let keep = slot.clone();
            let rolled_back = conn.transaction($($async)* move |conn| {
                // Under the decoy's lock, as an account's request is under its own:
                // rehearsals write the same decoy rows (its code, its secrets), and on MySQL
                // those row locks, held to the commit, would deadlock two rehearsals without
                // it. Rehearsals take turns there (which also keeps two rehearsals of one
                // identifier from both passing its send cap).
                let decoy = crate::decoy_target(unknown.recipients);
                let outcome = issue_to(conn, req, decoy, unknown.account(), None)$($aw)*;
                if let Ok(mut slot) = keep.lock() {
                    *slot = Some(outcome);
                }
                Err::<(), _>(diesel::result::Error::RollbackTransaction)
            })
            $($aw)*;
            let outcome = slot.lock().ok().and_then(|mut slot| slot.take());
            match (outcome, rolled_back) {
                (Some(Err(e)), _) => Err(e),
                (Some(Ok(outcome)), Ok(()) | Err(diesel::result::Error::RollbackTransaction)) => {
                    Ok(matches!(outcome, IssueOutcome::Issued { .. }))
                }
                // The rehearsal never ran to its end (its slot is empty): nothing to queue.
                (None, Ok(()) | Err(diesel::result::Error::RollbackTransaction)) => Ok(false),
                (_, Err(e)) => Err(e),
            }
        }

        /// Counts `needed` messages against `account`'s send caps.
        $($async)* fn bump_caps(conn: &mut $C, now: i64, req: &IssueRequest, account: &str, needed: u32) -> QueryResult<()> {
            for cap in req.send_caps.iter().filter(|c| !c.is_off()) {
                let hit = CounterHit { key: send_cap_key(account, cap), limit: cap.limit };
                for _ in 0..needed {
                    bump(conn, now, &hit)$($aw)*?;
                }
            }
            Ok(())
        }

        /// Queues the decoy messages of an unknown account's request (see
        /// [`reset_core::store::UnknownTarget`]): the message a known account's request would
        /// queue and its webhook events, each marked `decoy` and addressed to no one (an empty
        /// recipient: a server of an older version sharing the database, which does not know
        /// the mark, fails them instead of reaching a real address or endpoint).
        $($async)* fn enqueue_decoys(conn: &mut $C, now: i64, req: &IssueRequest, unknown: &UnknownTarget) -> QueryResult<()> {
            let message = crate::rows::decoy_payload_text(req);
            for _ in 0..unknown.recipients {
                enqueue_row(conn, now, None, req.message_kind, req.channel, "", &unknown.locale, &message, true)$($aw)*?;
            }
            for e in &unknown.events {
                enqueue_row(conn, now, None, MessageKind::Event, Channel::Webhook, "", "", &payload_text(&e.payload()), true)$($aw)*?;
            }
            Ok(())
        }

        /// The issue transaction's part for an account: what a known account's request
        /// decides and writes after its audit row. `counted`: whose guess budget and send caps
        /// hold the request back (the account's own id; a rehearsal's stand-in account).
        /// `queue`: the webhook events to queue with its messages; `None` for a rehearsal,
        /// which neither counts its send caps nor queues here (both are done outside its
        /// savepoint when it would have issued).
        $($async)* fn issue_to(conn: &mut $C, req: &IssueRequest, user: reset_core::store::IssueTarget, counted: &str, queue: Option<&[reset_core::message::EventDelivery]>) -> QueryResult<IssueOutcome> {
            let now = ms(req.now);
            let messages = if req.deliver { user.recipients.len() } else { 0 };
            if req.deliver && messages == 0 { return Ok(IssueOutcome::NotIssued) }
            // One issue at a time per account; requests are ordered by their ids (UUIDv7,
            // taken on arrival), not by when their transactions happen to run.
            lock_user(conn, &user.user_id)$($aw)*?;
            let newer: Option<String> = reset_secrets::table
                .filter(reset_secrets::user_id.eq(&user.user_id))
                .filter(reset_secrets::request_id.gt(&req.request_id))
                .select(reset_secrets::id)
                .first(conn)
                $($aw)*
                .optional()?;
            if newer.is_some() {
                return Ok(IssueOutcome::NotIssued);
            }
            if let Some(budget) = req.guess_budget {
                if !budget.is_off() && peek(conn, now, &guess_budget_key(counted), budget)$($aw)*? >= budget.max {
                    // No new code, and no old one left to keep guessing at. Only codes die:
                    // a spent budget must not let anyone kill the links already sent.
                    diesel::update(reset_secrets::table)
                        .filter(reset_secrets::user_id.eq(&user.user_id))
                        .filter(reset_secrets::kind.eq(SecretKind::Code.as_str()))
                        .filter(unspent())
                        .set(reset_secrets::superseded_at.eq(now))
                        .execute(conn)
                        $($aw)*?;
                    audit(conn, now, Some(&user.user_id), "code_not_issued_guess_budget_spent", req.ip.as_deref(), serde_json::json!({}))$($aw)*?;
                    return Ok(IssueOutcome::NotIssued);
                }
            }
            let needed = u32::try_from(messages).unwrap_or(u32::MAX);
            for cap in req.send_caps.iter().filter(|c| !c.is_off()) {
                let sent = peek(conn, now, &send_cap_key(counted, cap), cap.limit)$($aw)*?;
                if sent.saturating_add(needed) > cap.limit.max {
                    // The secrets already sent stay usable: the account's owner may be
                    // reading one of those messages right now.
                    audit(conn, now, Some(&user.user_id), "reset_not_sent_account_cap", req.ip.as_deref(), cap_details(&req, cap))$($aw)*?;
                    return Ok(IssueOutcome::NotIssued);
                }
            }
            if queue.is_some() {
                bump_caps(conn, now, req, counted, needed)$($aw)*?;
            }
            supersede(conn, now, &user.user_id)$($aw)*?;
            for s in &req.secrets {
                diesel::insert_into(reset_secrets::table)
                    .values((
                        reset_secrets::id.eq(new_id()),
                        reset_secrets::request_id.eq(&req.request_id),
                        reset_secrets::user_id.eq(&user.user_id),
                        reset_secrets::kind.eq(s.kind.as_str()),
                        reset_secrets::secret_hash.eq(&s.hash),
                        reset_secrets::created_at.eq(now),
                        reset_secrets::expires_at.eq(ms(s.expires_at)),
                        reset_secrets::attempts.eq(0),
                        reset_secrets::max_attempts.eq(int(s.max_attempts)),
                        reset_secrets::issued_via.eq(&req.via),
                        reset_secrets::request_ip.eq(&req.ip),
                    ))
                    .execute(conn)
                    $($aw)*?;
            }
            if let Some(events) = queue {
                let mut payload = req.payload.clone();
                payload.username = Some(user.username.clone());
                for recipient in user.recipients.iter().filter(|_| req.deliver) {
                    enqueue(conn, now, Some(&user.user_id), req.message_kind, req.channel, recipient, &user.locale, &payload)$($aw)*?;
                }
                enqueue_events(conn, now, &user.user_id, events)$($aw)*?;
            }
            Ok(IssueOutcome::Issued { user_id: user.user_id })
        }
    };
}

/// The secret lookup as a statement (SQLite, MySQL); PostgreSQL looks up the hashes that queue
/// together in one statement (`backend/pg/calls.rs`).
#[cfg(any(feature = "sqlite", feature = "mysql"))]
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

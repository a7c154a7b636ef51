//! The durable outbox: messages are written in the transaction that decides them and delivered
//! later by the worker.

#[cfg(any(feature = "sqlite", feature = "mysql"))]
use diesel::{ExpressionMethods as _, QueryDsl as _};

/// Message kinds whose payload holds a secret.
pub(crate) const SECRET_KINDS: [&str; 2] = ["reset_link", "reset_code"];

/// The ids of at most `limit` messages due at `now`, the earliest first: what each backend's
/// `claim_ids` ([`crate::queries::hooks`]) reads, locking the rows where it must.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
#[diesel::dsl::auto_type]
pub(crate) fn due_ids(now: i64, limit: i64) -> _ {
    crate::schema::outbox::table
        .filter(crate::schema::outbox::sent_at.is_null())
        .filter(crate::schema::outbox::dead_at.is_null())
        .filter(crate::schema::outbox::next_attempt_at.le(now))
        .order(crate::schema::outbox::next_attempt_at.asc())
        .limit(limit)
        .select(crate::schema::outbox::id)
}

macro_rules! outbox_queries {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        /// Queues one message, due now.
        #[allow(clippy::too_many_arguments)]
        pub $($async)* fn enqueue(
            conn: &mut $C,
            now: i64,
            user_id: Option<&str>,
            kind: MessageKind,
            channel: Channel,
            recipient: &str,
            locale: &str,
            payload: &MessagePayload,
        ) -> QueryResult<()> {
            enqueue_row(conn, now, user_id, kind, channel, recipient, locale, &payload_text(payload), false)$($aw)*
        }

        #[allow(clippy::too_many_arguments)]
        $($async)* fn enqueue_row(
            conn: &mut $C,
            now: i64,
            user_id: Option<&str>,
            kind: MessageKind,
            channel: Channel,
            recipient: &str,
            locale: &str,
            payload: &str,
            decoy: bool,
        ) -> QueryResult<()> {
            diesel::insert_into(outbox::table)
                .values((
                    outbox::id.eq(new_id()),
                    outbox::user_id.eq(user_id),
                    outbox::kind.eq(kind.as_str()),
                    outbox::channel.eq(channel.as_str()),
                    outbox::recipient.eq(recipient),
                    outbox::locale.eq(locale),
                    outbox::payload.eq(payload),
                    outbox::created_at.eq(now),
                    outbox::attempts.eq(0),
                    outbox::next_attempt_at.eq(now),
                    outbox::queued_at.eq(now),
                    outbox::decoy.eq(decoy),
                ))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }

        /// Queues one webhook message per event (the recipient is the endpoint's URL).
        pub $($async)* fn enqueue_events(
            conn: &mut $C,
            now: i64,
            user_id: &str,
            events: &[EventDelivery],
        ) -> QueryResult<()> {
            for e in events {
                enqueue(conn, now, Some(user_id), MessageKind::Event, Channel::Webhook, &e.url, "", &e.payload())$($aw)*?;
            }
            Ok(())
        }

        pub $($async)* fn outbox_failed(
            conn: &mut $C,
            id: &str,
            error: &str,
            retry_at: i64,
        ) -> QueryResult<()> {
            diesel::update(outbox::table.find(id))
                .set((
                    outbox::last_error.eq(error),
                    outbox::next_attempt_at.eq(retry_at),
                ))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }

        /// Dead-letters a message, with an audit event. A reset message loses its payload (the
        /// secret inside must not outlive the message); others keep it for `outbox retry`.
        pub $($async)* fn outbox_dead(conn: &mut $C, now: i64, id: &str, reason: &str) -> QueryResult<()> {
            let (id, reason) = (id.to_owned(), reason.to_owned());
            conn.transaction($($async)* move |conn| {
                let row = mark_dead(conn, now, &id, &reason)$($aw)*?;
                if let Some((user_id, kind, channel)) = row {
                    if SECRET_KINDS.contains(&kind.as_str()) {
                        diesel::update(outbox::table.find(&id))
                            .set(outbox::payload.eq("{}"))
                            .execute(conn)
                            $($aw)*?;
                    }
                    let details = serde_json::json!({ "message_id": id, "kind": kind, "channel": channel, "reason": reason });
                    audit(conn, now, user_id.as_deref(), "message_dropped", None, details)$($aw)*?;
                }
                Ok(())
            })
            $($aw)*
        }

        /// Deletes at most `batch` delivered rows from before `sent_before` and dead ones given
        /// up before `dead_before`.
        pub $($async)* fn sweep_outbox(conn: &mut $C, sent_before: i64, dead_before: i64, batch: i64) -> QueryResult<usize> {
            let old = outbox::table
                .filter(outbox::sent_at.lt(sent_before).or(outbox::dead_at.lt(dead_before)))
                .select(outbox::id)
                .limit(batch)
                .load::<String>(conn)
                $($aw)*?;
            // Two statements, ids first: not every backend takes LIMIT inside IN (…).
            diesel::delete(outbox::table.filter(outbox::id.eq_any(&old)))
                .execute(conn)
                $($aw)*
        }

        /// See [`reset_core::store::Store::sweep`]: one short transaction per table, so a
        /// sweep never holds locks for long.
        pub $($async)* fn sweep(conn: &mut $C, now: i64, retention: Retention, batch: i64) -> QueryResult<Swept> {
            let ago = |secs: u64| now.saturating_sub(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX));
            let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
            Ok(Swept {
                secrets: count(sweep_secrets(conn, ago(retention.secrets_secs), batch)$($aw)*?),
                rate_limits: count(sweep_limits(conn, now, batch)$($aw)*?),
                outbox: count(sweep_outbox(conn, ago(retention.outbox_sent_secs), ago(retention.outbox_dead_secs), batch)$($aw)*?),
                audit: count(sweep_audit(conn, ago(retention.audit_secs), batch)$($aw)*?),
            })
        }

        /// Counts by state: pending, retrying (of pending), dead, sent; decoys left out.
        pub $($async)* fn outbox_stats(conn: &mut $C) -> QueryResult<OutboxStats> {
            let n = |v: i64| u64::try_from(v).unwrap_or(0);
            let real = || outbox::table.filter(outbox::decoy.eq(false));
            let sent: i64 = real().filter(outbox::sent_at.is_not_null()).count().get_result(conn)$($aw)*?;
            let dead: i64 = real().filter(outbox::dead_at.is_not_null()).count().get_result(conn)$($aw)*?;
            let pending: i64 = real()
                .filter(outbox::sent_at.is_null())
                .filter(outbox::dead_at.is_null())
                .count()
                .get_result(conn)
                $($aw)*?;
            let retrying: i64 = real()
                .filter(outbox::sent_at.is_null())
                .filter(outbox::dead_at.is_null())
                .filter(outbox::last_error.is_not_null())
                .count()
                .get_result(conn)
                $($aw)*?;
            let oldest: Option<i64> = real()
                .filter(outbox::sent_at.is_null())
                .filter(outbox::dead_at.is_null())
                .select(diesel::dsl::min(outbox::queued_at))
                .first(conn)
                $($aw)*?;
            Ok(OutboxStats {
                pending: n(pending),
                retrying: n(retrying),
                dead: n(dead),
                sent: n(sent),
                oldest_pending: oldest.map(crate::rows::from_ms),
            })
        }

        /// Messages, newest first; only those in `state` (`pending`, `retrying`, `dead`, `sent`)
        /// when given. Decoys are not messages anyone will receive: left out.
        pub $($async)* fn outbox_list(conn: &mut $C, state: Option<&str>, limit: i64) -> QueryResult<Vec<OutboxEntry>> {
            let mut q = outbox::table.filter(outbox::decoy.eq(false)).into_boxed();
            q = match state {
                Some("sent") => q.filter(outbox::sent_at.is_not_null()),
                Some("dead") => q.filter(outbox::dead_at.is_not_null()),
                Some("pending") => q.filter(outbox::sent_at.is_null()).filter(outbox::dead_at.is_null()).filter(outbox::last_error.is_null()),
                Some("retrying") => q.filter(outbox::sent_at.is_null()).filter(outbox::dead_at.is_null()).filter(outbox::last_error.is_not_null()),
                _ => q,
            };
            q.order((outbox::created_at.desc(), outbox::id.desc()))
                .limit(limit)
                .select(OutboxEntry::as_select())
                .load(conn)
                $($aw)*
        }

        /// Queues dead messages again, as new: no tries, due now, maximum age counted afresh.
        /// `ids` empty: every dead message. Reset messages are not retried: their secrets were
        /// dropped when they died (the user asks again). Returns how many were queued.
        pub $($async)* fn outbox_retry(conn: &mut $C, now: i64, ids: &[String]) -> QueryResult<usize> {
            let mut q = diesel::update(outbox::table)
                .filter(outbox::decoy.eq(false))
                .filter(outbox::dead_at.is_not_null())
                .filter(outbox::sent_at.is_null())
                .filter(outbox::kind.ne_all(SECRET_KINDS))
                .into_boxed();
            if !ids.is_empty() {
                q = q.filter(outbox::id.eq_any(ids));
            }
            q.set((
                outbox::dead_at.eq(None::<i64>),
                outbox::last_error.eq(None::<String>),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now),
                outbox::queued_at.eq(now),
            ))
            .execute(conn)
            $($aw)*
        }
    };
}

/// The worker's claim of due messages (a transaction of statements) and its "sent" mark, for
/// SQLite and MySQL; PostgreSQL claims in one `UPDATE … RETURNING` and marks sent messages in
/// batches (see `backend/pg/calls.rs`).
#[cfg(any(feature = "sqlite", feature = "mysql"))]
macro_rules! worker_by_statements {
    ($C:ty, [$($async:tt)*], [$($aw:tt)*]) => {
        use reset_core::store::OutboxMessage;
        use crate::rows::OutboxRow;

        /// Claims due messages by pushing their next attempt past the lease, in one transaction.
        pub $($async)* fn claim_outbox(
            conn: &mut $C,
            now: i64,
            limit: u32,
            lease_ms: i64,
        ) -> QueryResult<Vec<OutboxMessage>> {
            conn.transaction($($async)* move |conn| {
                let ids = conn.claim_ids(now, i64::from(limit))$($aw)*?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                diesel::update(outbox::table)
                    .filter(outbox::id.eq_any(&ids))
                    .set((
                        outbox::next_attempt_at.eq(now + lease_ms),
                        outbox::attempts.eq(outbox::attempts + 1),
                    ))
                    .execute(conn)
                    $($aw)*?;
                let rows: Vec<OutboxRow> = outbox::table
                    .filter(outbox::id.eq_any(&ids))
                    .order(outbox::created_at.asc())
                    .select(OutboxRow::as_select())
                    .load(conn)
                    $($aw)*?;
                Ok(rows
                    .into_iter()
                    .filter_map(OutboxRow::into_message)
                    .collect())
            })
            $($aw)*
        }

        /// Marks a message delivered and blanks its payload.
        pub $($async)* fn outbox_sent(conn: &mut $C, now: i64, id: &str) -> QueryResult<()> {
            diesel::update(outbox::table.find(id))
                .filter(outbox::sent_at.is_null())
                .set((
                    outbox::sent_at.eq(now),
                    outbox::payload.eq("{}"),
                    outbox::last_error.eq(None::<String>),
                ))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }
    };
}

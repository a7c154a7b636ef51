//! The durable outbox: messages are written in the transaction that decides them and delivered
//! later by the worker.

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
            let payload = serde_json::to_string(payload).unwrap_or_else(|_| "{}".to_owned());
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
                ))
                .execute(conn)
                $($aw)*?;
            Ok(())
        }

        /// Claims due messages by pushing their next attempt past the lease, in one transaction.
        pub $($async)* fn claim_outbox(
            conn: &mut $C,
            now: i64,
            limit: u32,
            lease_ms: i64,
        ) -> QueryResult<Vec<OutboxMessage>> {
            conn.transaction($($async)* move |conn| {
                let ids = claim_ids(conn, now, i64::from(limit))$($aw)*?;
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
                .set((
                    outbox::sent_at.eq(now),
                    outbox::payload.eq("{}"),
                    outbox::last_error.eq(None::<String>),
                ))
                .execute(conn)
                $($aw)*?;
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

        /// Every message, newest first (for tests and the CLI).
        pub $($async)* fn outbox_all(conn: &mut $C) -> QueryResult<Vec<(String, String, Option<i64>)>> {
            outbox::table
                .order(outbox::created_at.desc())
                .select((outbox::kind, outbox::recipient, outbox::sent_at))
                .load(conn)
                $($aw)*
        }
    };
}

//! The request path on PostgreSQL: one call each to the functions of
//! `migrations/postgres-functions.sql` (applied at start, `crate::migrate`). `reset_find` is the
//! account lookups of one or more requests (their rate-limit transactions are
//! `queries/limits.rs` over `counters.rs`, their issue transactions `issue.rs`); secret lookups
//! by hash are one statement per batch;
//! the outbox worker's claim is one statement and its "sent" marks are batched. The database
//! parses and plans nothing new per request.

use diesel::result::QueryResult;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel_async::RunQueryDsl as _;
use reset_core::identity::AccountLookup;
use reset_core::store::{OutboxMessage, User};

use super::conn::Conn;
use crate::rows::{OutboxRow, UserRow};

// The functions as DSL calls, so that Diesel prepares each once per connection (a `sql_query`
// is parsed and planned by PostgreSQL at every call). A set-returning function called in the
// select list gives one record per row.
diesel::define_sql_function! {
    /// `migrations/postgres-functions.sql`: the accounts a batch of lookups name, as `FoundRow`.
    fn reset_find(decoy: Text, names: Array<Nullable<Text>>, emails: Array<Nullable<Text>>) -> diesel::pg::sql_types::Record<(
        Integer, Text, Text, Nullable<Text>, Text, Nullable<Text>, Nullable<Text>,
        Nullable<BigInt>, BigInt, BigInt, Array<Text>, diesel::sql_types::Bool,
    )>;
}

/// A row of `reset_find`: the lookup's number (from 1), the account and its addresses.
type FoundRow = (
    i32,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    i64,
    Vec<String>,
    bool,
);

/// The accounts several lookups name, in order (see `find_user` in `queries/users.rs`, which
/// makes the same reads as statements).
pub async fn find_all(
    conn: &mut Conn,
    lookups: &[AccountLookup],
) -> QueryResult<Vec<Option<User>>> {
    let names: Vec<Option<&str>> = lookups.iter().map(|l| l.username.as_deref()).collect();
    let emails: Vec<Option<&str>> = lookups.iter().map(|l| l.email.as_deref()).collect();
    let rows: Vec<FoundRow> = diesel::select(reset_find(crate::DECOY_ID, names, emails))
        .load(conn)
        .await?;
    let mut found: Vec<Option<User>> = lookups.iter().map(|_| None).collect();
    for (
        ord,
        id,
        username,
        password_hash,
        org_id,
        locale,
        phone,
        changed,
        sequence,
        created,
        emails,
        disabled,
    ) in rows
    {
        let row = UserRow {
            id,
            username,
            password_hash,
            org_id,
            locale,
            phone,
            password_changed_at: changed,
            sequence,
            created_at: created,
            disabled,
        };
        let slot = usize::try_from(ord - 1).ok().and_then(|i| found.get_mut(i));
        if let Some(slot) = slot {
            *slot = Some(row.into_user(emails));
        }
    }
    Ok(found)
}

secrets_by_hashes!(Conn);

/// See [`reset_core::store::Outbox::claim_outbox`]: one statement. The due rows are locked with
/// `SKIP LOCKED` (concurrent workers of other instances skip each other's), their next attempt
/// is pushed past the lease and their tries counted, and they come back oldest first.
pub async fn claim_outbox(
    conn: &mut Conn,
    now: i64,
    limit: u32,
    lease_ms: i64,
) -> QueryResult<Vec<OutboxMessage>> {
    let mut rows: Vec<OutboxRow> = diesel::sql_query(
        "WITH due AS (
             SELECT id FROM outbox
             WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $1
             ORDER BY next_attempt_at LIMIT $2
             FOR UPDATE SKIP LOCKED)
         UPDATE outbox AS o SET next_attempt_at = $1 + $3, attempts = o.attempts + 1
         FROM due WHERE o.id = due.id
         RETURNING o.id, o.kind, o.channel, o.recipient, o.locale, o.payload, o.attempts,
                   o.created_at, o.queued_at, o.decoy",
    )
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(i64::from(limit))
    .bind::<BigInt, _>(lease_ms)
    .load(conn)
    .await?;
    rows.sort_by_key(|r| r.created_at);
    Ok(rows
        .into_iter()
        .filter_map(OutboxRow::into_message)
        .collect())
}

/// Marks several messages delivered, each at its own time, and blanks their payloads: the
/// batched form of the shared `outbox_sent`.
pub async fn sent_all(conn: &mut Conn, sent: &[(i64, String)]) -> QueryResult<Vec<()>> {
    let (times, ids): (Vec<i64>, Vec<String>) = sent.iter().cloned().unzip();
    diesel::sql_query(
        "UPDATE outbox AS o SET sent_at = u.t, payload = '{}', last_error = NULL
         FROM unnest($1::text[], $2::bigint[]) AS u(id, t)
         WHERE o.id = u.id AND o.sent_at IS NULL",
    )
    .bind::<Array<Text>, _>(ids)
    .bind::<Array<BigInt>, _>(times)
    .execute(conn)
    .await?;
    Ok(vec![(); sent.len()])
}

//! SQLite: the zero-setup default for a single instance. One connection, owned by one thread
//! that runs store calls in batches (see [`Writer`]), so writers never race for SQLite's single
//! write lock and many calls share one commit.

use diesel::Connection as _;

pub use super::sqlite_writer::Writer;

/// The connection the queries run on, inside the writer thread.
pub type Conn = diesel::SqliteConnection;

/// Due messages; SQLite has one writer at a time, so no row locking is needed.
fn claim_ids(conn: &mut Conn, now: i64, limit: i64) -> QueryResult<Vec<String>> {
    outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::dead_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)
}

/// Nothing to lock: the single connection already runs one transaction at a time.
#[allow(clippy::unnecessary_wraps)]
fn lock_user(_conn: &mut Conn, _id: &str) -> QueryResult<()> {
    Ok(())
}

/// Nothing to lock (see [`lock_user`]).
#[allow(clippy::unnecessary_wraps)]
fn lock_holders(_conn: &mut Conn, _holders: &[String]) -> QueryResult<()> {
    Ok(())
}

returning_queries!(Conn, [], []);

query_prelude!([], [], diesel::RunQueryDsl);

/// Counters read (SQLite's one writer already runs one transaction at a time, so reading is
/// locking; nothing is created, for any [`LockFor`]). The writer already shares one commit
/// among the calls queued together.
fn lock_counters(
    conn: &mut Conn,
    keys: &[String],
    _for: LockFor,
) -> QueryResult<Vec<(String, i32, i64)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    crate::queries::limits::counters_named(keys).load(conn)
}

/// See [`reset_core::store::ResetState::hit`]: one request, through `hit_all`, in a savepoint
/// of its own.
pub fn hit(
    conn: &mut Conn,
    now: i64,
    hits: &[CounterHit],
    then_restart: &[CounterHit],
) -> QueryResult<Vec<CounterState>> {
    let ask = HitAsk {
        now,
        hits: hits.to_vec(),
        then_restart: then_restart.to_vec(),
    };
    let mut states = conn.transaction(|conn| hit_all(conn, std::slice::from_ref(&ask)))?;
    Ok(states.pop().unwrap_or_default())
}
find_by_statements!(Conn, [], []);
secret_by_statements!(Conn, [], []);
/// See [`reset_core::store::IssueRequest`]: one request, through `issue_all` (the writer thread
/// already shares one commit among the calls queued together). Also whether anything was queued
/// for the outbox worker.
pub fn issue(
    conn: &mut Conn,
    req: reset_core::store::IssueRequest,
) -> QueryResult<(reset_core::store::IssueOutcome, bool)> {
    let mut done = issue_all(conn, vec![req])?;
    Ok(done
        .pop()
        .unwrap_or((reset_core::store::IssueOutcome::NotIssued, false)))
}

/// Each account's newest request that stored secrets, one index seek each (an aggregate over
/// the account's secrets would read every one of them, and a busy account has many); one
/// statement per account costs SQLite little.
fn newest_of(conn: &mut Conn, accounts: &[String]) -> QueryResult<Vec<(String, String)>> {
    let mut newest = Vec::with_capacity(accounts.len());
    for account in accounts {
        let last: Option<String> = reset_secrets::table
            .filter(reset_secrets::user_id.eq(account))
            .order(reset_secrets::request_id.desc())
            .select(reset_secrets::request_id)
            .first(conn)
            .optional()?;
        if let Some(last) = last {
            newest.push((account.clone(), last));
        }
    }
    Ok(newest)
}

/// Kills accounts' live codes, or their other live secrets, one statement per row.
fn kill_all(conn: &mut Conn, kills: &[crate::issue::writes::KillRow]) -> QueryResult<()> {
    let code = SecretKind::Code.as_str();
    for k in kills {
        let live = reset_secrets::table
            .filter(reset_secrets::user_id.eq(&k.account))
            .filter(unspent());
        let set = reset_secrets::superseded_at.eq(k.at);
        if k.code {
            diesel::update(live.filter(reset_secrets::kind.eq(code)))
                .set(set)
                .execute(conn)?;
        } else {
            diesel::update(live.filter(reset_secrets::kind.ne(code)))
                .set(set)
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Writes counters' values as they are, one upsert per row.
fn write_counters(
    conn: &mut Conn,
    counters: &[crate::issue::writes::CounterInsert],
) -> QueryResult<()> {
    for c in counters {
        diesel::insert_into(rate_limits::table)
            .values(c)
            .on_conflict(rate_limits::key)
            .do_update()
            .set((
                rate_limits::count.eq(c.count),
                rate_limits::window_start.eq(c.window_start),
                rate_limits::expires_at.eq(c.expires_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

issue_by_plan!(Conn, [], []);
worker_by_statements!(Conn, [], []);

//! SQLite: the zero-setup default for a single instance. One connection, owned by one thread
//! that runs store calls in batches (see [`Writer`]), so writers never race for SQLite's single
//! write lock and many calls share one commit.

use diesel::Connection as _;

pub use super::sqlite_writer::Writer;
use crate::issue::writes::KillRow;
use crate::queries::limits::CounterRows;

/// The connection the queries run on, inside the writer thread.
pub type Conn = diesel::SqliteConnection;

returning_queries!(Conn, [], []);

query_prelude!([], [], diesel::RunQueryDsl, blocking);

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

/// SQLite's counters: its one writer already runs one transaction at a time, so reading is
/// locking and nothing is created, for any [`LockFor`]; one upsert per row.
impl crate::queries::hooks::blocking::Counters for Conn {
    fn lock_counters(&mut self, keys: &[String], _for: LockFor) -> QueryResult<CounterRows> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        crate::queries::limits::counters_named(keys).load(self)
    }

    fn write_counters(
        &mut self,
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
                .execute(self)?;
        }
        Ok(())
    }
}

/// SQLite's own statements: nothing to lock (the single connection already runs one transaction
/// at a time), and one statement per row, which costs SQLite little.
impl crate::queries::hooks::blocking::Statements for Conn {
    fn lock_holders(&mut self, _holders: &[String]) -> QueryResult<()> {
        Ok(())
    }

    /// A statement per table, and one index seek per account for its newest request: an
    /// aggregate over the account's secrets would read every one of them, and a busy account
    /// has many.
    fn read_facts(
        &mut self,
        request_ids: &[String],
        accounts: &[String],
        keys: &[String],
    ) -> QueryResult<crate::issue::facts::Read> {
        let audited = audit_events::table
            .filter(audit_events::id.eq_any(request_ids))
            .select(audit_events::id)
            .load(self)?;
        let issued = reset_secrets::table
            .filter(reset_secrets::request_id.eq_any(request_ids))
            .select(reset_secrets::request_id)
            .distinct()
            .load(self)?;
        let mut newest = Vec::with_capacity(accounts.len());
        for account in accounts {
            let last: Option<String> = reset_secrets::table
                .filter(reset_secrets::user_id.eq(account))
                .order(reset_secrets::request_id.desc())
                .select(reset_secrets::request_id)
                .first(self)
                .optional()?;
            if let Some(last) = last {
                newest.push((account.clone(), last));
            }
        }
        let counters = self.lock_counters(keys, LockFor::Hits)?;
        Ok(crate::issue::facts::Read {
            audited,
            issued,
            newest,
            counters,
        })
    }

    /// A statement per table (see [`apply`]); the rehearsals in a savepoint of their own,
    /// rolled back (the one writer needs no decoy lock).
    fn write_plan(&mut self, w: &Writes, rehearsal: &Writes) -> QueryResult<()> {
        apply(self, w)?;
        if rehearsal.is_empty() {
            return Ok(());
        }
        let rolled_back = self.transaction(|conn| {
            apply(conn, rehearsal)?;
            Err::<(), _>(diesel::result::Error::RollbackTransaction)
        });
        match rolled_back {
            Ok(()) | Err(diesel::result::Error::RollbackTransaction) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Due messages; SQLite has one writer at a time, so no row locking is needed.
    fn claim_ids(&mut self, now: i64, limit: i64) -> QueryResult<Vec<String>> {
        crate::queries::outbox::due_ids(now, limit).load(self)
    }
}

/// Writes a plan's rows, in their order (see [`Writes`]).
fn apply(conn: &mut Conn, w: &Writes) -> QueryResult<()> {
    if !w.audits.is_empty() {
        // A retried request's event, written by an earlier attempt, stays as it is. Every row
        // must be this attempt's own: one already there means another attempt of a request of
        // this batch committed after the load read (on SQLite's one writer, an attempt queued
        // behind it), and the batch is given up as a serialization failure, whose retry plans
        // again and finds it done.
        let written = diesel::insert_or_ignore_into(audit_events::table)
            .values(&w.audits)
            .execute(conn)?;
        if written < w.audits.len() {
            return Err(crate::errors::written_by_another_attempt());
        }
    }
    kill_all(conn, &w.kills)?;
    if !w.secrets.is_empty() {
        diesel::insert_into(reset_secrets::table)
            .values(&w.secrets)
            .execute(conn)?;
    }
    conn.write_counters(&w.counters)?;
    if !w.outbox.is_empty() {
        diesel::insert_into(outbox::table)
            .values(&w.outbox)
            .execute(conn)?;
    }
    Ok(())
}

/// Kills accounts' live codes, or their other live secrets, at each kill's time: a statement
/// per row.
fn kill_all(conn: &mut Conn, kills: &[KillRow]) -> QueryResult<()> {
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

issue_by_plan!(Conn, [], []);
worker_by_statements!(Conn, [], []);

//! MariaDB 10.6+ (tested on 10.11) and MySQL 8.0.16+ (written for, not tested here; the first
//! MySQL to enforce CHECK constraints, which rate-limit hits rely on: `mysql_hits.rs`): for teams
//! whose stack already runs one. Several instances may share it, as with PostgreSQL. Connections
//! use `READ COMMITTED` (see `connect.rs`), the isolation the queries are written for on
//! PostgreSQL; a server that logs statement-based binlogs refuses writes under it (error 1665),
//! so such a server needs `binlog_format=ROW` (or MIXED).

use diesel_async::{AsyncConnection as _, SimpleAsyncConnection as _};

pub type Conn = diesel_async::AsyncMysqlConnection;

/// Slots of `account_locks` (filled by the `init` migration).
const LOCK_SLOTS: i32 = 4096;

/// The lock slot of an account (or stand-in account): the decoy's own, −1, or one of
/// [`LOCK_SLOTS`] by the CRC-32 of its id (MySQL's `CRC32`). A transaction about an account
/// holds a row lock on its slot in `account_locks` until it ends: accounts sharing a slot only
/// wait for each other, and the decoy, whose rehearsals take turns, has slot −1 to itself,
/// seeded by the init migration. `GET_LOCK` would outlive a failed transaction on a pooled
/// connection; a row lock cannot.
fn slot(id: &str) -> i64 {
    if id == crate::DECOY_ID {
        -1
    } else {
        i64::from(crc32fast::hash(id.as_bytes())) % i64::from(LOCK_SLOTS)
    }
}

/// Marks a message dead unless it was sent or dead already; returns its user, kind and channel
/// when it did (an update, then a read: no `RETURNING`).
pub async fn mark_dead(
    conn: &mut Conn,
    now: i64,
    id: &str,
    reason: &str,
) -> QueryResult<Option<(Option<String>, String, String)>> {
    let changed = diesel::update(outbox::table.find(id))
        .filter(outbox::sent_at.is_null())
        .filter(outbox::dead_at.is_null())
        .set((outbox::dead_at.eq(now), outbox::last_error.eq(reason)))
        .execute(conn)
        .await?;
    if changed == 0 {
        return Ok(None);
    }
    outbox::table
        .find(id)
        .select((outbox::user_id, outbox::kind, outbox::channel))
        .first(conn)
        .await
        .optional()
}

query_prelude!([async], [.await], diesel_async::RunQueryDsl, awaited);
secrets_by_hashes!(Conn);
/// MySQL's own statements: a row lock per account slot (`account_locks`), and set-based
/// statements for the issue batch (`mysql_issue.rs`).
impl crate::queries::hooks::awaited::Statements for Conn {
    /// Locks the slots of a batch's holders (see [`slot`]) in one statement, in slot order, so
    /// that two batches never wait on each other in a cycle.
    async fn lock_holders(&mut self, holders: &[String]) -> QueryResult<()> {
        let mut slots: Vec<i64> = holders.iter().map(|h| slot(h)).collect();
        slots.sort_unstable();
        slots.dedup();
        if slots.is_empty() {
            return Ok(());
        }
        // Integers computed here: nothing from a request reaches the statement's text, which is
        // sent as text (no prepare: it varies with the batch).
        let list: Vec<String> = slots.iter().map(i64::to_string).collect();
        self.batch_execute(&format!(
            "SELECT slot FROM account_locks WHERE slot IN ({}) ORDER BY slot FOR UPDATE",
            list.join(",")
        ))
        .await
    }

    async fn read_facts(
        &mut self,
        request_ids: &[String],
        accounts: &[String],
        keys: &[String],
    ) -> QueryResult<crate::issue::facts::Read> {
        super::mysql_issue::read_facts(self, request_ids, accounts, keys).await
    }

    /// One script of text, one round trip (see `mysql_issue::write_plan`).
    async fn write_plan(
        &mut self,
        w: &crate::issue::writes::Writes,
        rehearsal: &crate::issue::writes::Writes,
    ) -> QueryResult<()> {
        super::mysql_issue::write_plan(self, w, rehearsal, slot(crate::DECOY_ID)).await
    }

    /// Due messages, locked with `FOR UPDATE SKIP LOCKED` so concurrent workers skip each other's
    /// (MySQL 8 / MariaDB 10.6).
    async fn claim_ids(&mut self, now: i64, limit: i64) -> QueryResult<Vec<String>> {
        crate::queries::outbox::due_ids(now, limit)
            .for_update()
            .skip_locked()
            .load(self)
            .await
    }
}

issue_by_plan!(Conn, [async], [.await]);
worker_by_statements!(Conn, [async], [.await]);

//! The issue transaction's set-based statements on MySQL (`queries/issue.rs` runs them): all a
//! batch reads in one statement, and all it writes in one script of text
//! (`mysql_script.rs`), where SQLite runs a statement per row. A MySQL statement costs the
//! server far more than such a row does.

use diesel::result::{DatabaseErrorKind, Error, QueryResult};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel_async::{AsyncMysqlConnection as Conn, RunQueryDsl as _, SimpleAsyncConnection as _};

use super::mysql_counters::upsert;
use super::mysql_script::{Script, values_table};
use crate::backend::swap::Was;
use crate::issue::facts::Read;
use crate::issue::writes::Writes;

/// A row of [`read_facts`]'s statement: its part (`t`) and what that part reads.
#[derive(diesel::QueryableByName)]
struct FactRow {
    #[diesel(sql_type = Text)]
    t: String,
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = Nullable<Text>)]
    newest: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    count: Option<i32>,
    #[diesel(sql_type = Nullable<BigInt>)]
    start: Option<i64>,
}

/// What an issue batch's plan needs to know (see
/// [`crate::queries::hooks::awaited::Statements::read_facts`]), in one statement of four parts
/// joined by `UNION ALL`, told apart by their first column: the request ids that have an audit
/// event (`a`) and that stored secrets (`i`), each account's newest request that stored secrets
/// (`n`: one index seek per account; an aggregate would read every secret a busy account ever
/// had) and the counters (`c`). Four statements were four prepares and four executes, each a
/// round trip the batch waited for under its locks. Every part names its columns: the first
/// part's names are the statement's, and any part may be the first.
pub async fn read_facts(
    conn: &mut Conn,
    request_ids: &[String],
    accounts: &[String],
    keys: &[String],
) -> QueryResult<Read> {
    let marks = |n: usize| vec!["?"; n].join(", ");
    let mut parts = Vec::new();
    let mut binds: Vec<&String> = Vec::new();
    if !request_ids.is_empty() {
        parts.push(format!(
            "SELECT 'a' AS t, id AS k, NULL AS newest, NULL AS `count`, NULL AS start
             FROM audit_events WHERE id IN ({})",
            marks(request_ids.len())
        ));
        parts.push(format!(
            "SELECT DISTINCT 'i' AS t, request_id AS k, NULL AS newest, NULL AS `count`,
                    NULL AS start
             FROM reset_secrets WHERE request_id IN ({})",
            marks(request_ids.len())
        ));
        binds.extend(request_ids);
        binds.extend(request_ids);
    }
    if !accounts.is_empty() {
        parts.push(format!(
            "SELECT 'n' AS t, a.account AS k,
                    (SELECT s.request_id FROM reset_secrets AS s WHERE s.user_id = a.account
                     ORDER BY s.request_id DESC LIMIT 1) AS newest, NULL AS `count`, NULL AS start
             FROM ({}) AS a",
            values_table(&["account"], accounts.len())
        ));
        binds.extend(accounts);
    }
    if !keys.is_empty() {
        parts.push(format!(
            "SELECT 'c' AS t, `key` AS k, NULL AS newest, `count`, window_start AS start
             FROM rate_limits WHERE `key` IN ({})",
            marks(keys.len())
        ));
        binds.extend(keys);
    }
    if parts.is_empty() {
        return Ok(Read::default());
    }
    let mut q = diesel::sql_query(parts.join(" UNION ALL ")).into_boxed::<diesel::mysql::Mysql>();
    for b in binds {
        q = q.bind::<Text, _>(b.clone());
    }
    let rows: Vec<FactRow> = q.load(conn).await?;
    let mut read = Read::default();
    for r in rows {
        match (r.t.as_str(), r.newest, r.count, r.start) {
            ("a", ..) => read.audited.push(r.k),
            ("i", ..) => read.issued.push(r.k),
            ("n", Some(newest), ..) => read.newest.push((r.k, newest)),
            ("c", _, Some(count), Some(start)) => read.counters.push((r.k, count, start)),
            _ => {}
        }
    }
    Ok(read)
}

/// Writes a planned batch's rows and then its rehearsals' (see
/// [`crate::queries::hooks::awaited::Statements::write_plan`]) in one script of text (see
/// [`Script`]), one round trip: the batch's rows in their order (see [`Writes`]), then
/// `SAVEPOINT`, the decoy's lock (`decoy_slot`, in `account_locks`), the rehearsals' rows and
/// `ROLLBACK TO SAVEPOINT`.
///
/// The audit events are a plain insert. One already there was written by another attempt of a
/// request of the batch after the load read (see `queries/issue.rs`); it fails the script,
/// which gives up the batch with [`crate::errors::written_by_another_attempt`]. A secret's hash
/// already taken fails it as the unique violation it is (the batch's requests are then tried
/// one by one, and only the one that holds it fails); no other key can repeat: every other id
/// is new and random.
pub async fn write_plan(
    conn: &mut Conn,
    w: &Writes,
    rehearsal: &Writes,
    decoy_slot: i64,
) -> QueryResult<()> {
    let mut script = Script::default();
    writes(&mut script, w);
    if !rehearsal.is_empty() {
        script.push("SAVEPOINT rehearsal;\n");
        script.push(&format!(
            "SELECT slot FROM account_locks WHERE slot = {decoy_slot} FOR UPDATE;\n"
        ));
        writes(&mut script, rehearsal);
        script.push("ROLLBACK TO SAVEPOINT rehearsal;\nRELEASE SAVEPOINT rehearsal;\n");
    }
    if script.is_empty() {
        return Ok(());
    }
    match conn.batch_execute(script.text()).await {
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if !taken_hash(info.message()) =>
        {
            Err(crate::errors::written_by_another_attempt())
        }
        done => done,
    }
}

/// Whether a duplicate key's message names the unique key of secrets' hashes: "Duplicate entry
/// '…' for key 'secret_hash'" (MariaDB), "… for key 'reset_secrets.secret_hash'" (MySQL 8). Read
/// at its end, past the value, which a request may have chosen.
fn taken_hash(message: &str) -> bool {
    message.trim_end().ends_with("secret_hash'")
}

/// The statements of `w`'s rows, in order: audit events, kills (before the batch's own secrets,
/// which they must not touch), secrets, counters, outbox rows.
fn writes(script: &mut Script, w: &Writes) {
    script.insert(
        "INSERT INTO audit_events (id, user_id, kind, at, ip, details) VALUES",
        &w.audits,
        |r, a| {
            r.v(&a.id)
                .v(&a.user_id)
                .v(&a.kind)
                .v(&a.at)
                .v(&a.ip)
                .v(&a.details);
        },
    );
    if !w.kills.is_empty() {
        // Kills accounts' live codes, or their other live secrets, each at its row's time.
        script.push("UPDATE reset_secrets AS s JOIN (");
        script.derived(&["account", "code", "at"], &w.kills, |r, k| {
            r.v(&k.account).v(&k.code).v(&k.at);
        });
        script.push(
            ") AS k ON s.user_id = k.account AND (s.kind = 'code') = k.code
             SET s.superseded_at = k.at
             WHERE s.used_at IS NULL AND s.superseded_at IS NULL;\n",
        );
    }
    script.insert(
        "INSERT INTO reset_secrets (id, request_id, user_id, kind, secret_hash, created_at,
           expires_at, attempts, max_attempts, issued_via, request_ip, superseded_at) VALUES",
        &w.secrets,
        |r, s| {
            r.v(&s.id)
                .v(&s.request_id)
                .v(&s.user_id)
                .v(&s.kind)
                .v(&s.secret_hash)
                .v(&s.created_at)
                .v(&s.expires_at)
                .v(&s.attempts)
                .v(&s.max_attempts)
                .v(&s.issued_via)
                .v(&s.request_ip)
                .v(&s.superseded_at);
        },
    );
    upsert(script, &w.counters, &vec![Was::Any; w.counters.len()]);
    script.insert(
        "INSERT INTO outbox (id, user_id, kind, channel, recipient, locale, payload, created_at,
           attempts, next_attempt_at, queued_at, decoy) VALUES",
        &w.outbox,
        |r, o| {
            r.v(&o.id)
                .v(&o.user_id)
                .v(&o.kind)
                .v(&o.channel)
                .v(&o.recipient)
                .v(&o.locale)
                .v(&o.payload)
                .v(&o.created_at)
                .v(&o.attempts)
                .v(&o.next_attempt_at)
                .v(&o.queued_at)
                .v(&o.decoy);
        },
    );
}

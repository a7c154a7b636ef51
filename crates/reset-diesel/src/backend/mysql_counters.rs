//! MySQL's counter statements (see [`crate::queries::limits`]), set-based: the counters a plan
//! moves locked and read (one statement, two more for a counter not there yet), then written as
//! they are (one upsert, which can also write only where counters still hold what was read:
//! [`upsert_counters`]). Rate-limit hits, code tries, restarts and the issue batches all go
//! through these; the fixed-window rule is [`reset_core::counters::Window`], not SQL.

use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncMysqlConnection as Conn, RunQueryDsl as _, SimpleAsyncConnection as _};

use super::mysql_script::Script;
use crate::backend::swap::Was;
use crate::issue::writes::CounterInsert;
use crate::queries::limits::{CounterRows, LockFor};

impl crate::queries::hooks::awaited::Counters for Conn {
    /// For [`LockFor::Try`] always one statement to create and lock, one to read. For
    /// [`LockFor::Hits`] a locking read comes first, which is all it takes when every counter
    /// exists (the common case: a counter lives for its window); only then are the missing ones
    /// created and read. MySQL's log flush is a server setting.
    async fn lock_counters(
        &mut self,
        keys: &[String],
        purpose: LockFor,
    ) -> QueryResult<CounterRows> {
        use diesel::QueryDsl as _;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: CounterRows = Vec::new();
        if purpose == LockFor::Hits {
            rows = crate::queries::limits::counters_named(keys)
                .for_update()
                .load(self)
                .await?;
            if rows.len() == keys.len() {
                return Ok(rows);
            }
        }
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !rows.iter().any(|(have, _, _)| have == *k))
            .cloned()
            .collect();
        // `count = count` writes nothing but takes the row's lock (one another transaction created
        // meanwhile), a row at a time in key order.
        let values = vec!["(?, ?, 0, 0)"; missing.len()].join(", ");
        let sql = format!(
            "INSERT INTO rate_limits (`key`, window_start, count, expires_at) VALUES {values}
             ON DUPLICATE KEY UPDATE count = count"
        );
        let mut create = diesel::sql_query(sql).into_boxed::<diesel::mysql::Mysql>();
        for key in &missing {
            create = create
                .bind::<Text, _>(key.clone())
                .bind::<BigInt, _>(reset_core::counters::PLACEHOLDER_START);
        }
        create.execute(self).await?;
        rows.extend(
            crate::queries::limits::counters_named(&missing)
                .for_update()
                .load::<(String, i32, i64)>(self)
                .await?,
        );
        Ok(rows)
    }

    /// Writes counters' values as they are, in one upsert: whatever a plan
    /// ([`reset_core::counters`], [`reset_core::issue_plan`]) moved.
    async fn write_counters(&mut self, counters: &[CounterInsert]) -> QueryResult<()> {
        upsert_counters(self, counters, &vec![Was::Any; counters.len()]).await
    }
}

/// Writes counters' values in one upsert, rows in key order (the order every writer of counters
/// locks them in), each only if it still holds what `was` (one per row) says was read. A counter
/// that does not is written as −1, which the table's check `rate_limits_swap` (`count >= 0`)
/// refuses: the statement fails and writes nothing (InnoDB undoes a failed statement whole), see
/// `mysql_hits.rs`. With [`Was::Any`] for every row it is a plain upsert. One statement of text
/// (see [`Script`]).
pub async fn upsert_counters(
    conn: &mut Conn,
    counters: &[CounterInsert],
    was: &[Was],
) -> QueryResult<()> {
    let mut script = Script::default();
    upsert(&mut script, counters, was);
    if script.is_empty() {
        return Ok(());
    }
    conn.batch_execute(script.text()).await
}

/// [`upsert_counters`]'s statement, appended to `script` (nothing when there are no counters).
pub fn upsert(script: &mut Script, counters: &[CounterInsert], was: &[Was]) {
    if counters.is_empty() {
        return;
    }
    // `count` is assigned first: the assignments after it run only when it matched (else the
    // statement fails), and see the new count, not the one compared. Columns of the derived
    // table, not `VALUES()` (deprecated in MySQL 8.0.20; MariaDB lacks the row alias that
    // replaces it).
    script.push(
        "INSERT INTO rate_limits (`key`, window_start, `count`, expires_at)
         SELECT d.k, d.s, d.c, d.e FROM (",
    );
    let rows: Vec<(&CounterInsert, &Was)> = counters.iter().zip(was).collect();
    script.derived(
        &["k", "s", "c", "e", "was_c", "was_s", "any_"],
        &rows,
        |r, (c, w)| {
            let (was_c, was_s) = w.held();
            r.v(&c.key)
                .v(&c.window_start)
                .v(&c.count)
                .v(&c.expires_at)
                .v(&was_c)
                .v(&was_s)
                .v(&(**w == Was::Any));
        },
    );
    script.push(
        ") AS d ORDER BY d.k
         ON DUPLICATE KEY UPDATE
           `count` = IF(d.any_ OR (rate_limits.`count` = d.was_c
                                   AND rate_limits.window_start = d.was_s), d.c, -1),
           window_start = d.s, expires_at = d.e;\n",
    );
}

//! MySQL's counter statements (see [`crate::queries::limits`]), set-based: the counters a plan
//! moves locked and read (one statement, two more for a counter not there yet), then written as
//! they are (one upsert). Rate-limit hits, code tries, restarts and the issue batches all go
//! through these; the fixed-window rule is [`reset_core::counters::Window`], not SQL.

use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncMysqlConnection as Conn, RunQueryDsl as _};

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
    /// ([`reset_core::counters`], [`reset_core::issue_plan`]) moved. Rows come in key order, the
    /// order they are locked in.
    async fn write_counters(&mut self, counters: &[CounterInsert]) -> QueryResult<()> {
        if counters.is_empty() {
            return Ok(());
        }
        let rows = vec!["(?, ?, ?, ?)"; counters.len()].join(", ");
        let sql = format!(
            "INSERT INTO rate_limits (`key`, window_start, count, expires_at) VALUES {rows}
             ON DUPLICATE KEY UPDATE
               window_start = VALUES(window_start), count = VALUES(count),
               expires_at = VALUES(expires_at)"
        );
        let mut q = diesel::sql_query(sql).into_boxed::<diesel::mysql::Mysql>();
        for c in counters {
            q = q
                .bind::<Text, _>(c.key.clone())
                .bind::<BigInt, _>(c.window_start)
                .bind::<Integer, _>(c.count)
                .bind::<BigInt, _>(c.expires_at);
        }
        q.execute(self).await.map(|_| ())
    }
}

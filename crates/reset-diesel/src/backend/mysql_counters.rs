//! MySQL's counter statements (see [`crate::queries::limits`]), set-based: the counters a plan
//! moves locked and read (two statements), then written as they are (one upsert). Rate-limit
//! hits, code tries, restarts and the issue batches all go through these; the fixed-window rule
//! is [`reset_core::counters::Window`], not SQL.

use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncMysqlConnection as Conn, RunQueryDsl as _};

use crate::issue::writes::CounterInsert;

/// Locks the counters `keys` names (sorted) in key order and reads them: key, count, window
/// start. A missing one is created as a placeholder
/// ([`reset_core::counters::PLACEHOLDER_START`]), so that it can be locked; the caller writes
/// every one before it commits. `_relax` is moot: MySQL's log flush is a server setting.
pub async fn lock_counters(
    conn: &mut Conn,
    keys: &[String],
    _relax: bool,
) -> QueryResult<Vec<(String, i32, i64)>> {
    use diesel::QueryDsl as _;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    // `count = count` writes nothing but takes the row's lock, a row at a time in key order.
    let rows = vec!["(?, ?, 0, 0)"; keys.len()].join(", ");
    let sql = format!(
        "INSERT INTO rate_limits (`key`, window_start, count, expires_at) VALUES {rows}
         ON DUPLICATE KEY UPDATE count = count"
    );
    let mut lock = diesel::sql_query(sql).into_boxed::<diesel::mysql::Mysql>();
    for key in keys {
        lock = lock
            .bind::<Text, _>(key.clone())
            .bind::<BigInt, _>(reset_core::counters::PLACEHOLDER_START);
    }
    lock.execute(conn).await?;
    crate::queries::limits::counters_named(keys)
        .for_update()
        .load(conn)
        .await
}

/// Writes counters' values as they are, in one upsert: whatever a plan
/// ([`reset_core::counters`], [`reset_core::issue_plan`]) moved. Rows come in key order, the order they are locked in.
pub async fn write_counters(conn: &mut Conn, counters: &[CounterInsert]) -> QueryResult<()> {
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
    q.execute(conn).await.map(|_| ())
}

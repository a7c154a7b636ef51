//! MySQL's counter statements, set-based: many counters bumped in one upsert and read back,
//! or written as they are (restarted, or the issue plan's values) in one upsert. The rate-limit
//! batches (`mysql_batches.rs`), the code try, the restart (`mysql.rs`) and the issue batches all
//! write counters through these, so the window rule is written once for MySQL.

use std::collections::BTreeMap;

use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncMysqlConnection as Conn, RunQueryDsl as _};

use crate::issue::writes::CounterInsert;

/// Adds each counter's hits in one upsert, restarting a window that has passed, and reads the
/// counters back (the upsert holds their rows locked): key → (count, window start).
pub async fn add_all(
    conn: &mut Conn,
    counters: &BTreeMap<&str, (i32, i64, i64)>,
) -> QueryResult<BTreeMap<String, (i32, i64)>> {
    if counters.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = vec!["(?, ?, ?, ?)"; counters.len()].join(", ");
    // `VALUES(window_start)` is the hits' clock and `VALUES(expires_at)` minus it the window,
    // so a row whose window started at or before clock − window has passed. MySQL assigns left
    // to right, each assignment seeing the ones before it: `window_start` goes last.
    let sql = format!(
        "INSERT INTO rate_limits (`key`, window_start, count, expires_at) VALUES {rows}
         ON DUPLICATE KEY UPDATE
           count = IF(window_start <= 2 * VALUES(window_start) - VALUES(expires_at),
                      VALUES(count), count + VALUES(count)),
           expires_at = IF(window_start <= 2 * VALUES(window_start) - VALUES(expires_at),
                           VALUES(expires_at),
                           window_start + VALUES(expires_at) - VALUES(window_start)),
           window_start = IF(window_start <= 2 * VALUES(window_start) - VALUES(expires_at),
                             VALUES(window_start), window_start)"
    );
    let mut upsert = diesel::sql_query(sql).into_boxed::<diesel::mysql::Mysql>();
    for (key, (n, now, window)) in counters {
        upsert = upsert
            .bind::<Text, _>(key.to_string())
            .bind::<BigInt, _>(*now)
            .bind::<Integer, _>(*n)
            .bind::<BigInt, _>(now + window);
    }
    upsert.execute(conn).await?;
    let keys: Vec<&str> = counters.keys().copied().collect();
    use crate::schema::rate_limits;
    use diesel::{ExpressionMethods as _, QueryDsl as _};
    let rows: Vec<(String, i32, i64)> = rate_limits::table
        .filter(rate_limits::key.eq_any(keys))
        .select((
            rate_limits::key,
            rate_limits::count,
            rate_limits::window_start,
        ))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(k, c, s)| (k, (c, s))).collect())
}

/// A counter started afresh at `now`: count 0, a window of `window` ms.
pub fn restarted(key: &str, now: i64, window: i64) -> CounterInsert {
    CounterInsert {
        key: key.to_owned(),
        window_start: now,
        count: 0,
        expires_at: now + window,
    }
}

/// Writes counters' values as they are, in one upsert: the issue plan's counters after a batch,
/// and counters started afresh (count 0). Rows come in key order, the order they are locked in.
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

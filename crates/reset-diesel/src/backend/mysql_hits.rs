//! MySQL's part in rate-limit hits without locks (`backend/swap.rs`): a counter read is a plain
//! select, and the swap is one autocommit upsert that writes −1 into any counter that moved,
//! which the table's check `rate_limits_swap` (`count >= 0`) refuses, so the statement writes
//! nothing (`mysql_counters::upsert_counters`). MySQL has no `RETURNING` to tell which rows
//! matched, and comparing the affected rows in a transaction would cost two more round trips and
//! hold the rows' locks across them.

use diesel::result::{DatabaseErrorKind, Error, QueryResult};
use diesel_async::{AsyncMysqlConnection as Conn, RunQueryDsl as _};

use crate::backend::swap::{SwapHits, Was};
use crate::issue::writes::CounterInsert;
use crate::queries::limits::{CounterRows, counters_named};

/// The check of `rate_limits` that refuses a moved counter's −1 (`migrations/mysql`).
const SWAP_CHECK: &str = "rate_limits_swap";

impl SwapHits for Conn {
    type Conn = Self;

    fn conn(&mut self) -> &mut Self {
        self
    }

    async fn read_counters(&mut self, keys: &[String]) -> QueryResult<CounterRows> {
        counters_named(keys).load(self).await
    }

    async fn swap_counters(&mut self, counters: &[CounterInsert], was: &[Was]) -> QueryResult<()> {
        super::mysql_counters::upsert_counters(self, counters, was).await
    }

    /// The check's failure, or a deadlock (as [`crate::errors`] tells one; Galera's
    /// certification failure is one too), which also undid the statement whole.
    fn moved(e: &Error) -> bool {
        refused(e)
            || matches!(e, Error::DatabaseError(_, info) if crate::errors::deadlock(info.message()))
    }
}

/// Whether `e` is the check refusing a −1 (MySQL names it a check violation; MariaDB, error
/// 4025, does not).
fn refused(e: &Error) -> bool {
    matches!(e, Error::DatabaseError(kind, info)
        if *kind == DatabaseErrorKind::CheckViolation || info.message().contains(SWAP_CHECK))
}

/// Whether the server refuses a counter of −1, as the swap needs: a server that ignores CHECK
/// constraints (MySQL before 8.0.16) or a database made before the check would write a moved
/// counter's −1 instead. Tried in a transaction that is always rolled back.
pub async fn refuses_moved_counters(conn: &mut Conn) -> QueryResult<bool> {
    use diesel_async::AsyncConnection as _;
    let mut outcome = None;
    let tried = conn
        .transaction(async |c| {
            let insert = diesel::sql_query(
                "INSERT INTO rate_limits (`key`, window_start, `count`, expires_at)
                 VALUES ('check:rate_limits_swap', 0, -1, 0)",
            )
            .execute(c)
            .await;
            outcome = Some(match insert {
                Ok(_) => false,
                Err(e) if refused(&e) => true,
                Err(e) => return Err(e),
            });
            Err::<(), _>(Error::RollbackTransaction)
        })
        .await;
    match (tried, outcome) {
        (Err(Error::RollbackTransaction), Some(refuses)) => Ok(refuses),
        (Err(e), _) => Err(e),
        (Ok(()), _) => Ok(false),
    }
}

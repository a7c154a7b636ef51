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

    /// The check's failure (MySQL names it a check violation; MariaDB, error 4025, does not), or
    /// a deadlock (Galera's certification failure says "Deadlock" too), which also undid the
    /// statement whole.
    fn moved(e: &Error) -> bool {
        match e {
            Error::DatabaseError(kind, info) => {
                let message = info.message();
                (*kind == DatabaseErrorKind::CheckViolation || message.contains(SWAP_CHECK))
                    || message.starts_with("Deadlock")
            }
            _ => false,
        }
    }
}

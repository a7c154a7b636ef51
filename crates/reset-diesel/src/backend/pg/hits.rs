//! PostgreSQL's part in rate-limit hits without locks (`backend/swap.rs`): a counter read is a
//! plain select, the swap is one `reset_counters_write` call that fails with SQLSTATE 40001
//! when a counter moved (`counters.rs`), and it commits without waiting for the log.

use diesel::result::QueryResult;
use diesel_async::RunQueryDsl as _;

use super::conn::Conn;
use super::target::Pooling;
use crate::backend::swap::{SwapHits, Was};
use crate::issue::writes::CounterInsert;
use crate::queries::limits::{CounterRows, counters_named};

/// A pooled connection and how the pool in front of it pools (a statement pooler runs each
/// statement in a transaction of its own, see [`Pooling`]).
pub struct Unlocked<'a> {
    pub conn: &'a mut Conn,
    pub pooling: Pooling,
}

impl SwapHits for Unlocked<'_> {
    type Conn = Conn;

    fn conn(&mut self) -> &mut Conn {
        self.conn
    }

    async fn read_counters(&mut self, keys: &[String]) -> QueryResult<CounterRows> {
        let pooling = self.pooling;
        in_transaction_if!(pooling, self.conn, |c| { counters_named(keys).load(c) })
    }

    async fn swap_counters(&mut self, counters: &[CounterInsert], was: &[Was]) -> QueryResult<()> {
        let pooling = self.pooling;
        in_transaction_if!(pooling, self.conn, |c| super::counters::swap_counters(
            c, counters, was
        ))
    }

    fn moved(e: &diesel::result::Error) -> bool {
        super::counters::moved(e)
    }
}

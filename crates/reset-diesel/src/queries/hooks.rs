//! What each backend brings to the shared statements: the few it writes its own way, as two
//! small traits its connection type implements. The query macros call them as methods of the
//! connection (`conn.lock_counters(…)`), so a backend that lacks one fails to compile at its
//! `impl`, with the contract written here, instead of at a name looked up inside a macro's
//! expansion.
//!
//! The traits are declared twice from one text, as the queries are: [`blocking`] for SQLite's
//! synchronous connection (run whole on the writer thread) and [`awaited`] for diesel-async's
//! (PostgreSQL, MySQL).

macro_rules! hook_traits {
    ([$($async:tt)*]) => {
        use diesel::result::QueryResult;

        use crate::issue::facts::Read;
        use crate::issue::writes::{CounterInsert, Writes};
        use crate::queries::limits::{CounterRows, LockFor};

        /// Counters (every backend; see [`crate::queries::limits`]).
        pub(crate) trait Counters {
            /// Locks the counters `keys` names (sorted) in key order, where the backend must,
            /// and reads them: key, count, window start. A missing one that must be locked is
            /// created as a placeholder ([`reset_core::counters::PLACEHOLDER_START`]), which the
            /// caller writes before it commits.
            $($async)* fn lock_counters(&mut self, keys: &[String], purpose: LockFor) -> QueryResult<CounterRows>;

            /// Writes counters' values as they are (rows in key order; the caller holds their
            /// locks).
            $($async)* fn write_counters(&mut self, counters: &[CounterInsert]) -> QueryResult<()>;
        }

        /// The issue transaction's and the outbox worker's own statements (SQLite and MySQL;
        /// PostgreSQL runs these inside its functions).
        pub(crate) trait Statements {
            /// Serialises transactions about a batch's holders (accounts or stand-ins) until the
            /// transaction ends, locking them in one order, so that two batches never wait on
            /// each other in a cycle.
            $($async)* fn lock_holders(&mut self, holders: &[String]) -> QueryResult<()>;

            /// What an issue batch's plan needs to know (see [`Read`]): which of `request_ids`
            /// have an audit event and which stored secrets, each of `accounts`' newest request
            /// that stored secrets, and the counters `keys` names. Under the holders' locks.
            $($async)* fn read_facts(
                &mut self,
                request_ids: &[String],
                accounts: &[String],
                keys: &[String],
            ) -> QueryResult<Read>;

            /// Writes a planned batch's rows, in their order (see [`Writes`]), then, when there
            /// are any, its rehearsals' rows (see [`Writes::rehearsals`]) under the decoy's lock
            /// in a savepoint that is rolled back. Rehearsals write the same decoy rows, and on
            /// MySQL those row locks, held to the commit, would deadlock two rehearsals without
            /// the lock: they take turns. An audit event of `w` already there (written by another
            /// attempt of one of the batch's requests after the load read it) fails the batch
            /// with [`crate::errors::written_by_another_attempt`].
            $($async)* fn write_plan(&mut self, w: &Writes, rehearsal: &Writes) -> QueryResult<()>;

            /// The ids of at most `limit` messages due at `now`, locked against other workers
            /// where the backend has several.
            $($async)* fn claim_ids(&mut self, now: i64, limit: i64) -> QueryResult<Vec<String>>;
        }
    };
}

/// The hooks of a synchronous connection (SQLite).
#[cfg(feature = "sqlite")]
pub(crate) mod blocking {
    hook_traits!([]);
}

/// The hooks of a diesel-async connection (PostgreSQL, MySQL).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) mod awaited {
    // PostgreSQL implements only `Counters`.
    #![cfg_attr(not(feature = "mysql"), allow(dead_code))]
    hook_traits!([async]);
}

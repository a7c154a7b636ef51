//! How a database failure reads to the service: the one classification of Diesel's and the
//! pools' errors into `StoreError`, used by the store, its PostgreSQL batches and the SQL
//! directory. A leaf: it imports nothing of this crate.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
#[cfg(any(feature = "postgres", feature = "mysql"))]
use diesel_async::pooled_connection::deadpool::PoolError;
use reset_core::error::StoreError;

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn unavailable(e: PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A failed query: a broken or closed connection (the database restarting, a failover, a cut
/// network) or a transaction the database gave up on (a deadlock victim, a lock wait timeout, a
/// serialization failure: it rolled back whole and may simply be tried again) is `Unavailable`,
/// which callers may wait out (a 503 with `Retry-After`; an accepted issue is retried); anything
/// else is a `Query` error.
pub(crate) fn query(e: DieselError) -> StoreError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            StoreError::Conflict(info.message().to_owned())
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => StoreError::Unavailable(info.message().to_owned()),
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
            StoreError::Unavailable(info.message().to_owned())
        }
        DieselError::DatabaseError(_, info)
            if connection_lost(info.message()) || gave_up(info.message()) =>
        {
            StoreError::Unavailable(info.message().to_owned())
        }
        DieselError::BrokenTransactionManager => {
            StoreError::Unavailable("the connection broke inside a transaction".into())
        }
        other => StoreError::Query(other.to_string()),
    }
}

/// A transaction the database rolled back to break a deadlock or a lock wait (PostgreSQL 40P01,
/// MySQL 1213 and 1205): nothing of it was written. On MySQL a deadlock inside a nested
/// transaction surfaces as the savepoint's rollback failing (1305: InnoDB rolled back the whole
/// transaction, savepoints included), so that message counts too.
fn gave_up(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    deadlock(message)
        || m.contains("lock wait timeout")
        || (m.contains("savepoint") && m.contains("does not exist"))
}

/// A deadlock's message (PostgreSQL, MySQL, and Galera's certification failure, which MySQL
/// reports as a deadlock too): the server undid the statement or transaction whole.
pub(crate) fn deadlock(message: &str) -> bool {
    message.to_ascii_lowercase().contains("deadlock")
}

/// Messages of PostgreSQL, MySQL and their clients for a connection that went away (SQLSTATE classes 08
/// and 57P0x carry no kind of their own in Diesel).
fn connection_lost(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "connection closed",
        "terminating connection",
        "server closed the connection",
        "connection reset",
        "broken pipe",
        "the database system is",
        "error communicating with the server",
        // MySQL and MariaDB, through mysql_async
        "gone away",
        "lost connection",
        "connection refused",
        "unexpected end of file",
        "io error",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// The error an issue batch gives up with when a request of it was written by another attempt
/// after the batch's load (see `queries/issue.rs`): a serialization failure, so `Unavailable`,
/// and the retry plans again.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub fn written_by_another_attempt() -> DieselError {
    DieselError::DatabaseError(
        DatabaseErrorKind::SerializationFailure,
        Box::new("a request of the batch was written by another attempt".to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deadlock victim or a lock-wait timeout rolled back whole: `Unavailable`, so the
    /// request path answers 503 with `Retry-After` and an accepted issue is retried.
    #[test]
    fn given_up_transactions_are_unavailable() {
        for message in [
            "Deadlock found when trying to get lock; try restarting transaction",
            "Lock wait timeout exceeded; try restarting transaction",
            "deadlock detected",
            // MySQL, a deadlock inside a nested transaction: the savepoint went with it.
            "SAVEPOINT diesel_savepoint_1 does not exist",
        ] {
            let e = DieselError::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new(message.to_owned()),
            );
            assert!(matches!(query(e), StoreError::Unavailable(_)), "{message}");
        }
        let e = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("syntax error".to_owned()),
        );
        assert!(matches!(query(e), StoreError::Query(_)));
    }
}

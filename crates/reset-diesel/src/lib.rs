#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[macro_use]
mod queries;
mod backend;
mod connect;
mod errors;
mod issue;
mod migrate;
mod rows;
pub use rows::{OutboxEntry, RowCounts};
pub mod schema;
mod sql_directory;
mod store;

pub use connect::{Backend, ConnectError, DatabaseUrl, PoolOptions, redact_url};
#[cfg(feature = "mysql")]
pub use migrate::MYSQL as MYSQL_MIGRATIONS;
#[cfg(feature = "postgres")]
pub use migrate::POSTGRES as POSTGRES_MIGRATIONS;
#[cfg(feature = "sqlite")]
pub use migrate::SQLITE as SQLITE_MIGRATIONS;

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!("reset-diesel needs at least one backend feature: sqlite, postgres or mysql");
/// The connections the store makes, for tools and tests that need one of their own.
#[cfg(feature = "mysql")]
pub use backend::mysql_target::{
    SslMode as MysqlSslMode, Target as MysqlTarget, TargetError as MysqlTargetError,
};
#[cfg(feature = "postgres")]
pub use backend::pg::{
    Pooling, SslMode as PgSslMode, Target as PgTarget, TargetError as PgTargetError,
};
pub use sql_directory::{SqlDirectory, SqlDirectoryError, SqlStatements};
pub use store::DieselStore;

/// The organisation of users created without one.
pub const DEFAULT_ORG: &str = "default";

/// The decoy account and its live code (seeded by the init migration): no request can name them,
/// and lookups read them in place of an unknown account or a missing code, so that every lookup
/// reads the same rows whether or not the account exists. Never listed, found or answered.
pub(crate) const DECOY_ID: &str = "00000000-0000-0000-0000-000000000000";

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

#[macro_use]
mod queries;
mod backend;
mod connect;
mod migrate;
mod rows;
pub use rows::{OutboxEntry, RowCounts};
pub mod schema;
mod store;

pub use connect::{Backend, ConnectError, DatabaseUrl, PoolOptions};
pub use migrate::{POSTGRES as POSTGRES_MIGRATIONS, SQLITE as SQLITE_MIGRATIONS};
pub use store::DieselStore;

/// The organisation of users created without one.
pub const DEFAULT_ORG: &str = "default";

//! The store's queries, written once as macros and expanded per backend connection type in
//! `crate::backend`: Diesel checks each expansion against its own backend, which keeps one
//! source of truth without a wall of generic bounds.

pub(crate) mod hooks;
#[macro_use]
mod admin;
#[macro_use]
mod audit;
#[macro_use]
pub(crate) mod limits;
#[macro_use]
mod issue;
#[macro_use]
mod meta;
#[macro_use]
pub(crate) mod outbox;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[macro_use]
mod returning;
#[macro_use]
mod secrets;
#[macro_use]
mod users;

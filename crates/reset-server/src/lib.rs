//! The server's parts, as a library so that tests and embedders can start it in-process.
#![forbid(unsafe_code)]

pub mod cli;
mod commands;
mod healthcheck;
pub mod import_file;
pub mod secret_key;
pub mod serve;
pub mod settings;
pub mod wiring;

pub use commands::run;

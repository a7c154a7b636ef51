#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// `Problem` is the response itself on every error path, not an exceptional value; boxing it
// would buy nothing.
#![allow(clippy::result_large_err)]

mod api;
pub mod client_ip;
pub mod connections;
pub mod dialects;
pub mod docs;
mod metrics;
mod mounts;
pub mod openapi;
pub mod openapi_3_0;
mod openapi_rows;
pub mod pages;
pub mod problem;
mod request;
mod request_body;
mod response;
mod router;
mod telemetry;
mod v1;
/// v1's wire types (request and response bodies), for clients written in Rust.
pub use v1::wire;

pub use api::{Api, ApiOptions, PeerAddress};
pub use connections::{ServeLimits, serve_connections};
pub use metrics::install_prometheus;
pub use mounts::{Dialect, Dialects, Mount};
pub use request::{ApiRequest, Body, MAX_BODY_BYTES, read_body};
pub use response::ApiResponse;

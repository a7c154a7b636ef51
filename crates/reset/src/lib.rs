#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod builder;
pub mod worker;

pub use builder::{BuildError, Builder};
pub use worker::Worker;

/// The HTTP API, framework-free: routing, problem+json, OpenAPI, the dialects.
pub use reset_api as api;
/// The domain: the service, its ports (store, directory, clock, random source), the policy.
pub use reset_core as core;
/// Delivery: mail transports, templates, the outbox worker.
pub use reset_mail as mail;

/// The actix-web adapter (feature `actix`).
#[cfg(feature = "actix")]
pub use reset_actix as actix;
/// The axum adapter (feature `axum`).
#[cfg(feature = "axum")]
pub use reset_axum as axum;
/// The Diesel store (features `sqlite`, `postgres`, `mysql`).
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use reset_diesel as diesel;
/// The warp adapter (feature `warp`).
#[cfg(feature = "warp")]
pub use reset_warp as warp;

pub use reset_api::{Api, ApiOptions, PeerAddress};
pub use reset_core::{ResetConfig, SecretKey, UserDirectory};
pub use reset_mail::MailTransport;

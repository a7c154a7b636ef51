//! The v1 API of `docs/api.md`: self-service, administration and operations.

pub mod admin;
pub(crate) mod openapi;
pub mod ops;
pub mod self_service;
pub mod users;
pub mod wire;

//! The v1 API of `api.md`: self-service and operations.

pub mod ops;
pub mod self_service;

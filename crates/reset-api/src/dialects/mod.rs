//! Compatibility dialects (`docs/compat.md`): other systems' reset APIs, answered in
//! their own paths, shapes and statuses, over the same core as v1. A secret issued through one
//! works through any other that takes that kind of secret.
//!
//! Each dialect is a module with its DTOs, its error shape (its 404 and 405 included) and its
//! handlers; the router mounts the ones switched on ([`Dialects`]), under their prefixes, and
//! answers unknown paths and methods below a prefix with that dialect's 404 and 405.

pub mod forgot_password;
pub mod misskey;
pub(crate) mod openapi;
mod token_reset;
pub mod unleash;
pub mod zitadel;

pub use crate::mounts::{Dialect, Dialects, Mount};

//! Compatibility dialects (`../shared/spec/compat.md`): other systems' reset APIs, answered in
//! their own paths, shapes and statuses, over the same core as v1. A secret issued through one
//! works through any other that takes that kind of secret.
//!
//! Each dialect is a module with its DTOs, its error shape and its handlers; the router mounts
//! the ones switched on, under their prefixes.

pub mod forgot_password;
pub mod misskey;
pub(crate) mod openapi;
pub mod unleash;
pub mod zitadel;

use serde::{Deserialize, Serialize};

/// One dialect's switch and mount prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    pub enabled: bool,
    /// Prepended to the dialect's routes; no trailing slash.
    pub prefix: String,
}

impl Mount {
    fn on(prefix: &str) -> Self {
        Self {
            enabled: true,
            prefix: prefix.to_owned(),
        }
    }

    /// `prefix` + `suffix`.
    pub fn path(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix.trim_end_matches('/'))
    }
}

/// Which dialects are mounted, and where. All on by default, at compat.md's prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialects {
    pub misskey: Mount,
    pub forgot_password: Mount,
    /// The forgot-password API answers 404 for unknown usernames (its clients rely on it);
    /// `true` answers them exactly as known ones instead.
    pub forgot_password_hide_unknown: bool,
    pub unleash: Mount,
    /// Zitadel v2's user password routes (bearer credential).
    pub zitadel: Mount,
}

impl Default for Dialects {
    fn default() -> Self {
        Self {
            misskey: Mount::on("/api"),
            forgot_password: Mount::on("/api/auth/forgotPassword"),
            forgot_password_hide_unknown: false,
            unleash: Mount::on("/auth/reset"),
            zitadel: Mount::on("/v2"),
        }
    }
}

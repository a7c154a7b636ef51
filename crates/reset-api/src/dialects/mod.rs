//! Compatibility dialects (`docs/compat.md`): other systems' reset APIs, answered in
//! their own paths, shapes and statuses, over the same core as v1. A secret issued through one
//! works through any other that takes that kind of secret.
//!
//! Each dialect is a module with its DTOs, its error shape and its handlers; the router mounts
//! the ones switched on, under their prefixes.

pub mod forgot_password;
pub mod misskey;
pub(crate) mod openapi;
mod token_reset;
pub mod unleash;
pub mod zitadel;

use serde::{Deserialize, Serialize};

use crate::response::ApiResponse;

/// A policy refusal's reasons as one message, for the dialects whose errors carry one string.
pub(crate) fn violation_messages(violations: &[reset_core::Violation]) -> String {
    violations
        .iter()
        .map(|v| v.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

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

/// Which dialects are mounted, and where. All on by default, at `docs/compat.md`'s prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialects {
    pub misskey: Mount,
    pub forgot_password: Mount,
    /// The forgot-password API answers 404 for unknown usernames (its clients rely on it);
    /// `true` answers them exactly as known ones instead.
    pub forgot_password_hide_unknown: bool,
    pub unleash: Mount,
    /// Zitadel v2's user password routes (bearer credential), and its Connect service beside
    /// them ([`Dialects::zitadel_connect`]).
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

/// One of the dialects, for the answers the router gives on their behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Misskey,
    ForgotPassword,
    Unleash,
    Zitadel,
    /// Zitadel's Connect service, beside its REST prefix (`zitadel::connect`).
    ZitadelConnect,
}

impl Dialect {
    /// 405, in the dialect's error shape (the router adds `Allow`).
    pub fn method_not_allowed(self) -> ApiResponse {
        match self {
            Self::Misskey => misskey::method_not_allowed(),
            Self::ForgotPassword => forgot_password::method_not_allowed(),
            Self::Unleash => unleash::method_not_allowed(),
            Self::Zitadel => zitadel::method_not_allowed(),
            Self::ZitadelConnect => zitadel::connect::method_not_allowed(),
        }
    }

    /// 404 for a path under the dialect's prefix that it does not serve.
    pub fn not_found(self) -> ApiResponse {
        match self {
            Self::Misskey => misskey::not_found(),
            Self::ForgotPassword => forgot_password::not_found(),
            Self::Unleash => unleash::not_found(),
            Self::Zitadel => zitadel::not_found(),
            Self::ZitadelConnect => zitadel::connect::not_found(),
        }
    }
}

impl Dialects {
    /// The enabled dialect whose prefix `path` lies under (the longest, when prefixes nest, as
    /// Misskey's `/api` and forgot-password's `/api/auth/forgotPassword` do).
    pub fn owner(&self, path: &str) -> Option<Dialect> {
        let connect = self.zitadel_connect();
        [
            (Dialect::Misskey, &self.misskey),
            (Dialect::ForgotPassword, &self.forgot_password),
            (Dialect::Unleash, &self.unleash),
            (Dialect::Zitadel, &self.zitadel),
            (Dialect::ZitadelConnect, &connect),
        ]
        .into_iter()
        .filter(|(_, m)| m.enabled && m.contains(path))
        .max_by_key(|(_, m)| m.prefix.len())
        .map(|(d, _)| d)
    }

    /// Zitadel's Connect service: on with the Zitadel dialect, beside its REST prefix (see
    /// [`zitadel::connect::service_prefix`]).
    pub fn zitadel_connect(&self) -> Mount {
        Mount {
            enabled: self.zitadel.enabled,
            prefix: zitadel::connect::service_prefix(&self.zitadel.prefix),
        }
    }
}

impl Mount {
    /// Whether `path` is the prefix or lies below it.
    fn contains(&self, path: &str) -> bool {
        let prefix = self.prefix.trim_end_matches('/');
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_enabled_prefix_owns_a_path() {
        let d = Dialects::default();
        assert_eq!(d.owner("/api/nope"), Some(Dialect::Misskey));
        assert_eq!(
            d.owner("/api/auth/forgotPassword/nope"),
            Some(Dialect::ForgotPassword)
        );
        assert_eq!(d.owner("/v2/users//password_reset"), Some(Dialect::Zitadel));
        assert_eq!(d.owner("/auth/reset"), Some(Dialect::Unleash));
        assert_eq!(
            d.owner("/zitadel.user.v2.UserService/Nope"),
            Some(Dialect::ZitadelConnect)
        );
        assert_eq!(d.owner("/zitadel.user.v2.UserServiceX"), None);
        assert_eq!(d.owner("/apix"), None);
        assert_eq!(d.owner("/v1/nope"), None);
        let mut off = Dialects::default();
        off.forgot_password.enabled = false;
        assert_eq!(
            off.owner("/api/auth/forgotPassword/x"),
            Some(Dialect::Misskey)
        );
    }
}

//! Which compatibility dialects are mounted, and where: plain settings, read by [`Api`](crate::Api)
//! and the router. A leaf: it knows the dialects' names and prefixes, none of their handlers.

use serde::{Deserialize, Serialize};

/// One dialect's switch and mount prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Whether the dialect's routes are answered; off, its paths are v1's 404.
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

    /// Whether `path` is the prefix or lies below it.
    fn contains(&self, path: &str) -> bool {
        let prefix = self.prefix.trim_end_matches('/');
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

/// Which dialects are mounted, and where. All on by default, at `docs/compat.md`'s prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialects {
    /// Misskey's `request-reset-password` and `reset-password` (default prefix `/api`).
    pub misskey: Mount,
    /// The code-based forgot-password API: `sendEmail`, `checkCode`, `resetPassword` (default
    /// prefix `/api/auth/forgotPassword`).
    pub forgot_password: Mount,
    /// The forgot-password API answers 404 for unknown usernames (its clients rely on it);
    /// `true` answers them exactly as known ones instead.
    pub forgot_password_hide_unknown: bool,
    /// Unleash's reset routes: `password`, `validate`, `validate-password`, `password-email`
    /// (default prefix `/auth/reset`).
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
    /// Misskey ([`Dialects::misskey`]).
    Misskey,
    /// The code-based forgot-password API ([`Dialects::forgot_password`]).
    ForgotPassword,
    /// Unleash ([`Dialects::unleash`]).
    Unleash,
    /// Zitadel v2's REST paths ([`Dialects::zitadel`]).
    Zitadel,
    /// Zitadel's Connect service, beside its REST prefix (`zitadel::connect`).
    ZitadelConnect,
}

impl Dialect {
    /// Its name in traces (`reset.dialect`): the audit trail's `via` of its routes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Misskey => "misskey",
            Self::ForgotPassword => "forgot-password",
            Self::Unleash => "unleash",
            Self::Zitadel | Self::ZitadelConnect => "zitadel",
        }
    }

    /// Every dialect.
    pub const ALL: [Dialect; 5] = [
        Self::Misskey,
        Self::ForgotPassword,
        Self::Unleash,
        Self::Zitadel,
        Self::ZitadelConnect,
    ];
}

impl Dialects {
    /// A dialect's mount (switched on or not).
    pub fn mount(&self, dialect: Dialect) -> Mount {
        match dialect {
            Dialect::Misskey => self.misskey.clone(),
            Dialect::ForgotPassword => self.forgot_password.clone(),
            Dialect::Unleash => self.unleash.clone(),
            Dialect::Zitadel => self.zitadel.clone(),
            Dialect::ZitadelConnect => self.zitadel_connect(),
        }
    }

    /// Every dialect with its mount (switched on or not), Zitadel's Connect service included.
    pub fn mounts(&self) -> [(Dialect, Mount); 5] {
        Dialect::ALL.map(|d| (d, self.mount(d)))
    }

    /// The enabled dialect whose prefix `path` lies under (the longest, when prefixes nest, as
    /// Misskey's `/api` and forgot-password's `/api/auth/forgotPassword` do).
    pub fn owner(&self, path: &str) -> Option<Dialect> {
        self.mounts()
            .into_iter()
            .filter(|(_, m)| m.enabled && m.contains(path))
            .max_by_key(|(_, m)| m.prefix.len())
            .map(|(d, _)| d)
    }

    /// Zitadel's Connect service: on with the Zitadel dialect, beside its REST prefix (see
    /// [`service_prefix`]).
    pub fn zitadel_connect(&self) -> Mount {
        Mount {
            enabled: self.zitadel.enabled,
            prefix: service_prefix(&self.zitadel.prefix),
        }
    }
}

/// Zitadel's Connect service's path below the Connect base.
pub const SERVICE: &str = "/zitadel.user.v2.UserService";

/// Where Zitadel's Connect service is mounted for the dialect's REST prefix: the SDKs call
/// `{base URL}/zitadel.user.v2.UserService/{Method}` where older ones call `{base URL}/v2/…`,
/// so the base is the prefix without its last `/v2` (`/v2` → the root, `/zitadel/v2` →
/// `/zitadel`), and the prefix itself when it does not end in `/v2`.
pub fn service_prefix(rest_prefix: &str) -> String {
    let prefix = rest_prefix.trim_end_matches('/');
    let base = prefix.strip_suffix("/v2").unwrap_or(prefix);
    format!("{base}{SERVICE}")
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

    #[test]
    fn the_connect_service_sits_beside_v2() {
        assert_eq!(service_prefix("/v2"), SERVICE);
        assert_eq!(service_prefix("/v2/"), SERVICE);
        assert_eq!(
            service_prefix("/zitadel/v2"),
            "/zitadel/zitadel.user.v2.UserService"
        );
        assert_eq!(service_prefix("/z"), "/z/zitadel.user.v2.UserService");
    }
}

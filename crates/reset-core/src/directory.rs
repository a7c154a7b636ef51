//! The user-directory port: where accounts live. The built-in one is `reset-diesel`'s `users`
//! table; a host application that already has users implements this over its own data, while
//! the [`Store`](crate::Store) keeps the secrets, outbox, counters and audit trail.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::identity::AccountLookup;
use crate::password::NewPassword;
use crate::store::User;

/// A new password as a directory receives it, once every policy rule, the breach check and the
/// history have passed: the password itself (its NFKC form, which the checks saw) and its
/// argon2id PHC hash. The directory stores whichever its logins check: the hash (the built-in
/// table), another scheme's encoding ([`crate::PasswordScheme::encode`]: bcrypt, Django's
/// PBKDF2), or the password for a directory that hashes it itself (LDAP's Password Modify).
pub struct PasswordChange<'a> {
    password: &'a NewPassword,
    argon2id: &'a str,
}

impl<'a> PasswordChange<'a> {
    /// The change to `password`, hashed as `argon2id`.
    pub fn new(password: &'a NewPassword, argon2id: &'a str) -> Self {
        Self { password, argon2id }
    }

    /// The new password (NFKC form). Never log or store it as it is unless the directory hashes
    /// it itself.
    pub fn password(&self) -> &str {
        self.password.as_str()
    }

    /// Its argon2id PHC string (`$argon2id$v=19$…`); check logins with
    /// `reset_core::password::verify_password`.
    pub fn argon2id(&self) -> &str {
        self.argon2id
    }
}

impl std::fmt::Debug for PasswordChange<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange(..)")
    }
}

/// What [`UserDirectory::revoke_sessions`] did. A directory says so even when there was
/// nothing to do, so that no embedder leaves sessions open by forgetting a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionsEnded {
    /// The account's sessions were ended (how many, when the directory knows).
    Ended(Option<u64>),
    /// The directory keeps no sessions (the application that logs users in keeps its own, or
    /// none): nothing to end here.
    NoneKept,
}

/// Finds accounts and changes their password.
///
/// ```
/// use async_trait::async_trait;
/// use chrono::{DateTime, Utc};
/// use reset_core::{AccountLookup, PasswordChange, SessionsEnded, StoreError, UserDirectory, store::User};
///
/// /// A host application's users, here a fixed list.
/// struct MyUsers(Vec<User>);
///
/// #[async_trait]
/// impl UserDirectory for MyUsers {
///     async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
///         // Both names must belong to the one account when both are given.
///         Ok(self.0.iter().find(|u| {
///             lookup.username.as_ref().is_none_or(|n| *n == u.username)
///                 && lookup.email.as_ref().is_none_or(|e| u.emails.contains(e))
///         }).cloned())
///     }
///     async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
///         Ok(self.0.iter().find(|u| u.id == id).cloned())
///     }
///     async fn set_password(&self, _id: &str, change: &PasswordChange<'_>, _at: DateTime<Utc>) -> Result<(), StoreError> {
///         let _stored = change.argon2id(); // UPDATE my_users SET password_hash = … WHERE id = …
///         Ok(())
///     }
///     async fn revoke_sessions(&self, _id: &str) -> Result<SessionsEnded, StoreError> {
///         Ok(SessionsEnded::NoneKept) // or: DELETE FROM my_sessions WHERE user_id = …
///     }
/// }
/// ```
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The account `lookup` names (normalised: usernames NFKC and lower-case, addresses
    /// lower-case); when it gives both a username and an email, both must belong to it.
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError>;

    /// The account with this id, or `None` when there is none.
    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError>;

    /// Sets the account's new password, stored as this directory's logins check it (see
    /// [`PasswordChange`]).
    async fn set_password(
        &self,
        id: &str,
        change: &PasswordChange<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Notes a change of the account other than its password (a reset secret issued by an
    /// administrator), for the `sequence` the admin APIs report; a directory that counts changes
    /// counts a new password in `set_password_hash` (default: nothing kept).
    async fn record_change(&self, _id: &str, _at: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Ends the account's sessions once its password has changed (a reset, or an administrator
    /// setting it): the one hook for that, and no default, because someone who reset a
    /// password after a break-in expects the intruder's sessions to end. A directory without
    /// sessions answers [`SessionsEnded::NoneKept`]. A failure is logged, not fatal: the
    /// password has changed already.
    async fn revoke_sessions(&self, id: &str) -> Result<SessionsEnded, StoreError>;
}

/// The directory as every reset path sees it: a disabled account ([`User::disabled`]) is not
/// there, so it gets what an unknown one gets (the same answer and cost, no message, no secret
/// accepted). The one place that rule lives; `ResetService` wraps whatever directory it is
/// given.
pub(crate) struct EnabledOnly(pub(crate) std::sync::Arc<dyn UserDirectory>);

#[async_trait]
impl UserDirectory for EnabledOnly {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        Ok(self.0.find(lookup).await?.filter(|u| !u.disabled))
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        Ok(self.0.by_id(id).await?.filter(|u| !u.disabled))
    }

    async fn set_password(
        &self,
        id: &str,
        change: &PasswordChange<'_>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.0.set_password(id, change, at).await
    }

    async fn record_change(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.0.record_change(id, at).await
    }

    async fn revoke_sessions(&self, id: &str) -> Result<SessionsEnded, StoreError> {
        self.0.revoke_sessions(id).await
    }
}

//! The user-directory port: where accounts live. The built-in one is `reset-diesel`'s `users`
//! table; a host application that already has users implements this over its own data, while
//! the [`Store`](crate::Store) keeps the secrets, outbox, counters and audit trail.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::identity::AccountLookup;
use crate::store::User;

/// Finds accounts and changes their password.
///
/// ```
/// use async_trait::async_trait;
/// use chrono::{DateTime, Utc};
/// use reset_core::{AccountLookup, StoreError, UserDirectory, store::User};
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
///     async fn set_password_hash(&self, _id: &str, _hash: &str, _at: DateTime<Utc>) -> Result<(), StoreError> {
///         Ok(()) // UPDATE my_users SET password_hash = … WHERE id = …
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

    /// Replaces the password hash (an argon2id PHC string of the NFKC form; check logins with
    /// `reset_core::password::verify_password`).
    async fn set_password_hash(
        &self,
        id: &str,
        hash: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Notes a change of the account other than its password (a reset secret issued by an
    /// administrator), for the `sequence` the admin APIs report; a directory that counts changes
    /// counts a new password in `set_password_hash` (default: nothing kept).
    async fn record_change(&self, _id: &str, _at: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(())
    }

    /// Ends the account's sessions once its password has changed (a reset, or an administrator
    /// setting it): the one hook for that. A failure is logged, not fatal: the password has
    /// changed already (default: nothing to end).
    async fn revoke_sessions(&self, _id: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

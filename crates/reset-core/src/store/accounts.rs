//! The built-in directory's administration: accounts created, changed, deleted and listed by
//! administrators (the v1 user API, `reset-server user add` and `user import`). Only the
//! built-in table has it: a host's own directory (LDAP, an application's table or service)
//! manages its accounts itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::store::{NewUser, User};

/// A change of an account's details; `None` leaves a field as it is. Values arrive normalised
/// and bounded (`ResetService` checks them before the store sees them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChange {
    /// Every address of the account, in order (messages go to the first).
    pub emails: Option<Vec<String>>,
    /// The phone number; `Some(None)` removes it.
    pub phone: Option<Option<String>>,
    /// The language messages are sent in; `Some(None)` removes it.
    pub locale: Option<Option<String>>,
    /// Switch the account off or on again (see [`User::disabled`]).
    pub disabled: Option<bool>,
}

impl AccountChange {
    /// Whether the change would end the account's live secrets: switching it off, or changing
    /// where its messages go (a link sent to an address the account no longer has must not
    /// stay usable).
    pub fn ends_secrets(&self) -> bool {
        self.disabled == Some(true) || self.emails.is_some() || self.phone.is_some()
    }
}

/// The built-in directory's administration half.
///
/// What an implementation must guarantee: every method is one transaction; a username or an
/// address belongs to one account at most (`Conflict` otherwise, naming nothing about other
/// accounts beyond what the caller sent); each change records one audit event with `by`;
/// `create_accounts` writes all of its accounts or none.
#[async_trait]
pub trait Accounts: Send + Sync {
    /// Creates `users`, all or none. With `dry_run` the transaction runs and is rolled back:
    /// the answer is what would have been written.
    async fn create_accounts(
        &self,
        now: DateTime<Utc>,
        users: Vec<NewUser>,
        by: &str,
        dry_run: bool,
    ) -> Result<Vec<User>, StoreError>;

    /// Which of these usernames and addresses already belong to an account, each with that
    /// account's id.
    async fn taken(
        &self,
        usernames: &[String],
        emails: &[String],
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// The account with this id, switched off or not.
    async fn account(&self, id: &str) -> Result<Option<User>, StoreError>;

    /// Applies `change` and counts one more change (`sequence`). When
    /// [`AccountChange::ends_secrets`], the account's live secrets end (superseded) in the same
    /// transaction. `None` when there is no such account.
    async fn update_account(
        &self,
        now: DateTime<Utc>,
        id: &str,
        change: &AccountChange,
        by: &str,
    ) -> Result<Option<User>, StoreError>;

    /// Deletes the account with its addresses and password history; its live secrets end.
    /// Messages already accepted for it stay in the outbox. `false` when there was none.
    async fn delete_account(
        &self,
        now: DateTime<Utc>,
        id: &str,
        by: &str,
    ) -> Result<bool, StoreError>;

    /// Up to `limit` accounts whose id sorts after `after` (ids are UUIDv7: oldest first).
    async fn list_accounts(&self, after: Option<&str>, limit: u32)
    -> Result<Vec<User>, StoreError>;
}

//! The built-in directory's accounts as administrators manage them: the v1 user API (scopes
//! `users:read`, `users:write`) and the bulk import behind `reset-server user import`. Every
//! value is checked as `user add` checks it ([`ResetService::prepare_user`]); every change is
//! one transaction with its audit event. A host's own directory manages its accounts itself:
//! there these answer `DirectoryManaged`.

use std::collections::HashMap;
use std::sync::Arc;

use super::{AdminSession, ResetService, UserInput};
use crate::admin_token::{SCOPE_USERS_READ, SCOPE_USERS_WRITE};
use crate::error::{ResetError, StoreError};
use crate::password::stored_hash_scheme;
use crate::store::{AccountChange, Accounts, NewUser, User};

/// Accounts per page when the caller names no size.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
/// The largest page.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A change of an account as typed; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountPatch {
    /// Every address of the account, in order (messages go to the first).
    pub emails: Option<Vec<String>>,
    /// The phone number; `Some(None)` removes it.
    pub phone: Option<Option<String>>,
    /// The language messages are sent in; `Some(None)` removes it.
    pub locale: Option<Option<String>>,
    /// Switch the account off (`true`) or on again.
    pub disabled: Option<bool>,
}

/// One page of accounts, oldest first.
#[derive(Debug, Clone)]
pub struct AccountPage {
    /// The accounts on this page.
    pub users: Vec<User>,
    /// Where the next page starts (an account id), when there may be one.
    pub next: Option<String>,
}

/// One account of an import file, as read.
#[derive(Debug, Clone, Default)]
pub struct ImportRecord {
    /// Where it was read (a line number), for the report.
    pub line: usize,
    /// The username.
    pub username: String,
    /// The addresses, in order.
    pub emails: Vec<String>,
    /// A phone number for SMS.
    pub phone: Option<String>,
    /// The language messages are sent in.
    pub locale: Option<String>,
    /// An existing hash, kept as it is: an argon2id PHC string or a bcrypt hash.
    pub password_hash: Option<String>,
    /// Imported switched off.
    pub disabled: bool,
}

/// A record the import refused, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The record's line.
    pub line: usize,
    /// Why, for the operator.
    pub reason: String,
}

/// What an import did, or (dry run, or refusals without `skip_refused`) would have done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Accounts written (or that a dry run would write).
    pub accepted: usize,
    /// Records refused, in file order.
    pub refused: Vec<Refusal>,
    /// Whether anything was written: not for a dry run, nor when a refusal stopped the import.
    pub written: bool,
}

fn taken_conflict(e: StoreError) -> ResetError {
    match e {
        // Another call took a name between the check and the write: nothing was written.
        StoreError::Conflict(_) => {
            ResetError::Conflict("a username or address was taken meanwhile; try again".into())
        }
        other => other.into(),
    }
}

impl ResetService {
    fn accounts(&self) -> Result<&Arc<dyn Accounts>, ResetError> {
        self.accounts.as_ref().ok_or(ResetError::DirectoryManaged)
    }

    /// Creates an account (`users:write`), without a password: the user sets one through a
    /// reset (`admin_issue` sends the link). `Conflict` when the username or an address is taken.
    pub async fn create_account(
        &self,
        session: &AdminSession,
        input: UserInput,
    ) -> Result<User, ResetError> {
        session.require(&[SCOPE_USERS_WRITE])?;
        let accounts = self.accounts()?;
        let new = self
            .prepare_user(UserInput {
                password: None,
                ..input
            })
            .await?;
        refuse_taken(accounts.as_ref(), &new.username, &new.emails, None).await?;
        let created = accounts
            .create_accounts(self.clock.now(), vec![new], &session.actor(), false)
            .await
            .map_err(taken_conflict)?;
        created.into_iter().next().ok_or(ResetError::UserNotFound)
    }

    /// The account with this id, switched off or not (`users:read`).
    pub async fn account(&self, session: &AdminSession, id: &str) -> Result<User, ResetError> {
        session.require(&[SCOPE_USERS_READ])?;
        let accounts = self.accounts()?;
        if !super::admin::plausible_user_id(id) {
            return Err(ResetError::UserNotFound);
        }
        accounts.account(id).await?.ok_or(ResetError::UserNotFound)
    }

    /// Changes an account's addresses, phone, locale or whether it is switched off
    /// (`users:write`). Switching it off or changing where its messages go ends its live
    /// secrets: a link already sent stops working.
    pub async fn update_account(
        &self,
        session: &AdminSession,
        id: &str,
        patch: AccountPatch,
    ) -> Result<User, ResetError> {
        session.require(&[SCOPE_USERS_WRITE])?;
        let accounts = self.accounts()?;
        if !super::admin::plausible_user_id(id) {
            return Err(ResetError::UserNotFound);
        }
        if patch.emails.is_none()
            && patch.phone.is_none()
            && patch.locale.is_none()
            && patch.disabled.is_none()
        {
            return Err(ResetError::InvalidRequest(
                "give at least one of emails, phone, locale and disabled".into(),
            ));
        }
        let emails = patch
            .emails
            .as_deref()
            .map(super::users::normalize_emails)
            .transpose()?;
        if let Some(phone) = &patch.phone {
            check_detail(phone, "phone")?;
        }
        if let Some(locale) = &patch.locale {
            check_detail(locale, "locale")?;
        }
        if let Some(emails) = &emails {
            refuse_taken(accounts.as_ref(), "", emails, Some(id)).await?;
        }
        let change = AccountChange {
            emails,
            phone: patch.phone,
            locale: patch.locale,
            disabled: patch.disabled,
        };
        accounts
            .update_account(self.clock.now(), id, &change, &session.actor())
            .await
            .map_err(taken_conflict)?
            .ok_or(ResetError::UserNotFound)
    }

    /// Deletes an account (`users:write`): its addresses, password history and live secrets
    /// go; messages already accepted for it are still delivered.
    pub async fn delete_account(&self, session: &AdminSession, id: &str) -> Result<(), ResetError> {
        session.require(&[SCOPE_USERS_WRITE])?;
        let accounts = self.accounts()?;
        if !super::admin::plausible_user_id(id)
            || !accounts
                .delete_account(self.clock.now(), id, &session.actor())
                .await?
        {
            return Err(ResetError::UserNotFound);
        }
        Ok(())
    }

    /// A page of accounts, oldest first (`users:read`): `page_size` of them (default
    /// [`DEFAULT_PAGE_SIZE`], at most [`MAX_PAGE_SIZE`]) after `page_token`, the previous page's
    /// `next`.
    pub async fn list_accounts(
        &self,
        session: &AdminSession,
        page_token: Option<&str>,
        page_size: Option<u32>,
    ) -> Result<AccountPage, ResetError> {
        session.require(&[SCOPE_USERS_READ])?;
        let accounts = self.accounts()?;
        let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(ResetError::InvalidRequest(format!(
                "page_size must be 1 to {MAX_PAGE_SIZE}"
            )));
        }
        if page_token.is_some_and(|t| !super::admin::plausible_user_id(t)) {
            return Err(ResetError::InvalidRequest(
                "page_token is not one this server gave".into(),
            ));
        }
        let users = accounts.list_accounts(page_token, size).await?;
        let next = (users.len() == size as usize)
            .then(|| users.last().map(|u| u.id.clone()))
            .flatten();
        Ok(AccountPage { users, next })
    }

    /// Imports accounts as `by` (the operator's command line): each record checked as
    /// `user add` checks it, its hash kept as it is (argon2id or bcrypt), a name taken twice in
    /// the file or already by an account refused, as are the records the file's reader could
    /// not read (`Err`). Any refusal stops the import unless `skip_refused`; the accounts are
    /// written in one transaction, all or none, and with `dry_run` not at all.
    pub async fn import_accounts(
        &self,
        records: Vec<Result<ImportRecord, Refusal>>,
        by: &str,
        dry_run: bool,
        skip_refused: bool,
    ) -> Result<ImportReport, ResetError> {
        let accounts = self.accounts()?;
        let mut refused = Vec::new();
        let mut accepted: Vec<(usize, NewUser)> = Vec::new();
        // Every username and address the file has named so far, with the line that named it.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(refusal) => {
                    refused.push(refusal);
                    continue;
                }
            };
            let line = record.line;
            match self.import_one(record).await {
                Err(reason) => refused.push(Refusal { line, reason }),
                Ok(new) => {
                    let names = std::iter::once(&new.username).chain(&new.emails);
                    match names.clone().find_map(|n| seen.get(n).map(|at| (n, *at))) {
                        Some((name, at)) => refused.push(Refusal {
                            line,
                            reason: format!("{name} is also on line {at}"),
                        }),
                        None => {
                            seen.extend(names.map(|n| (n.clone(), line)));
                            accepted.push((line, new));
                        }
                    }
                }
            }
        }
        let usernames: Vec<String> = accepted.iter().map(|(_, u)| u.username.clone()).collect();
        let emails: Vec<String> = accepted
            .iter()
            .flat_map(|(_, u)| u.emails.clone())
            .collect();
        let taken: HashMap<String, String> = accounts
            .taken(&usernames, &emails)
            .await?
            .into_iter()
            .collect();
        accepted.retain(|(line, new)| {
            let clash = std::iter::once(&new.username)
                .chain(&new.emails)
                .find(|n| taken.contains_key(*n));
            if let Some(name) = clash {
                refused.push(Refusal {
                    line: *line,
                    reason: format!("{name} belongs to an existing account"),
                });
            }
            clash.is_none()
        });
        refused.sort_by_key(|r| r.line);
        let count = accepted.len();
        if !refused.is_empty() && !skip_refused {
            return Ok(ImportReport {
                accepted: count,
                refused,
                written: false,
            });
        }
        let users = accepted.into_iter().map(|(_, u)| u).collect();
        accounts
            .create_accounts(self.clock.now(), users, by, dry_run)
            .await
            .map_err(taken_conflict)?;
        Ok(ImportReport {
            accepted: count,
            refused,
            written: !dry_run && count > 0,
        })
    }

    /// One record as the store takes it, or why not.
    async fn import_one(&self, record: ImportRecord) -> Result<NewUser, String> {
        let scheme = record.password_hash.as_deref().map(stored_hash_scheme);
        if let Some(None) = scheme {
            return Err("password_hash is neither an argon2id PHC string nor a bcrypt hash".into());
        }
        let input = UserInput {
            username: record.username,
            emails: record.emails,
            password: None,
            phone: record.phone,
            locale: record.locale,
            org_id: None,
        };
        let mut new = self.prepare_user(input).await.map_err(|e| match e {
            ResetError::InvalidRequest(why) => why,
            other => other.to_string(),
        })?;
        new.password_hash = record.password_hash;
        new.disabled = record.disabled;
        Ok(new)
    }
}

/// A phone number or locale: 1 to 64 characters, none of them control characters (the bounds
/// `prepare_user` applies).
fn check_detail(value: &Option<String>, what: &str) -> Result<(), ResetError> {
    super::users::bounded(value, 64, what)
}

/// `Conflict` naming the username or addresses another account than `own` has.
async fn refuse_taken(
    accounts: &dyn Accounts,
    username: &str,
    emails: &[String],
    own: Option<&str>,
) -> Result<(), ResetError> {
    let usernames: Vec<String> = (!username.is_empty())
        .then(|| username.to_owned())
        .into_iter()
        .collect();
    let taken: Vec<String> = accounts
        .taken(&usernames, emails)
        .await?
        .into_iter()
        .filter(|(_, owner)| Some(owner.as_str()) != own)
        .map(|(name, _)| name)
        .collect();
    if taken.is_empty() {
        Ok(())
    } else {
        Err(ResetError::Conflict(format!(
            "already taken: {}",
            taken.join(", ")
        )))
    }
}

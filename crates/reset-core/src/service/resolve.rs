//! Finding the live secret a caller submitted, counting every wrong code.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::{ResetService, SecretInput};
use crate::error::{ResetError, StoreError};
use crate::identity::AccountLookup;
use crate::message::Delivery;
use crate::rate_limit::{CounterHit, Limit, guess_share_key, stand_in_account};
use crate::secret::{SecretHash, is_code_shaped, is_token_shaped};
use crate::store::{SecretKind, SecretRecord, User};

impl ResetService {
    /// The live secret behind `input`, or the error `docs/api.md` gives for it. A wrong code is
    /// counted (atomically, in the store) before this returns.
    ///
    /// `from`: the client address, whose share of the account's guess budget a code's try
    /// spends.
    pub(super) async fn resolve(
        &self,
        input: &SecretInput,
        now: DateTime<Utc>,
        from: Option<IpAddr>,
    ) -> Result<(SecretRecord, Delivery), ResetError> {
        match input {
            SecretInput::Token(token) => {
                let record = self.live_token(token, now).await?;
                match record {
                    Some(r) if r.kind == SecretKind::Link => Ok((r, Delivery::Link)),
                    _ => Err(ResetError::InvalidToken),
                }
            }
            SecretInput::Code {
                username,
                email,
                code,
            } => {
                let lookup = AccountLookup::parse(username.as_deref(), email.as_deref())
                    .map_err(|e| ResetError::InvalidRequest(e.into()))?;
                self.code_shaped(code)?;
                let user = self.directory.find(&lookup).await?;
                self.check_code(user, lookup.no_code_key(), code, now, from, true)
                    .await
                    .map(|r| (r, Delivery::Code))
            }
            SecretInput::UserCode { user_id, code } => {
                self.code_shaped(code)?;
                let user = self.directory.by_id(user_id).await?;
                // An administrator's credential: the host's server sends every user's code
                // from one address, so no per-address share applies (the account's budget does).
                self.check_code(user, user_counter_key(user_id), code, now, from, false)
                    .await
                    .map(|r| (r, Delivery::Code))
            }
        }
    }

    fn code_shaped(&self, code: &str) -> Result<(), ResetError> {
        let digits = self.config.code_digits;
        if is_code_shaped(code, digits) {
            Ok(())
        } else {
            Err(ResetError::InvalidRequest(format!(
                "`code` must be {digits} digits"
            )))
        }
    }

    /// A link or cancel token's record when it is live and its hash matches.
    pub(super) async fn live_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SecretRecord>, ResetError> {
        if !is_token_shaped(token) {
            return Ok(None);
        }
        let store = self.store.clone();
        let found = self
            .under_every_key(
                "token",
                token,
                |hash| {
                    let store = store.clone();
                    async move { store.secret_by_hash(&hash).await }
                },
                |hash, r: &SecretRecord| hash.matches(&r.hash),
            )
            .await?;
        Ok(found.filter(|r| r.is_live(now)))
    }

    /// The row that one of `secret`'s stored forms (one per key, see [`crate::keyring::Keyring::candidates`])
    /// finds and `matches` confirms. Every form is looked up, always: the lookup costs the same
    /// whichever key made the secret, or whether any did.
    pub(super) async fn under_every_key<R, Fut>(
        &self,
        context: &str,
        secret: &str,
        lookup: impl Fn(String) -> Fut,
        matches: impl Fn(&SecretHash, &R) -> bool,
    ) -> Result<Option<R>, StoreError>
    where
        Fut: Future<Output = Result<Option<R>, StoreError>>,
    {
        let mut found = None;
        for hash in self.key.candidates(context, secret) {
            let row = lookup(hash.0.clone()).await?;
            if found.is_none() {
                found = row.filter(|r| matches(&hash, r));
            }
        }
        Ok(found)
    }

    /// One try of `code` for `user` (or an unknown account), counted by `counter_key`, the
    /// named identifier's try counter. The answer is a function of that counter alone, which
    /// exists alike for known and unknown identifiers and restarts with every accepted request
    /// (see `request`); the code's own try count and the account's guess budget are hidden
    /// caps beneath it. Both cases run the same store call and the same hashing.
    async fn check_code(
        &self,
        user: Option<User>,
        counter_key: String,
        code: &str,
        now: DateTime<Utc>,
        from: Option<IpAddr>,
        share_applies: bool,
    ) -> Result<SecretRecord, ResetError> {
        let max = self.config.code_max_attempts;
        let counter = self.try_counter(&counter_key, from);
        // The stand-in is the identifier's alone, whichever address tries: one per unknown
        // identifier, as there is one account per known one.
        let account = match &user {
            Some(u) => u.id.clone(),
            None => stand_in_account(&counter_key),
        };
        // No share of a budget that is off, nor for administrators' tries.
        let budget = self.config.guess_budget;
        let share = CounterHit {
            key: guess_share_key(&account, from),
            limit: if share_applies && !budget.is_off() {
                self.config.guess_budget_per_ip
            } else {
                Limit::new(0, budget.window_secs)
            },
        };
        let tried = self
            .store
            .code_try(now, &counter, &account, self.config.guess_budget, &share)
            .await?;
        let (request_id, stored) = match &tried.code {
            Some(r) => (r.request_id.as_str(), r.hash.as_str()),
            None => (NO_CODE_REQUEST, ""),
        };
        let matches = self.code_matches(request_id, code, stored);
        if tried.counter.count > max {
            return Err(ResetError::AttemptsExhausted {
                retry_after_secs: tried.counter.resets_in_secs.max(1),
            });
        }
        match tried.code {
            Some(record) if matches => Ok(record),
            _ => Err(ResetError::CodeIncorrect {
                attempts_remaining: max - tried.counter.count,
            }),
        }
    }
}

/// The try counter of codes submitted with a user id (administrators name users by id).
pub(super) fn user_counter_key(user_id: &str) -> String {
    format!("nocode:id:{user_id}")
}

/// The request id hashed with a code when there is no live code, so that both cases hash.
const NO_CODE_REQUEST: &str = "no-code";

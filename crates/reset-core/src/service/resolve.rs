//! Finding the live secret a caller submitted, counting every wrong code.

use chrono::{DateTime, Utc};

use super::{ResetService, SecretInput};
use crate::error::ResetError;
use crate::identity::AccountLookup;
use crate::message::Delivery;
use crate::rate_limit::{CounterHit, Limit};
use crate::secret::{SecretHash, is_code_shaped, is_token_shaped};
use crate::store::{SecretKind, SecretRecord, User};

impl ResetService {
    /// The live secret behind `input`, or the error `api.md` gives for it. A wrong code is
    /// counted (atomically, in the store) before this returns.
    pub(super) async fn resolve(
        &self,
        input: &SecretInput,
        now: DateTime<Utc>,
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
                self.check_code(user, lookup.no_code_key(), code, now)
                    .await
                    .map(|r| (r, Delivery::Code))
            }
            SecretInput::UserCode { user_id, code } => {
                self.code_shaped(code)?;
                let user = self.directory.by_id(user_id).await?;
                self.check_code(user, format!("nocode:id:{user_id}"), code, now)
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
        let hash = self.token_hash(token);
        let record = self.store.secret_by_hash(&hash).await?;
        Ok(record.filter(|r| SecretHash(hash).matches(&r.hash) && r.is_live(now)))
    }

    /// `user`'s live code against `code`; `no_code_key` names the stand-in try counter used
    /// when there is no live code (or no such user).
    async fn check_code(
        &self,
        user: Option<User>,
        no_code_key: String,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<SecretRecord, ResetError> {
        let live = match &user {
            Some(u) => self.store.live_code(&u.id, now).await?,
            None => None,
        };
        let Some(record) = live else {
            return self.no_code(no_code_key, now).await;
        };
        let exhausted = || ResetError::AttemptsExhausted {
            retry_after_secs: u64::try_from((record.expires_at - now).num_seconds())
                .unwrap_or(0)
                .max(1),
        };
        if record.attempts >= record.max_attempts {
            return Err(exhausted());
        }
        if SecretHash(self.code_hash(&record.request_id, code)).matches(&record.hash) {
            return Ok(record);
        }
        match self
            .store
            .wrong_code(now, &record.id, &record.user_id, self.config.guess_budget)
            .await?
        {
            Some(attempts) => Err(ResetError::CodeIncorrect {
                attempts_remaining: record.max_attempts.saturating_sub(attempts),
            }),
            None => Err(exhausted()),
        }
    }

    /// No live code for these identifiers, known account or not: answer exactly as a wrong
    /// code would, with a per-identifier try counter standing in for the code's own. Every code
    /// request restarts that counter (see `request`), as a real code starts with all its tries
    /// and expires with the counter's window.
    async fn no_code(&self, key: String, now: DateTime<Utc>) -> Result<SecretRecord, ResetError> {
        let max = self.config.code_max_attempts;
        let limit = Limit::new(max, self.config.code_ttl_secs);
        let states = self.store.hit(now, &[CounterHit { key, limit }]).await?;
        let state = states
            .first()
            .copied()
            .unwrap_or(crate::rate_limit::CounterState {
                count: max + 1,
                resets_in_secs: 1,
            });
        if state.count > max {
            return Err(ResetError::AttemptsExhausted {
                retry_after_secs: state.resets_in_secs.max(1),
            });
        }
        Err(ResetError::CodeIncorrect {
            attempts_remaining: max - state.count,
        })
    }
}

//! What dialects whose contracts reveal accounts may learn. The v1 API never calls these: its
//! answers do not depend on whether an account exists.

use super::{ClientContext, ResetService, SecretInput, Verified};
use crate::error::ResetError;
use crate::identity::AccountLookup;
use crate::store::User;

/// An account as a revealing dialect may describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    /// The account's id.
    pub user_id: String,
    /// Whether the account has at least one email address.
    pub has_email: bool,
    /// Whether a code is outstanding (issued, unexpired, unused, not superseded), tries left
    /// or not.
    pub has_live_code: bool,
}

impl ResetService {
    /// The account named by `username`, or `None`. Counts no rate limit: call it only after
    /// the rate-limited operation it explains (a request, a verify, a complete).
    pub async fn account_summary(
        &self,
        username: &str,
    ) -> Result<Option<AccountSummary>, ResetError> {
        let lookup = AccountLookup::parse(Some(username), None)
            .map_err(|e| ResetError::InvalidRequest(e.into()))?;
        let Some(user) = self.directory.find(&lookup).await? else {
            return Ok(None);
        };
        let live = self.store.live_code(&user.id, self.clock.now()).await?;
        Ok(Some(AccountSummary {
            has_email: !user.emails.is_empty(),
            has_live_code: live.is_some(),
            user_id: user.id,
        }))
    }

    /// Verifies a link token (counted like `verify`) and returns the account it belongs to,
    /// without using it up.
    pub async fn token_owner(
        &self,
        token: &str,
        ctx: &ClientContext,
    ) -> Result<(Verified, User), ResetError> {
        let now = self.clock.now();
        self.limit_attempt(ctx, now).await?;
        let (record, delivery) = self
            .resolve(&SecretInput::Token(token.to_owned()), now, ctx.ip)
            .await?;
        let verified = Verified {
            expires_at: record.expires_at,
            delivery,
        };
        let user = self
            .directory
            .by_id(&record.user_id)
            .await?
            .ok_or(ResetError::InvalidToken)?;
        Ok((verified, user))
    }
}

//! `verify`: check a secret without using it up, so a mail scanner that follows a link
//! cannot burn it.

use super::{ClientContext, ResetService, SecretInput, Verified};
use crate::error::ResetError;

impl ResetService {
    /// Whether the secret is live (wrong codes count against its tries).
    pub async fn verify(
        &self,
        input: SecretInput,
        ctx: &ClientContext,
    ) -> Result<Verified, ResetError> {
        let now = self.clock.now();
        self.limit_attempt(ctx, now).await?;
        let (record, delivery) = self.resolve(&input, now, ctx.ip).await?;
        Ok(Verified {
            expires_at: record.expires_at,
            delivery,
        })
    }
}

//! `cancel`: "this wasn't me" kills the request's secrets.

use super::{ClientContext, ResetService};
use crate::error::ResetError;
use crate::message::{EventDelivery, EventType};

impl ResetService {
    /// Kills the secrets of the request a link or cancel token belongs to. Answers `Ok(())`
    /// whatever the token, so there is nothing to learn from it.
    pub async fn cancel(&self, token: &str, ctx: &ClientContext) -> Result<(), ResetError> {
        let now = self.clock.now();
        self.limit_attempt(ctx, now).await?;
        if let Some(record) = self.live_token(token, now).await? {
            let events = EventDelivery::for_each(
                &self.config.webhook_urls,
                EventType::ResetCancelled,
                now,
                &record.user_id,
                Some(&record.request_id),
                &ctx.via,
            );
            self.store
                .cancel(
                    now,
                    &record.request_id,
                    ctx.ip.map(|ip| ip.to_string()),
                    events,
                )
                .await?;
            tracing::info!(request_id = %record.request_id, "password reset cancelled by the user");
        }
        Ok(())
    }
}

//! Decoy messages (see [`OutboxMessage::decoy`], `docs/anti-enumeration.md`): what an unknown
//! identifier's request queues where a known account's request queues its messages. The worker handles one like a real message up to
//! the hand-off: claimed, rendered and built for its channel, marked sent. Nothing leaves the
//! process, and no metric counts it.

use chrono::Utc;
use reset_core::store::{Outbox, OutboxMessage};

use crate::{Couriers, Renderer};

/// Handles a decoy as the worker handles a real message, without the delivery: rendered and
/// built, then marked sent (also when unrenderable: nobody waits for it). Logged at debug level
/// only, so the logs show real deliveries alone.
pub async fn dry_run(
    store: &dyn Outbox,
    couriers: &Couriers,
    renderer: &Renderer,
    message: &OutboxMessage,
) {
    if let Err(e) = couriers.dry_run(message, renderer) {
        tracing::debug!(id = %message.id, error = %e, "outbox: decoy not rendered");
    }
    if let Err(e) = store.outbox_sent(Utc::now(), &message.id).await {
        tracing::debug!(id = %message.id, error = %e, "outbox: decoy not marked");
    }
}

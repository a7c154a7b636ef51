//! The outbox worker: delivers queued messages after the responses that queued them, retrying
//! failures with exponential backoff and jitter. A message is marked sent only after the transport
//! accepted it; a crash in between means it is sent again (at least once, never lost).

use std::sync::Arc;
use std::time::Duration;

use crate::{DeliveryError, MailTransport, Renderer};
use chrono::Utc;
use reset_core::Store;
use tokio::sync::watch;

/// Messages claimed per round.
const BATCH: u32 = 32;
/// How long a claimed message is reserved for this worker.
const LEASE_SECS: u64 = 120;

/// Runs until `shutdown` turns true, then finishes the round in hand.
pub async fn run(
    store: Arc<dyn Store>,
    transport: MailTransport,
    renderer: Arc<Renderer>,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let delivered = deliver_due(store.as_ref(), &transport, &renderer).await;
        if delivered == BATCH as usize {
            continue;
        }
        tokio::select! {
            _ = shutdown.changed() => break,
            () = tokio::time::sleep(poll) => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}

/// One round: claim due messages and deliver each. Returns how many were claimed.
pub async fn deliver_due(
    store: &dyn Store,
    transport: &MailTransport,
    renderer: &Renderer,
) -> usize {
    let messages = match store.claim_outbox(Utc::now(), BATCH, LEASE_SECS).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "outbox: cannot claim messages");
            return 0;
        }
    };
    let claimed = messages.len();
    for message in messages {
        let sent = match renderer.render(&message) {
            Ok(rendered) => transport.send(&message, &rendered).await,
            Err(e) => Err(DeliveryError::Build(e.to_string())),
        };
        match sent {
            Ok(()) => {
                if let Err(e) = store.outbox_sent(Utc::now(), &message.id).await {
                    tracing::warn!(id = %message.id, error = %e, "outbox: sent but not marked");
                } else {
                    tracing::info!(id = %message.id, kind = message.kind.as_str(), "outbox: delivered");
                }
            }
            Err(e) => {
                let retry_at =
                    Utc::now() + with_jitter(backoff(message.attempts), rand::random::<f64>());
                tracing::warn!(id = %message.id, attempts = message.attempts, error = %e, "outbox: delivery failed");
                if let Err(e) = store
                    .outbox_failed(&message.id, &e.to_string(), retry_at)
                    .await
                {
                    tracing::warn!(id = %message.id, error = %e, "outbox: cannot record the failure");
                }
            }
        }
    }
    claimed
}

/// `base` spread over ±20 % by `fraction` (0..1), so that messages that failed together (an
/// SMTP outage) do not all come back in the same second.
fn with_jitter(base: chrono::Duration, fraction: f64) -> chrono::Duration {
    let factor = 0.8 + 0.4 * fraction.clamp(0.0, 1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let ms = (base.num_milliseconds() as f64 * factor) as i64;
    chrono::Duration::milliseconds(ms)
}

/// 5 s, 10 s, 20 s, … up to an hour (before jitter).
fn backoff(attempts: u32) -> chrono::Duration {
    let exp = attempts.saturating_sub(1).min(10);
    chrono::Duration::seconds((5i64 << exp).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1).num_seconds(), 5);
        assert_eq!(backoff(2).num_seconds(), 10);
        assert_eq!(backoff(30).num_seconds(), 3600);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let base = chrono::Duration::seconds(10);
        assert_eq!(with_jitter(base, 0.0).num_milliseconds(), 8_000);
        assert_eq!(with_jitter(base, 0.5).num_milliseconds(), 10_000);
        assert_eq!(with_jitter(base, 1.0).num_milliseconds(), 12_000);
        assert_eq!(with_jitter(base, 7.0).num_milliseconds(), 12_000);
    }
}

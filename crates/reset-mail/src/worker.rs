//! The outbox worker: delivers queued messages after the responses that queued them, retrying
//! failures with exponential backoff and jitter. A message is marked sent only after the other
//! side accepted it; a crash in between means it is sent again (at least once, never lost).
//! A message that cannot be delivered in time (older than `max_age`, `max_attempts` failures, or
//! a permanent error such as a bad address) goes to the dead-letter state with an audit event;
//! `reset-server outbox list|retry` shows and re-queues those.
//!
//! Metrics (the `metrics` facade; the server exports them at `GET /metrics` on its private
//! `metrics_bind` listener):
//! `reset_outbox_delivered_total`, `reset_outbox_failed_total` and `reset_outbox_dead_total`,
//! each by `channel`, and `reset_outbox_delivery_latency_seconds{channel}`, from queueing to the
//! other side's acceptance.
//!
//! Spans: one `outbox claim` per round (its message count, and a link to the trace of each
//! message it claimed), and per real message an `outbox deliver` span resumed in the trace of
//! the request that queued it (the `traceparent` kept in its payload), with `render` and
//! `send` beneath. A decoy gets no span: like a metric, a span would count it.

use std::sync::Arc;
use std::time::Duration;

use crate::{Couriers, DeliveryError, Renderer};
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use tracing::Instrument as _;

use reset_core::store::{Outbox, OutboxMessage};
use tokio::sync::watch;

/// Messages claimed per round.
const BATCH: u32 = 32;
/// How long a claimed message is reserved for this worker.
const LEASE_SECS: u64 = 120;
/// Deliveries under way at once within a round.
const CONCURRENCY: usize = 8;
/// The longest one delivery may take before it counts as failed.
const DELIVERY_TIMEOUT_SECS: u64 = 20;
/// Room left per delivery for its bookkeeping (marking it sent, failed or dead): long enough to
/// wait out a database failover (Patroni promotes a standby in 2–3 s, docs/deploy.md) before a
/// message that went out is given up as unmarked, and so sent again after its lease.
const BOOKKEEPING_SECS: u64 = 8;
// A round ends inside the lease, so no other worker claims a message this one still holds. A
// store slower than the margin (or a crash) can still mean a resend: delivery is at least once.
const _: () = assert!(
    (BATCH as u64).div_ceil(CONCURRENCY as u64) * (DELIVERY_TIMEOUT_SECS + BOOKKEEPING_SECS)
        < LEASE_SECS
);

/// How the worker paces and gives up.
#[derive(Debug, Clone, Copy)]
pub struct WorkerOptions {
    /// Pause between rounds when the queue is empty.
    pub poll: Duration,
    /// A message still undelivered this long after it was queued is dead-lettered (default one
    /// hour: twice a reset link's default lifetime, after which the secret inside is useless).
    pub max_age: Duration,
    /// Failed tries before a message is dead-lettered (default 12; with the default backoff
    /// that is about two and a half hours, so `max_age` usually decides first).
    pub max_attempts: u32,
    /// The first retry's delay; each further one doubles it, up to an hour (default 5 s).
    pub retry_base: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            // A safety net: the store wakes the worker when it queues (`Outbox::queued`).
            poll: Duration::from_secs(5),
            max_age: Duration::from_secs(3600),
            max_attempts: 12,
            retry_base: Duration::from_secs(5),
        }
    }
}

/// Runs until `shutdown` turns true, then finishes the round in hand.
pub async fn run(
    store: Arc<dyn Outbox>,
    couriers: Couriers,
    renderer: Arc<Renderer>,
    options: WorkerOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let claimed = deliver_due(store.as_ref(), &couriers, &renderer, &options).await;
        if claimed == BATCH as usize && !*shutdown.borrow() {
            continue;
        }
        tokio::select! {
            _ = shutdown.changed() => break,
            () = store.queued(options.poll) => {}
        }
        if *shutdown.borrow() {
            break;
        }
    }
}

/// One round: claim due messages and deliver each. Returns how many were claimed.
pub async fn deliver_due(
    store: &dyn Outbox,
    couriers: &Couriers,
    renderer: &Renderer,
    options: &WorkerOptions,
) -> usize {
    let span = tracing::info_span!(
        "outbox claim",
        messaging.operation.type = "receive",
        messaging.batch.message_count = tracing::field::Empty
    );
    let claim = store
        .claim_outbox(Utc::now(), BATCH, LEASE_SECS)
        .instrument(span.clone())
        .await;
    let messages = match claim {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(parent: &span, error = %e, "outbox: cannot claim messages");
            return 0;
        }
    };
    let claimed = messages.len();
    span.record("messaging.batch.message_count", claimed);
    for message in messages.iter().filter(|m| !m.decoy) {
        if let Some(traceparent) = &message.payload.traceparent {
            reset_core::trace_context::link(&span, traceparent);
        }
    }
    drop(span);
    futures_util::stream::iter(messages)
        .for_each_concurrent(CONCURRENCY, |message| async move {
            deliver_one(store, couriers, renderer, options, &message).await;
        })
        .await;
    claimed
}

async fn deliver_one(
    store: &dyn Outbox,
    couriers: &Couriers,
    renderer: &Renderer,
    options: &WorkerOptions,
    message: &OutboxMessage,
) {
    if message.decoy {
        return crate::decoy::dry_run(store, couriers, renderer, message).await;
    }
    let span = tracing::info_span!(
        "outbox deliver",
        otel.kind = "consumer",
        messaging.operation.type = "process",
        reset.channel = message.channel.as_str(),
        reset.message.kind = message.kind.as_str(),
        reset.outcome = tracing::field::Empty,
    );
    if let Some(traceparent) = &message.payload.traceparent {
        reset_core::trace_context::resume(&span, traceparent);
    }
    deliver_real(store, couriers, renderer, options, message)
        .instrument(span)
        .await;
}

async fn deliver_real(
    store: &dyn Outbox,
    couriers: &Couriers,
    renderer: &Renderer,
    options: &WorkerOptions,
    message: &OutboxMessage,
) {
    let channel = message.channel.as_str();
    let now = Utc::now();
    if too_old(message.queued_at, now, options.max_age) {
        let reason = format!(
            "not delivered within the maximum age of {}s",
            options.max_age.as_secs()
        );
        return dead(store, message, &reason).await;
    }
    let timeout = Duration::from_secs(DELIVERY_TIMEOUT_SECS);
    let delivered = tokio::time::timeout(timeout, couriers.deliver(message, renderer))
        .await
        .unwrap_or_else(|_| {
            Err(DeliveryError::Transport(format!(
                "no answer within {DELIVERY_TIMEOUT_SECS} s"
            )))
        });
    match delivered {
        Ok(()) => {
            tracing::Span::current().record("reset.outcome", "delivered");
            metrics::counter!("reset_outbox_delivered_total", "channel" => channel).increment(1);
            let waited = (Utc::now() - message.queued_at)
                .to_std()
                .unwrap_or_default();
            metrics::histogram!("reset_outbox_delivery_latency_seconds", "channel" => channel)
                .record(waited.as_secs_f64());
            if let Err(e) = mark_sent(store, &message.id).await {
                tracing::warn!(id = %message.id, error = %e, "outbox: sent but not marked");
            } else {
                // Debug, not info: a decoy (an unknown account's request) logs no such line,
                // so at info a delivery line would tell which requests named a real account.
                tracing::debug!(id = %message.id, kind = message.kind.as_str(), channel, "outbox: delivered");
            }
        }
        Err(e) => {
            tracing::Span::current().record("reset.outcome", "failed");
            metrics::counter!("reset_outbox_failed_total", "channel" => channel).increment(1);
            tracing::warn!(id = %message.id, attempts = message.attempts, error = %e, "outbox: delivery failed");
            if e.is_permanent() {
                return dead(store, message, &e.to_string()).await;
            }
            if message.attempts >= options.max_attempts {
                let reason = format!("{} failed tries; the last: {e}", message.attempts);
                return dead(store, message, &reason).await;
            }
            let delay = backoff(options.retry_base, message.attempts);
            let retry_at = Utc::now() + with_jitter(delay, rand::random::<f64>());
            if let Err(e) = store
                .outbox_failed(&message.id, &e.to_string(), retry_at)
                .await
            {
                tracing::warn!(id = %message.id, error = %e, "outbox: cannot record the failure");
            }
        }
    }
}

/// Marks a delivered message sent, trying again while the store is unavailable (a failover, a
/// restart) for up to [`BOOKKEEPING_SECS`]: a mark that never lands sends the message a second
/// time once its lease ends, so it is worth waiting for.
async fn mark_sent(store: &dyn Outbox, id: &str) -> Result<(), reset_core::error::StoreError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(BOOKKEEPING_SECS);
    let mut pause = Duration::from_millis(100);
    loop {
        match store.outbox_sent(Utc::now(), id).await {
            Err(reset_core::error::StoreError::Unavailable(_))
                if tokio::time::Instant::now() + pause < deadline =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

async fn dead(store: &dyn Outbox, message: &OutboxMessage, reason: &str) {
    metrics::counter!("reset_outbox_dead_total", "channel" => message.channel.as_str())
        .increment(1);
    tracing::error!(id = %message.id, kind = message.kind.as_str(), reason, "outbox: message dead-lettered");
    if let Err(e) = store.outbox_dead(Utc::now(), &message.id, reason).await {
        tracing::warn!(id = %message.id, error = %e, "outbox: cannot dead-letter the message");
    }
}

fn too_old(queued_at: DateTime<Utc>, now: DateTime<Utc>, max_age: Duration) -> bool {
    (now - queued_at).to_std().is_ok_and(|age| age > max_age)
}

/// `base` spread over ±20 % by `fraction` (0..1), so that messages that failed together (an
/// SMTP outage) do not all come back in the same second.
fn with_jitter(base: chrono::Duration, fraction: f64) -> chrono::Duration {
    let factor = 0.8 + 0.4 * fraction.clamp(0.0, 1.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let ms = (base.num_milliseconds() as f64 * factor) as i64;
    chrono::Duration::milliseconds(ms)
}

/// `base` after the first failure, then doubling (5 s, 10 s, 20 s, … by default), up to an
/// hour (before jitter).
fn backoff(base: Duration, attempts: u32) -> chrono::Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let ms = i64::try_from(base.as_millis()).unwrap_or(i64::MAX >> 21);
    chrono::Duration::milliseconds((ms << exp).min(3_600_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1).num_seconds(), 5);
        assert_eq!(backoff(base, 2).num_seconds(), 10);
        assert_eq!(backoff(base, 30).num_seconds(), 3600);
        assert_eq!(
            backoff(Duration::from_millis(100), 3).num_milliseconds(),
            400
        );
    }

    #[test]
    fn age_counts_from_the_queue_time() {
        let t = Utc::now();
        let hour = Duration::from_secs(3600);
        assert!(!too_old(t, t + chrono::Duration::minutes(59), hour));
        assert!(too_old(t, t + chrono::Duration::minutes(61), hour));
        assert!(
            !too_old(t, t - chrono::Duration::minutes(5), hour),
            "clock skew is not age"
        );
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

//! The outbox: messages queued inside the reset transactions, claimed and delivered by
//! `reset-mail`'s worker, counted for the metrics.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::message::{Channel, MessageKind, MessagePayload};

/// An outbox row claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The row's id, for marking it sent, failed or dead.
    pub id: String,
    /// What the message is.
    pub kind: MessageKind,
    /// How it is delivered.
    pub channel: Channel,
    /// The address, phone number or webhook URL it goes to.
    pub recipient: String,
    /// The language it is rendered in.
    pub locale: String,
    /// Its variable part (link, code, event).
    pub payload: MessagePayload,
    /// Deliveries tried so far, this one included.
    pub attempts: u32,
    /// When it was first queued.
    pub created_at: DateTime<Utc>,
    /// When it entered the queue: `created_at`, or the operator's last retry. The worker's
    /// maximum age counts from here.
    pub queued_at: DateTime<Utc>,
    /// A decoy message, queued for an unknown identifier's request (see
    /// [`crate::store::UnknownTarget`] and `docs/anti-enumeration.md`'s glossary):
    /// the worker claims, renders and marks it sent like a real message, so the work after
    /// such a request costs what a known account's does, but hands it to no transport and
    /// counts it in no metric. [`Outbox::outbox_stats`] leaves decoys out.
    pub decoy: bool,
}

/// The outbox at a glance, for metrics (decoys not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Waiting for delivery (first try or a retry).
    pub pending: u64,
    /// Of `pending`, those that failed at least once.
    pub retrying: u64,
    /// Given up: too old, too many tries or undeliverable (see `reset-server outbox list`).
    pub dead: u64,
    /// Delivered and not yet swept.
    pub sent: u64,
    /// When the oldest pending message was queued (`None`: nothing pending).
    pub oldest_pending: Option<chrono::DateTime<chrono::Utc>>,
}

/// The outbox half of a store.
///
/// What an implementation must guarantee:
/// - **exactly-once claim**: a claimed row is leased to one caller until `lease_secs` pass;
///   concurrent claimers (other tasks, other instances on one database) never get the same row
///   while the lease holds;
/// - a row marked sent or dead is never claimed again (until `outbox retry` queues a dead one);
/// - a failed row is claimable again from its `retry_at`, not before;
/// - decoy rows are claimed and marked like the others, and left out of [`OutboxStats`].
///
/// ```text
/// claim(now, 8, 120)  -> [a, b]      claim(now, 8, 120) -> []     (a and b are leased)
/// failed(a, at: now+60)              claim(now+61, 8, 120) -> [a]
/// sent(b)                            claim(now+999, 8, 120) never returns b
/// ```
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Claims up to `limit` due outbox messages for `lease_secs` (on PostgreSQL with
    /// `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same row). Decoys come
    /// with the rest: a worker of one's own must deliver nothing for them, only mark them sent
    /// (as `reset-mail`'s worker does, after rendering them).
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_secs: u64,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Marks a message delivered and blanks its payload (no secret outlives its delivery).
    async fn outbox_sent(&self, now: DateTime<Utc>, id: &str) -> Result<(), StoreError>;

    /// Records a failed delivery and when to try again.
    async fn outbox_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Gives a message up (the dead-letter state) with the reason, and writes an audit event,
    /// in one transaction. `reset-server outbox retry` can queue it again.
    async fn outbox_dead(
        &self,
        now: DateTime<Utc>,
        id: &str,
        reason: &str,
    ) -> Result<(), StoreError>;

    /// Counts by state.
    async fn outbox_stats(&self) -> Result<OutboxStats, StoreError>;

    /// Returns when a message may have been queued, or after `at_most`: the worker waits here
    /// between rounds, so a new message leaves at once while polling stays the safety net. An
    /// implementation that cannot tell just sleeps (this default); `DieselStore` wakes for the
    /// messages its own process queued and, on PostgreSQL, for other instances' through
    /// `LISTEN`/`NOTIFY`. Waking without a new message is harmless (a round finds nothing).
    async fn queued(&self, at_most: std::time::Duration) {
        tokio::time::sleep(at_most).await;
    }
}

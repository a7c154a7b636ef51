//! The store port. Each method is one transaction; attempts, single use and counters are
//! single atomic statements in the implementation, never read-modify-write in Rust.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::admin::{AdminToken, NewAdminToken};
use crate::error::StoreError;
use crate::message::{Channel, EventDelivery, MessageKind, MessagePayload};
use crate::rate_limit::{CounterHit, CounterState, Limit};

/// The kinds of stored secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A link token: verifies, completes and cancels.
    Link,
    /// A numeric code: verifies and completes; found through its account.
    Code,
    /// A cancel-only token sent beside a code.
    Cancel,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Code => "code",
            Self::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "link" => Some(Self::Link),
            "code" => Some(Self::Code),
            "cancel" => Some(Self::Cancel),
            _ => None,
        }
    }
}

/// An account as the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub emails: Vec<String>,
    pub password_hash: Option<String>,
    pub org_id: String,
    pub locale: Option<String>,
    pub phone: Option<String>,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub sequence: i64,
    pub created_at: DateTime<Utc>,
}

/// A user to create (from the CLI, or a host application's seed).
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub emails: Vec<String>,
    pub password_hash: Option<String>,
    pub org_id: Option<String>,
    pub locale: Option<String>,
    pub phone: Option<String>,
}

/// A secret to store: only its keyed hash.
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub kind: SecretKind,
    pub hash: String,
    pub expires_at: DateTime<Utc>,
    pub max_attempts: u32,
}

/// A stored secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    pub id: String,
    pub request_id: String,
    pub user_id: String,
    pub kind: SecretKind,
    pub hash: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub max_attempts: u32,
}

impl SecretRecord {
    /// Not used, not superseded or cancelled, not expired.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.superseded_at.is_none() && self.expires_at > now
    }
}

/// The account a request named, as the directory found it, and where its message goes.
#[derive(Debug, Clone)]
pub struct IssueTarget {
    pub user_id: String,
    /// The addresses or phone number for the message (one message each); empty when the
    /// channel has none.
    pub recipients: Vec<String>,
    pub locale: String,
    pub username: String,
}

/// Everything an accepted reset request writes, in one transaction: for a known account the new
/// secrets, the supersession of older ones, the outbox rows (the message, one per recipient,
/// and the webhook events); an audit event either way.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub now: DateTime<Utc>,
    /// `None` for an unknown account (only the audit event is written).
    pub target: Option<IssueTarget>,
    pub request_id: String,
    pub secrets: Vec<NewSecret>,
    /// For codes: the account's daily guess budget; when spent, nothing is issued.
    pub guess_budget: Option<Limit>,
    pub channel: Channel,
    pub message_kind: MessageKind,
    pub payload: MessagePayload,
    pub ip: Option<String>,
    pub via: String,
    /// Queued only when a secret is issued.
    pub events: Vec<EventDelivery>,
    /// Queue the message (needs a recipient); `false` stores the secrets only (an
    /// administrator takes the code to deliver it their own way).
    pub deliver: bool,
}

/// What an accepted reset request did: for the log (a self-service answer never depends on
/// it), and for an administrator's issue, which must not report a secret that was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    Issued {
        user_id: String,
    },
    /// No such account, identifiers of two accounts, no address for the channel, or the guess
    /// budget is spent.
    NotIssued,
}

/// What follows a consumed secret and a changed password, written in one transaction.
#[derive(Debug, Clone)]
pub struct Completion {
    pub now: DateTime<Utc>,
    pub user_id: String,
    /// The hash being replaced, kept for the history rule when `keep_history > 0`.
    pub previous_hash: Option<String>,
    pub keep_history: u32,
    /// Where the "your password was changed" notice goes (`None`: no address).
    pub notice_to: Option<String>,
    pub locale: String,
    pub username: String,
    pub ip: Option<String>,
    pub via: String,
    pub events: Vec<EventDelivery>,
    /// The audit event: `password_reset_completed`, or `password_set_by_admin`.
    pub audit_kind: &'static str,
}

/// An outbox row claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: String,
    pub kind: MessageKind,
    pub channel: Channel,
    pub recipient: String,
    pub locale: String,
    pub payload: MessagePayload,
    /// Deliveries tried so far, this one included.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// When it entered the queue: `created_at`, or the operator's last retry. The worker's
    /// maximum age counts from here.
    pub queued_at: DateTime<Utc>,
}

/// The outbox at a glance, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Waiting for delivery (first try or a retry).
    pub pending: u64,
    /// Of `pending`, those that failed at least once.
    pub retrying: u64,
    /// Given up: too old, too many tries or undeliverable (see `reset-server outbox list`).
    pub dead: u64,
    pub sent: u64,
}

/// The persistence the service needs.
#[async_trait]
pub trait Store: Send + Sync {
    /// Whether the database answers and every migration is applied.
    async fn ready(&self) -> Result<(), StoreError>;

    /// Bumps each counter (fixed windows, one atomic upsert each) and returns their states.
    async fn hit(
        &self,
        now: DateTime<Utc>,
        hits: &[CounterHit],
    ) -> Result<Vec<CounterState>, StoreError>;

    /// Starts each counter afresh: count 0, window from `now`.
    async fn restart(&self, now: DateTime<Utc>, keys: &[String]) -> Result<(), StoreError>;

    /// A reset request: see [`IssueRequest`].
    async fn issue(&self, request: IssueRequest) -> Result<IssueOutcome, StoreError>;

    /// A link or cancel secret by its hash, whatever its state.
    async fn secret_by_hash(&self, hash: &str) -> Result<Option<SecretRecord>, StoreError>;

    /// The account's live code, if any (at most one: a request supersedes older ones).
    async fn live_code(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SecretRecord>, StoreError>;

    /// Counts one wrong try against a code and the account's guess budget, atomically:
    /// `attempts = attempts + 1 WHERE attempts < max_attempts`. Returns the new count, or `None`
    /// when the code already had all its tries.
    async fn wrong_code(
        &self,
        now: DateTime<Utc>,
        secret_id: &str,
        user_id: &str,
        budget: Limit,
    ) -> Result<Option<u32>, StoreError>;

    /// The account's earlier password hashes, newest first (at most `n`).
    async fn password_history(&self, user_id: &str, n: u32) -> Result<Vec<String>, StoreError>;

    /// Consumes the secret in one statement: live, tries left, not used. `false` when it was
    /// no longer usable (of concurrent callers, exactly one gets `true`).
    async fn consume(
        &self,
        now: DateTime<Utc>,
        secret_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError>;

    /// Gives back a secret consumed at `used_at` (the password change after it failed).
    async fn release(&self, secret_id: &str, used_at: DateTime<Utc>) -> Result<(), StoreError>;

    /// After the password changed: kill the account's other secrets, keep the old hash for the
    /// history rule, queue the notice and write the audit event, in one transaction.
    async fn after_reset(&self, completion: Completion) -> Result<(), StoreError>;

    /// Kills every live secret of the request `request_id`; `true` if any was live.
    /// `events` are queued when any secret was live.
    async fn cancel(
        &self,
        now: DateTime<Utc>,
        request_id: &str,
        ip: Option<String>,
        events: Vec<EventDelivery>,
    ) -> Result<bool, StoreError>;

    /// Claims up to `limit` due outbox messages for `lease_secs` (on PostgreSQL with
    /// `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same row).
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

    async fn insert_admin_token(&self, token: NewAdminToken) -> Result<(), StoreError>;

    /// The token with this hash (revoked or not) and its stored hash.
    async fn admin_token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<(AdminToken, String)>, StoreError>;

    /// Every token, oldest first.
    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>, StoreError>;

    /// Revokes a live token; `false` when there was none with this id.
    async fn revoke_admin_token(&self, now: DateTime<Utc>, id: &str) -> Result<bool, StoreError>;
}

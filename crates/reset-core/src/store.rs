//! The store port. Each method is one transaction; attempts, single use and counters are
//! single atomic statements in the implementation, never read-modify-write in Rust.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::admin_token::{AdminToken, NewAdminToken};
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
    /// A cancel-only token, sent beside a link or a code for the "this wasn't me" link.
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
    /// For codes: the account's daily guess budget; when spent, nothing is issued and the
    /// account's live code is killed (a spent code must not stay usable; its links stay).
    pub guess_budget: Option<Limit>,
    /// Caps on the messages one account receives (see [`crate::rate_limit::send_cap_key`]),
    /// counted here across every identifier and dialect: when one would be passed, nothing is
    /// issued or sent and the older secrets stay as they are. Empty for administrators.
    pub send_caps: Vec<Limit>,
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
    /// A later attempt of a request whose earlier attempt failed: if that one committed after
    /// all (its answer was lost with the connection), nothing is written again.
    pub retried: bool,
}

/// What an accepted reset request did: for the log (a self-service answer never depends on
/// it), and for an administrator's issue, which must not report a secret that was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    Issued {
        user_id: String,
    },
    /// No such account, identifiers of two accounts, no address for the channel, the guess
    /// budget is spent, or the account's send cap is reached.
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

/// One try at a code, as [`Store::code_try`] counted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTry {
    /// The try counter of the identifier the caller named, after this try: the only state the
    /// answer may depend on (it exists alike for known and unknown identifiers).
    pub counter: CounterState,
    /// The account's live code when it still had tries left, its `attempts` counting this try.
    /// `None` for an unknown account, no live code, or a code whose own tries are spent.
    pub code: Option<SecretRecord>,
}

/// How long what is no longer needed is kept before [`Store::sweep`] deletes it, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Retention {
    /// Reset secrets, counted from their expiry (used or not).
    pub secrets_secs: u64,
    /// Delivered outbox rows, counted from delivery.
    pub outbox_sent_secs: u64,
    /// Dead-lettered outbox rows, counted from when they were given up.
    pub outbox_dead_secs: u64,
    /// Audit events, counted from when they happened.
    pub audit_secs: u64,
}

impl Default for Retention {
    fn default() -> Self {
        const DAY: u64 = 24 * 60 * 60;
        Self {
            secrets_secs: DAY,
            outbox_sent_secs: 7 * DAY,
            outbox_dead_secs: 30 * DAY,
            audit_secs: 90 * DAY,
        }
    }
}

/// Rows one [`Store::sweep`] call deleted, by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub secrets: u64,
    pub rate_limits: u64,
    pub outbox: u64,
    pub audit: u64,
}

impl Swept {
    pub fn total(&self) -> u64 {
        self.secrets + self.rate_limits + self.outbox + self.audit
    }
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

    /// Bumps each counter (fixed windows, one atomic upsert each) and returns their states;
    /// when none is over its limit, starts the `then_restart` counters afresh (as
    /// [`Store::restart`] does), all in one transaction.
    async fn hit(
        &self,
        now: DateTime<Utc>,
        hits: &[CounterHit],
        then_restart: &[CounterHit],
    ) -> Result<Vec<CounterState>, StoreError>;

    /// Starts each counter afresh: count 0, a window of the counter's limit from `now`.
    async fn restart(&self, now: DateTime<Utc>, counters: &[CounterHit]) -> Result<(), StoreError>;

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

    /// One try at a code, right or wrong, in one transaction whose statements are the same
    /// whether or not the account exists or has a live code (`user_id` is then a stand-in that
    /// matches no secret): bumps `counter` (the named identifier's try counter), finds the
    /// account's live code and bumps its own try counter (a stand-in one when there is none),
    /// and bumps the account's guess `budget`. See [`CodeTry`].
    async fn code_try(
        &self,
        now: DateTime<Utc>,
        counter: &CounterHit,
        user_id: &str,
        budget: Limit,
    ) -> Result<CodeTry, StoreError>;

    /// The account's earlier password hashes, newest first (at most `n`).
    async fn password_history(&self, user_id: &str, n: u32) -> Result<Vec<String>, StoreError>;

    /// Consumes the secret in one statement: live and not used (a code's tries are checked by
    /// [`Store::code_try`], which hands out only codes with tries left). `false` when it was no
    /// longer usable (of concurrent callers, exactly one gets `true`).
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

    /// Appends one audit event without details (for events outside the other transactions,
    /// such as a breach check that could not run).
    async fn audit(
        &self,
        now: DateTime<Utc>,
        user_id: Option<&str>,
        kind: &'static str,
        ip: Option<String>,
    ) -> Result<(), StoreError>;

    /// Deletes at most `batch` rows of each kind that are no longer needed: secrets expired
    /// for longer than their retention, rate-limit counters whose window is over, delivered
    /// and dead outbox rows and audit events past theirs. Call again while it deletes a full
    /// batch.
    async fn sweep(
        &self,
        now: DateTime<Utc>,
        retention: &Retention,
        batch: u32,
    ) -> Result<Swept, StoreError>;

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

//! The reset state: secrets, tries, rate-limit counters and the audit trail.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::message::EventDelivery;
use crate::rate_limit::{CounterHit, CounterState, Limit};

use super::{CodeTry, Completion, IssueOutcome, IssueRequest, Retention, SecretRecord, Swept};

/// The reset-state half of a store. Each method is one transaction.
///
/// What an implementation must guarantee:
/// - **atomic consume**: of any number of concurrent `consume` calls for one live secret,
///   exactly one returns `true`;
/// - **counter windows**: `hit` bumps each counter in one atomic statement; within a window the
///   counts concurrent callers see are distinct (1, 2, …, n), and the first hit after the window
///   ends starts at 1 with a new window;
/// - `issue` supersedes the account's older secrets of the kinds it issues, so at most one code
///   is live per account, and writes its outbox rows in the same transaction.
///
/// ```text
/// hit(t, [k/5 per 60 s])  -> count 1      ... fifth -> count 5, sixth -> count 6 (over)
/// hit(t + 61 s, [k])      -> count 1      (a new window)
/// consume(s) ‖ consume(s) -> exactly one true
/// ```
#[async_trait]
pub trait ResetState: Send + Sync {
    /// Whether the database answers and every migration is applied.
    async fn ready(&self) -> Result<(), StoreError>;

    /// Bumps each counter (fixed windows, [`crate::counters::plan_hits`]; each row locked while
    /// it is read and written) and returns their states; when none is over its limit, starts
    /// the `then_restart` counters afresh (as [`ResetState::restart`] does), all in one
    /// transaction.
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
    /// whether or not the account exists or has a live code (`user_id` is then the identifier's
    /// stand-in account, which has no secret): bumps `counter` (the named identifier's try
    /// counter), finds the account's live code and bumps its own try counter (one keyed by the
    /// account when there is none),
    /// and bumps the guessing client address's `share` of the account's guess budget; within
    /// that share it bumps the account's guess `budget` too, past it the try finds no code and
    /// spends no more of the budget. See [`CodeTry`].
    async fn code_try(
        &self,
        now: DateTime<Utc>,
        counter: &CounterHit,
        user_id: &str,
        budget: Limit,
        share: &CounterHit,
    ) -> Result<CodeTry, StoreError>;

    /// The account's earlier password hashes, newest first (at most `n`).
    async fn password_history(&self, user_id: &str, n: u32) -> Result<Vec<String>, StoreError>;

    /// Consumes the secret in one statement: live and not used (a code's tries are checked by
    /// [`ResetState::code_try`], which hands out only codes with tries left). `false` when it was no
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
}

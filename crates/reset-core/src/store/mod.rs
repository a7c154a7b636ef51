//! The store port. Each method is one transaction; attempts, single use and counters are
//! single atomic statements in the implementation, never read-modify-write in Rust.

use chrono::{DateTime, Utc};

use crate::message::{Channel, EventDelivery, MessageKind, MessagePayload};
use crate::rate_limit::{CounterState, Limit};

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
    /// The spelling stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Code => "code",
            Self::Cancel => "cancel",
        }
    }

    /// The kind [`SecretKind::as_str`] spells `s`, or `None` for an unknown one.
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
    /// The account's id.
    pub id: String,
    /// The normalised username.
    pub username: String,
    /// The normalised email addresses; messages go to the first unless a request names another.
    pub emails: Vec<String>,
    /// The argon2id PHC string of the current password; `None` when none was ever set.
    pub password_hash: Option<String>,
    /// The organisation the account belongs to.
    pub org_id: String,
    /// The language messages are sent in, when the account has one.
    pub locale: Option<String>,
    /// The phone number SMS messages go to.
    pub phone: Option<String>,
    /// When the password was last set; `None` when it never was.
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Changes of the account so far, as the admin APIs report them.
    pub sequence: i64,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Switched off by an administrator: to every self-service path the account is an unknown
    /// one (the same answer, no message, no secret accepted), until it is enabled again.
    pub disabled: bool,
}

impl User {
    /// An account read from a directory outside this service (LDAP, an application's table or
    /// service): the username and addresses normalised as identifiers are (`None` when the
    /// username is not a valid one; invalid addresses are left out), the default organisation,
    /// and nothing this service would have recorded itself (hash, history, counters, dates).
    pub fn from_directory(
        id: String,
        username: &str,
        emails: impl IntoIterator<Item = String>,
        locale: Option<String>,
        phone: Option<String>,
    ) -> Option<Self> {
        Some(Self {
            id,
            username: crate::identity::normalize_username(username).ok()?,
            emails: emails
                .into_iter()
                .filter_map(|e| crate::identity::normalize_email(&e).ok())
                .collect(),
            password_hash: None,
            org_id: "default".into(),
            locale,
            phone,
            password_changed_at: None,
            sequence: 0,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            disabled: false,
        })
    }
}

/// A user to create (from the CLI, or a host application's seed).
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// The normalised username.
    pub username: String,
    /// The normalised email addresses.
    pub emails: Vec<String>,
    /// The argon2id PHC string of the initial password, if any.
    pub password_hash: Option<String>,
    /// The organisation; `None` for the store's default.
    pub org_id: Option<String>,
    /// The language messages are sent in.
    pub locale: Option<String>,
    /// The phone number SMS messages go to.
    pub phone: Option<String>,
    /// Created switched off (see [`User::disabled`]).
    pub disabled: bool,
}

/// A secret to store: only its keyed hash.
#[derive(Debug, Clone)]
pub struct NewSecret {
    /// A link, a code or a cancel-only token.
    pub kind: SecretKind,
    /// The secret's keyed hash (see [`crate::keyring::Keyring::hash`]).
    pub hash: String,
    /// When the secret stops working.
    pub expires_at: DateTime<Utc>,
    /// Tries a code allows (0 for links and cancel tokens, whose tries are not counted).
    pub max_attempts: u32,
}

/// A stored secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// The secret's own id.
    pub id: String,
    /// The reset request that issued it; cancelling kills all of the request's secrets.
    pub request_id: String,
    /// The account it resets.
    pub user_id: String,
    /// A link, a code or a cancel-only token.
    pub kind: SecretKind,
    /// The secret's keyed hash.
    pub hash: String,
    /// When the secret stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was consumed; `None` while unused.
    pub used_at: Option<DateTime<Utc>>,
    /// When a newer request or a cancel killed it; `None` while it stands.
    pub superseded_at: Option<DateTime<Utc>>,
    /// Tries made so far.
    pub attempts: u32,
    /// Tries allowed (codes; 0 for the others).
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
    /// The account's id.
    pub user_id: String,
    /// The addresses or phone number for the message (one message each); empty when the
    /// channel has none.
    pub recipients: Vec<String>,
    /// The language of the message.
    pub locale: String,
    /// The account's username, for the greeting.
    pub username: String,
}

/// Everything an accepted reset request writes, in one transaction: for a known account the new
/// secrets, the supersession of older ones, the outbox rows (the message, one per recipient,
/// and the webhook events); an audit event either way.
#[derive(Debug, Clone)]
pub struct IssueRequest {
    /// When the request was accepted.
    pub now: DateTime<Utc>,
    /// The known account the request names, or what an unknown identifier's request carries.
    pub target: Target,
    /// Unique per request (a UUIDv7 taken on arrival) and the same for each of its attempts:
    /// it orders an account's requests, and its `reset_requested` audit event is kept under it,
    /// which is how an attempt finds an earlier one committed (a store treats a request whose
    /// event exists as done before).
    pub request_id: String,
    /// The secrets to store (for a known account).
    pub secrets: Vec<NewSecret>,
    /// For codes: the account's daily guess budget; when spent, nothing is issued and the
    /// account's live code is killed (a spent code must not stay usable; its links stay).
    pub guess_budget: Option<Limit>,
    /// Caps on the messages one account receives (see [`crate::rate_limit::send_cap_key`]),
    /// counted here across every identifier and dialect: when one would be passed, nothing is
    /// issued or sent and the older secrets stay as they are. Empty for administrators.
    pub send_caps: Vec<crate::rate_limit::SendCap>,
    /// Where the message goes.
    pub channel: Channel,
    /// What the message is.
    pub message_kind: MessageKind,
    /// The message's variable part: link, code and the rest.
    pub payload: MessagePayload,
    /// The client's address, for the audit trail.
    pub ip: Option<String>,
    /// The API surface the request came through, for the audit trail.
    pub via: String,
    /// Queued only when a secret is issued.
    pub events: Vec<EventDelivery>,
    /// Queue the message (needs a recipient); `false` stores the secrets only (an
    /// administrator takes the code to deliver it their own way).
    pub deliver: bool,
    /// A later attempt of a request whose earlier attempt failed: if that one committed after
    /// all (its answer was lost with the connection), nothing is written again. Every store
    /// looks for the earlier audit event on every attempt (the issue plan's
    /// [`crate::issue_plan::Step::DoneBefore`]), so this is for the log only.
    pub retried: bool,
}

/// Whom a reset request is for. An unknown account's request carries its [`UnknownTarget`] by
/// construction, so no store can be handed one without the stand-in account that holds its
/// decoys back.
#[derive(Debug, Clone)]
pub enum Target {
    /// A known account: its secrets are issued and its message queued.
    Known(IssueTarget),
    /// No such account (or identifiers of two, or a disabled one): the audit event and the
    /// decoy messages (see [`UnknownTarget`]).
    Unknown(UnknownTarget),
}

impl Target {
    /// The known account, if any.
    pub fn known(&self) -> Option<&IssueTarget> {
        match self {
            Self::Known(t) => Some(t),
            Self::Unknown(_) => None,
        }
    }

    /// What an unknown account's request carries, if it is one.
    pub fn unknown(&self) -> Option<&UnknownTarget> {
        match self {
            Self::Known(_) => None,
            Self::Unknown(r) => Some(r),
        }
    }
}

/// What an unknown identifier's request carries to the store (`docs/anti-enumeration.md`):
/// the work a known account's request would have done, so that the work after the answer costs
/// about the same whether or not the account exists (it competes with the answer, and with the
/// next request, for the CPU and the database). Every store queues it as *decoy* messages (see
/// [`OutboxMessage::decoy`]: claimed, rendered and marked sent by the worker, delivered to no
/// one); reset-diesel on SQLite and MySQL also runs the issue statements against its decoy
/// account and rolls them back. It matches the common case: one recipient; an account with
/// several addresses (`all_addresses`) or none for the channel still differs.
///
/// The decoys are queued only when a known account's message would be: the request's guess
/// budget and send caps are checked and counted for [`UnknownTarget::account`] as a known
/// account's are for the account, so that past a cap neither queues anything.
#[derive(Debug, Clone)]
pub struct UnknownTarget {
    /// Private, set only by [`UnknownTarget::new`] from the identifier's try counter: an empty or
    /// shared stand-in would put unknown identifiers under one cap (a global decoy cap).
    account: String,
    /// Messages: 1, or 0 when the channel is off or carries no secret (webhooks).
    pub recipients: usize,
    /// Their language, as a known account's would be chosen without the account's own: the
    /// request's, else English.
    pub locale: String,
    /// The webhook events a known account's request queues (their user id empty); none when
    /// `recipients` is 0 (such a request issues nothing, so it queues no event either).
    pub events: Vec<crate::message::EventDelivery>,
}

impl UnknownTarget {
    /// The unknown target of a request for the identifier whose try counter is `no_code_key` (see
    /// [`crate::identity::AccountLookup::no_code_key`]), queuing nothing until its fields say.
    pub fn new(no_code_key: &str, locale: String) -> Self {
        Self {
            account: crate::rate_limit::stand_in_account(no_code_key),
            recipients: 0,
            locale,
            events: Vec::new(),
        }
    }

    /// The named identifier's stand-in account (see
    /// [`crate::rate_limit::stand_in_account`]): its guess budget and send caps hold the
    /// decoys back. One per identifier, where a known account has one for all its identifiers.
    pub fn account(&self) -> &str {
        &self.account
    }
}

/// What an accepted reset request did: for the log (a self-service answer never depends on
/// it), and for an administrator's issue, which must not report a secret that was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// The account's secrets were stored (and its message queued, when asked).
    Issued {
        /// The account the secrets were issued for.
        user_id: String,
    },
    /// No such account, identifiers of two accounts, no address for the channel, the guess
    /// budget is spent, or the account's send cap is reached.
    NotIssued,
}

/// What follows a consumed secret and a changed password, written in one transaction.
#[derive(Debug, Clone)]
pub struct Completion {
    /// When the password changed.
    pub now: DateTime<Utc>,
    /// The account whose password changed.
    pub user_id: String,
    /// The hash being replaced, kept for the history rule when `keep_history > 0`.
    pub previous_hash: Option<String>,
    /// How many earlier hashes the history rule keeps (0: none).
    pub keep_history: u32,
    /// Where the "your password was changed" notice goes (`None`: no address).
    pub notice_to: Option<String>,
    /// The notice's language.
    pub locale: String,
    /// The account's username, for the notice's greeting.
    pub username: String,
    /// The client's address, for the audit trail.
    pub ip: Option<String>,
    /// The API surface the change came through, for the audit trail.
    pub via: String,
    /// The webhook events to queue with the notice.
    pub events: Vec<EventDelivery>,
    /// The audit event: `password_reset_completed`, or `password_set_by_admin`.
    pub audit_kind: &'static str,
    /// The `traceparent` the notice carries (see [`crate::message::MessagePayload::traceparent`]).
    pub traceparent: Option<String>,
}

/// One try at a code, as [`ResetState::code_try`] counted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTry {
    /// The try counter of the identifier the caller named, after this try: the only state the
    /// answer may depend on (it exists alike for known and unknown identifiers).
    pub counter: CounterState,
    /// The account's live code when it still had tries left, its `attempts` counting this try.
    /// `None` for an unknown account, no live code, or a code whose own tries are spent.
    pub code: Option<SecretRecord>,
}

/// How long what is no longer needed is kept before [`ResetState::sweep`] deletes it, in seconds.
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

/// Rows one [`ResetState::sweep`] call deleted, by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Reset secrets.
    pub secrets: u64,
    /// Rate-limit counters.
    pub rate_limits: u64,
    /// Outbox rows.
    pub outbox: u64,
    /// Audit events.
    pub audit: u64,
}

impl Swept {
    /// Rows deleted in all.
    pub fn total(&self) -> u64 {
        self.secrets + self.rate_limits + self.outbox + self.audit
    }
}

mod accounts;
mod admin_tokens;
mod outbox;
mod reset_state;

pub use accounts::{AccountChange, Accounts};
pub use admin_tokens::AdminTokens;
pub use outbox::{Outbox, OutboxMessage, OutboxStats};
pub use reset_state::ResetState;

/// Everything the service persists: the reset state, the outbox and the admin tokens. Any type
/// implementing the three is a `Store`; `reset-testkit`'s `store_contract!` tests one.
pub trait Store: ResetState + Outbox + AdminTokens {}

impl<T: ResetState + Outbox + AdminTokens + ?Sized> Store for T {}

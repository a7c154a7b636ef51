//! Rows as Diesel reads them, and their conversion to reset-core's types.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use reset_core::store::{AccountChange, SecretKind, SecretRecord, User};

use crate::schema::{reset_secrets, user_emails, users};

/// Unix milliseconds, the stored form of every time.
pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Back from Unix milliseconds.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: Option<String>,
    pub org_id: String,
    pub locale: Option<String>,
    pub phone: Option<String>,
    pub password_changed_at: Option<i64>,
    pub sequence: i64,
    pub created_at: i64,
    pub disabled: bool,
}

impl UserRow {
    pub fn into_user(self, emails: Vec<String>) -> User {
        User {
            id: self.id,
            username: self.username,
            emails,
            password_hash: self.password_hash,
            org_id: self.org_id,
            locale: self.locale,
            phone: self.phone,
            password_changed_at: self.password_changed_at.map(from_ms),
            sequence: self.sequence,
            created_at: from_ms(self.created_at),
            disabled: self.disabled,
        }
    }
}

/// An account's row as written (`create_accounts`). `None` is `NULL`, not the column's default:
/// SQLite's multi-row insert has no `DEFAULT`.
#[derive(Debug, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct UserInsert<'a> {
    id: &'a str,
    username: &'a str,
    password_hash: Option<&'a str>,
    org_id: &'a str,
    locale: Option<&'a str>,
    phone: Option<&'a str>,
    password_changed_at: Option<i64>,
    sequence: i64,
    created_at: i64,
    disabled: bool,
}

/// `user`'s row.
pub fn user_values(user: &User) -> UserInsert<'_> {
    UserInsert {
        id: &user.id,
        username: &user.username,
        password_hash: user.password_hash.as_deref(),
        org_id: &user.org_id,
        locale: user.locale.as_deref(),
        phone: user.phone.as_deref(),
        password_changed_at: user.password_changed_at.map(ms),
        sequence: user.sequence,
        created_at: ms(user.created_at),
        disabled: user.disabled,
    }
}

/// An address's row.
#[derive(Debug, Insertable)]
#[diesel(table_name = user_emails)]
pub struct EmailInsert<'a> {
    address: &'a str,
    user_id: &'a str,
    position: i32,
    verified: bool,
}

/// The row of `user_id`'s address number `position` (from 0).
pub fn email_values<'a>(user_id: &'a str, position: usize, address: &'a str) -> EmailInsert<'a> {
    EmailInsert {
        address,
        user_id,
        position: i32::try_from(position).unwrap_or(i32::MAX),
        verified: false,
    }
}

/// The columns of `users` an [`AccountChange`] sets (`None`: left alone; `Some(None)`: `NULL`).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub struct AccountFields {
    pub phone: Option<Option<String>>,
    pub locale: Option<Option<String>>,
    pub disabled: Option<bool>,
}

/// The names of the fields `change` sets, for its audit event (never their values).
pub fn change_names(change: &AccountChange) -> Vec<&'static str> {
    [
        ("emails", change.emails.is_some()),
        ("phone", change.phone.is_some()),
        ("locale", change.locale.is_some()),
        ("disabled", change.disabled.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = reset_secrets)]
pub struct SecretRow {
    pub id: String,
    pub request_id: String,
    pub user_id: String,
    pub kind: String,
    pub secret_hash: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub superseded_at: Option<i64>,
    pub attempts: i32,
    pub max_attempts: i32,
}

impl SecretRow {
    /// `None` for a row of an unknown kind (written by a newer version).
    pub fn into_record(self) -> Option<SecretRecord> {
        Some(SecretRecord {
            kind: SecretKind::parse(&self.kind)?,
            id: self.id,
            request_id: self.request_id,
            user_id: self.user_id,
            hash: self.secret_hash,
            expires_at: from_ms(self.expires_at),
            used_at: self.used_at.map(from_ms),
            superseded_at: self.superseded_at.map(from_ms),
            attempts: count(self.attempts),
            max_attempts: count(self.max_attempts),
        })
    }
}

#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = crate::schema::outbox)]
pub struct OutboxRow {
    pub id: String,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub locale: String,
    pub payload: String,
    pub attempts: i32,
    pub created_at: i64,
    pub queued_at: i64,
    pub decoy: bool,
}

impl OutboxRow {
    pub fn into_message(self) -> Option<reset_core::store::OutboxMessage> {
        Some(reset_core::store::OutboxMessage {
            kind: reset_core::MessageKind::parse(&self.kind)?,
            channel: reset_core::Channel::parse(&self.channel)?,
            payload: serde_json::from_str(&self.payload).unwrap_or_default(),
            id: self.id,
            recipient: self.recipient,
            locale: self.locale,
            attempts: count(self.attempts),
            created_at: from_ms(self.created_at),
            queued_at: from_ms(self.queued_at),
            decoy: self.decoy,
        })
    }
}

/// A new id: UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An outbox payload as stored (the `payload` column).
pub fn payload_text(payload: &reset_core::message::MessagePayload) -> String {
    serde_json::to_string(payload).unwrap_or_else(|_| "{}".to_owned())
}

/// A decoy message's payload as stored (see [`reset_core::store::UnknownTarget`]): the request's,
/// for an account with an empty name. One definition for every backend.
pub fn decoy_payload_text(req: &reset_core::store::IssueRequest) -> String {
    let mut payload = req.payload.clone();
    payload.username = Some(String::new());
    payload_text(&payload)
}

/// The `reset_requested` audit event's details (never a secret).
pub fn requested_details(req: &reset_core::store::IssueRequest) -> serde_json::Value {
    serde_json::json!({
        "request_id": req.request_id,
        "delivery": req.message_kind.as_str(),
        "channel": req.channel.as_str(),
        "via": req.via,
        "known_account": req.target.known().is_some(),
    })
}

/// The `reset_not_sent_account_cap` audit event's details.
pub fn cap_details(
    req: &reset_core::store::IssueRequest,
    cap: &reset_core::rate_limit::SendCap,
) -> serde_json::Value {
    serde_json::json!({
        "request_id": req.request_id,
        "cap": cap.limit.max,
        "window_secs": cap.limit.window_secs,
        "per_client_address": cap.from.is_some(),
    })
}

/// `u32` into the `INTEGER` columns, saturating.
pub fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// An outbox row as `reset-server outbox list` shows it (no payload: it may hold a secret).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::schema::outbox)]
pub struct OutboxEntry {
    /// The message's id.
    pub id: String,
    /// What the message is (`reset_link`, `reset_code`, `password_changed`, `event`).
    pub kind: String,
    /// How it is delivered (`email`, `sms`, `webhook`).
    pub channel: String,
    /// The address, phone number or webhook URL it goes to.
    pub recipient: String,
    /// Deliveries tried so far.
    pub attempts: i32,
    /// When it was first queued, in Unix milliseconds.
    pub created_at: i64,
    /// When it last entered the queue (creation, or an operator's retry), in Unix milliseconds.
    pub queued_at: i64,
    /// When it may next be claimed (after a failure, or once a claim's lease runs out), in Unix
    /// milliseconds.
    pub next_attempt_at: i64,
    /// When it was delivered, in Unix milliseconds; `None` until then.
    pub sent_at: Option<i64>,
    /// When it was given up, in Unix milliseconds; `None` unless dead-lettered.
    pub dead_at: Option<i64>,
    /// Why the last delivery failed, or why it was given up; `None` before any failure.
    pub last_error: Option<String>,
}

impl OutboxEntry {
    /// `sent`, `dead`, `retrying` (failed at least once) or `pending`.
    pub fn state(&self) -> &'static str {
        if self.sent_at.is_some() {
            "sent"
        } else if self.dead_at.is_some() {
            "dead"
        } else if self.last_error.is_some() {
            "retrying"
        } else {
            "pending"
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = crate::schema::admin_tokens)]
pub struct AdminTokenRow {
    pub id: String,
    pub name: String,
    pub token_hash: String,
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl AdminTokenRow {
    pub fn into_token(self) -> reset_core::admin_token::AdminToken {
        reset_core::admin_token::AdminToken {
            id: self.id,
            name: self.name,
            scopes: self.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: from_ms(self.created_at),
            revoked_at: self.revoked_at.map(from_ms),
        }
    }
}

/// Rows per table, for operators and tests (what the retention sweep keeps small).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    /// Reset secrets (the decoy account's left out).
    pub reset_secrets: u64,
    /// Rate-limit counters.
    pub rate_limits: u64,
    /// Outbox rows, in any state.
    pub outbox: u64,
    /// Audit events.
    pub audit_events: u64,
}

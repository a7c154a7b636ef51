//! What is delivered, and how: the vocabulary shared by the service, the outbox and the worker.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// How the secret reaches the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// A link to the reset page carrying a token.
    #[default]
    Link,
    /// A numeric code the user types.
    Code,
}

impl Delivery {
    /// Its name, as the API spells it: `link` or `code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Code => "code",
        }
    }
}

/// Where the message goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// To the account's email address.
    #[default]
    Email,
    /// By text message to the account's phone (needs an SMS courier).
    Sms,
    /// An event POSTed to a host application's endpoint (the recipient is its URL).
    Webhook,
}

impl Channel {
    /// Its name, as the API and the outbox spell it: `email`, `sms` or `webhook`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
            Self::Webhook => "webhook",
        }
    }

    /// The channel [`Channel::as_str`] spells `s`, or `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            "webhook" => Some(Self::Webhook),
            _ => None,
        }
    }
}

/// The kinds of message in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A reset link (the message of a link request).
    ResetLink,
    /// A reset code (the message of a code request).
    ResetCode,
    /// The "your password was changed" notice.
    PasswordChanged,
    /// A webhook event (the payload's `event`).
    Event,
}

impl MessageKind {
    /// The spelling stored in the outbox's `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResetLink => "reset_link",
            Self::ResetCode => "reset_code",
            Self::PasswordChanged => "password_changed",
            Self::Event => "event",
        }
    }

    /// The kind [`MessageKind::as_str`] spells `s`, or `None` for an unknown one.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reset_link" => Some(Self::ResetLink),
            "reset_code" => Some(Self::ResetCode),
            "password_changed" => Some(Self::PasswordChanged),
            "event" => Some(Self::Event),
            _ => None,
        }
    }
}

/// The variable part of a message, stored as JSON in the outbox row until it is delivered
/// (then the store blanks it, so no secret outlives its delivery).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePayload {
    /// The account's username, for the greeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The reset link (link messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The code (code messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The "this wasn't me" link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_link: Option<String>,
    /// Minutes until the secret expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_minutes: Option<i64>,
    /// The event of a webhook message (never a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    /// The W3C `traceparent` of the span that queued the message (see
    /// [`crate::trace_context`]), so that its delivery joins the request's trace. Only when
    /// tracing is on; never personal (two random ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl MessagePayload {
    /// The token in the reset link, for tests and tools that act on a delivered message.
    pub fn link_token(&self) -> Option<&str> {
        self.link.as_deref()?.split_once("token=").map(|(_, t)| t)
    }
}

/// What a host application hears about through webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// A reset secret was issued for a known account (unknown accounts raise nothing).
    ResetRequested,
    /// A reset completed: the password was replaced through a secret.
    ResetCompleted,
    /// The user said "this wasn't me" and the request's secrets died.
    ResetCancelled,
    /// The account's password changed, by a reset or by an administrator.
    PasswordChanged,
}

impl EventType {
    /// The `type` of the event body, as the Standard Webhooks convention names events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResetRequested => "password_reset.requested",
            Self::ResetCompleted => "password_reset.completed",
            Self::ResetCancelled => "password_reset.cancelled",
            Self::PasswordChanged => "password.changed",
        }
    }
}

/// The body POSTed to a webhook endpoint: `{"type", "timestamp", "data"}`. Ids and the API
/// surface only; never a secret, a password or an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The event's type, one of [`EventType::as_str`]'s names.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, RFC 3339.
    pub timestamp: String,
    /// Which account and request the event is about.
    pub data: EventData,
}

/// The `data` of an [`Event`]: ids only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    /// The account the event is about.
    pub user_id: String,
    /// The reset request the event belongs to, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `v1`, `admin` or a dialect's name.
    pub via: String,
}

/// One event for one endpoint, queued in the transaction of the change it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDelivery {
    /// The endpoint the event is POSTed to.
    pub url: String,
    /// The event body.
    pub event: Event,
    /// The `traceparent` of the span that queued it (see [`MessagePayload::traceparent`]).
    pub traceparent: Option<String>,
}

impl EventDelivery {
    /// `event_type` for each of `urls`.
    pub fn for_each(
        urls: &[String],
        event_type: EventType,
        at: DateTime<Utc>,
        user_id: &str,
        request_id: Option<&str>,
        via: &str,
    ) -> Vec<Self> {
        let traceparent = crate::trace_context::current();
        urls.iter()
            .map(|url| Self {
                url: url.clone(),
                event: Event {
                    event_type: event_type.as_str().to_owned(),
                    timestamp: at.to_rfc3339_opts(SecondsFormat::Millis, true),
                    data: EventData {
                        user_id: user_id.to_owned(),
                        request_id: request_id.map(str::to_owned),
                        via: via.to_owned(),
                    },
                },
                traceparent: traceparent.clone(),
            })
            .collect()
    }

    /// The outbox payload carrying this event.
    pub fn payload(&self) -> MessagePayload {
        MessagePayload {
            event: Some(self.event.clone()),
            traceparent: self.traceparent.clone(),
            ..MessagePayload::default()
        }
    }
}

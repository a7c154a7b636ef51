//! What is delivered, and how: the vocabulary shared by the service, the outbox and the worker.

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
    #[default]
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Self::Email),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

/// The kinds of message in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    ResetLink,
    ResetCode,
    PasswordChanged,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResetLink => "reset_link",
            Self::ResetCode => "reset_code",
            Self::PasswordChanged => "password_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reset_link" => Some(Self::ResetLink),
            "reset_code" => Some(Self::ResetCode),
            "password_changed" => Some(Self::PasswordChanged),
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
}

impl MessagePayload {
    /// The token in the reset link, for tests and tools that act on a delivered message.
    pub fn link_token(&self) -> Option<&str> {
        self.link.as_deref()?.split_once("token=").map(|(_, t)| t)
    }
}

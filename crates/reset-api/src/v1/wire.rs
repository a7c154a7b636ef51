//! The v1 wire types. Request bodies refuse unknown fields, so a misspelt field is a 400 and
//! not a silent default. Types that carry a secret or a password do not implement `Debug`, so
//! they cannot end up in a log line.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the secret is delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Delivery)]
pub enum DeliveryDto {
    /// A link to the reset page, carrying a one-time token (the default).
    #[default]
    Link,
    /// A short numeric code, to be typed into the application.
    Code,
}

/// Where the message goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Channel)]
pub enum ChannelDto {
    /// The account's email address (the default).
    #[default]
    Email,
    /// The account's phone, through the SMS courier.
    Sms,
}

/// `POST /v1/password-reset/request`. At least one of `username` and `email`; when both are
/// given they must name the same account (otherwise nothing is sent, and the answer is the same).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "alice@example.com", "delivery": "link", "locale": "en"}))]
pub struct ResetRequestBody {
    /// 1–190 characters; compared after NFKC and lower-casing.
    #[schema(min_length = 1, max_length = 190)]
    pub username: Option<String>,
    /// At most 254 characters; compared case-insensitively.
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// `link` (default) or `code`.
    #[serde(default)]
    pub delivery: Option<DeliveryDto>,
    /// `email` (default) or `sms` (needs a phone on the account and an SMS courier).
    #[serde(default)]
    pub channel: Option<ChannelDto>,
    /// Message language (`en`, `ja`, `de`); falls back to the account's, then `en`.
    #[schema(max_length = 35, pattern = "^[A-Za-z0-9_-]+$")]
    pub locale: Option<String>,
}

/// The fields a secret may be submitted with. Exactly one of `token` and `code`; a `code` needs
/// `username` or `email`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretFields {
    /// A link token (without `username`, `email` or `code`).
    pub token: Option<String>,
    /// The username a `code` was sent to.
    pub username: Option<String>,
    /// The address a `code` was sent to.
    pub email: Option<String>,
    /// A code, with the `username` or `email` it was sent to.
    pub code: Option<String>,
    /// The new password: required by complete, refused by verify.
    pub new_password: Option<String>,
}

/// A link token.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q1Fz3k0b5m2Jt8Yw4Xc6Vn9Lp7Hs2Dg5Ra1Ue3Io8Ky"}))]
pub struct TokenBody {
    /// The opaque link token (URL-safe base64 of 32 bytes).
    pub token: String,
}

/// A code and the account it was sent to.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "alice@example.com", "code": "042917"}))]
pub struct CodeBody {
    /// The username the code was sent to (this or `email`).
    #[schema(min_length = 1, max_length = 190)]
    pub username: Option<String>,
    /// The address the code was sent to (this or `username`).
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// Exactly N ASCII digits (6 by default).
    #[schema(pattern = "^[0-9]+$")]
    pub code: String,
}

/// `POST /v1/password-reset/verify`.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum VerifyBody {
    /// A link token.
    Token(TokenBody),
    /// A code and the account it was sent to.
    Code(CodeBody),
}

/// A link token and the new password.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q1Fz3k0b5m2Jt8Yw4Xc6Vn9Lp7Hs2Dg5Ra1Ue3Io8Ky", "new_password": "violet tractor melts quietly"}))]
pub struct CompleteTokenBody {
    /// The opaque link token (URL-safe base64 of 32 bytes).
    pub token: String,
    /// 8–256 characters after NFKC; see the policy in the operation's description.
    pub new_password: String,
}

/// A code, the account it was sent to, and the new password.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "alice@example.com", "code": "042917", "new_password": "violet tractor melts quietly"}))]
pub struct CompleteCodeBody {
    /// The username the code was sent to (this or `email`).
    #[schema(min_length = 1, max_length = 190)]
    pub username: Option<String>,
    /// The address the code was sent to (this or `username`).
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// Exactly N ASCII digits (6 by default).
    #[schema(pattern = "^[0-9]+$")]
    pub code: String,
    /// 8–256 characters after NFKC; see the policy in the operation's description.
    pub new_password: String,
}

/// `POST /v1/password-reset/complete`.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CompleteBody {
    /// A link token and the new password.
    Token(CompleteTokenBody),
    /// A code, the account it was sent to, and the new password.
    Code(CompleteCodeBody),
}

/// `POST /v1/password-reset/cancel`.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "q1Fz3k0b5m2Jt8Yw4Xc6Vn9Lp7Hs2Dg5Ra1Ue3Io8Ky"}))]
pub struct CancelBody {
    /// A link token, or the cancel-only token of a message's "this wasn't me" link.
    pub token: String,
}

/// The answer of a successful verify.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"valid": true, "expires_at": "2026-11-23T14:30:00Z", "delivery": "link"}))]
pub struct VerifyResponse {
    /// Always `true` (an invalid secret is an error).
    pub valid: bool,
    /// RFC 3339, UTC, whole seconds.
    pub expires_at: String,
    /// How the secret was delivered: `link` for a token, `code` for a code.
    pub delivery: DeliveryDto,
}

/// `GET /healthz` and `GET /readyz` when all is well.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct StatusResponse {
    /// `ok` (healthz) or `ready` (readyz).
    pub status: &'static str,
}

//! RFC 9457 problem details, the v1 error shape, with one stable code and UUID per error.

use reset_core::{ResetError, Violation};
use serde::Serialize;
use utoipa::ToSchema;

use crate::response::ApiResponse;

/// The problem+json media type.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One kind of v1 error: its code, fixed UUID, status and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// The stable machine code, the problem's `code` (`code_incorrect`).
    pub code: &'static str,
    /// The UUID fixed for this code, the problem's `id`.
    pub id: &'static str,
    /// The HTTP status it is answered with.
    pub status: u16,
    /// The short summary, the problem's `title`.
    pub title: &'static str,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $id:literal, $status:literal, $title:literal;)*) => {
        $($(#[$doc])* pub const $name: ErrorCode = ErrorCode { code: $code, id: $id, status: $status, title: $title };)*
        /// Every v1 error code, for the OpenAPI document and tests.
        pub const ALL: &[ErrorCode] = &[$($name),*];
    };
}

codes! {
    /// A malformed body, field or path parameter.
    INVALID_REQUEST = "invalid_request", "6f1c7b0e-2a43-4c1e-9a51-0b5d2f8e7a01", 400, "Invalid request";
    /// The link token is unknown, expired, used, superseded or cancelled.
    INVALID_TOKEN = "invalid_token", "0d3b9a52-5e77-4f0a-8c1d-7e2a4b6c9f02", 400, "Invalid token";
    /// A wrong code, or no live code for that identifier (indistinguishable).
    CODE_INCORRECT = "code_incorrect", "a8e4c1f3-9b2d-4e6a-b7c5-3d1f0e9a8b03", 400, "Code incorrect";
    /// No such route (or `/docs` asset).
    NOT_FOUND = "not_found", "5c2e8f1a-3d4b-4a6c-9e7f-1b0d2c3e4f04", 404, "Not found";
    /// The path exists with other methods (`Allow` lists them).
    METHOD_NOT_ALLOWED = "method_not_allowed", "e7a1b2c3-4d5e-4f6a-8b9c-0d1e2f3a4b05", 405, "Method not allowed";
    /// The body is over 64 KiB.
    PAYLOAD_TOO_LARGE = "payload_too_large", "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d06", 413, "Payload too large";
    /// The body is not `application/json`.
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", "c9d0e1f2-a3b4-4c5d-9e6f-7a8b9c0d1e07", 415, "Unsupported media type";
    /// The new password breaks the policy (`violations` says how).
    WEAK_PASSWORD = "weak_password", "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f08", 422, "Weak password";
    /// The identifier's code tries are spent (with `Retry-After`).
    ATTEMPTS_EXHAUSTED = "attempts_exhausted", "f1a2b3c4-d5e6-4f7a-9b8c-9d0e1f2a3b09", 429, "Attempts exhausted";
    /// A rate limit is reached (with `Retry-After`).
    RATE_LIMITED = "rate_limited", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c10", 429, "Rate limited";
    /// Administration: no `Authorization` header.
    CREDENTIAL_REQUIRED = "credential_required", "4d5e6f7a-8b9c-4d0e-9f1a-3b4c5d6e7f13", 401, "Credential required";
    /// Administration: the credential is malformed, unknown or revoked.
    AUTHENTICATION_FAILED = "authentication_failed", "5e6f7a8b-9c0d-4e1f-8a2b-4c5d6e7f8a14", 401, "Authentication failed";
    /// Administration: the token lacks the scope.
    FORBIDDEN = "forbidden", "6f7a8b9c-0d1e-4f2a-9b3c-5d6e7f8a9b15", 403, "Forbidden";
    /// Administration: no such user.
    USER_NOT_FOUND = "user_not_found", "7a8b9c0d-1e2f-4a3b-8c4d-6e7f8a9b0c16", 404, "User not found";
    /// Administration: the `url_template` is refused.
    INVALID_URL_TEMPLATE = "invalid_url_template", "8b9c0d1e-2f3a-4b4c-9d5e-7f8a9b0c1d17", 400, "Invalid URL template";
    /// Administration: the change conflicts with the account's state (a username or address
    /// that is taken, a disabled account).
    CONFLICT = "conflict", "1f2a3b4c-5d6e-4f7a-8b9c-0d1e2f3a4b20", 409, "Conflict";
    /// Administration: the user API, while accounts live in a directory this server does not
    /// manage (LDAP, an application's table or service).
    DIRECTORY_MANAGED = "directory_managed", "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c21", 409, "Directory managed";
    /// Our fault; `detail` carries the reference that is logged.
    INTERNAL_ERROR = "internal_error", "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d11", 500, "Internal error";
    /// `/readyz`: the database is unreachable or not migrated.
    NOT_READY = "not_ready", "3c4d5e6f-7a8b-4c9d-8e0f-2a3b4c5d6e12", 503, "Not ready";
    /// The body did not arrive in time (the connection closes after it).
    REQUEST_TIMEOUT = "request_timeout", "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a19", 408, "Request timeout";
    /// A dependency the answer needs (the database, the breach check) is unavailable for now
    /// (with `Retry-After`).
    SERVICE_UNAVAILABLE = "service_unavailable", "9c0d1e2f-3a4b-4c5d-8e6f-8a9b0c1d2e18", 503, "Service unavailable";
}

/// A v1 error body (RFC 9457 problem details with `code` and `id`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"type": "about:blank", "title": "Code incorrect", "status": 400,
    "detail": "The code is incorrect.", "code": "code_incorrect",
    "id": "a8e4c1f3-9b2d-4e6a-b7c5-3d1f0e9a8b03", "attempts_remaining": 11}))]
pub struct Problem {
    /// Always `about:blank`: `code` says what happened.
    #[serde(rename = "type")]
    pub type_: &'static str,
    /// A short summary of the kind of error, fixed per `code`.
    pub title: &'static str,
    /// The HTTP status, as on the response.
    pub status: u16,
    /// What happened, for people.
    pub detail: String,
    /// Stable machine code.
    pub code: &'static str,
    /// A UUID fixed per `code`.
    pub id: &'static str,
    /// Only with `code_incorrect`: tries left on the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_remaining: Option<u32>,
    /// Only with `weak_password`: every rule the password breaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<ViolationBody>>,
    #[serde(skip)]
    #[schema(ignore)]
    retry_after: Option<u64>,
}

/// One broken password rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViolationBody {
    /// `too_short`, `too_long`, `contains_username`, `contains_email`, `too_guessable`, `reused`,
    /// `breached` (seen in known data breaches; the message says how often).
    pub code: String,
    /// The rule, explained for people.
    pub message: String,
}

impl From<Violation> for ViolationBody {
    fn from(v: Violation) -> Self {
        Self {
            code: v.code.to_owned(),
            message: v.message,
        }
    }
}

/// A policy refusal's reasons as one message, for the dialects whose errors carry one string.
pub(crate) fn violation_messages(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| v.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Problem {
    /// A problem of `kind` with `detail` for people, and no extras.
    pub fn new(kind: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            type_: "about:blank",
            title: kind.title,
            status: kind.status,
            detail: detail.into(),
            code: kind.code,
            id: kind.id,
            attempts_remaining: None,
            violations: None,
            retry_after: None,
        }
    }

    /// The same problem answered with `Retry-After: secs` (not part of the body).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// The v1 answer for a service error. Internal causes are logged with a reference and
    /// never shown.
    pub fn from_error(error: ResetError) -> Self {
        match error {
            ResetError::InvalidRequest(detail) => Self::new(INVALID_REQUEST, detail),
            ResetError::InvalidToken => Self::new(
                INVALID_TOKEN,
                "The token is unknown, expired, already used or cancelled.",
            ),
            ResetError::CodeIncorrect { attempts_remaining } => Self {
                attempts_remaining: Some(attempts_remaining),
                ..Self::new(CODE_INCORRECT, "The code is incorrect.")
            },
            ResetError::AttemptsExhausted { retry_after_secs } => Self::new(
                ATTEMPTS_EXHAUSTED,
                "The code has had all its tries; request a new one.",
            )
            .retry_after(retry_after_secs),
            ResetError::RateLimited { retry_after_secs } => {
                Self::new(RATE_LIMITED, "Too many requests; try again later.")
                    .retry_after(retry_after_secs)
            }
            ResetError::WeakPassword { violations } => Self {
                violations: Some(violations.into_iter().map(ViolationBody::from).collect()),
                ..Self::new(
                    WEAK_PASSWORD,
                    "The new password does not meet the password policy.",
                )
            },
            ResetError::CredentialRequired => Self::new(
                CREDENTIAL_REQUIRED,
                "Send an admin token: Authorization: Bearer <token>.",
            ),
            ResetError::AuthenticationFailed => Self::new(
                AUTHENTICATION_FAILED,
                "The credential is unknown, malformed or revoked.",
            ),
            ResetError::Forbidden(scope) => Self::new(
                FORBIDDEN,
                format!("The credential lacks the scope {scope}."),
            ),
            ResetError::UserNotFound => Self::new(USER_NOT_FOUND, "There is no such user."),
            ResetError::Conflict(why) => Self::new(CONFLICT, format!("Refused: {why}.")),
            ResetError::DirectoryManaged => Self::new(
                DIRECTORY_MANAGED,
                "Accounts live in the directory this server is configured with (RESET_DIRECTORY); manage them there.",
            ),
            ResetError::InvalidUrlTemplate(why) => Self::new(
                INVALID_URL_TEMPLATE,
                format!("The url_template is refused: {why}."),
            ),
            ResetError::Unavailable { retry_after_secs } => Self::new(
                SERVICE_UNAVAILABLE,
                "A check the answer needs is unavailable; nothing was changed. Try again later.",
            )
            .retry_after(retry_after_secs),
            ResetError::Store(_) | ResetError::Hashing(_) => {
                let reference = uuid::Uuid::new_v4();
                tracing::error!(%reference, error = %error, "internal error");
                Self::new(
                    INTERNAL_ERROR,
                    format!("Something went wrong on our side (reference {reference})."),
                )
            }
        }
    }

    /// The response: problem+json, with `Retry-After` where the problem carries one (429s, and
    /// the 503 of a breach check failing closed).
    pub fn into_response(self) -> ApiResponse {
        let mut response = ApiResponse::json_as(self.status, PROBLEM_JSON, &self);
        if self.status == 401 {
            response = response.with_header("www-authenticate", "Bearer");
        }
        response.with_retry_after(self.retry_after)
    }
}

impl From<ResetError> for Problem {
    fn from(e: ResetError) -> Self {
        Self::from_error(e)
    }
}

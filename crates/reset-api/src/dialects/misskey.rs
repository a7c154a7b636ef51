//! Misskey (`docs/compat.md`, section 1): `POST /api/request-reset-password`
//! `{username, email}` → 204 always; `POST /api/reset-password` `{token, password}` → 204.
//! Errors are `{"error": {"message", "code", "id"}}` with Misskey's codes and fixed ids.

use reset_core::{Delivery, RequestInput, ResetError, Violation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::token_reset::complete_with_token;
use crate::api::Api;
use crate::problem::ViolationBody;
use crate::request::ApiRequest;
use crate::request_body::{BodyError, read};
use crate::response::ApiResponse;

const VIA: &str = "misskey";

/// `POST /api/request-reset-password`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = MisskeyRequestResetPassword, example = json!({"username": "alice", "email": "alice@example.com"}))]
pub struct RequestBody {
    /// The account's username; a link goes out only when `email` names the same account.
    pub username: String,
    /// One of the account's email addresses.
    pub email: String,
}

/// `POST /api/reset-password`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = MisskeyResetPassword, example = json!({"token": "Zq3x…", "password": "violet tractor melts quietly"}))]
pub struct ResetBody {
    /// The link token from the reset message.
    pub token: String,
    /// The new password; the policy applies.
    pub password: String,
}

/// Misskey's error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MisskeyError, example = json!({"error": {"message": "Invalid param.", "code": "INVALID_PARAM", "id": "3d81ceae-475f-4600-b2a8-2bc116157532"}}))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// Misskey's `error` object: message, code and fixed id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MisskeyErrorDetail)]
pub struct ErrorDetail {
    /// What happened, for people.
    pub message: String,
    /// Misskey's machine code (`INVALID_PARAM`, `RATE_LIMIT_EXCEEDED`, …).
    pub code: &'static str,
    /// A UUID fixed per `code` (Misskey's own where it documents the code).
    pub id: &'static str,
    /// Only with `WEAK_PASSWORD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<WeakPasswordInfo>,
}

/// Why the password was refused: every broken rule.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MisskeyWeakPasswordInfo)]
pub struct WeakPasswordInfo {
    /// Every rule the password breaks.
    pub violations: Vec<ViolationBody>,
}

/// One Misskey error: status, code, fixed id, message.
type Kind = (u16, &'static str, &'static str, &'static str);

/// 400: a missing or mistyped field, a malformed username or email, an unreadable body (the
/// seed's id).
pub const INVALID_PARAM: Kind = (
    400,
    "INVALID_PARAM",
    "3d81ceae-475f-4600-b2a8-2bc116157532",
    "Invalid param.",
);
/// 400: the token is unknown, expired, used, superseded or cancelled.
pub const INVALID_TOKEN: Kind = (
    400,
    "INVALID_TOKEN",
    "8a1c4f0e-6b2d-4c3e-9f7a-5d1e2b3c4a61",
    "The token is invalid, expired or already used.",
);
/// 400: the policy refuses the password (`error.info.violations`); the token stays usable.
pub const WEAK_PASSWORD: Kind = (
    400,
    "WEAK_PASSWORD",
    "c2d3e4f5-0a1b-4c2d-8e3f-6a7b8c9d0e62",
    "The new password does not meet the password policy.",
);
/// 404: an unknown path under the prefix.
pub const NO_SUCH_ENDPOINT: Kind = (
    404,
    "NO_SUCH_ENDPOINT",
    "3a7c2e19-5b8d-4f06-9e4a-1c2d3b4a5f79",
    "No such endpoint.",
);
/// 405: the path exists with other methods (with `Allow`).
pub const METHOD_NOT_ALLOWED: Kind = (
    405,
    "METHOD_NOT_ALLOWED",
    "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a63",
    "Method not allowed.",
);
/// 408: the body did not arrive in time (`Connection: close`).
pub const REQUEST_TIMEOUT: Kind = (
    408,
    "REQUEST_TIMEOUT",
    "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d67",
    "The request body did not arrive in time.",
);
/// 413: a body over 64 KiB.
pub const PAYLOAD_TOO_LARGE: Kind = (
    413,
    "PAYLOAD_TOO_LARGE",
    "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b64",
    "The request body is too large.",
);
/// 415: a body that is not `application/json`.
pub const UNSUPPORTED_MEDIA_TYPE: Kind = (
    415,
    "UNSUPPORTED_MEDIA_TYPE",
    "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c65",
    "Send the body as application/json.",
);
/// 429: a rate limit, with `Retry-After` (the seed's id).
pub const RATE_LIMIT_EXCEEDED: Kind = (
    429,
    "RATE_LIMIT_EXCEEDED",
    "d5826d14-3982-4d2e-8011-b9e9f02499ef",
    "Rate limit exceeded. Please try again later.",
);
/// 503: a dependency the answer needs (the database, the breach check) is unavailable for now
/// (with `Retry-After`).
pub const UNAVAILABLE: Kind = (
    503,
    "UNAVAILABLE",
    "4a0e2f3b-7c1d-4e5f-9a6b-0c1d2e3f4a66",
    "Temporarily unavailable. Please try again later.",
);
/// 500: our fault, logged (the seed's id).
pub const INTERNAL_ERROR: Kind = (
    500,
    "INTERNAL_ERROR",
    "5d37dbcb-891e-41ca-a3d6-e690c97775ac",
    "Internal error occurred. Please contact us if the error persists.",
);

/// Everything a Misskey route answers besides success, each mapped once (in
/// [`MisskeyError::response`]) to its status, code, fixed id and message (the `Kind`s above);
/// the `Display` text is the `message`.
#[derive(Debug, thiserror::Error)]
pub enum MisskeyError {
    /// A missing or mistyped field, or an unreadable body.
    #[error("{}", INVALID_PARAM.3)]
    InvalidParam,
    /// The token (or a code, through the core) is not live.
    #[error("{}", INVALID_TOKEN.3)]
    InvalidToken,
    /// The policy refuses the password; each broken rule goes in `info.violations`.
    #[error("{}", WEAK_PASSWORD.3)]
    WeakPassword(Vec<Violation>),
    /// An unknown path under the prefix.
    #[error("{}", NO_SUCH_ENDPOINT.3)]
    NoSuchEndpoint,
    /// A known path with another method.
    #[error("{}", METHOD_NOT_ALLOWED.3)]
    MethodNotAllowed,
    /// The body did not arrive within the server's body timeout; the connection closes.
    #[error("{}", REQUEST_TIMEOUT.3)]
    RequestTimeout,
    /// The body is over 64 KiB.
    #[error("{}", PAYLOAD_TOO_LARGE.3)]
    PayloadTooLarge,
    /// The body is not JSON.
    #[error("{}", UNSUPPORTED_MEDIA_TYPE.3)]
    UnsupportedMediaType,
    /// A rate limit is reached.
    #[error("{}", RATE_LIMIT_EXCEEDED.3)]
    RateLimitExceeded {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// A dependency the answer needs is unavailable for now; nothing was changed.
    #[error("{}", UNAVAILABLE.3)]
    Unavailable {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// Our fault; the cause went to the log, never to the answer.
    #[error("{}", INTERNAL_ERROR.3)]
    Internal,
}

impl From<BodyError> for MisskeyError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => Self::PayloadTooLarge,
            BodyError::NotJson(_) => Self::UnsupportedMediaType,
            BodyError::Unreadable | BodyError::Invalid(_) => Self::InvalidParam,
        }
    }
}

impl From<ResetError> for MisskeyError {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::InvalidRequest(_) => Self::InvalidParam,
            ResetError::InvalidToken
            | ResetError::CodeIncorrect { .. }
            | ResetError::AttemptsExhausted { .. } => Self::InvalidToken,
            ResetError::RateLimited { retry_after_secs } => {
                Self::RateLimitExceeded { retry_after_secs }
            }
            ResetError::WeakPassword { violations } => Self::WeakPassword(violations),
            ResetError::Unavailable { retry_after_secs } => Self::Unavailable { retry_after_secs },
            ResetError::CredentialRequired
            | ResetError::AuthenticationFailed
            | ResetError::Forbidden(_)
            | ResetError::UserNotFound
            | ResetError::InvalidUrlTemplate(_)
            | ResetError::Conflict(_)
            | ResetError::DirectoryManaged
            | ResetError::Store(_)
            | ResetError::Hashing(_) => {
                tracing::error!(error = %e, "internal error (misskey)");
                Self::Internal
            }
        }
    }
}

impl MisskeyError {
    /// The error answered at `status`, for the OpenAPI document's examples.
    pub(crate) fn example(status: u16) -> Option<Self> {
        Some(match status {
            400 => Self::InvalidParam,
            404 => Self::NoSuchEndpoint,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            429 => Self::RateLimitExceeded {
                retry_after_secs: 60,
            },
            500 => Self::Internal,
            503 => Self::Unavailable {
                retry_after_secs: 60,
            },
            _ => return None,
        })
    }

    fn kind(&self) -> Kind {
        match self {
            Self::InvalidParam => INVALID_PARAM,
            Self::InvalidToken => INVALID_TOKEN,
            Self::WeakPassword(_) => WEAK_PASSWORD,
            Self::NoSuchEndpoint => NO_SUCH_ENDPOINT,
            Self::MethodNotAllowed => METHOD_NOT_ALLOWED,
            Self::RequestTimeout => REQUEST_TIMEOUT,
            Self::PayloadTooLarge => PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimitExceeded { .. } => RATE_LIMIT_EXCEEDED,
            Self::Unavailable { .. } => UNAVAILABLE,
            Self::Internal => INTERNAL_ERROR,
        }
    }

    /// The answer: status, `{"error": {message, code, id, info?}}`, and `Retry-After` where it
    /// applies.
    pub fn response(self) -> ApiResponse {
        let (status, code, id, _) = self.kind();
        let message = self.to_string();
        let retry_after = match &self {
            Self::RateLimitExceeded { retry_after_secs }
            | Self::Unavailable { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let info = match self {
            Self::WeakPassword(violations) => Some(WeakPasswordInfo {
                violations: violations.into_iter().map(ViolationBody::from).collect(),
            }),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                message,
                code,
                id,
                info,
            },
        };
        ApiResponse::json(status, &body).with_retry_after(retry_after)
    }
}

/// The answer of a handler: its success, or its error in Misskey's shape.
fn answer(result: Result<ApiResponse, MisskeyError>) -> ApiResponse {
    result.unwrap_or_else(MisskeyError::response)
}

/// 404 in Misskey's shape.
pub fn not_found() -> ApiResponse {
    MisskeyError::NoSuchEndpoint.response()
}

/// 405 in Misskey's shape.
pub fn method_not_allowed() -> ApiResponse {
    MisskeyError::MethodNotAllowed.response()
}

/// 408 in Misskey's shape (the caller closes the connection).
pub fn request_timeout() -> ApiResponse {
    MisskeyError::RequestTimeout.response()
}

/// `POST /api/request-reset-password`: 204 whatever the account; a link only when both
/// identifiers name the same account.
pub async fn request(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let body: RequestBody = read(req)?;
            let input = RequestInput {
                username: Some(body.username),
                email: Some(body.email),
                delivery: Delivery::Link,
                ..RequestInput::default()
            };
            api.service().request(input, &api.context(req, VIA)).await?;
            Ok(ApiResponse::empty(204))
        }
        .await,
    )
}

/// `POST /api/reset-password` (the same operation as Unleash's `password`).
pub async fn reset(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let body: ResetBody = read(req)?;
            complete_with_token(api, req, VIA, body.token, &body.password).await?;
            Ok(ApiResponse::empty(204))
        }
        .await,
    )
}

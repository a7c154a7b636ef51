//! Unleash (`docs/compat.md`, section 3), under `/auth/reset`: `POST /password`
//! `{token, password}` → 200; `GET /validate?token=` → 200 Unleash's `tokenUserSchema` without
//! using the token up; `POST /validate-password` `{password}` → 200 or 400 with
//! `details[0].validationErrors` (the reset page asks on every change); `POST /password-email`
//! `{email}` → 200 always. Errors are `{"id", "name", "message", "details": [{"message"}]}`, as
//! Unleash's own; Unleash gives each error instance a fresh id, we give each error kind a fixed
//! one, so that answers are reproducible byte for byte (and across adapters).

use reset_core::{Delivery, RequestInput, ResetError, Violation};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;

use super::token_reset::complete_with_token;
use crate::api::Api;
use crate::problem::ViolationBody;
use crate::request::ApiRequest;
use crate::request_body::{BodyError, read};
use crate::response::ApiResponse;

const VIA: &str = "unleash";

/// `POST /auth/reset/password` (`changePasswordSchema`).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UnleashChangePassword, example = json!({"token": "Zq3x…", "password": "violet tractor melts quietly"}))]
pub struct PasswordBody {
    /// A reset token used to validate that the user is allowed to change the password.
    pub token: String,
    /// The new password for the user.
    pub password: String,
}

/// `POST /auth/reset/validate-password` (`validatePasswordSchema`).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UnleashValidatePassword, example = json!({"password": "violet tractor melts quietly"}))]
pub struct ValidatePasswordBody {
    /// The password to validate.
    pub password: String,
}

/// `POST /auth/reset/password-email`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UnleashPasswordEmail, example = json!({"email": "alice@example.com"}))]
pub struct EmailBody {
    /// The address to send a reset link to, when an account has it.
    pub email: String,
}

/// `GET /auth/reset/validate`: the account the token belongs to (`tokenUserSchema`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UnleashTokenUser, example = json!({"id": 5327322427034857_u64, "email": "alice@example.com", "name": "alice", "token": "Zq3x…", "createdBy": null, "role": {"id": 0, "type": "root", "name": "Viewer"}}))]
pub struct TokenUser {
    /// The account's integer id for this dialect: Unleash's ids are integers, ours are
    /// strings. The first 8 bytes of SHA-256 of our account id, big-endian, shifted right by
    /// 11 bits: below 2^53, so JavaScript reads it exactly; stable for an account, and the
    /// same whichever kind of id the directory uses.
    #[schema(minimum = 0, maximum = 9007199254740991_u64)]
    pub id: u64,
    /// The account's first address (empty when it has none).
    pub email: String,
    /// The account's username.
    pub name: String,
    /// The token, echoed as sent.
    pub token: String,
    /// Always null: who asked for the link is not recorded.
    pub created_by: Option<String>,
    /// Always the same fixed role: this service has no roles.
    pub role: Role,
}

/// `tokenUserSchema.role`. This service has no roles: every account answers the same fixed
/// one, Unleash's least privileged root role by name, with no real role's id.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnleashRole)]
pub struct Role {
    /// Always 0.
    pub id: u32,
    /// Always `root`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Always `Viewer`.
    pub name: &'static str,
}

const ROLE: Role = Role {
    id: 0,
    kind: "root",
    name: "Viewer",
};

/// The integer `id` of [`TokenUser`]: see there.
pub fn user_number(account_id: &str) -> u64 {
    let digest = Sha256::digest(account_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) >> 11
}

/// Unleash's error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnleashError, example = json!({"id": "9c40958a-daac-400e-98fb-3bb438567008", "name": "ContentTypeerror", "message": "We do not accept the content-type you provided (application/xml). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format.", "details": [{"message": "We do not accept the content-type you provided (application/xml). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format."}]}))]
pub struct ErrorBody {
    /// A UUID fixed per error kind (Unleash gives each error instance its own).
    pub id: &'static str,
    /// The error kind, Unleash's class name (`BadDataError`, `InvalidTokenError`, …).
    pub name: &'static str,
    /// What happened, for people.
    pub message: String,
    /// One entry, as Unleash's errors have (its clients read `details[0].message`).
    pub details: Vec<ErrorDetail>,
}

/// `details[0]` of an Unleash error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UnleashErrorDetail)]
pub struct ErrorDetail {
    /// The error's message again.
    pub message: String,
    /// Only with `PasswordPolicyError`: each broken rule's message (what Unleash's reset page
    /// lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_errors: Option<Vec<String>>,
    /// Only with `PasswordPolicyError`: each broken rule with its stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<ViolationBody>>,
}

/// One Unleash error kind: status, name, fixed id.
type Kind = (u16, &'static str, &'static str);

/// 400: a malformed body or address, or a missing field.
pub const BAD_DATA: Kind = (400, "BadDataError", "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a71");
/// 400: the policy refuses the password; the token stays usable.
pub const PASSWORD_POLICY: Kind = (
    400,
    "PasswordPolicyError",
    "1f2a3b4c-5d6e-4f7a-9b8c-0d1e2f3a4b72",
);
/// 401: the token is missing, unknown, expired, used, superseded or cancelled.
pub const INVALID_TOKEN: Kind = (
    401,
    "InvalidTokenError",
    "2a3b4c5d-6e7f-4a8b-8c9d-1e2f3a4b5c73",
);
/// 403: the seed's missing permission; no route of the dialect answers it.
pub const NO_ACCESS: Kind = (403, "NoAccessError", "7f8a9b0c-1d2e-4f3a-9b4c-6d7e8f9a0b78");
/// 404: an unknown path under the prefix.
pub const NOT_FOUND: Kind = (404, "NotFoundError", "8a9b0c1d-2e3f-4a4b-8c5d-7e8f9a0b1c79");
/// 405: the path exists with other methods (with `Allow`).
pub const METHOD_NOT_ALLOWED: Kind = (
    405,
    "MethodNotAllowedError",
    "3b4c5d6e-7f8a-4b9c-9d0e-2f3a4b5c6d74",
);
/// 408: the body did not arrive in time (`Connection: close`).
pub const REQUEST_TIMEOUT: Kind = (
    408,
    "RequestTimeoutError",
    "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c81",
);
/// 413: a body over 64 KiB.
pub const CONTENT_TOO_LARGE: Kind = (
    413,
    "ContentTooLargeError",
    "4c5d6e7f-8a9b-4c0d-8e1f-3a4b5c6d7e75",
);
/// 415: a body that is not `application/json` (the seed's id and spelling).
pub const CONTENT_TYPE: Kind = (
    415,
    "ContentTypeerror",
    "9c40958a-daac-400e-98fb-3bb438567008",
);
/// 429: a rate limit, with `Retry-After`.
pub const TOO_MANY_REQUESTS: Kind = (
    429,
    "TooManyRequestsError",
    "5d6e7f8a-9b0c-4d1e-9f2a-4b5c6d7e8f76",
);
/// 500: our fault, logged.
pub const INTERNAL: Kind = (500, "InternalError", "6e7f8a9b-0c1d-4e2f-8a3b-5c6d7e8f9a77");
/// 503: a dependency the answer needs (the database, the breach check) is unavailable for now
/// (with `Retry-After`).
pub const UNAVAILABLE: Kind = (
    503,
    "ServiceUnavailableError",
    "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d80",
);

/// Everything an Unleash route answers besides success, each mapped once (in
/// [`UnleashError::response`]) to its status, name, fixed id and body; the `Display` text is
/// the `message`.
#[derive(Debug, thiserror::Error)]
pub enum UnleashError {
    /// A malformed body, field or address; the text says what.
    #[error("Request validation failed: {0}")]
    BadData(String),
    /// The policy refuses the password; the message joins every reason.
    #[error("{}", crate::problem::violation_messages(.0))]
    PasswordPolicy(Vec<Violation>),
    /// The token is missing or not live.
    #[error("Token is invalid or expired.")]
    InvalidToken,
    /// The named permission is missing (no route of the dialect takes a credential, so none
    /// answers it).
    #[error("You need the \"{0}\" permission to perform this action.")]
    NoAccess(&'static str),
    /// An unknown path under the prefix.
    #[error("The requested resource could not be found.")]
    NotFound,
    /// A known path with another method.
    #[error("This method is not allowed here.")]
    MethodNotAllowed,
    /// The body did not arrive within the server's body timeout; the connection closes.
    #[error("The request body did not arrive in time.")]
    RequestTimeout,
    /// The body is over 64 KiB.
    #[error("The request body is too large.")]
    ContentTooLarge,
    /// The seed's message, with the content type sent (`none` when absent).
    #[error(
        "We do not accept the content-type you provided ({}). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format.",
        .0.as_deref().unwrap_or("none")
    )]
    ContentType(Option<String>),
    /// A rate limit is reached.
    #[error("Too many requests; try again later.")]
    TooManyRequests {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// Our fault; the cause went to the log, never to the answer.
    #[error("Something went wrong on our side.")]
    Internal,
    /// A dependency the answer needs is unavailable for now; nothing was changed.
    #[error("A check the answer needs is unavailable; try again later.")]
    Unavailable {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
}

impl From<BodyError> for UnleashError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => Self::ContentTooLarge,
            BodyError::NotJson(ct) => Self::ContentType(ct),
            BodyError::Unreadable | BodyError::Invalid(_) => {
                Self::BadData("the body is not valid.".into())
            }
        }
    }
}

impl From<ResetError> for UnleashError {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::InvalidRequest(detail) => Self::BadData(detail),
            ResetError::InvalidToken
            | ResetError::CodeIncorrect { .. }
            | ResetError::AttemptsExhausted { .. } => Self::InvalidToken,
            ResetError::RateLimited { retry_after_secs } => {
                Self::TooManyRequests { retry_after_secs }
            }
            ResetError::WeakPassword { violations } => Self::PasswordPolicy(violations),
            ResetError::Forbidden(scope) => Self::NoAccess(scope),
            ResetError::Unavailable { retry_after_secs } => Self::Unavailable { retry_after_secs },
            ResetError::CredentialRequired
            | ResetError::AuthenticationFailed
            | ResetError::UserNotFound
            | ResetError::InvalidUrlTemplate(_)
            | ResetError::Conflict(_)
            | ResetError::DirectoryManaged
            | ResetError::Store(_)
            | ResetError::Hashing(_) => {
                tracing::error!(error = %e, "internal error (unleash)");
                Self::Internal
            }
        }
    }
}

impl UnleashError {
    /// The error answered at `status`, for the OpenAPI document's examples.
    pub(crate) fn example(status: u16) -> Option<Self> {
        Some(match status {
            400 => Self::BadData("the body is not valid.".into()),
            401 => Self::InvalidToken,
            403 => Self::NoAccess("ADMIN"),
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            413 => Self::ContentTooLarge,
            415 => Self::ContentType(Some("application/xml".into())),
            429 => Self::TooManyRequests {
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
            Self::BadData(_) => BAD_DATA,
            Self::PasswordPolicy(_) => PASSWORD_POLICY,
            Self::InvalidToken => INVALID_TOKEN,
            Self::NoAccess(_) => NO_ACCESS,
            Self::NotFound => NOT_FOUND,
            Self::MethodNotAllowed => METHOD_NOT_ALLOWED,
            Self::RequestTimeout => REQUEST_TIMEOUT,
            Self::ContentTooLarge => CONTENT_TOO_LARGE,
            Self::ContentType(_) => CONTENT_TYPE,
            Self::TooManyRequests { .. } => TOO_MANY_REQUESTS,
            Self::Internal => INTERNAL,
            Self::Unavailable { .. } => UNAVAILABLE,
        }
    }

    /// The answer: status, `{id, name, message, details}`, and `Retry-After` where it applies.
    pub fn response(self) -> ApiResponse {
        let (status, name, id) = self.kind();
        let message = self.to_string();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after_secs } | Self::Unavailable { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        };
        let (validation_errors, violations) = match self {
            Self::PasswordPolicy(violations) => (
                Some(violations.iter().map(|v| v.message.clone()).collect()),
                Some(violations.into_iter().map(ViolationBody::from).collect()),
            ),
            _ => (None, None),
        };
        let body = ErrorBody {
            id,
            name,
            details: vec![ErrorDetail {
                message: message.clone(),
                validation_errors,
                violations,
            }],
            message,
        };
        ApiResponse::json(status, &body).with_retry_after(retry_after)
    }
}

/// The answer of a handler: its success, or its error in Unleash's shape.
fn answer(result: Result<ApiResponse, UnleashError>) -> ApiResponse {
    result.unwrap_or_else(UnleashError::response)
}

/// 404 in Unleash's shape.
pub fn not_found() -> ApiResponse {
    UnleashError::NotFound.response()
}

/// 405 in Unleash's shape.
pub fn method_not_allowed() -> ApiResponse {
    UnleashError::MethodNotAllowed.response()
}

/// 408 in Unleash's shape (the caller closes the connection).
pub fn request_timeout() -> ApiResponse {
    UnleashError::RequestTimeout.response()
}

/// `POST /auth/reset/password` (the same operation as Misskey's `reset-password`).
pub async fn password(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let body: PasswordBody = read(req)?;
            complete_with_token(api, req, VIA, body.token, &body.password).await?;
            Ok(ApiResponse::empty(200))
        }
        .await,
    )
}

/// `POST /auth/reset/validate-password`: the policy's account-free rules only (see
/// [`ResetService::check_password_without_account`](reset_core::ResetService::check_password_without_account));
/// `password` checks them all again, with the account's.
pub async fn validate_password(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let body: ValidatePasswordBody = read(req)?;
            api.service()
                .check_password_without_account(&body.password, &api.context(req, VIA))
                .await?;
            Ok(ApiResponse::empty(200))
        }
        .await,
    )
}

/// `GET /auth/reset/validate?token=…`.
pub async fn validate(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let token = req
                .query
                .as_deref()
                .and_then(|q| {
                    form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "token")
                        .map(|(_, v)| v.into_owned())
                })
                .filter(|t| !t.is_empty())
                .ok_or(UnleashError::InvalidToken)?;
            let (_, user) = api
                .service()
                .token_owner(&token, &api.context(req, VIA))
                .await?;
            Ok(ApiResponse::json(
                200,
                &TokenUser {
                    id: user_number(&user.id),
                    email: user.emails.first().cloned().unwrap_or_default(),
                    name: user.username,
                    token,
                    created_by: None,
                    role: ROLE,
                },
            ))
        }
        .await,
    )
}

/// `POST /auth/reset/password-email`: 200 whatever the address; a link when it is known.
pub async fn password_email(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let body: EmailBody = read(req)?;
            let input = RequestInput {
                email: Some(body.email),
                delivery: Delivery::Link,
                ..RequestInput::default()
            };
            api.service().request(input, &api.context(req, VIA)).await?;
            Ok(ApiResponse::empty(200))
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_numbers_are_stable_and_exact_in_javascript() {
        let id = "0192d1c4-7f3e-7a51-9c2b-3d4e5f6a7b8c";
        assert_eq!(user_number(id), user_number(id));
        assert!(user_number(id) < 1 << 53);
        // Two UUIDv7 ids minted in the same millisecond share their first 6 bytes; their
        // numbers must still differ.
        assert_ne!(
            user_number("0192d1c4-7f3e-7a51-9c2b-3d4e5f6a7b8c"),
            user_number("0192d1c4-7f3e-7a52-8d1e-0f1a2b3c4d5e")
        );
    }

    #[test]
    fn every_error_carries_its_message_in_details() {
        let r = UnleashError::InvalidToken.response();
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
        assert_eq!(v["details"][0]["message"], v["message"]);
        assert_eq!(
            v["details"].as_array().map(Vec::len),
            Some(1),
            "one entry: {v}"
        );
    }
}

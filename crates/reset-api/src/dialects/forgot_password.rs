//! The code-based forgot-password API (`docs/compat.md`, section 2), under
//! `/api/auth/forgotPassword`: `sendEmail`, `checkCode`, `resetPassword`. Answers are
//! `{"msg", "error_code"?}`. Its contract says whether a username exists (404); with
//! `forgot_password_hide_unknown` unknown usernames are answered as known ones ("Sent", then
//! `code_incorrect`). Codes go to every address of the account.
//!
//! Where the seed is silent: a malformed body is 400 `invalid_request`, a weak password 400
//! `weak_password` with `violations`, the per-IP or per-username request limit 429
//! `too_many_requests` with `Retry-After`, a body of another media type 415
//! `unsupported_media_type`.

use reset_core::{Delivery, RequestInput, ResetError, SecretInput, Violation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::Api;
use crate::problem::ViolationBody;
use crate::request::ApiRequest;
use crate::request_body::{BodyError, read};
use crate::response::ApiResponse;

const VIA: &str = "forgot-password";

/// `POST …/sendEmail`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ForgotPasswordSendEmail, example = json!({"username": "st.huber"}))]
pub struct SendEmailBody {
    /// The account's username (1–190 characters).
    #[schema(min_length = 1, max_length = 190)]
    pub username: String,
}

/// `POST …/checkCode`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ForgotPasswordCheckCode, example = json!({"username": "st.huber", "code": "482901"}))]
pub struct CheckCodeBody {
    /// The username the code was sent for.
    #[schema(min_length = 1, max_length = 190)]
    pub username: String,
    /// The code from the message (1–6 digits).
    #[schema(pattern = "^[0-9]{1,6}$")]
    pub code: String,
}

/// `POST …/resetPassword`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ForgotPasswordResetPassword, example = json!({"username": "st.huber", "code": "482901", "new_password": "NewPassword1234!"}))]
pub struct ResetPasswordBody {
    /// The username the code was sent for.
    #[schema(min_length = 1, max_length = 190)]
    pub username: String,
    /// The code from the message (1–6 digits); used up when the password is set.
    #[schema(pattern = "^[0-9]{1,6}$")]
    pub code: String,
    /// The new password; the policy applies.
    pub new_password: String,
}

/// Every answer of this API, success or error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ForgotPasswordMessage, example = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"}))]
pub struct Message {
    /// What happened, for people (the seed's wording where it has one).
    pub msg: String,
    /// Only on some successes (`code_correct`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_code: Option<&'static str>,
    /// The machine code of an error (`code_incorrect`, `unknown_username`, …); none for "no
    /// code".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    /// Only with `weak_password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<ViolationBody>>,
}

/// Everything this API answers besides success, each mapped once (in
/// [`ForgotPasswordError::response`]) to its status and `error_code`; the `Display` text is the
/// `msg`.
#[derive(Debug, thiserror::Error)]
pub enum ForgotPasswordError {
    /// 400 `invalid_request`: a malformed body or field.
    #[error("Invalid request")]
    InvalidRequest,
    /// 404, the contract's answer for a username without an account (unless
    /// `forgot_password_hide_unknown`).
    #[error("Unknown username")]
    UnknownUsername,
    /// 400 `code_incorrect`: a wrong code (hiding mode: also an unknown username or no code).
    #[error("The code is incorrect")]
    CodeIncorrect,
    /// The account has no code outstanding; the seed gives this one no `error_code`.
    #[error("There was no code for a password reset requested")]
    NoCode,
    /// 400 `no_email_addresses`: `sendEmail` for an account without an address (revealing
    /// mode).
    #[error("There are no email addresses for this account")]
    NoEmailAddresses,
    /// The code has had all its tries: 400, as the seed answers.
    #[error("Rate limit exceeded")]
    AttemptsExhausted,
    /// 429 `too_many_requests`: a request or attempt rate limit.
    #[error("Too many requests")]
    TooManyRequests {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// The policy refuses the password; each broken rule goes in `violations`.
    #[error("The new password is too weak")]
    WeakPassword(Vec<Violation>),
    /// 404 `not_found`: an unknown path under the prefix.
    #[error("Not found")]
    NotFound,
    /// 405 `method_not_allowed`: a known path with another method.
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// The body did not arrive within the server's body timeout; the connection closes.
    #[error("The request body did not arrive in time")]
    RequestTimeout,
    /// 413 `payload_too_large`: a body over 64 KiB.
    #[error("The request body is too large")]
    PayloadTooLarge,
    /// 415 `unsupported_media_type`: a body that is not JSON.
    #[error("Send the body as application/json")]
    UnsupportedMediaType,
    /// 503 `service_unavailable`: a dependency the answer needs is unavailable for now.
    #[error("Temporarily unavailable")]
    Unavailable {
        /// Seconds to wait, sent as `Retry-After`.
        retry_after_secs: u64,
    },
    /// Our fault; the cause went to the log, never to the answer.
    #[error("Internal error")]
    Internal,
}

impl From<BodyError> for ForgotPasswordError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => Self::PayloadTooLarge,
            BodyError::NotJson(_) => Self::UnsupportedMediaType,
            BodyError::Unreadable | BodyError::Invalid(_) => Self::InvalidRequest,
        }
    }
}

impl From<ResetError> for ForgotPasswordError {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::InvalidRequest(_) => Self::InvalidRequest,
            ResetError::InvalidToken | ResetError::CodeIncorrect { .. } => Self::CodeIncorrect,
            ResetError::AttemptsExhausted { .. } => Self::AttemptsExhausted,
            ResetError::RateLimited { retry_after_secs } => {
                Self::TooManyRequests { retry_after_secs }
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
                tracing::error!(error = %e, "internal error (forgot-password)");
                Self::Internal
            }
        }
    }
}

impl ForgotPasswordError {
    /// The error answered at `status`, for the OpenAPI document's examples.
    pub(crate) fn example(status: u16) -> Option<Self> {
        Some(match status {
            400 => Self::InvalidRequest,
            404 => Self::UnknownUsername,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
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

    /// Status and `error_code`.
    fn kind(&self) -> (u16, Option<&'static str>) {
        match self {
            Self::InvalidRequest => (400, Some("invalid_request")),
            Self::UnknownUsername => (404, Some("unknown_username")),
            Self::CodeIncorrect => (400, Some("code_incorrect")),
            Self::NoCode => (400, None),
            Self::NoEmailAddresses => (400, Some("no_email_addresses")),
            Self::AttemptsExhausted => (400, Some("rate_limit_exceeded")),
            Self::TooManyRequests { .. } => (429, Some("too_many_requests")),
            Self::WeakPassword(_) => (400, Some("weak_password")),
            Self::NotFound => (404, Some("not_found")),
            Self::MethodNotAllowed => (405, Some("method_not_allowed")),
            Self::RequestTimeout => (408, Some("request_timeout")),
            Self::PayloadTooLarge => (413, Some("payload_too_large")),
            Self::UnsupportedMediaType => (415, Some("unsupported_media_type")),
            Self::Unavailable { .. } => (503, Some("service_unavailable")),
            Self::Internal => (500, Some("internal_error")),
        }
    }

    /// The answer: status, `{msg, error_code?, violations?}`, and `Retry-After` where it
    /// applies.
    pub fn response(self) -> ApiResponse {
        let (status, error_code) = self.kind();
        let msg = self.to_string();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after_secs } | Self::Unavailable { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        };
        let violations = match self {
            Self::WeakPassword(violations) => {
                Some(violations.into_iter().map(ViolationBody::from).collect())
            }
            _ => None,
        };
        let body = Message {
            msg,
            success_code: None,
            error_code,
            violations,
        };
        ApiResponse::json(status, &body).with_retry_after(retry_after)
    }
}

/// A success: 200 with `msg` (and `success_code`, where the seed gives one).
fn success(msg: &str, success_code: Option<&'static str>) -> ApiResponse {
    ApiResponse::json(
        200,
        &Message {
            msg: msg.to_owned(),
            success_code,
            error_code: None,
            violations: None,
        },
    )
}

/// The answer of a handler: its success, or its error in this API's shape.
fn answer(result: Result<ApiResponse, ForgotPasswordError>) -> ApiResponse {
    result.unwrap_or_else(ForgotPasswordError::response)
}

/// 404 in this API's shape.
pub fn not_found() -> ApiResponse {
    ForgotPasswordError::NotFound.response()
}

/// 405 in this API's shape.
pub fn method_not_allowed() -> ApiResponse {
    ForgotPasswordError::MethodNotAllowed.response()
}

/// 408 in this API's shape (the caller closes the connection).
pub fn request_timeout() -> ApiResponse {
    ForgotPasswordError::RequestTimeout.response()
}

/// A code of the seed's shape: 1 to 6 digits.
fn code_shaped(code: &str) -> bool {
    (1..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

/// A username of the seed's shape: 1 to 190 characters.
fn username_shaped(username: &str) -> bool {
    (1..=190).contains(&username.chars().count())
}

/// `POST …/sendEmail`: a code to every address of the account.
pub async fn send_email(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let body: SendEmailBody = read(req)?;
            if !username_shaped(&body.username) {
                return Err(ForgotPasswordError::InvalidRequest);
            }
            let input = RequestInput {
                username: Some(body.username.clone()),
                delivery: Delivery::Code,
                all_addresses: true,
                // Its clients may check the code right after "Sent"; when the answer reveals
                // the account anyway, nothing is lost by issuing first.
                synchronous: !api.dialects().forgot_password_hide_unknown,
                ..RequestInput::default()
            };
            api.service().request(input, &api.context(req, VIA)).await?;
            if !api.dialects().forgot_password_hide_unknown {
                match api.service().account_summary(&body.username).await? {
                    None => return Err(ForgotPasswordError::UnknownUsername),
                    Some(a) if !a.has_email => return Err(ForgotPasswordError::NoEmailAddresses),
                    Some(_) => {}
                }
            }
            Ok(success("Sent", None))
        }
        .await,
    )
}

/// The core's result, with a wrong code refined where the contract tells more: unknown
/// username (404) or no code outstanding. A code of another length than ours is a wrong code
/// too.
async fn refine<T>(
    api: &Api,
    username: &str,
    result: Result<T, ResetError>,
) -> Result<T, ForgotPasswordError> {
    let e = match result {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    let wrong = matches!(
        e,
        ResetError::CodeIncorrect { .. } | ResetError::InvalidRequest(_)
    );
    let refinable = wrong || matches!(e, ResetError::AttemptsExhausted { .. });
    if refinable && !api.dialects().forgot_password_hide_unknown {
        match api.service().account_summary(username).await? {
            None => return Err(ForgotPasswordError::UnknownUsername),
            Some(a) if !a.has_live_code && wrong => return Err(ForgotPasswordError::NoCode),
            Some(_) => {}
        }
    }
    Err(if wrong {
        ForgotPasswordError::CodeIncorrect
    } else {
        e.into()
    })
}

fn secret(username: &str, code: &str) -> SecretInput {
    SecretInput::Code {
        username: Some(username.to_owned()),
        email: None,
        code: code.to_owned(),
    }
}

/// `POST …/checkCode`: checks without using the code up; every wrong code counts.
pub async fn check_code(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let body: CheckCodeBody = read(req)?;
            if !username_shaped(&body.username) || !code_shaped(&body.code) {
                return Err(ForgotPasswordError::InvalidRequest);
            }
            let ctx = api.context(req, VIA);
            let verified = api
                .service()
                .verify(secret(&body.username, &body.code), &ctx)
                .await;
            refine(api, &body.username, verified).await?;
            Ok(success("Code correct", Some("code_correct")))
        }
        .await,
    )
}

/// `POST …/resetPassword`.
pub async fn reset_password(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(
        async {
            let body: ResetPasswordBody = read(req)?;
            if !username_shaped(&body.username) || !code_shaped(&body.code) {
                return Err(ForgotPasswordError::InvalidRequest);
            }
            let ctx = api.context(req, VIA);
            let completed = api
                .service()
                .complete(secret(&body.username, &body.code), &body.new_password, &ctx)
                .await;
            refine(api, &body.username, completed).await?;
            Ok(success("Changed password successful", None))
        }
        .await,
    )
}

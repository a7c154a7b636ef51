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

use reset_core::{Delivery, RequestInput, ResetError, SecretInput};
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
    #[schema(min_length = 1, max_length = 190)]
    pub username: String,
}

/// `POST …/checkCode`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ForgotPasswordCheckCode, example = json!({"username": "st.huber", "code": "482901"}))]
pub struct CheckCodeBody {
    #[schema(min_length = 1, max_length = 190)]
    pub username: String,
    #[schema(pattern = "^[0-9]{1,6}$")]
    pub code: String,
}

/// `POST …/resetPassword`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ForgotPasswordResetPassword, example = json!({"username": "st.huber", "code": "482901", "new_password": "NewPassword1234!"}))]
pub struct ResetPasswordBody {
    #[schema(min_length = 1, max_length = 190)]
    pub username: String,
    #[schema(pattern = "^[0-9]{1,6}$")]
    pub code: String,
    pub new_password: String,
}

/// Every answer of this API, success or error.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ForgotPasswordMessage, example = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"}))]
pub struct Message {
    pub msg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    /// Only with `weak_password`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub violations: Option<Vec<ViolationBody>>,
}

fn answer(status: u16, msg: &'static str, error_code: Option<&'static str>) -> ApiResponse {
    ApiResponse::json(
        status,
        &Message {
            msg,
            success_code: None,
            error_code,
            violations: None,
        },
    )
}

fn unknown_username() -> ApiResponse {
    answer(404, "Unknown username", Some("unknown_username"))
}

fn code_incorrect() -> ApiResponse {
    answer(400, "The code is incorrect", Some("code_incorrect"))
}

fn no_code() -> ApiResponse {
    answer(
        400,
        "There was no code for a password reset requested",
        None,
    )
}

fn body_error(e: BodyError) -> ApiResponse {
    match e {
        BodyError::TooLarge => answer(
            413,
            "The request body is too large",
            Some("payload_too_large"),
        ),
        BodyError::NotJson(_) => answer(
            415,
            "Send the body as application/json",
            Some("unsupported_media_type"),
        ),
        BodyError::Unreadable | BodyError::Invalid(_) => invalid_request(),
    }
}

fn invalid_request() -> ApiResponse {
    answer(400, "Invalid request", Some("invalid_request"))
}

/// 404 in this API's shape.
pub fn not_found() -> ApiResponse {
    answer(404, "Not found", Some("not_found"))
}

/// 405 in this API's shape.
pub fn method_not_allowed() -> ApiResponse {
    answer(405, "Method not allowed", Some("method_not_allowed"))
}

fn core_error(e: ResetError) -> ApiResponse {
    match e {
        ResetError::InvalidRequest(_) => invalid_request(),
        ResetError::InvalidToken | ResetError::CodeIncorrect { .. } => code_incorrect(),
        ResetError::AttemptsExhausted { .. } => {
            answer(400, "Rate limit exceeded", Some("rate_limit_exceeded"))
        }
        ResetError::RateLimited { retry_after_secs } => {
            answer(429, "Too many requests", Some("too_many_requests"))
                .with_header("retry-after", retry_after_secs.to_string())
        }
        ResetError::WeakPassword { violations } => ApiResponse::json(
            400,
            &Message {
                msg: "The new password is too weak",
                success_code: None,
                error_code: Some("weak_password"),
                violations: Some(violations.into_iter().map(ViolationBody::from).collect()),
            },
        ),
        ResetError::Unavailable { retry_after_secs } => {
            answer(503, "Temporarily unavailable", Some("service_unavailable"))
                .with_header("retry-after", retry_after_secs.to_string())
        }
        ResetError::CredentialRequired
        | ResetError::AuthenticationFailed
        | ResetError::Forbidden(_)
        | ResetError::UserNotFound
        | ResetError::InvalidUrlTemplate(_)
        | ResetError::Store(_)
        | ResetError::Hashing(_) => {
            tracing::error!(error = %e, "internal error (forgot-password)");
            answer(500, "Internal error", Some("internal_error"))
        }
    }
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
    let body: SendEmailBody = match read(req) {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    if !username_shaped(&body.username) {
        return invalid_request();
    }
    let input = RequestInput {
        username: Some(body.username.clone()),
        delivery: Delivery::Code,
        all_addresses: true,
        // Its clients may check the code right after "Sent"; when the answer reveals the
        // account anyway, nothing is lost by issuing first.
        synchronous: !api.dialects().forgot_password_hide_unknown,
        ..RequestInput::default()
    };
    if let Err(e) = api.service().request(input, &api.context(req, VIA)).await {
        return core_error(e);
    }
    if !api.dialects().forgot_password_hide_unknown {
        match api.service().account_summary(&body.username).await {
            Ok(None) => return unknown_username(),
            Ok(Some(a)) if !a.has_email => {
                return answer(
                    400,
                    "There are no email addresses for this account",
                    Some("no_email_addresses"),
                );
            }
            Ok(Some(_)) => {}
            Err(e) => return core_error(e),
        }
    }
    answer(200, "Sent", None)
}

/// Refines a wrong-code answer where the contract tells more: unknown username (404) or no
/// code outstanding. A code of another length than ours is a wrong code too.
async fn explain(api: &Api, username: &str, e: ResetError) -> ApiResponse {
    let wrong = matches!(
        e,
        ResetError::CodeIncorrect { .. } | ResetError::InvalidRequest(_)
    );
    let refinable = wrong || matches!(e, ResetError::AttemptsExhausted { .. });
    if refinable && !api.dialects().forgot_password_hide_unknown {
        match api.service().account_summary(username).await {
            Ok(None) => return unknown_username(),
            Ok(Some(a)) if !a.has_live_code && wrong => return no_code(),
            Ok(_) => {}
            Err(e) => return core_error(e),
        }
    }
    if wrong {
        return code_incorrect();
    }
    core_error(e)
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
    let body: CheckCodeBody = match read(req) {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    if !username_shaped(&body.username) || !code_shaped(&body.code) {
        return invalid_request();
    }
    let ctx = api.context(req, VIA);
    match api
        .service()
        .verify(secret(&body.username, &body.code), &ctx)
        .await
    {
        Ok(_) => ApiResponse::json(
            200,
            &Message {
                msg: "Code correct",
                success_code: Some("code_correct"),
                error_code: None,
                violations: None,
            },
        ),
        Err(e) => explain(api, &body.username, e).await,
    }
}

/// `POST …/resetPassword`.
pub async fn reset_password(api: &Api, req: &ApiRequest) -> ApiResponse {
    let body: ResetPasswordBody = match read(req) {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    if !username_shaped(&body.username) || !code_shaped(&body.code) {
        return invalid_request();
    }
    let ctx = api.context(req, VIA);
    let result = api
        .service()
        .complete(secret(&body.username, &body.code), &body.new_password, &ctx)
        .await;
    match result {
        Ok(()) => answer(200, "Changed password successful", None),
        Err(e) => explain(api, &body.username, e).await,
    }
}

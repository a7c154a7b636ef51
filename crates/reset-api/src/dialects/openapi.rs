//! The dialects' operations in the OpenAPI document, with the seed documents' examples, and
//! the rows each dialect's operations share.

#![allow(dead_code)]

use super::forgot_password::{
    CheckCodeBody, Message as ForgotMessage, ResetPasswordBody, SendEmailBody,
};
use super::misskey::{
    ErrorBody as MisskeyError, RequestBody as MisskeyRequest, ResetBody as MisskeyReset,
};
use super::unleash::{
    EmailBody, ErrorBody as UnleashError, PasswordBody, TokenUser, ValidatePasswordBody,
};
use super::zitadel::{
    ConnectErrorBody as ZitadelConnectError, ErrorBody as ZitadelError,
    PasswordResetBody as ZitadelPasswordResetRequest,
    PasswordResetResponse as ZitadelPasswordResetResponse,
    SetPasswordBody as ZitadelSetPasswordRequest,
    SetPasswordResponse as ZitadelSetPasswordResponse,
};
use crate::openapi_rows::{Row, Rows, rows};

const JSON: &str = "application/json";

/// Misskey's 405, 408, 429 and 500, alike on every route.
pub struct MisskeyErrors;

impl utoipa::IntoResponses for MisskeyErrors {
    fn responses() -> Rows {
        rows::<MisskeyError>(
            JSON,
            &[
                Row::new(405, "`METHOD_NOT_ALLOWED`, with `Allow`."),
                Row::new(
                    408,
                    "`REQUEST_TIMEOUT`: the body did not arrive within the server's body timeout; the connection closes.",
                ),
                Row::new(429, "`RATE_LIMIT_EXCEEDED`, with `Retry-After`.").retry_after(),
                Row::new(500, "`INTERNAL_ERROR`."),
            ],
        )
    }
}

/// The forgot-password API's 405, 408, 413, 415, 429 and 500, alike on every route.
pub struct ForgotPasswordErrors;

impl utoipa::IntoResponses for ForgotPasswordErrors {
    fn responses() -> Rows {
        rows::<ForgotMessage>(
            JSON,
            &[
                Row::new(405, "`method_not_allowed`, with `Allow`."),
                Row::new(
                    408,
                    "`request_timeout`: the body did not arrive within the server's body timeout; the connection closes.",
                ),
                Row::new(413, "`payload_too_large`."),
                Row::new(415, "`unsupported_media_type`."),
                Row::new(429, "`too_many_requests`, with `Retry-After`.").retry_after(),
                Row::new(500, "`internal_error`."),
            ],
        )
    }
}

/// Unleash's 405 and 500, on every route.
pub struct UnleashErrors;

impl utoipa::IntoResponses for UnleashErrors {
    fn responses() -> Rows {
        rows::<UnleashError>(
            JSON,
            &[
                Row::new(405, "`MethodNotAllowedError`, with `Allow`."),
                Row::new(500, "`InternalError`."),
            ],
        )
    }
}

/// Unleash's 408, 413 and 415, on the routes that read a body.
pub struct UnleashBodyErrors;

impl utoipa::IntoResponses for UnleashBodyErrors {
    fn responses() -> Rows {
        rows::<UnleashError>(
            JSON,
            &[
                Row::new(
                    408,
                    "`RequestTimeoutError`: the body did not arrive within the server's body timeout; the connection closes.",
                ),
                Row::new(413, "`ContentTooLargeError`."),
                Row::new(415, "`ContentTypeerror`."),
            ],
        )
    }
}

/// Unleash's 429, on the routes that count a rate limit.
pub struct UnleashRateLimited;

impl utoipa::IntoResponses for UnleashRateLimited {
    fn responses() -> Rows {
        rows::<UnleashError>(
            JSON,
            &[Row::new(429, "`TooManyRequestsError`, with `Retry-After`.").retry_after()],
        )
    }
}

/// Zitadel's REST 405, 408 and 500, alike on both routes.
pub struct ZitadelErrors;

impl utoipa::IntoResponses for ZitadelErrors {
    fn responses() -> Rows {
        rows::<ZitadelError>(
            JSON,
            &[
                Row::new(405, "12 UNIMPLEMENTED, with `Allow`."),
                Row::new(
                    408,
                    "4 DEADLINE_EXCEEDED: the body did not arrive within the server's body timeout; the connection closes.",
                ),
                Row::new(500, "13 INTERNAL."),
            ],
        )
    }
}

/// Zitadel's Connect 405, 408 and 500, alike on both methods.
pub struct ZitadelConnectErrors;

impl utoipa::IntoResponses for ZitadelConnectErrors {
    fn responses() -> Rows {
        rows::<ZitadelConnectError>(
            JSON,
            &[
                Row::new(405, "`unimplemented`: not POST; with `Allow`."),
                Row::new(
                    408,
                    "`deadline_exceeded`: the body did not arrive within the server's body timeout; the connection closes.",
                ),
                Row::new(500, "`internal`."),
            ],
        )
    }
}

/// Misskey: request a reset link.
///
/// 204 always, whether or not the account exists and the email matches it; a link is sent only
/// when `username` and `email` name the same account.
#[utoipa::path(
    post, path = "/api/request-reset-password", tag = "misskey", operation_id = "misskeyRequestResetPassword",
    request_body(content = MisskeyRequest, content_type = "application/json"),
    responses(
        (status = 204, description = "OK (without any results)."),
        (status = 400, description = "Client error: `INVALID_PARAM`.", body = MisskeyError,
            example = json!({"error": {"message": "Invalid param.", "code": "INVALID_PARAM", "id": "3d81ceae-475f-4600-b2a8-2bc116157532"}})),
        MisskeyErrors,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: over 64 KiB.", body = MisskeyError),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not JSON.", body = MisskeyError)
    )
)]
pub fn misskey_request() {}

/// Misskey: set a new password with the link's token.
#[utoipa::path(
    post, path = "/api/reset-password", tag = "misskey", operation_id = "misskeyResetPassword",
    request_body(content = MisskeyReset, content_type = "application/json"),
    responses(
        (status = 204, description = "Changed."),
        (status = 400, description = "`INVALID_PARAM`, `INVALID_TOKEN` (unknown, expired or used) or `WEAK_PASSWORD` (with `info.violations`).", body = MisskeyError,
            example = json!({"error": {"message": "The token is invalid, expired or already used.", "code": "INVALID_TOKEN", "id": "8a1c4f0e-6b2d-4c3e-9f7a-5d1e2b3c4a61"}})),
        MisskeyErrors,
        (status = 413, description = "`PAYLOAD_TOO_LARGE`.", body = MisskeyError),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`.", body = MisskeyError),
        (status = 503, description = "`UNAVAILABLE`: the breached-password check could not run (configured to fail closed); the token stays valid.", body = MisskeyError,
            headers(("Retry-After" = u64, description = "Seconds to wait.")),
            example = json!({"error": {"message": "Temporarily unavailable. Please try again later.", "code": "UNAVAILABLE", "id": "4a0e2f3b-7c1d-4e5f-9a6b-0c1d2e3f4a66"}}))
    )
)]
pub fn misskey_reset() {}

/// Forgot password: send a code to every address of the account.
///
/// This contract reveals whether a username exists (404), and the code is stored before "Sent",
/// so `checkCode` may follow at once. The server setting `forgot_password_hide_unknown` answers
/// unknown usernames as known ones instead (and then stores the code just after answering).
#[utoipa::path(
    post, path = "/api/auth/forgotPassword/sendEmail", tag = "forgot-password", operation_id = "forgotPasswordSendEmail",
    request_body(content = SendEmailBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Sent.", body = ForgotMessage, example = json!({"msg": "Sent"})),
        (status = 400, description = "No email addresses for this account, or an invalid body (`invalid_request`).", body = ForgotMessage,
            example = json!({"msg": "There are no email addresses for this account", "error_code": "no_email_addresses"})),
        (status = 404, description = "Unknown username.", body = ForgotMessage,
            example = json!({"msg": "Unknown username", "error_code": "unknown_username"})),
        ForgotPasswordErrors
    )
)]
pub fn forgot_send_email() {}

/// Forgot password: check a code without using it up. Every try counts, right or wrong, on a
/// per-username counter of the client address that every accepted request from that address
/// restarts (a request through another API included); past 12 tries the answer is
/// `rate_limit_exceeded` until the next request.
#[utoipa::path(
    post, path = "/api/auth/forgotPassword/checkCode", tag = "forgot-password", operation_id = "forgotPasswordCheckCode",
    request_body(content = CheckCodeBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Code correct.", body = ForgotMessage, example = json!({"msg": "Code correct", "success_code": "code_correct"})),
        (status = 400, description = "`code_incorrect`, `rate_limit_exceeded` (12 tries spent), no code requested (no `error_code`), or `invalid_request`.", body = ForgotMessage,
            example = json!({"msg": "The code is incorrect", "error_code": "code_incorrect"})),
        (status = 404, description = "Unknown username.", body = ForgotMessage, example = json!({"msg": "Unknown username", "error_code": "unknown_username"})),
        ForgotPasswordErrors
    )
)]
pub fn forgot_check_code() {}

/// Forgot password: set the new password with the code.
#[utoipa::path(
    post, path = "/api/auth/forgotPassword/resetPassword", tag = "forgot-password", operation_id = "forgotPasswordResetPassword",
    request_body(content = ResetPasswordBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed.", body = ForgotMessage, example = json!({"msg": "Changed password successful"})),
        (status = 400, description = "As checkCode, plus `weak_password` with `violations`.", body = ForgotMessage,
            example = json!({"msg": "There was no code for a password reset requested"})),
        (status = 404, description = "Unknown username.", body = ForgotMessage, example = json!({"msg": "Unknown username", "error_code": "unknown_username"})),
        ForgotPasswordErrors,
        (status = 503, description = "`service_unavailable`: the breached-password check could not run (configured to fail closed); the code stays valid.", body = ForgotMessage,
            headers(("Retry-After" = u64, description = "Seconds to wait.")),
            example = json!({"msg": "Temporarily unavailable", "error_code": "service_unavailable"}))
    )
)]
pub fn forgot_reset_password() {}

/// Unleash: change the password with a reset token.
#[utoipa::path(
    post, path = "/auth/reset/password", tag = "unleash", operation_id = "unleashChangePassword",
    request_body(content = PasswordBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed; no body."),
        (status = 400, description = "`BadDataError`, or `PasswordPolicyError`: the full policy (with the account's rules and the breach check), `details[0].validationErrors` listing each reason and `details[0].violations` each with its code; the token stays usable.", body = UnleashError,
            example = json!({"id": "1f2a3b4c-5d6e-4f7a-9b8c-0d1e2f3a4b72", "name": "PasswordPolicyError", "message": "Do not build your password around your username.", "details": [{"message": "Do not build your password around your username.", "validationErrors": ["Do not build your password around your username."], "violations": [{"code": "contains_username", "message": "Do not build your password around your username."}]}]})),
        (status = 401, description = "`InvalidTokenError`: unknown, expired or used token.", body = UnleashError,
            example = json!({"id": "2a3b4c5d-6e7f-4a8b-8c9d-1e2f3a4b5c73", "name": "InvalidTokenError", "message": "Token is invalid or expired.", "details": [{"message": "Token is invalid or expired."}]})),
        UnleashErrors,
        UnleashBodyErrors,
        UnleashRateLimited,
        (status = 503, description = "`ServiceUnavailableError`: the breached-password check could not run (configured to fail closed); the token stays valid.", body = UnleashError,
            headers(("Retry-After" = u64, description = "Seconds to wait.")),
            example = json!({"id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d80", "name": "ServiceUnavailableError", "message": "A check the answer needs is unavailable; try again later.", "details": [{"message": "A check the answer needs is unavailable; try again later."}]}))
    )
)]
pub fn unleash_password() {}

/// Unleash: the account a reset token belongs to; does not use the token up.
///
/// Each call counts as an attempt, as a wrong token does. Answers Unleash's `tokenUserSchema`. Its `id` is an integer there and a string here, so each
/// account gets a stable number for this dialect, without a stored column: the first 8 bytes of
/// SHA-256 of the account id (UTF-8), read big-endian and shifted right by 11 bits, below 2^53
/// so that JavaScript reads it exactly. `createdBy` is always null and `role` always
/// `{"id": 0, "type": "root", "name": "Viewer"}`: this service records neither.
#[utoipa::path(
    get, path = "/auth/reset/validate", tag = "unleash", operation_id = "unleashValidateToken",
    params(("token" = String, Query, description = "The reset token from the link.")),
    responses(
        (status = 200, description = "The token is valid: the account it belongs to, and the token.", body = TokenUser,
            example = json!({"id": 5327322427034857_u64, "email": "alice@example.com", "name": "alice", "token": "Zq3x…", "createdBy": null, "role": {"id": 0, "type": "root", "name": "Viewer"}})),
        (status = 401, description = "`InvalidTokenError`: the token is missing, unknown, expired or used.", body = UnleashError,
            example = json!({"id": "2a3b4c5d-6e7f-4a8b-8c9d-1e2f3a4b5c73", "name": "InvalidTokenError", "message": "Token is invalid or expired.", "details": [{"message": "Token is invalid or expired."}]})),
        UnleashErrors,
        UnleashRateLimited
    )
)]
pub fn unleash_validate() {}

/// Unleash: check a new password against the policy before any account is known.
///
/// Unleash's reset page calls this on every change and enables "Set new password" only on a 200.
/// It checks the rules that need no account (length, the zxcvbn score); not the account's own
/// rules (the username or address inside, recent passwords), nor the breached-password check,
/// which would cost a remote lookup per keystroke: `password` checks all of them, so a 200 here
/// can still meet a `PasswordPolicyError` there. Reads no account; counted per client IP, at
/// 20 checks per attempt the attempt limit allows (a page checks on every keystroke), then 429.
#[utoipa::path(
    post, path = "/auth/reset/validate-password", tag = "unleash", operation_id = "unleashValidatePassword",
    request_body(content = ValidatePasswordBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The password passes; no body."),
        (status = 400, description = "`PasswordPolicyError`: `details[0].validationErrors` lists each reason (what Unleash's page reads), `details[0].violations` each with its code; or `BadDataError` (no `password`).", body = UnleashError,
            example = json!({"id": "1f2a3b4c-5d6e-4f7a-9b8c-0d1e2f3a4b72", "name": "PasswordPolicyError", "message": "Use at least 8 characters. This password is too easy to guess; a few unrelated words make a strong one.", "details": [{"message": "Use at least 8 characters. This password is too easy to guess; a few unrelated words make a strong one.", "validationErrors": ["Use at least 8 characters.", "This password is too easy to guess; a few unrelated words make a strong one."], "violations": [{"code": "too_short", "message": "Use at least 8 characters."}, {"code": "too_guessable", "message": "This password is too easy to guess; a few unrelated words make a strong one."}]}]})),
        UnleashRateLimited,
        UnleashErrors,
        UnleashBodyErrors,
        (status = 503, description = "`ServiceUnavailableError`, with `Retry-After`: too many checks are waiting for the password-estimate thread (which runs apart from, and below, the password hashing); try again shortly.", body = UnleashError,
            headers(("Retry-After" = u64, description = "Seconds to wait.")),
            example = json!({"id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d81", "name": "ServiceUnavailableError", "message": "A check the answer needs is unavailable; try again later.", "details": [{"message": "A check the answer needs is unavailable; try again later."}]}))
    )
)]
pub fn unleash_validate_password() {}

/// Unleash: send a reset link to this address (200 whether or not it is known).
#[utoipa::path(
    post, path = "/auth/reset/password-email", tag = "unleash", operation_id = "unleashPasswordEmail",
    request_body(content = EmailBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Accepted; no body."),
        (status = 400, description = "`BadDataError`.", body = UnleashError),
        UnleashErrors,
        UnleashBodyErrors,
        UnleashRateLimited
    )
)]
pub fn unleash_password_email() {}

/// Zitadel v2: issue a reset code for a user, sent as a link or returned.
///
/// An empty body sends a link by email. `urlTemplate` must resolve to an allowed origin.
/// `returnCode` needs `password:write` beside `password:reset`: a returned code sets any
/// password.
#[utoipa::path(
    post, path = "/v2/users/{userId}/password_reset", tag = "zitadel", operation_id = "zitadelPasswordReset",
    params(("userId" = String, Path, description = "The user's id.")),
    request_body(content = ZitadelPasswordResetRequest, content_type = "application/json"),
    security(("bearer" = ["password:reset"])),
    responses(
        (status = 200, description = "OK.", body = ZitadelPasswordResetResponse,
            example = json!({"details": {"sequence": "2", "changeDate": "2025-03-05T21:29:22.155Z", "resourceOwner": "69629023906488334", "creationDate": "2025-03-05T21:29:22.155Z"}, "verificationCode": "482901"})),
        (status = 400, description = "3 INVALID_ARGUMENT: bad body, refused urlTemplate, no address for the channel; 9 FAILED_PRECONDITION `USER_NOT_ACTIVE`: the user is disabled.", body = ZitadelError),
        (status = 401, description = "16 UNAUTHENTICATED: no or a wrong bearer token.", body = ZitadelError),
        (status = 403, description = "7 PERMISSION_DENIED: the token lacks `password:reset`, or (for `returnCode`) `password:write`.", body = ZitadelError),
        (status = 404, description = "5 NOT_FOUND: no such user.", body = ZitadelError,
            example = json!({"code": 5, "message": "User could not be found", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "USER_NOT_FOUND"}]})),
        ZitadelErrors,
        (status = 413, description = "8 RESOURCE_EXHAUSTED: over 64 KiB.", body = ZitadelError),
        (status = 415, description = "3 INVALID_ARGUMENT: a gRPC or other non-JSON content type (a missing one is read as JSON).", body = ZitadelError),
        (status = 429, description = "8 RESOURCE_EXHAUSTED: too many requests, the account's administrators' issues per hour spent, or (for a code) the account's daily guess budget spent.", body = ZitadelError,
            headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
pub fn zitadel_password_reset() {}

/// Zitadel v2: set a user's password, with a verification code, the current password, or the
/// `password:write` scope.
#[utoipa::path(
    post, path = "/v2/users/{userId}/password", tag = "zitadel", operation_id = "zitadelSetPassword",
    params(("userId" = String, Path, description = "The user's id.")),
    request_body(content = ZitadelSetPasswordRequest, content_type = "application/json"),
    security(("bearer" = ["password:reset"]), ("bearer" = ["password:write"])),
    responses(
        (status = 200, description = "OK.", body = ZitadelSetPasswordResponse),
        (status = 400, description = "3 INVALID_ARGUMENT: bad body, wrong or used code, wrong current password, weak password; 9 FAILED_PRECONDITION `USER_NOT_ACTIVE`: the user is disabled.", body = ZitadelError),
        (status = 401, description = "16 UNAUTHENTICATED.", body = ZitadelError),
        (status = 403, description = "7 PERMISSION_DENIED: the token lacks the scope this proof needs (`verificationCode`: password:reset; `currentPassword` or no proof: password:write).", body = ZitadelError),
        (status = 404, description = "5 NOT_FOUND: no such user.", body = ZitadelError),
        ZitadelErrors,
        (status = 413, description = "8 RESOURCE_EXHAUSTED.", body = ZitadelError),
        (status = 415, description = "3 INVALID_ARGUMENT: not JSON (a missing content type is read as JSON).", body = ZitadelError),
        (status = 429, description = "8 RESOURCE_EXHAUSTED: the code's tries are spent, or rate limited.", body = ZitadelError,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "14 UNAVAILABLE: the breached-password check could not run (configured to fail closed).", body = ZitadelError,
            headers(("Retry-After" = u64, description = "Seconds to wait.")),
            example = json!({"code": 14, "message": "Temporarily unavailable", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "UNAVAILABLE"}]}))
    )
)]
pub fn zitadel_set_password() {}

/// Connect's `PasswordResetRequest`: the REST body and the user (for the document only).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelConnectPasswordResetRequest)]
pub struct ConnectPasswordResetRequest {
    /// The user (`user_id` also accepted).
    #[schema(min_length = 1)]
    pub user_id: String,
    #[serde(flatten)]
    pub message: ZitadelPasswordResetRequest,
}

/// Connect's `SetPasswordRequest`: the REST body and the user (for the document only).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelConnectSetPasswordRequest)]
pub struct ConnectSetPasswordRequest {
    /// The user (`user_id` also accepted).
    #[schema(min_length = 1)]
    pub user_id: String,
    #[serde(flatten)]
    pub message: ZitadelSetPasswordRequest,
}

/// Zitadel v2 over Connect (the 4.x SDKs): issue a reset code, the user id in the body.
///
/// The same operation as `zitadelPasswordReset`; `userId` is required. Beside the Zitadel
/// prefix: at the root for `/v2`, at `/x` for `/x/v2`. `Connect-Protocol-Version` is optional.
#[utoipa::path(
    post, path = "/zitadel.user.v2.UserService/PasswordReset", tag = "zitadel", operation_id = "zitadelConnectPasswordReset",
    request_body(content = ConnectPasswordResetRequest, content_type = "application/json",
        example = json!({"userId": "69629026806489455", "returnCode": {}})),
    security(("bearer" = ["password:reset"])),
    responses(
        (status = 200, description = "OK.", body = ZitadelPasswordResetResponse,
            example = json!({"details": {"sequence": "2", "changeDate": "2025-03-05T21:29:22.155Z", "resourceOwner": "69629023906488334", "creationDate": "2025-03-05T21:29:22.155Z"}, "verificationCode": "482901"})),
        (status = 400, description = "`invalid_argument`: bad body, no `userId`, refused urlTemplate, no address for the channel; `failed_precondition` (`USER_NOT_ACTIVE`): the user is disabled.", body = ZitadelConnectError),
        (status = 401, description = "`unauthenticated`: no or a wrong bearer token.", body = ZitadelConnectError),
        (status = 403, description = "`permission_denied`: the token lacks `password:reset`, or (for `returnCode`) `password:write`.", body = ZitadelConnectError),
        (status = 404, description = "`not_found`: no such user.", body = ZitadelConnectError,
            example = json!({"code": "not_found", "message": "User could not be found", "details": [{"type": "google.rpc.ErrorInfo", "value": "Cg5VU0VSX05PVF9GT1VORA", "debug": {"reason": "USER_NOT_FOUND"}}]})),
        ZitadelConnectErrors,
        (status = 413, description = "`resource_exhausted`: over 64 KiB.", body = ZitadelConnectError),
        (status = 415, description = "`invalid_argument`: binary protobuf (`application/proto`) or another non-JSON type; with `Accept-Post`.", body = ZitadelConnectError,
            headers(("Accept-Post" = String, description = "`application/json`."))),
        (status = 429, description = "`resource_exhausted`: rate limited.", body = ZitadelConnectError,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`unavailable`: the database cannot be reached.", body = ZitadelConnectError,
            headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
pub fn zitadel_connect_password_reset() {}

/// Zitadel v2 over Connect (the 4.x SDKs): set a user's password, the user id in the body.
///
/// The same operation as `zitadelSetPassword`; `userId` is required.
#[utoipa::path(
    post, path = "/zitadel.user.v2.UserService/SetPassword", tag = "zitadel", operation_id = "zitadelConnectSetPassword",
    request_body(content = ConnectSetPasswordRequest, content_type = "application/json",
        example = json!({"userId": "69629026806489455", "newPassword": {"password": "violet tractor melts quietly", "changeRequired": false}, "verificationCode": "482901"})),
    security(("bearer" = ["password:reset"]), ("bearer" = ["password:write"])),
    responses(
        (status = 200, description = "OK.", body = ZitadelSetPasswordResponse),
        (status = 400, description = "`invalid_argument`: bad body, no `userId`, wrong or used code, wrong current password, weak password; `failed_precondition` (`USER_NOT_ACTIVE`): the user is disabled.", body = ZitadelConnectError),
        (status = 401, description = "`unauthenticated`.", body = ZitadelConnectError),
        (status = 403, description = "`permission_denied`: the token lacks the scope this proof needs.", body = ZitadelConnectError),
        (status = 404, description = "`not_found`: no such user.", body = ZitadelConnectError),
        ZitadelConnectErrors,
        (status = 413, description = "`resource_exhausted`.", body = ZitadelConnectError),
        (status = 415, description = "`invalid_argument`: not JSON; with `Accept-Post`.", body = ZitadelConnectError,
            headers(("Accept-Post" = String, description = "`application/json`."))),
        (status = 429, description = "`resource_exhausted`: the code's tries are spent, or rate limited.", body = ZitadelConnectError,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`unavailable`: the breached-password check could not run (configured to fail closed), or the database cannot be reached.", body = ZitadelConnectError,
            headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
pub fn zitadel_connect_set_password() {}

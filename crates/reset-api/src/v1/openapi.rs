//! v1's operations in the OpenAPI document: self-service, administration and operations.
//! Stubs that only carry the document's attributes; [`crate::openapi`] assembles them.

#![allow(dead_code)]

use super::admin::{AdminPasswordBody, AdminPasswordResponse, AdminResetBody, AdminResetResponse};
use super::users::{CreateUserBody, UpdateUserBody, UserList, UserResource};
use super::wire::{
    CancelBody, CompleteBody, ResetRequestBody, StatusResponse, VerifyBody, VerifyResponse,
};
use crate::openapi_rows::{Row, Rows, rows};
use crate::problem::{PROBLEM_JSON, Problem};

/// The rows of every operation that reads a body, after the request one: 408, 413, 415 and 500.
pub(crate) struct BodyErrors;

impl utoipa::IntoResponses for BodyErrors {
    fn responses() -> Rows {
        rows::<Problem>(
            PROBLEM_JSON,
            &[
                Row::new(
                    408,
                    "`request_timeout`: the body did not arrive within the server's body timeout \
                     (`RESET_BODY_TIMEOUT_SECS`); the connection closes.",
                ),
                Row::new(413, "`payload_too_large`."),
                Row::new(415, "`unsupported_media_type`."),
                Row::new(500, "`internal_error`."),
            ],
        )
    }
}

/// 503 while the database cannot be reached, where nothing else makes an operation unavailable.
pub(crate) struct Unavailable;

impl utoipa::IntoResponses for Unavailable {
    fn responses() -> Rows {
        rows::<Problem>(
            PROBLEM_JSON,
            &[Row::new(
                503,
                "`service_unavailable`: the database cannot be reached; nothing was accepted, try \
                 again after `Retry-After`.",
            )
            .retry_after()],
        )
    }
}

/// Ask for a reset link or code.
///
/// Answers 202 whether or not the account exists, and sends the message afterwards from a
/// durable outbox. A new request invalidates the account's earlier unused secrets. Rate limits
/// count the submitted identifier and the client IP, never the account.
#[utoipa::path(
    post, path = "/v1/password-reset/request", tag = "self-service", operation_id = "requestPasswordReset",
    request_body(content = ResetRequestBody, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted; a message is sent if the identifiers name an account."),
        (status = 400, description = "`invalid_request`: malformed body or identifiers.", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`: the body did not arrive within the server's body timeout (`RESET_BODY_TIMEOUT_SECS`); the connection closes.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not application/json.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the limit resets."))),
        (status = 500, description = "`internal_error`, with a reference in `detail`.", body = Problem, content_type = "application/problem+json"),
        Unavailable
    )
)]
pub(crate) fn request_reset() {}

/// Check a secret without using it up.
///
/// A mail scanner that follows a link must not burn it, so verify never consumes. Every code
/// try counts, right or wrong, on verify and complete alike: `attempts_remaining` and
/// `attempts_exhausted` come from a try counter per submitted identifier (12 tries in a code's
/// lifetime by default) that every accepted reset request restarts, for known and unknown
/// identifiers alike. The code's own tries and the account's daily budget are further caps that
/// no answer shows.
#[utoipa::path(
    post, path = "/v1/password-reset/verify", tag = "self-service", operation_id = "verifyPasswordReset",
    request_body(content = VerifyBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The secret is valid.", body = VerifyResponse),
        (status = 400, description = "`invalid_request`; `invalid_token` (unknown, expired, used or superseded); \
`code_incorrect` with `attempts_remaining` (also when no code is outstanding: the two are indistinguishable).",
            body = Problem, content_type = "application/problem+json"),
        BodyErrors,
        (status = 429, description = "`attempts_exhausted` (request a new code) or `rate_limited`.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait."))),
        Unavailable
    )
)]
pub(crate) fn verify_secret() {}

/// Set the new password, using the secret exactly once.
///
/// The policy is checked before the secret is used: 8–256 characters after NFKC, not essentially
/// the username or the email's local part (names of 3+ characters), a zxcvbn score of at least 3
/// (the names count as guessable words), where configured not seen in known breaches
/// (violation `breached`, a k-anonymity range API or an offline corpus) and not one of the last
/// N passwords. A weak password leaves the secret valid.
/// On success every outstanding secret of the account dies, sessions are revoked through the
/// host's hook, a "password changed" notice is queued and an audit event written. No session is
/// created: the user logs in with the new password. Of concurrent calls with one secret, exactly
/// one gets 204 and the others `invalid_token`.
#[utoipa::path(
    post, path = "/v1/password-reset/complete", tag = "self-service", operation_id = "completePasswordReset",
    request_body(content = CompleteBody, content_type = "application/json"),
    responses(
        (status = 204, description = "The password is changed."),
        (status = 400, description = "`invalid_request`, `invalid_token` or `code_incorrect` (with `attempts_remaining`).",
            body = Problem, content_type = "application/problem+json"),
        BodyErrors,
        (status = 422, description = "`weak_password` with every `violations` entry; the secret stays valid.",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`attempts_exhausted` or `rate_limited`.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`service_unavailable`: the database cannot be reached, or the breached-password check could not run and is configured to fail closed; nothing was changed and the secret stays valid.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
pub(crate) fn complete_reset() {}

/// "This wasn't me": kill a request's secrets.
///
/// Answers 204 whether or not the token was valid (there is nothing to learn from it).
#[utoipa::path(
    post, path = "/v1/password-reset/cancel", tag = "self-service", operation_id = "cancelPasswordReset",
    request_body(content = CancelBody, content_type = "application/json"),
    responses(
        (status = 204, description = "Done (or there was nothing to cancel)."),
        (status = 400, description = "`invalid_request`.", body = Problem, content_type = "application/problem+json"),
        BodyErrors,
        (status = 429, description = "`rate_limited`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        Unavailable
    )
)]
pub(crate) fn cancel_reset() {}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "Up.", body = StatusResponse)))]
pub(crate) fn healthz() {}

/// The database is reachable and migrated.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready.", body = StatusResponse, example = json!({"status": "ready"})),
        (status = 503, description = "`not_ready`.", body = Problem, content_type = "application/problem+json")
    ))]
pub(crate) fn readyz() {}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object)))]
pub(crate) fn openapi_json() {}

/// This document as OpenAPI 3.0.3, for generators that read 3.0 only (progenitor).
#[utoipa::path(get, path = "/openapi-3.0.json", tag = "operations", operation_id = "openapi30",
    responses((status = 200, description = "The OpenAPI 3.0.3 rendition of this document.", content_type = "application/json", body = Object)))]
pub(crate) fn openapi_3_0_json() {}

/// Issue a reset secret for a user: send a link (optionally built from `url_template`, scope
/// `password:reset`) or return a code (`return_code`: a returned code sets any password, so it
/// needs `password:write` as well).
#[utoipa::path(
    post, path = "/v1/users/{user_id}/password-reset", tag = "administration", operation_id = "adminPasswordReset",
    params(("user_id" = String, Path, description = "The user's id.")),
    request_body(content = AdminResetBody, content_type = "application/json"),
    security(("bearer" = ["password:reset"])),
    responses(
        (status = 200, description = "Issued.", body = AdminResetResponse,
            example = json!({"details": {"sequence": "2", "change_date": "2026-11-24T09:00:00.000Z", "resource_owner": "default", "creation_date": "2026-11-20T08:00:00.000Z"}, "verification_code": "482901"})),
        (status = 400, description = "`invalid_request` (also: not exactly one of `send_link`/`return_code`, no address for the channel) or `invalid_url_template`.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`credential_required` or `authentication_failed`; with `WWW-Authenticate: Bearer`.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the token lacks `password:reset`, or (for `return_code`) `password:write`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the user is disabled (`PATCH /v1/users/{user_id}` with `disabled: false` enables it).", body = Problem, content_type = "application/problem+json"),
        BodyErrors,
        (status = 429, description = "`rate_limited`: too many failed credentials from this address, or the account's administrators' issues per hour are spent (`RESET_LIMIT_ADMIN_ISSUE_PER_ACCOUNT`); `attempts_exhausted`: a code (`return_code`, or a `url_template` with a code) while the account's daily guess budget is spent (a link without a code is still issued).", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        Unavailable
    )
)]
pub(crate) fn admin_password_reset() {}

/// Set a user's password: with `verification_code` (scope `password:reset`; the code is used
/// up) or without (scope `password:write`). Held to the password policy.
#[utoipa::path(
    post, path = "/v1/users/{user_id}/password", tag = "administration", operation_id = "adminSetPassword",
    params(("user_id" = String, Path, description = "The user's id.")),
    request_body(content = AdminPasswordBody, content_type = "application/json"),
    security(("bearer" = ["password:reset"]), ("bearer" = ["password:write"])),
    responses(
        (status = 200, description = "Changed.", body = AdminPasswordResponse),
        (status = 400, description = "`invalid_request`, `code_incorrect` (with `attempts_remaining`) or `invalid_token`.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`credential_required` or `authentication_failed`.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the token lacks the scope needed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the user is disabled (`PATCH /v1/users/{user_id}` with `disabled: false` enables it).", body = Problem, content_type = "application/problem+json"),
        BodyErrors,
        (status = 422, description = "`weak_password` with `violations`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`attempts_exhausted`, or `rate_limited` (also: too many failed credentials from this address).", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 503, description = "`service_unavailable`: the database cannot be reached, or the breached-password check could not run and is configured to fail closed; nothing was changed and the secret stays valid.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
pub(crate) fn admin_set_password() {}

/// The rows every user-API operation shares: a bad credential, a missing scope, another
/// directory, and the database away.
pub(crate) struct UserApiErrors;

impl utoipa::IntoResponses for UserApiErrors {
    fn responses() -> Rows {
        rows::<Problem>(
            PROBLEM_JSON,
            &[
                Row::new(
                    401,
                    "`credential_required` or `authentication_failed`; with `WWW-Authenticate: Bearer`.",
                ),
                Row::new(
                    403,
                    "`forbidden`: the token lacks the scope (`users:read` to read, `users:write` to change).",
                ),
                Row::new(
                    429,
                    "`rate_limited`: too many failed credentials from this address.",
                )
                .retry_after(),
                Row::new(500, "`internal_error`."),
                Row::new(
                    503,
                    "`service_unavailable`: the database cannot be reached; nothing was changed, try \
                     again after `Retry-After`.",
                )
                .retry_after(),
            ],
        )
    }
}

/// Create an account in the built-in directory, without a password: the user sets one through
/// a reset (`POST /v1/users/{user_id}/password-reset` sends the link). Scope `users:write`.
#[utoipa::path(
    post, path = "/v1/users", tag = "users", operation_id = "createUser",
    request_body(content = CreateUserBody, content_type = "application/json"),
    security(("bearer" = ["users:write"])),
    responses(
        (status = 201, description = "Created; `Location` names it.", body = UserResource,
            headers(("Location" = String, description = "`/v1/users/{user_id}`."))),
        (status = 400, description = "`invalid_request`: a username, address, phone or locale that is not valid, or an address listed twice.", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the username or an address belongs to another account; `directory_managed`: accounts live in another directory (`RESET_DIRECTORY`).", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        UserApiErrors
    )
)]
pub(crate) fn create_user() {}

/// List the built-in directory's accounts, oldest first, a page at a time. Scope `users:read`.
#[utoipa::path(
    get, path = "/v1/users", tag = "users", operation_id = "listUsers",
    params(
        ("page_size" = Option<u32>, Query, description = "Accounts per page: 1 to 1000, default 100."),
        ("page_token" = Option<String>, Query, description = "The previous page's `next_page_token`.")
    ),
    security(("bearer" = ["users:read"])),
    responses(
        (status = 200, description = "A page.", body = UserList),
        (status = 400, description = "`invalid_request`: a page size out of range, a page token this server did not give, or another query parameter.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`directory_managed`: accounts live in another directory (`RESET_DIRECTORY`).", body = Problem, content_type = "application/problem+json"),
        UserApiErrors
    )
)]
pub(crate) fn list_users() {}

/// Read an account, switched off or not. Scope `users:read`.
#[utoipa::path(
    get, path = "/v1/users/{user_id}", tag = "users", operation_id = "getUser",
    params(("user_id" = String, Path, description = "The user's id.")),
    security(("bearer" = ["users:read"])),
    responses(
        (status = 200, description = "The account.", body = UserResource),
        (status = 404, description = "`user_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`directory_managed`: accounts live in another directory (`RESET_DIRECTORY`).", body = Problem, content_type = "application/problem+json"),
        UserApiErrors
    )
)]
pub(crate) fn get_user() {}

/// Change an account's addresses, phone, locale, or switch it off or on. Changing where its
/// messages go, or switching it off, ends its live reset secrets. Scope `users:write`.
#[utoipa::path(
    patch, path = "/v1/users/{user_id}", tag = "users", operation_id = "updateUser",
    params(("user_id" = String, Path, description = "The user's id.")),
    request_body(content = UpdateUserBody, content_type = "application/json"),
    security(("bearer" = ["users:write"])),
    responses(
        (status = 200, description = "The account as changed.", body = UserResource),
        (status = 400, description = "`invalid_request`: an address, phone or locale that is not valid, an address listed twice, an unknown field (`username` cannot change), or none of the four fields.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: an address belongs to another account; `directory_managed`: accounts live in another directory.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        UserApiErrors
    )
)]
pub(crate) fn update_user() {}

/// Delete an account with its addresses and password history; its live reset secrets end, and
/// messages already accepted for it are still delivered. Scope `users:write`.
#[utoipa::path(
    delete, path = "/v1/users/{user_id}", tag = "users", operation_id = "deleteUser",
    params(("user_id" = String, Path, description = "The user's id.")),
    security(("bearer" = ["users:write"])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "`user_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`directory_managed`: accounts live in another directory (`RESET_DIRECTORY`).", body = Problem, content_type = "application/problem+json"),
        UserApiErrors
    )
)]
pub(crate) fn delete_user() {}

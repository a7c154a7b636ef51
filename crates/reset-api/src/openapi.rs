//! The OpenAPI document, derived with utoipa from framework-free operation stubs (utoipa's
//! framework `*_extras` features are not additive across a workspace, so paths, methods and
//! parameters are written out here). Committed as `openapi/reset.v1.json`; a test fails when
//! the two drift.

#![allow(dead_code)]

use utoipa::OpenApi;

use crate::dialects::openapi as d;
use crate::dialects::{forgot_password, misskey, unleash, zitadel};
use crate::problem::{Problem, ViolationBody};
use crate::v1::admin;
use crate::v1::wire::{
    CancelBody, ChannelDto, CodeBody, CompleteBody, CompleteCodeBody, CompleteTokenBody,
    DeliveryDto, ResetRequestBody, StatusResponse, TokenBody, VerifyBody, VerifyResponse,
};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Password reset",
        version = "1.0.0",
        description = "A self-hostable password-reset service. v1: self-service (no credential), administration \
(bearer admin token), browser pages and operations. Beside it, four compatibility dialects (Misskey, forgot-password, \
Unleash, Zitadel v2) answer in their own systems' shapes over the same core. Every response carries \
`Cache-Control: no-store`; v1 errors are RFC 9457 problem+json with a stable `code` and a UUID `id` fixed per code. \
Request bodies are JSON (`Content-Type: application/json`, else 415) of at most 64 KiB (else 413); v1 refuses \
unknown fields with 400 `invalid_request`. No self-service response, status, header or timing reveals whether an \
account exists, with one documented exception: the forgot-password dialect answers 404 for an unknown username, as the \
API it imitates does, unless the server hides unknown usernames there (`RESET_FORGOT_PASSWORD_HIDE_UNKNOWN=true`). \
While the database cannot be reached, every operation that needs it answers 503 with `Retry-After`, in its own shape.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    servers((url = "http://127.0.0.1:8080", description = "The default public URL (`RESET_PUBLIC_URL`); a deployment answers at its own.")),
    paths(request_reset, verify_secret, complete_reset, cancel_reset, healthz, readyz, openapi_json, openapi_3_0_json,
        d::misskey_request, d::misskey_reset, d::forgot_send_email, d::forgot_check_code, d::forgot_reset_password,
        d::unleash_password, d::unleash_validate, d::unleash_validate_password, d::unleash_password_email,
        admin_password_reset, admin_set_password, d::zitadel_password_reset, d::zitadel_set_password,
        d::zitadel_connect_password_reset, d::zitadel_connect_set_password,
        page_form, page_submit, page_cancel_form, page_cancel_submit, docs_page, docs_asset),
    components(schemas(
        ResetRequestBody, DeliveryDto, ChannelDto, VerifyBody, TokenBody, CodeBody, CompleteBody,
        CompleteTokenBody, CompleteCodeBody, CancelBody, VerifyResponse, StatusResponse, Problem, ViolationBody,
        misskey::RequestBody, misskey::ResetBody, misskey::ErrorBody, misskey::ErrorDetail, misskey::WeakPasswordInfo,
        forgot_password::SendEmailBody, forgot_password::CheckCodeBody, forgot_password::ResetPasswordBody,
        forgot_password::Message, unleash::PasswordBody, unleash::EmailBody, unleash::TokenUser, unleash::ErrorBody,
        unleash::ValidatePasswordBody, unleash::Role, unleash::ErrorDetail,
        admin::AdminResetBody, admin::SendLink, admin::AdminPasswordBody, admin::NewPassword,
        admin::Details, admin::AdminResetResponse, admin::AdminPasswordResponse,
        zitadel::PasswordResetBody, zitadel::SendLink, zitadel::SetPasswordBody, zitadel::NewPassword, zitadel::Details,
        zitadel::PasswordResetResponse, zitadel::SetPasswordResponse, zitadel::ErrorBody, zitadel::ErrorDetail,
        zitadel::ConnectErrorBody, zitadel::ConnectErrorDetail, zitadel::ReasonDebug,
        d::ConnectPasswordResetRequest, d::ConnectSetPasswordRequest,
        PageResetForm, PageCancelForm
    )),
    modifiers(&BearerAuth, &Examples, &ProblemAsJson),
    tags(
        (name = "self-service", description = "Forgotten passwords, without a credential."),
        (name = "pages", description = "HTML pages for people: the form behind the emailed link, and the \"this wasn't me\" confirmation. No JavaScript; strict CSP; English, Japanese or German by `Accept-Language`."),
        (name = "administration", description = "For operators, with an admin token (`reset-server token create`); may say that a user does not exist."),
        (name = "operations", description = "Health, readiness and this document."),
        (name = "misskey", description = "Misskey's reset API (prefix `/api`), answered in its own shapes."),
        (name = "forgot-password", description = "The code-based forgot-password API (prefix `/api/auth/forgotPassword`)."),
        (name = "unleash", description = "Unleash's reset API (prefix `/auth/reset`)."),
        (name = "zitadel", description = "Zitadel v2's user password API, admin token: REST under the prefix `/v2` (the 1.x SDKs) and Connect at `/zitadel.user.v2.UserService/{Method}` beside it (the 4.x SDKs).")
    )
)]
pub struct ApiDoc;

/// The document as served and committed: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned());
    json.push('\n');
    json
}

/// The OpenAPI 3.0.3 rendition of the same document, as served and committed
/// (`openapi/reset.v1.openapi-3.0.json`); see [`crate::openapi_3_0`].
pub fn document_3_0_json() -> String {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    crate::openapi_3_0::to_json(&crate::openapi_3_0::convert(&doc))
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
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`: the body is not application/json.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the limit resets."))),
        (status = 500, description = "`internal_error`, with a reference in `detail`.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the database cannot be reached; nothing was accepted, try again after `Retry-After`.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
fn request_reset() {}

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
        (status = 408, description = "`request_timeout`: the body did not arrive within the server's body timeout (`RESET_BODY_TIMEOUT_SECS`); the connection closes.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`attempts_exhausted` (request a new code) or `rate_limited`.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "`internal_error`.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the database cannot be reached; nothing was accepted, try again after `Retry-After`.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
fn verify_secret() {}

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
        (status = 408, description = "`request_timeout`: the body did not arrive within the server's body timeout (`RESET_BODY_TIMEOUT_SECS`); the connection closes.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`weak_password` with every `violations` entry; the secret stays valid.",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`attempts_exhausted` or `rate_limited`.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "`internal_error`.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the database cannot be reached, or the breached-password check could not run and is configured to fail closed; nothing was changed and the secret stays valid.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
fn complete_reset() {}

/// "This wasn't me": kill a request's secrets.
///
/// Answers 204 whether or not the token was valid (there is nothing to learn from it).
#[utoipa::path(
    post, path = "/v1/password-reset/cancel", tag = "self-service", operation_id = "cancelPasswordReset",
    request_body(content = CancelBody, content_type = "application/json"),
    responses(
        (status = 204, description = "Done (or there was nothing to cancel)."),
        (status = 400, description = "`invalid_request`.", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`: the body did not arrive within the server's body timeout (`RESET_BODY_TIMEOUT_SECS`); the connection closes.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "`internal_error`.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the database cannot be reached; nothing was accepted, try again after `Retry-After`.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
fn cancel_reset() {}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", operation_id = "healthz",
    responses((status = 200, description = "Up.", body = StatusResponse)))]
fn healthz() {}

/// The database is reachable and migrated.
#[utoipa::path(get, path = "/readyz", tag = "operations", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready.", body = StatusResponse, example = json!({"status": "ready"})),
        (status = 503, description = "`not_ready`.", body = Problem, content_type = "application/problem+json")
    ))]
fn readyz() {}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = Object)))]
fn openapi_json() {}

/// This document as OpenAPI 3.0.3, for generators that read 3.0 only (progenitor).
#[utoipa::path(get, path = "/openapi-3.0.json", tag = "operations", operation_id = "openapi30",
    responses((status = 200, description = "The OpenAPI 3.0.3 rendition of this document.", content_type = "application/json", body = Object)))]
fn openapi_3_0_json() {}

/// The `bearer` security scheme: admin tokens from `reset-server token create`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An admin token (`rst_…`) from `reset-server token create`; scopes `password:reset` and `password:write`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Issue a reset secret for a user: send a link (optionally built from `url_template`, scope
/// `password:reset`) or return a code (`return_code`: a returned code sets any password, so it
/// needs `password:write` as well).
#[utoipa::path(
    post, path = "/v1/users/{user_id}/password-reset", tag = "administration", operation_id = "adminPasswordReset",
    params(("user_id" = String, Path, description = "The user's id.")),
    request_body(content = admin::AdminResetBody, content_type = "application/json"),
    security(("bearer" = ["password:reset"])),
    responses(
        (status = 200, description = "Issued.", body = admin::AdminResetResponse,
            example = json!({"details": {"sequence": "2", "change_date": "2026-11-24T09:00:00.000Z", "resource_owner": "default", "creation_date": "2026-11-20T08:00:00.000Z"}, "verification_code": "482901"})),
        (status = 400, description = "`invalid_request` (also: not exactly one of `send_link`/`return_code`, no address for the channel) or `invalid_url_template`.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`credential_required` or `authentication_failed`; with `WWW-Authenticate: Bearer`.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the token lacks `password:reset`, or (for `return_code`) `password:write`.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`: the body did not arrive within the server's body timeout (`RESET_BODY_TIMEOUT_SECS`); the connection closes.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many failed credentials from this address.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "`internal_error`.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the database cannot be reached; nothing was accepted, try again after `Retry-After`.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
fn admin_password_reset() {}

/// Set a user's password: with `verification_code` (scope `password:reset`; the code is used
/// up) or without (scope `password:write`). Held to the password policy.
#[utoipa::path(
    post, path = "/v1/users/{user_id}/password", tag = "administration", operation_id = "adminSetPassword",
    params(("user_id" = String, Path, description = "The user's id.")),
    request_body(content = admin::AdminPasswordBody, content_type = "application/json"),
    security(("bearer" = ["password:reset"]), ("bearer" = ["password:write"])),
    responses(
        (status = 200, description = "Changed.", body = admin::AdminPasswordResponse),
        (status = 400, description = "`invalid_request`, `code_incorrect` (with `attempts_remaining`) or `invalid_token`.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`credential_required` or `authentication_failed`.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the token lacks the scope needed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "`request_timeout`: the body did not arrive within the server's body timeout (`RESET_BODY_TIMEOUT_SECS`); the connection closes.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`weak_password` with `violations`.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`attempts_exhausted`, or `rate_limited` (also: too many failed credentials from this address).", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "`internal_error`.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`service_unavailable`: the database cannot be reached, or the breached-password check could not run and is configured to fail closed; nothing was changed and the secret stays valid.", body = Problem,
            content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))
    )
)]
fn admin_set_password() {}

/// The reset form's fields (`application/x-www-form-urlencoded`).
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"token": "Zq3x…", "new_password": "violet tractor melts quietly", "confirm_password": "violet tractor melts quietly"}))]
struct PageResetForm {
    token: String,
    new_password: String,
    confirm_password: String,
}

/// The cancel confirmation's field.
#[derive(utoipa::ToSchema)]
struct PageCancelForm {
    token: String,
}

/// The form for a new password, when the link's token is live; it does not use it up.
#[utoipa::path(get, path = "/reset-password", tag = "pages", operation_id = "resetPasswordPage",
    params(("token" = String, Query, description = "The token from the emailed link.")),
    responses(
        (status = 200, description = "The form.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…"),
        (status = 400, description = "The link is invalid, expired or used: a page that says so.", content_type = "text/html; charset=utf-8", body = String),
        (status = 429, description = "Too many attempts from this address.", content_type = "text/html; charset=utf-8", body = String,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "A page saying something went wrong.", content_type = "text/html; charset=utf-8", body = String)
    ))]
fn page_form() {}

/// Sets the new password; a mismatch or the policy's reasons re-show the form (422).
#[utoipa::path(post, path = "/reset-password", tag = "pages", operation_id = "resetPasswordSubmit",
    request_body(content = PageResetForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Changed: the result page.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…"),
        (status = 400, description = "The token is invalid, expired or used.", content_type = "text/html; charset=utf-8", body = String),
        (status = 413, description = "The body is over 64 KiB.", content_type = "text/html; charset=utf-8", body = String),
        (status = 415, description = "Not a form body.", content_type = "text/html; charset=utf-8", body = String),
        (status = 422, description = "The form again, with the reasons.", content_type = "text/html; charset=utf-8", body = String),
        (status = 429, description = "Too many attempts.", content_type = "text/html; charset=utf-8", body = String,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "A page saying something went wrong.", content_type = "text/html; charset=utf-8", body = String),
        (status = 503, description = "The breached-password check could not run (configured to fail closed): try again later; the link still works.", content_type = "text/html; charset=utf-8", body = String,
            headers(("Retry-After" = u64, description = "Seconds to wait.")))
    ))]
fn page_submit() {}

/// "This wasn't me": a confirmation button; nothing is cancelled until it is pressed.
#[utoipa::path(get, path = "/reset-password/cancel", tag = "pages", operation_id = "cancelResetPage",
    params(("token" = String, Query, description = "The cancel token from the message.")),
    responses(
        (status = 200, description = "The confirmation.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…"),
        (status = 400, description = "No token.", content_type = "text/html; charset=utf-8", body = String)
    ))]
fn page_cancel_form() {}

/// Cancels the request the token belongs to (the same page whatever the token).
#[utoipa::path(post, path = "/reset-password/cancel", tag = "pages", operation_id = "cancelResetSubmit",
    request_body(content = PageCancelForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Cancelled.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…"),
        (status = 400, description = "No `token` field.", content_type = "text/html; charset=utf-8", body = String),
        (status = 413, description = "The body is over 64 KiB.", content_type = "text/html; charset=utf-8", body = String),
        (status = 415, description = "Not a form body.", content_type = "text/html; charset=utf-8", body = String),
        (status = 429, description = "Too many attempts.", content_type = "text/html; charset=utf-8", body = String,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        (status = 500, description = "A page saying something went wrong.", content_type = "text/html; charset=utf-8", body = String)
    ))]
fn page_cancel_submit() {}

/// The interactive reference (Swagger UI, served from vendored assets: no CDN, no internet).
#[utoipa::path(get, path = "/docs", tag = "operations", operation_id = "docs",
    responses((status = 200, description = "The Swagger UI page.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…")))]
fn docs_page() {}

/// The reference's assets: `swagger-ui.css`, `swagger-ui-bundle.js`, `init.js`.
#[utoipa::path(get, path = "/docs/{asset}", tag = "operations", operation_id = "docsAsset",
    params(("asset" = String, Path, description = "`swagger-ui.css`, `swagger-ui-bundle.js` or `init.js`.")),
    responses(
        (status = 200, description = "The asset (CSS or JavaScript).", content_type = "text/javascript; charset=utf-8", body = String, example = "window.addEventListener(…)"),
        (status = 404, description = "`not_found`: no such asset.", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "about:blank", "title": "Not found", "status": 404, "detail": "There is no such asset.", "code": "not_found", "id": "5c2e8f1a-3d4b-4a6c-9e7f-1b0d2c3e4f04"}))
    ))]
fn docs_asset() {}

/// Gives every response that has a body and no example one: v1 problems from the very error
/// constants the code answers with (the first `code` named in the response's description),
/// pages a stub of HTML.
struct Examples;

impl utoipa::Modify for Examples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for_each_response(openapi, |status, response| {
            let description = response.description.clone();
            for (media, content) in &mut response.content {
                let utoipa::openapi::RefOr::T(content) = content else {
                    continue;
                };
                if content.example.is_none() && content.examples.is_empty() {
                    content.example = example_for(media, status, &description);
                }
            }
        });
    }
}

/// Lists every problem body under `application/json` too: generators that type only
/// `application/json` (progenitor) then type the errors. The router answers with that media type
/// when the request's `Accept` asks for it and not for problem+json.
struct ProblemAsJson;

impl utoipa::Modify for ProblemAsJson {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for_each_response(openapi, |_, response| {
            if let Some(problem) = response.content.get(crate::problem::PROBLEM_JSON) {
                let problem = problem.clone();
                response
                    .content
                    .entry("application/json".to_owned())
                    .or_insert(problem);
            }
        });
    }
}

/// Calls `f` with the status and the (inline) response of every operation of every path.
fn for_each_response(
    openapi: &mut utoipa::openapi::OpenApi,
    mut f: impl FnMut(&str, &mut utoipa::openapi::Response),
) {
    for item in openapi.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            for (status, response) in &mut op.responses.responses {
                if let utoipa::openapi::RefOr::T(response) = response {
                    f(status, response);
                }
            }
        }
    }
}

fn example_for(media: &str, status: &str, description: &str) -> Option<serde_json::Value> {
    if media.starts_with("text/html") {
        return Some(serde_json::Value::String("<!doctype html>…".into()));
    }
    if media == "application/json" && status == "200" && description.contains("OpenAPI") {
        let version = if description.contains("3.0.3") {
            "3.0.3"
        } else {
            "3.1.0"
        };
        return Some(
            serde_json::json!({"openapi": version, "info": {"title": "Password reset", "version": "1.0.0"}, "paths": {}}),
        );
    }
    if media != crate::problem::PROBLEM_JSON {
        return None;
    }
    let status: u16 = status.parse().ok()?;
    let kind = description.split('`').skip(1).step_by(2).find_map(|code| {
        crate::problem::ALL
            .iter()
            .find(|k| k.code == code && k.status == status)
    })?;
    let mut problem = Problem::new(*kind, format!("{}.", kind.title));
    if kind.code == "code_incorrect" {
        problem.attempts_remaining = Some(11);
    }
    if kind.code == "weak_password" {
        problem.violations = Some(vec![ViolationBody {
            code: "too_guessable".into(),
            message: "The password is too easy to guess.".into(),
        }]);
    }
    serde_json::to_value(problem).ok()
}

//! The pages' operations in the OpenAPI document, and their form bodies. Stubs that only carry
//! the document's attributes; [`crate::openapi`] assembles them.

#![allow(dead_code)]

use crate::openapi_rows::{Row, Rows, page_rows};

/// The rows of both forms' submits: 408, 413, 415, 429 and 500, each a page.
pub(crate) struct FormErrors;

impl utoipa::IntoResponses for FormErrors {
    fn responses() -> Rows {
        page_rows(&[
            Row::new(
                408,
                "The body did not arrive within the server's body timeout; in English; the \
                 connection closes.",
            ),
            Row::new(413, "The body is over 64 KiB."),
            Row::new(415, "Not a form body."),
            Row::new(429, "Too many attempts.").retry_after(),
            Row::new(500, "A page saying something went wrong."),
        ])
    }
}

/// The reset form's fields (`application/x-www-form-urlencoded`).
#[derive(utoipa::ToSchema)]
#[schema(example = json!({"token": "Zq3x…", "new_password": "violet tractor melts quietly", "confirm_password": "violet tractor melts quietly"}))]
pub(crate) struct PageResetForm {
    pub(crate) token: String,
    pub(crate) new_password: String,
    pub(crate) confirm_password: String,
}

/// The cancel confirmation's field.
#[derive(utoipa::ToSchema)]
pub(crate) struct PageCancelForm {
    pub(crate) token: String,
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
pub(crate) fn page_form() {}

/// Sets the new password; a mismatch or the policy's reasons re-show the form (422).
#[utoipa::path(post, path = "/reset-password", tag = "pages", operation_id = "resetPasswordSubmit",
    request_body(content = PageResetForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Changed: the result page.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…"),
        (status = 400, description = "The token is invalid, expired or used.", content_type = "text/html; charset=utf-8", body = String),
        FormErrors,
        (status = 422, description = "The form again, with the reasons.", content_type = "text/html; charset=utf-8", body = String),
        (status = 503, description = "The breached-password check could not run (configured to fail closed): try again later; the link still works.", content_type = "text/html; charset=utf-8", body = String,
            headers(("Retry-After" = u64, description = "Seconds to wait.")))
    ))]
pub(crate) fn page_submit() {}

/// "This wasn't me": a confirmation button; nothing is cancelled until it is pressed.
#[utoipa::path(get, path = "/reset-password/cancel", tag = "pages", operation_id = "cancelResetPage",
    params(("token" = String, Query, description = "The cancel token from the message.")),
    responses(
        (status = 200, description = "The confirmation.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…"),
        (status = 400, description = "No token.", content_type = "text/html; charset=utf-8", body = String)
    ))]
pub(crate) fn page_cancel_form() {}

/// Cancels the request the token belongs to (the same page whatever the token).
#[utoipa::path(post, path = "/reset-password/cancel", tag = "pages", operation_id = "cancelResetSubmit",
    request_body(content = PageCancelForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Cancelled.", content_type = "text/html; charset=utf-8", body = String, example = "<!doctype html>…"),
        (status = 400, description = "No `token` field.", content_type = "text/html; charset=utf-8", body = String),
        FormErrors
    ))]
pub(crate) fn page_cancel_submit() {}

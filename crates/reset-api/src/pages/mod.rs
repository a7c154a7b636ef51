//! The browser pages (`docs/api.md`, "Browser pages"): the form an emailed link opens, the result
//! after it, and the "this wasn't me" confirmation. Plain HTML forms (no JavaScript), in
//! English, Japanese or German by `Accept-Language`, with a strict Content-Security-Policy
//! (nothing but the page's own inline style, whose hash it names), no third-party resources,
//! `Referrer-Policy: no-referrer` and `Cache-Control: no-store` (as every response).
//! Forms post to relative URLs, so the pages work under any mount prefix.

mod i18n;
pub(crate) mod openapi;

use std::sync::OnceLock;

use base64::Engine as _;
use minijinja::{Environment, context};
use reset_core::{ResetError, SecretInput};
use sha2::{Digest as _, Sha256};

pub use i18n::Lang;

use crate::api::Api;
use crate::request::{ApiRequest, Body, MAX_BODY_BYTES};
use crate::response::ApiResponse;

const VIA: &str = "page";
const CSS: &str = include_str!("../../templates/page.css");

/// The pages' template environment, built once.
fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        if let Err(e) = env.add_template("page.html", include_str!("../../templates/page.html")) {
            tracing::error!(error = %e, "the page template does not parse");
        }
        env
    })
}

/// `default-src 'none'` but for the inline style, named by its hash.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS));
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    })
}

/// What a page shows.
struct Page<'a> {
    status: u16,
    title: &'static str,
    message: Option<&'a str>,
    errors: Vec<&'static str>,
    /// `form`, `cancel` or `result`.
    mode: &'static str,
    action: &'static str,
    token: &'a str,
}

fn render(lang: Lang, page: &Page<'_>, min_length: usize) -> ApiResponse {
    let html = templates().get_template("page.html").and_then(|t| {
        t.render(context! {
            lang => lang.tag(),
            w => lang.words(),
            css => CSS,
            title => page.title,
            message => page.message,
            errors => page.errors,
            mode => page.mode,
            action => page.action,
            token => page.token,
            min_length => min_length,
        })
    });
    match html {
        Ok(html) => ApiResponse::bytes(page.status, "text/html; charset=utf-8", html.into())
            .with_header("content-security-policy", content_security_policy())
            .with_header("content-language", lang.tag()),
        Err(e) => {
            tracing::error!(error = %e, "page rendering failed");
            ApiResponse::bytes(500, "text/plain; charset=utf-8", "internal error".into())
        }
    }
}

fn result(lang: Lang, status: u16, title: &'static str, message: &'static str) -> ApiResponse {
    let page = Page {
        status,
        title,
        message: Some(message),
        errors: Vec::new(),
        mode: "result",
        action: "",
        token: "",
    };
    render(lang, &page, 0)
}

fn invalid(lang: Lang) -> ApiResponse {
    let w = lang.words();
    result(lang, 400, w.invalid_title, w.invalid)
}

/// The page for an error of the core.
fn failure(api: &Api, lang: Lang, token: &str, e: ResetError) -> ApiResponse {
    let w = lang.words();
    match e {
        ResetError::WeakPassword { violations } => {
            let errors = violations.iter().map(|v| w.violation(v.code)).collect();
            form(api, lang, token, 422, errors)
        }
        ResetError::RateLimited { retry_after_secs }
        | ResetError::AttemptsExhausted { retry_after_secs } => result(lang, 429, w.title, w.busy)
            .with_header("retry-after", retry_after_secs.to_string()),
        ResetError::Unavailable { retry_after_secs } => result(lang, 503, w.title, w.broken)
            .with_header("retry-after", retry_after_secs.to_string()),
        ResetError::Store(_) | ResetError::Hashing(_) => {
            tracing::error!(error = %e, "internal error (page)");
            result(lang, 500, w.title, w.broken)
        }
        _ => invalid(lang),
    }
}

fn form(api: &Api, lang: Lang, token: &str, status: u16, errors: Vec<&'static str>) -> ApiResponse {
    let page = Page {
        status,
        title: lang.words().title,
        message: None,
        errors,
        mode: "form",
        action: "reset-password",
        token,
    };
    render(lang, &page, api.service().min_password_length())
}

/// The value of `name` in a query string or form body.
fn field(encoded: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(encoded)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn query_token(req: &ApiRequest) -> Option<String> {
    req.query
        .as_deref()
        .and_then(|q| field(q.as_bytes(), "token"))
        .filter(|t| !t.is_empty())
}

/// 408 for a form whose body did not arrive in time: a page, in English (the request's
/// `Accept-Language` is not at hand before its body is read).
pub fn request_timeout() -> ApiResponse {
    let lang = Lang::En;
    let w = lang.words();
    result(lang, 408, w.title, w.unreadable)
}

/// A form body, or the answer for why not (413, 415, 400).
fn form_body(req: &ApiRequest, lang: Lang) -> Result<Vec<u8>, ApiResponse> {
    let w = lang.words();
    let form_type = crate::request_body::media_type_is(req, "application/x-www-form-urlencoded");
    match &req.body {
        Body::TooLarge => Err(result(lang, 413, w.title, w.unreadable)),
        Body::Bytes(b) if b.len() > MAX_BODY_BYTES => Err(result(lang, 413, w.title, w.unreadable)),
        Body::Unreadable => Err(result(lang, 400, w.title, w.unreadable)),
        Body::Bytes(_) if !form_type => Err(result(lang, 415, w.title, w.unreadable)),
        Body::Bytes(b) => Ok(b.to_vec()),
    }
}

/// `GET /reset-password?token=…`: the form, when the token is live. Never uses it up.
pub async fn reset_form(api: &Api, req: &ApiRequest) -> ApiResponse {
    let lang = Lang::negotiate(req.header("accept-language"));
    let Some(token) = query_token(req) else {
        return invalid(lang);
    };
    let ctx = api.context(req, VIA);
    match api
        .service()
        .verify(SecretInput::Token(token.clone()), &ctx)
        .await
    {
        Ok(_) => form(api, lang, &token, 200, Vec::new()),
        Err(e) => failure(api, lang, &token, e),
    }
}

/// `POST /reset-password` (`token`, `new_password`, `confirm_password`): completes the reset;
/// a mismatch or the policy's reasons re-show the form.
pub async fn reset_submit(api: &Api, req: &ApiRequest) -> ApiResponse {
    let lang = Lang::negotiate(req.header("accept-language"));
    let body = match form_body(req, lang) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(token) = field(&body, "token").filter(|t| !t.is_empty()) else {
        return invalid(lang);
    };
    let password = field(&body, "new_password").unwrap_or_default();
    let confirm = field(&body, "confirm_password").unwrap_or_default();
    let ctx = api.context(req, VIA);
    if password != confirm {
        return match api
            .service()
            .verify(SecretInput::Token(token.clone()), &ctx)
            .await
        {
            Ok(_) => form(api, lang, &token, 422, vec![lang.words().mismatch]),
            Err(e) => failure(api, lang, &token, e),
        };
    }
    match api
        .service()
        .complete(SecretInput::Token(token.clone()), &password, &ctx)
        .await
    {
        Ok(()) => {
            let w = lang.words();
            result(lang, 200, w.done_title, w.done)
        }
        Err(e) => failure(api, lang, &token, e),
    }
}

/// `GET /reset-password/cancel?token=…`: asks to confirm; cancels nothing by itself (a mail
/// scanner following the link must not cancel).
pub async fn cancel_form(_api: &Api, req: &ApiRequest) -> ApiResponse {
    let lang = Lang::negotiate(req.header("accept-language"));
    let Some(token) = query_token(req) else {
        return invalid(lang);
    };
    let w = lang.words();
    let page = Page {
        status: 200,
        title: w.cancel_title,
        message: Some(w.cancel),
        errors: Vec::new(),
        mode: "cancel",
        action: "cancel",
        token: &token,
    };
    render(lang, &page, 0)
}

/// `POST /reset-password/cancel` (`token`): kills the request's secrets; the same page
/// whatever the token's value (nothing to learn from it); 400 without the field.
pub async fn cancel_submit(api: &Api, req: &ApiRequest) -> ApiResponse {
    let lang = Lang::negotiate(req.header("accept-language"));
    let body = match form_body(req, lang) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(token) = field(&body, "token") else {
        return invalid(lang);
    };
    let w = lang.words();
    match api.service().cancel(&token, &api.context(req, VIA)).await {
        Ok(()) => result(lang, 200, w.cancel_title, w.cancelled),
        Err(e) => failure(api, lang, "", e),
    }
}

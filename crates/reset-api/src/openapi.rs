//! The OpenAPI document, assembled with utoipa from framework-free operation stubs that sit
//! beside their handlers (`v1/openapi.rs`, `pages/openapi.rs`, `dialects/openapi.rs`,
//! `docs.rs`); utoipa's framework `*_extras` features are not additive across a workspace, so
//! paths, methods and parameters are written out there. Committed as `openapi/reset.v1.json`;
//! a test fails when the two drift.

use utoipa::OpenApi;

use crate::dialects::openapi as d;
use crate::dialects::{forgot_password, misskey, unleash, zitadel};
use crate::pages::openapi as p;
use crate::problem::{Problem, ViolationBody};
use crate::v1::openapi as v1;
use crate::v1::{admin, users, wire};

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
    paths(v1::request_reset, v1::verify_secret, v1::complete_reset, v1::cancel_reset, v1::healthz, v1::readyz,
        v1::openapi_json, v1::openapi_3_0_json,
        d::misskey_request, d::misskey_reset, d::forgot_send_email, d::forgot_check_code, d::forgot_reset_password,
        d::unleash_password, d::unleash_validate, d::unleash_validate_password, d::unleash_password_email,
        v1::admin_password_reset, v1::admin_set_password,
        v1::create_user, v1::list_users, v1::get_user, v1::update_user, v1::delete_user,
        d::zitadel_password_reset, d::zitadel_set_password,
        d::zitadel_connect_password_reset, d::zitadel_connect_set_password,
        p::page_form, p::page_submit, p::page_cancel_form, p::page_cancel_submit,
        crate::docs::openapi::docs_page, crate::docs::openapi::docs_asset),
    components(schemas(
        wire::ResetRequestBody, wire::DeliveryDto, wire::ChannelDto, wire::VerifyBody, wire::TokenBody, wire::CodeBody,
        wire::CompleteBody, wire::CompleteTokenBody, wire::CompleteCodeBody, wire::CancelBody, wire::VerifyResponse,
        wire::StatusResponse, Problem, ViolationBody,
        misskey::RequestBody, misskey::ResetBody, misskey::ErrorBody, misskey::ErrorDetail, misskey::WeakPasswordInfo,
        forgot_password::SendEmailBody, forgot_password::CheckCodeBody, forgot_password::ResetPasswordBody,
        forgot_password::Message, unleash::PasswordBody, unleash::EmailBody, unleash::TokenUser, unleash::ErrorBody,
        unleash::ValidatePasswordBody, unleash::Role, unleash::ErrorDetail,
        admin::AdminResetBody, admin::SendLink, admin::AdminPasswordBody, admin::NewPassword,
        admin::Details, admin::AdminResetResponse, admin::AdminPasswordResponse,
        users::UserResource, users::CreateUserBody, users::UpdateUserBody, users::UserList,
        zitadel::PasswordResetBody, zitadel::SendLink, zitadel::SetPasswordBody, zitadel::NewPassword, zitadel::Details,
        zitadel::PasswordResetResponse, zitadel::SetPasswordResponse, zitadel::ErrorBody, zitadel::ErrorDetail,
        zitadel::ConnectErrorBody, zitadel::ConnectErrorDetail, zitadel::ReasonDebug,
        d::ConnectPasswordResetRequest, d::ConnectSetPasswordRequest,
        p::PageResetForm, p::PageCancelForm
    )),
    modifiers(&BearerAuth, &Examples, &ProblemAsJson),
    tags(
        (name = "self-service", description = "Forgotten passwords, without a credential."),
        (name = "pages", description = "HTML pages for people: the form behind the emailed link, and the \"this wasn't me\" confirmation. No JavaScript; strict CSP; English, Japanese or German by `Accept-Language`."),
        (name = "administration", description = "For operators, with an admin token (`reset-server token create`); may say that a user does not exist."),
        (name = "users", description = "The built-in directory's accounts, for operators with an admin token (scopes `users:read`, `users:write`). With another directory (`RESET_DIRECTORY` = ldap, sql or http) these answer 409 `directory_managed`: accounts are managed where they live."),
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
                        "An admin token (`rst_…`) from `reset-server token create`; scopes `password:reset`, `password:write`, `users:read` and `users:write`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Gives every response that has a body and no example one, from the code where there is an
/// error: v1 problems from the very error constants the code answers with (the first `code`
/// named in the response's description), a dialect's errors from the answer its error type gives
/// at that status, pages a stub of HTML, successes their schema's example.
struct Examples;

impl utoipa::Modify for Examples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let schemas = serde_json::to_value(
            openapi
                .components
                .as_ref()
                .map(|c| c.schemas.clone())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        for_each_response(openapi, |status, response| {
            let description = response.description.clone();
            for (media, content) in &mut response.content {
                let utoipa::openapi::RefOr::T(content) = content else {
                    continue;
                };
                if content.example.is_some() || !content.examples.is_empty() {
                    continue;
                }
                let schema = match &content.schema {
                    Some(utoipa::openapi::RefOr::Ref(r)) => r.ref_location.rsplit('/').next(),
                    _ => None,
                };
                content.example = example_for(media, status, &description, schema).or_else(|| {
                    let success = status.starts_with('2');
                    success
                        .then(|| schemas.get(schema?)?.get("example").cloned())
                        .flatten()
                });
            }
        });
    }
}

/// The body a dialect answers with at `status`, when `schema` is one of the dialects' error
/// shapes.
fn dialect_error(schema: &str, status: u16) -> Option<serde_json::Value> {
    use utoipa::ToSchema;

    use crate::dialects::forgot_password::ForgotPasswordError;
    use crate::dialects::misskey::MisskeyError;
    use crate::dialects::unleash::UnleashError;
    use crate::dialects::zitadel::ZitadelError;

    let response = if schema == misskey::ErrorBody::name() {
        MisskeyError::example(status)?.response()
    } else if schema == forgot_password::Message::name() {
        ForgotPasswordError::example(status)?.response()
    } else if schema == unleash::ErrorBody::name() {
        UnleashError::example(status)?.response()
    } else if schema == zitadel::ErrorBody::name() {
        ZitadelError::example(status)?.rest()
    } else if schema == zitadel::ConnectErrorBody::name() {
        ZitadelError::example(status)?.connect()
    } else {
        return None;
    };
    if response.status != status {
        return None;
    }
    serde_json::from_slice(&response.body).ok()
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

fn example_for(
    media: &str,
    status: &str,
    description: &str,
    schema: Option<&str>,
) -> Option<serde_json::Value> {
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
    let status: u16 = status.parse().ok()?;
    if let Some(example) = schema.and_then(|schema| dialect_error(schema, status)) {
        return Some(example);
    }
    if media != crate::problem::PROBLEM_JSON {
        return None;
    }
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

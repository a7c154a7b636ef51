//! Unleash (`docs/compat.md`, section 3), under `/auth/reset`: `POST /password`
//! `{token, password}` → 200; `GET /validate?token=` → 200 `{email, name, id}` without using
//! the token up; `POST /password-email` `{email}` → 200 always. Errors are
//! `{"id", "name", "message"}`; Unleash gives each error instance a fresh id, we give each
//! error kind a fixed one, so that answers are reproducible byte for byte (and across adapters).

use reset_core::{Delivery, RequestInput, ResetError, SecretInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// `POST /auth/reset/password-email`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UnleashPasswordEmail, example = json!({"email": "alice@example.com"}))]
pub struct EmailBody {
    pub email: String,
}

/// `GET /auth/reset/validate`: the account the token belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnleashTokenUser, example = json!({"email": "alice@example.com", "name": "alice", "id": "0192d1c4-7f3e-7a51-9c2b-3d4e5f6a7b8c"}))]
pub struct TokenUser {
    pub email: String,
    pub name: String,
    pub id: String,
}

/// Unleash's error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnleashError, example = json!({"id": "9c40958a-daac-400e-98fb-3bb438567008", "name": "ContentTypeerror", "message": "We do not accept the content-type you provided (application/xml). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format."}))]
pub struct ErrorBody {
    pub id: &'static str,
    pub name: &'static str,
    pub message: String,
    /// Only with `PasswordPolicyError`: each broken rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ViolationBody>>,
}

/// One Unleash error kind: status, name, fixed id.
type Kind = (u16, &'static str, &'static str);

pub const BAD_DATA: Kind = (400, "BadDataError", "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a71");
pub const PASSWORD_POLICY: Kind = (
    400,
    "PasswordPolicyError",
    "1f2a3b4c-5d6e-4f7a-9b8c-0d1e2f3a4b72",
);
pub const INVALID_TOKEN: Kind = (
    401,
    "InvalidTokenError",
    "2a3b4c5d-6e7f-4a8b-8c9d-1e2f3a4b5c73",
);
pub const NO_ACCESS: Kind = (403, "NoAccessError", "7f8a9b0c-1d2e-4f3a-9b4c-6d7e8f9a0b78");
pub const NOT_FOUND: Kind = (404, "NotFoundError", "8a9b0c1d-2e3f-4a4b-8c5d-7e8f9a0b1c79");
pub const METHOD_NOT_ALLOWED: Kind = (
    405,
    "MethodNotAllowedError",
    "3b4c5d6e-7f8a-4b9c-9d0e-2f3a4b5c6d74",
);
pub const CONTENT_TOO_LARGE: Kind = (
    413,
    "ContentTooLargeError",
    "4c5d6e7f-8a9b-4c0d-8e1f-3a4b5c6d7e75",
);
pub const CONTENT_TYPE: Kind = (
    415,
    "ContentTypeerror",
    "9c40958a-daac-400e-98fb-3bb438567008",
);
pub const TOO_MANY_REQUESTS: Kind = (
    429,
    "TooManyRequestsError",
    "5d6e7f8a-9b0c-4d1e-9f2a-4b5c6d7e8f76",
);
pub const INTERNAL: Kind = (500, "InternalError", "6e7f8a9b-0c1d-4e2f-8a3b-5c6d7e8f9a77");
pub const UNAVAILABLE: Kind = (
    503,
    "ServiceUnavailableError",
    "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d80",
);

fn error(kind: Kind, message: impl Into<String>) -> ApiResponse {
    let (status, name, id) = kind;
    ApiResponse::json(
        status,
        &ErrorBody {
            id,
            name,
            message: message.into(),
            details: None,
        },
    )
}

fn body_error(e: BodyError) -> ApiResponse {
    match e {
        BodyError::TooLarge => error(CONTENT_TOO_LARGE, "The request body is too large."),
        BodyError::NotJson(ct) => error(
            CONTENT_TYPE,
            format!(
                "We do not accept the content-type you provided ({}). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format.",
                ct.as_deref().unwrap_or("none")
            ),
        ),
        BodyError::Unreadable | BodyError::Invalid(_) => error(
            BAD_DATA,
            "Request validation failed: the body is not valid.",
        ),
    }
}

fn invalid_token() -> ApiResponse {
    error(INVALID_TOKEN, "Token is invalid or expired.")
}

fn core_error(e: ResetError) -> ApiResponse {
    match e {
        ResetError::InvalidRequest(detail) => {
            error(BAD_DATA, format!("Request validation failed: {detail}"))
        }
        ResetError::InvalidToken
        | ResetError::CodeIncorrect { .. }
        | ResetError::AttemptsExhausted { .. } => invalid_token(),
        ResetError::RateLimited { retry_after_secs } => {
            error(TOO_MANY_REQUESTS, "Too many requests; try again later.")
                .with_header("retry-after", retry_after_secs.to_string())
        }
        ResetError::WeakPassword { violations } => {
            let message = violations
                .iter()
                .map(|v| v.message.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let (status, name, id) = PASSWORD_POLICY;
            ApiResponse::json(
                status,
                &ErrorBody {
                    id,
                    name,
                    message,
                    details: Some(violations.into_iter().map(ViolationBody::from).collect()),
                },
            )
        }
        ResetError::Forbidden(scope) => error(
            NO_ACCESS,
            format!("You need the \"{scope}\" permission to perform this action."),
        ),
        ResetError::Unavailable { retry_after_secs } => error(
            UNAVAILABLE,
            "A check the answer needs is unavailable; try again later.",
        )
        .with_header("retry-after", retry_after_secs.to_string()),
        ResetError::CredentialRequired
        | ResetError::AuthenticationFailed
        | ResetError::UserNotFound
        | ResetError::InvalidUrlTemplate(_)
        | ResetError::Store(_)
        | ResetError::Hashing(_) => {
            tracing::error!(error = %e, "internal error (unleash)");
            error(INTERNAL, "Something went wrong on our side.")
        }
    }
}

/// 404 in Unleash's shape.
pub fn not_found() -> ApiResponse {
    error(NOT_FOUND, "The requested resource could not be found.")
}

/// 405 in Unleash's shape.
pub fn method_not_allowed() -> ApiResponse {
    error(METHOD_NOT_ALLOWED, "This method is not allowed here.")
}

/// `POST /auth/reset/password`.
pub async fn password(api: &Api, req: &ApiRequest) -> ApiResponse {
    let body: PasswordBody = match read(req) {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    let result = api
        .service()
        .complete(
            SecretInput::Token(body.token),
            &body.password,
            &api.context(req, VIA),
        )
        .await;
    match result {
        Ok(()) => ApiResponse::empty(200),
        Err(e) => core_error(e),
    }
}

/// `GET /auth/reset/validate?token=…`.
pub async fn validate(api: &Api, req: &ApiRequest) -> ApiResponse {
    let token = req.query.as_deref().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return invalid_token();
    };
    match api
        .service()
        .token_owner(&token, &api.context(req, VIA))
        .await
    {
        Ok((_, user)) => ApiResponse::json(
            200,
            &TokenUser {
                email: user.emails.first().cloned().unwrap_or_default(),
                name: user.username,
                id: user.id,
            },
        ),
        Err(e) => core_error(e),
    }
}

/// `POST /auth/reset/password-email`: 200 whatever the address; a link when it is known.
pub async fn password_email(api: &Api, req: &ApiRequest) -> ApiResponse {
    let body: EmailBody = match read(req) {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    let input = RequestInput {
        email: Some(body.email),
        delivery: Delivery::Link,
        ..RequestInput::default()
    };
    match api.service().request(input, &api.context(req, VIA)).await {
        Ok(()) => ApiResponse::empty(200),
        Err(e) => core_error(e),
    }
}

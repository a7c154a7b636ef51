//! Misskey (`docs/compat.md`, section 1): `POST /api/request-reset-password`
//! `{username, email}` → 204 always; `POST /api/reset-password` `{token, password}` → 204.
//! Errors are `{"error": {"message", "code", "id"}}` with Misskey's codes and fixed ids.

use reset_core::{Delivery, RequestInput, ResetError, SecretInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::Api;
use crate::problem::ViolationBody;
use crate::request::ApiRequest;
use crate::request_body::{BodyError, read};
use crate::response::ApiResponse;

const VIA: &str = "misskey";

/// `POST /api/request-reset-password`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = MisskeyRequestResetPassword, example = json!({"username": "alice", "email": "alice@example.com"}))]
pub struct RequestBody {
    pub username: String,
    pub email: String,
}

/// `POST /api/reset-password`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = MisskeyResetPassword, example = json!({"token": "Zq3x…", "password": "violet tractor melts quietly"}))]
pub struct ResetBody {
    pub token: String,
    pub password: String,
}

/// Misskey's error body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MisskeyError, example = json!({"error": {"message": "Invalid param.", "code": "INVALID_PARAM", "id": "3d81ceae-475f-4600-b2a8-2bc116157532"}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MisskeyErrorDetail)]
pub struct ErrorDetail {
    pub message: String,
    pub code: &'static str,
    pub id: &'static str,
    /// Only with `WEAK_PASSWORD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<WeakPasswordInfo>,
}

/// Why the password was refused: every broken rule.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MisskeyWeakPasswordInfo)]
pub struct WeakPasswordInfo {
    pub violations: Vec<ViolationBody>,
}

/// One Misskey error: status, code, fixed id, message.
type Kind = (u16, &'static str, &'static str, &'static str);

pub const INVALID_PARAM: Kind = (
    400,
    "INVALID_PARAM",
    "3d81ceae-475f-4600-b2a8-2bc116157532",
    "Invalid param.",
);
pub const INVALID_TOKEN: Kind = (
    400,
    "INVALID_TOKEN",
    "8a1c4f0e-6b2d-4c3e-9f7a-5d1e2b3c4a61",
    "The token is invalid, expired or already used.",
);
pub const WEAK_PASSWORD: Kind = (
    400,
    "WEAK_PASSWORD",
    "c2d3e4f5-0a1b-4c2d-8e3f-6a7b8c9d0e62",
    "The new password does not meet the password policy.",
);
pub const NO_SUCH_ENDPOINT: Kind = (
    404,
    "NO_SUCH_ENDPOINT",
    "3a7c2e19-5b8d-4f06-9e4a-1c2d3b4a5f79",
    "No such endpoint.",
);
pub const METHOD_NOT_ALLOWED: Kind = (
    405,
    "METHOD_NOT_ALLOWED",
    "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a63",
    "Method not allowed.",
);
pub const PAYLOAD_TOO_LARGE: Kind = (
    413,
    "PAYLOAD_TOO_LARGE",
    "5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b64",
    "The request body is too large.",
);
pub const UNSUPPORTED_MEDIA_TYPE: Kind = (
    415,
    "UNSUPPORTED_MEDIA_TYPE",
    "6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c65",
    "Send the body as application/json.",
);
pub const RATE_LIMIT_EXCEEDED: Kind = (
    429,
    "RATE_LIMIT_EXCEEDED",
    "d5826d14-3982-4d2e-8011-b9e9f02499ef",
    "Rate limit exceeded. Please try again later.",
);
pub const UNAVAILABLE: Kind = (
    503,
    "UNAVAILABLE",
    "4a0e2f3b-7c1d-4e5f-9a6b-0c1d2e3f4a66",
    "Temporarily unavailable. Please try again later.",
);
pub const INTERNAL_ERROR: Kind = (
    500,
    "INTERNAL_ERROR",
    "5d37dbcb-891e-41ca-a3d6-e690c97775ac",
    "Internal error occurred. Please contact us if the error persists.",
);

fn error(kind: Kind, info: Option<WeakPasswordInfo>) -> ApiResponse {
    let (status, code, id, message) = kind;
    ApiResponse::json(
        status,
        &ErrorBody {
            error: ErrorDetail {
                message: message.to_owned(),
                code,
                id,
                info,
            },
        },
    )
}

fn body_error(e: BodyError) -> ApiResponse {
    match e {
        BodyError::TooLarge => error(PAYLOAD_TOO_LARGE, None),
        BodyError::NotJson(_) => error(UNSUPPORTED_MEDIA_TYPE, None),
        BodyError::Unreadable | BodyError::Invalid(_) => error(INVALID_PARAM, None),
    }
}

fn core_error(e: ResetError) -> ApiResponse {
    match e {
        ResetError::InvalidRequest(_) => error(INVALID_PARAM, None),
        ResetError::InvalidToken
        | ResetError::CodeIncorrect { .. }
        | ResetError::AttemptsExhausted { .. } => error(INVALID_TOKEN, None),
        ResetError::RateLimited { retry_after_secs } => error(RATE_LIMIT_EXCEEDED, None)
            .with_header("retry-after", retry_after_secs.to_string()),
        ResetError::WeakPassword { violations } => error(
            WEAK_PASSWORD,
            Some(WeakPasswordInfo {
                violations: violations.into_iter().map(ViolationBody::from).collect(),
            }),
        ),
        ResetError::Unavailable { retry_after_secs } => {
            error(UNAVAILABLE, None).with_header("retry-after", retry_after_secs.to_string())
        }
        ResetError::CredentialRequired
        | ResetError::AuthenticationFailed
        | ResetError::Forbidden(_)
        | ResetError::UserNotFound
        | ResetError::InvalidUrlTemplate(_)
        | ResetError::Store(_)
        | ResetError::Hashing(_) => {
            tracing::error!(error = %e, "internal error (misskey)");
            error(INTERNAL_ERROR, None)
        }
    }
}

/// 404 in Misskey's shape.
pub fn not_found() -> ApiResponse {
    error(NO_SUCH_ENDPOINT, None)
}

/// 405 in Misskey's shape.
pub fn method_not_allowed() -> ApiResponse {
    error(METHOD_NOT_ALLOWED, None)
}

/// `POST /api/request-reset-password`: 204 whatever the account; a link only when both
/// identifiers name the same account.
pub async fn request(api: &Api, req: &ApiRequest) -> ApiResponse {
    let body: RequestBody = match read(req) {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    let input = RequestInput {
        username: Some(body.username),
        email: Some(body.email),
        delivery: Delivery::Link,
        ..RequestInput::default()
    };
    match api.service().request(input, &api.context(req, VIA)).await {
        Ok(()) => ApiResponse::empty(204),
        Err(e) => core_error(e),
    }
}

/// `POST /api/reset-password`.
pub async fn reset(api: &Api, req: &ApiRequest) -> ApiResponse {
    let body: ResetBody = match read(req) {
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
        Ok(()) => ApiResponse::empty(204),
        Err(e) => core_error(e),
    }
}

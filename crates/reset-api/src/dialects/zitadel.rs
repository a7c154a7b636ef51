//! Zitadel v2 (`docs/compat.md`, section 4), under `/v2`, with a bearer admin token:
//! `POST /users/{userId}/password_reset` (`sendLink` or `returnCode`; an empty body sends a
//! link by email) and `POST /users/{userId}/password`. Errors are
//! `{"code": <gRPC status>, "message", "details": [{"@type", "reason"}]}`; only
//! `application/json` is served, a gRPC content type gets 415 in this shape.

use reset_core::{AdminAction, AdminIssue, ChangeDetails, Channel, PasswordProof, ResetError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::Api;
use crate::request::{ApiRequest, Body};
use crate::request_body::{BodyError, read};
use crate::response::ApiResponse;

const VIA: &str = "zitadel";

/// `POST /v2/users/{userId}/password_reset`: at most one of `sendLink` and `returnCode`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ZitadelPasswordResetRequest, example = json!({"sendLink": {"notificationType": "NOTIFICATION_TYPE_Unspecified", "urlTemplate": "https://example.com/password/changey?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}"}}))]
pub struct PasswordResetBody {
    pub send_link: Option<SendLink>,
    #[schema(value_type = Option<Object>)]
    pub return_code: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ZitadelSendLink)]
pub struct SendLink {
    /// `NOTIFICATION_TYPE_Unspecified` (email), `NOTIFICATION_TYPE_Email` or `NOTIFICATION_TYPE_SMS`.
    pub notification_type: Option<String>,
    /// `{{.UserID}}`, `{{.Code}}`, `{{.OrgID}}`, `{{.LoginName}}`; same allow-list as v1.
    pub url_template: Option<String>,
}

/// `POST /v2/users/{userId}/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ZitadelSetPasswordRequest, example = json!({"newPassword": {"password": "violet tractor melts quietly", "changeRequired": false}, "verificationCode": "482901"}))]
pub struct SetPasswordBody {
    pub new_password: NewPassword,
    /// The code from `returnCode`; used up. Needs `password:reset`.
    pub verification_code: Option<String>,
    /// The user's current password instead of a code. Needs `password:write` (checking it
    /// would otherwise be a password-guessing oracle).
    pub current_password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ZitadelNewPassword)]
pub struct NewPassword {
    pub password: String,
    /// Accepted; enforcing a change at next login is the host's.
    #[serde(default)]
    pub change_required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelDetails, example = json!({"sequence": "2", "changeDate": "2025-03-05T21:29:22.155Z", "resourceOwner": "69629023906488334", "creationDate": "2025-03-05T21:29:22.155Z"}))]
pub struct Details {
    pub sequence: String,
    pub change_date: String,
    pub resource_owner: String,
    pub creation_date: String,
}

impl From<ChangeDetails> for Details {
    /// v1's details, spelled in camelCase.
    fn from(d: ChangeDetails) -> Self {
        let v1 = crate::v1::admin::Details::from(d);
        Self {
            sequence: v1.sequence,
            change_date: v1.change_date,
            resource_owner: v1.resource_owner,
            creation_date: v1.creation_date,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelPasswordResetResponse)]
pub struct PasswordResetResponse {
    pub details: Details,
    /// Only with `returnCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelSetPasswordResponse, example = json!({"details": {"sequence": "3", "changeDate": "2025-03-05T21:29:22.155Z", "resourceOwner": "69629023906488334", "creationDate": "2025-03-05T21:29:22.155Z"}}))]
pub struct SetPasswordResponse {
    pub details: Details,
}

/// Zitadel's error body (a `google.rpc.Status`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelError, example = json!({"code": 5, "message": "User could not be found", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "USER_NOT_FOUND"}]}))]
pub struct ErrorBody {
    /// The gRPC status: 3 INVALID_ARGUMENT, 5 NOT_FOUND, 7 PERMISSION_DENIED,
    /// 8 RESOURCE_EXHAUSTED, 12 UNIMPLEMENTED, 13 INTERNAL, 14 UNAVAILABLE, 16 UNAUTHENTICATED.
    pub code: i32,
    pub message: String,
    pub details: Vec<ErrorDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelErrorDetail)]
pub struct ErrorDetail {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    /// Our stable reason, such as `CODE_INCORRECT` or `WEAK_PASSWORD`.
    pub reason: &'static str,
}

fn error(status: u16, code: i32, reason: &'static str, message: impl Into<String>) -> ApiResponse {
    ApiResponse::json(
        status,
        &ErrorBody {
            code,
            message: message.into(),
            details: vec![ErrorDetail {
                type_: "type.googleapis.com/google.rpc.ErrorInfo",
                reason,
            }],
        },
    )
}

fn invalid(reason: &'static str, message: impl Into<String>) -> ApiResponse {
    error(400, 3, reason, message)
}

/// 404 in Zitadel's shape (5 NOT_FOUND).
pub fn not_found() -> ApiResponse {
    error(404, 5, "NOT_FOUND", "Not found")
}

/// 405 in Zitadel's shape (12 UNIMPLEMENTED).
pub fn method_not_allowed() -> ApiResponse {
    error(405, 12, "METHOD_NOT_ALLOWED", "Method not allowed")
}

fn body_error(e: BodyError) -> ApiResponse {
    match e {
        BodyError::TooLarge => error(413, 8, "PAYLOAD_TOO_LARGE", "The request body is too large"),
        BodyError::NotJson(ct) => error(
            415,
            3,
            "UNSUPPORTED_MEDIA_TYPE",
            format!(
                "Content type {} is not served here; send application/json",
                ct.as_deref().unwrap_or("(none)")
            ),
        ),
        BodyError::Unreadable | BodyError::Invalid(_) => {
            invalid("INVALID_REQUEST", "The request body is not valid")
        }
    }
}

fn core_error(e: ResetError) -> ApiResponse {
    match e {
        ResetError::InvalidRequest(detail) => invalid("INVALID_REQUEST", detail),
        ResetError::InvalidToken => invalid("INVALID_TOKEN", "The code is invalid or expired"),
        ResetError::CodeIncorrect { .. } => invalid("CODE_INCORRECT", "The code is incorrect"),
        ResetError::AttemptsExhausted { retry_after_secs } => error(
            429,
            8,
            "ATTEMPTS_EXHAUSTED",
            "The code has had all its tries; request a new one",
        )
        .with_header("retry-after", retry_after_secs.to_string()),
        ResetError::RateLimited { retry_after_secs } => {
            error(429, 8, "RATE_LIMITED", "Too many requests")
                .with_header("retry-after", retry_after_secs.to_string())
        }
        ResetError::WeakPassword { violations } => {
            let reasons: Vec<String> = violations.into_iter().map(|v| v.message).collect();
            invalid(
                "WEAK_PASSWORD",
                format!("Password is too weak: {}", reasons.join(" ")),
            )
        }
        ResetError::CredentialRequired => error(
            401,
            16,
            "CREDENTIAL_REQUIRED",
            "Authorization header missing",
        )
        .with_header("www-authenticate", "Bearer"),
        ResetError::AuthenticationFailed => {
            error(401, 16, "AUTHENTICATION_FAILED", "Token invalid")
                .with_header("www-authenticate", "Bearer")
        }
        ResetError::Forbidden(scope) => error(
            403,
            7,
            "PERMISSION_DENIED",
            format!("The token lacks the scope {scope}"),
        ),
        ResetError::UserNotFound => error(404, 5, "USER_NOT_FOUND", "User could not be found"),
        ResetError::InvalidUrlTemplate(why) => invalid(
            "INVALID_URL_TEMPLATE",
            format!("urlTemplate refused: {why}"),
        ),
        ResetError::Unavailable { retry_after_secs } => {
            error(503, 14, "UNAVAILABLE", "Temporarily unavailable")
                .with_header("retry-after", retry_after_secs.to_string())
        }
        ResetError::Store(_) | ResetError::Hashing(_) => {
            tracing::error!(error = %e, "internal error (zitadel)");
            error(500, 13, "INTERNAL", "Internal error")
        }
    }
}

/// Whether the request sent no body at all (which this dialect reads as `{}`).
fn no_body(req: &ApiRequest) -> bool {
    matches!(&req.body, Body::Bytes(b) if b.is_empty())
        && (req.header("content-type").is_none()
            || crate::request_body::media_type_is(req, "application/json"))
}

fn user_id(id: Option<String>) -> Result<String, ApiResponse> {
    id.ok_or_else(|| invalid("INVALID_REQUEST", "userId is not valid UTF-8"))
}

/// `POST /v2/users/{userId}/password_reset`.
pub async fn password_reset(api: &Api, req: &ApiRequest, id: Option<String>) -> ApiResponse {
    let ctx = api.context(req, VIA);
    let session = match api
        .service()
        .authorize(req.header("authorization"), AdminAction::Issue, &ctx)
        .await
    {
        Ok(session) => session,
        Err(e) => return core_error(e),
    };
    let id = match user_id(id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let body: PasswordResetBody = if no_body(req) {
        PasswordResetBody::default()
    } else {
        match read(req) {
            Ok(b) => b,
            Err(e) => return body_error(e),
        }
    };
    let how = match (body.send_link, body.return_code) {
        (Some(_), Some(_)) => {
            return invalid(
                "INVALID_REQUEST",
                "Give only one of sendLink and returnCode",
            );
        }
        (None, Some(_)) => AdminIssue::ReturnCode,
        (link, None) => {
            let link = link.unwrap_or_default();
            let channel = match link.notification_type.as_deref() {
                None | Some("NOTIFICATION_TYPE_Unspecified" | "NOTIFICATION_TYPE_Email") => {
                    Channel::Email
                }
                Some("NOTIFICATION_TYPE_SMS") => Channel::Sms,
                Some(_) => return invalid("INVALID_REQUEST", "Unknown notificationType"),
            };
            AdminIssue::SendLink {
                channel,
                url_template: link.url_template,
            }
        }
    };
    match api.service().admin_issue(&session, &id, how, &ctx).await {
        Ok(issued) => ApiResponse::json(
            200,
            &PasswordResetResponse {
                details: issued.details.into(),
                verification_code: issued.code,
            },
        ),
        Err(e) => core_error(e),
    }
}

/// `POST /v2/users/{userId}/password`.
pub async fn set_password(api: &Api, req: &ApiRequest, id: Option<String>) -> ApiResponse {
    let ctx = api.context(req, VIA);
    let session = match api
        .service()
        .authorize(req.header("authorization"), AdminAction::SetPassword, &ctx)
        .await
    {
        Ok(session) => session,
        Err(e) => return core_error(e),
    };
    let id = match user_id(id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let body: SetPasswordBody = match read(req) {
        Ok(b) => b,
        Err(e) => return body_error(e),
    };
    if body.new_password.change_required {
        tracing::info!(user_id = %id, "changeRequired asked for: enforcing it is the host application's login");
    }
    let proof = match (body.verification_code, body.current_password) {
        (Some(_), Some(_)) => {
            return invalid(
                "INVALID_REQUEST",
                "Give only one of verificationCode and currentPassword",
            );
        }
        (Some(code), None) => PasswordProof::Code(code),
        (None, Some(current)) => PasswordProof::CurrentPassword(current),
        (None, None) => PasswordProof::Trusted,
    };
    let result = api
        .service()
        .admin_set_password(&session, &id, &body.new_password.password, proof, &ctx)
        .await;
    match result {
        Ok(details) => ApiResponse::json(
            200,
            &SetPasswordResponse {
                details: details.into(),
            },
        ),
        Err(e) => core_error(e),
    }
}

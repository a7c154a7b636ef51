//! The v1 administration routes (`docs/api.md`, "Administration"): bearer admin tokens, and answers
//! that may say a user does not exist.

use chrono::SecondsFormat;
use reset_core::{
    AdminAction, AdminIssue, AdminSession, ChangeDetails, Channel, ClientContext, PasswordProof,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::Api;
use crate::problem::{INVALID_REQUEST, Problem};
use crate::request::ApiRequest;
use crate::request_body::parse;
use crate::response::ApiResponse;

const VIA: &str = "admin";

/// `POST /v1/users/{user_id}/password-reset`: exactly one of `send_link` and `return_code`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"send_link": {"notification_type": "email", "url_template": "https://app.example.com/reset?user={{.UserID}}&code={{.Code}}"}}))]
pub struct AdminResetBody {
    /// Send the user a message: a link to the reset page, or a code in `url_template`'s link.
    pub send_link: Option<SendLink>,
    /// `{}`: send nothing and return the code. Needs `password:write` as well: a returned code
    /// sets any password.
    #[schema(value_type = Option<Object>)]
    pub return_code: Option<serde_json::Map<String, serde_json::Value>>,
}

/// How to reach the user: the channel, and the link the code goes in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendLink {
    /// `email` (default) or `sms`.
    // Documented as v1's `Channel`: one schema per concept (enum values must not collide in
    // generated clients).
    #[schema(value_type = Option<crate::v1::wire::ChannelDto>)]
    pub notification_type: Option<NotificationType>,
    /// A link with `{{.UserID}}`, `{{.Code}}`, `{{.OrgID}}`, `{{.LoginName}}` (each value
    /// URL-encoded); it must resolve to `https` (or `http` on loopback) on an allowed origin.
    /// Without it the message links to this server's reset page.
    pub url_template: Option<String>,
}

/// Where `send_link`'s message goes (documented as v1's `Channel`).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationType {
    /// The user's first address.
    Email,
    /// The user's phone, through the SMS gateway.
    Sms,
}

/// `POST /v1/users/{user_id}/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"new_password": {"password": "violet tractor melts quietly", "change_required": false}, "verification_code": "482901"}))]
pub struct AdminPasswordBody {
    /// The password to set; the policy applies.
    pub new_password: NewPassword,
    /// The code from `return_code` (or a code message); used up. Without it the credential
    /// needs the `password:write` scope.
    pub verification_code: Option<String>,
}

/// The new password, and whether the user must change it at next login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The password in clear; only its hash is stored.
    pub password: String,
    /// Accepted for compatibility; this service keeps no login of its own, so enforcing a
    /// change at next login is the host application's.
    #[serde(default)]
    pub change_required: bool,
}

/// The change just made.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"sequence": "2", "change_date": "2026-11-24T09:00:00.000Z", "resource_owner": "default", "creation_date": "2026-11-20T08:00:00.000Z"}))]
pub struct Details {
    /// Changes of the user so far, as a decimal string.
    pub sequence: String,
    /// When the change was made: now (RFC 3339, UTC, milliseconds).
    pub change_date: String,
    /// The user's organisation id.
    pub resource_owner: String,
    /// When the user was created (RFC 3339, UTC, milliseconds).
    pub creation_date: String,
}

impl From<ChangeDetails> for Details {
    fn from(d: ChangeDetails) -> Self {
        Self {
            sequence: d.sequence.to_string(),
            change_date: d.change_date.to_rfc3339_opts(SecondsFormat::Millis, true),
            resource_owner: d.resource_owner,
            creation_date: d.creation_date.to_rfc3339_opts(SecondsFormat::Millis, true),
        }
    }
}

/// The answer of `POST /v1/users/{user_id}/password-reset`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminResetResponse {
    /// The change just made.
    pub details: Details,
    /// Only with `return_code`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
}

/// The answer of `POST /v1/users/{user_id}/password`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"details": {"sequence": "3", "change_date": "2026-11-24T09:05:00.000Z", "resource_owner": "default", "creation_date": "2026-11-20T08:00:00.000Z"}}))]
pub struct AdminPasswordResponse {
    /// The change just made.
    pub details: Details,
}

/// The `user_id` path parameter, or the problem for one that is not UTF-8.
pub(super) fn user_id(id: Option<String>) -> Result<String, Problem> {
    id.ok_or_else(|| Problem::new(INVALID_REQUEST, "user_id is not valid UTF-8."))
}

/// The caller's context and the credential it presents for `action`, checked before the body
/// is read (a bad credential is 401 whatever the body).
pub(super) async fn session(
    api: &Api,
    req: &ApiRequest,
    action: AdminAction,
) -> Result<(AdminSession, ClientContext), Problem> {
    let ctx = api.context(req, VIA);
    let session = api
        .service()
        .authorize(req.header("authorization"), action, &ctx)
        .await?;
    Ok((session, ctx))
}

/// `POST /v1/users/{user_id}/password-reset`: supersedes the user's secrets and sends a link or
/// a code, or returns the code.
pub async fn password_reset(
    api: &Api,
    req: &ApiRequest,
    id: Option<String>,
) -> Result<ApiResponse, Problem> {
    let (session, ctx) = session(api, req, AdminAction::Issue).await?;
    let id = user_id(id)?;
    let body: AdminResetBody = parse(req)?;
    let how = match (body.send_link, body.return_code) {
        (Some(link), None) => AdminIssue::SendLink {
            channel: match link.notification_type {
                Some(NotificationType::Sms) => Channel::Sms,
                _ => Channel::Email,
            },
            url_template: link.url_template,
        },
        (None, Some(_)) => AdminIssue::ReturnCode,
        _ => {
            return Err(Problem::new(
                INVALID_REQUEST,
                "Give exactly one of send_link and return_code.",
            ));
        }
    };
    let issued = api.service().admin_issue(&session, &id, how, &ctx).await?;
    Ok(ApiResponse::json(
        200,
        &AdminResetResponse {
            details: issued.details.into(),
            verification_code: issued.code,
        },
    ))
}

/// `POST /v1/users/{user_id}/password`: sets the password, with a code or on the token's
/// `password:write` scope.
pub async fn set_password(
    api: &Api,
    req: &ApiRequest,
    id: Option<String>,
) -> Result<ApiResponse, Problem> {
    let (session, ctx) = session(api, req, AdminAction::SetPassword).await?;
    let id = user_id(id)?;
    let body: AdminPasswordBody = parse(req)?;
    if body.new_password.change_required {
        tracing::info!("change_required asked for: enforcing it is the host application's login");
    }
    let proof = match body.verification_code {
        Some(code) => PasswordProof::Code(code),
        None => PasswordProof::Trusted,
    };
    let details = api
        .service()
        .admin_set_password(&session, &id, &body.new_password.password, proof, &ctx)
        .await?;
    Ok(ApiResponse::json(
        200,
        &AdminPasswordResponse {
            details: details.into(),
        },
    ))
}

//! The request and response messages, read as Zitadel's gateway reads them (protojson with
//! `DiscardUnknown`): unknown fields are ignored, every field answers to its JSON name
//! (`returnCode`) and its proto name (`return_code`), `null` is unset, enums come by name or
//! number, and a body without `Content-Type` (or without any bytes) is JSON (`{}`). Only
//! this dialect is this lenient; v1 refuses unknown fields.

use reset_core::{AdminIssue, ChangeDetails, Channel, PasswordProof};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::error::ZitadelError;
use crate::request::{ApiRequest, Body, MAX_BODY_BYTES};
use crate::request_body::{self, BodyError, media_type_is};

/// The body as `T`, leniently: a missing `Content-Type` is JSON and no bytes are `{}`; other
/// media types (`application/proto`, gRPC) are refused (415).
pub fn read<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, BodyError> {
    match &req.body {
        Body::Bytes(b)
            if b.len() <= MAX_BODY_BYTES
                && (req.header("content-type").is_none()
                    || media_type_is(req, "application/json")) =>
        {
            let json: &[u8] = if b.iter().all(u8::is_ascii_whitespace) {
                b"{}"
            } else {
                b
            };
            serde_json::from_slice(json).map_err(|e| BodyError::Invalid(e.to_string()))
        }
        // Too large, unreadable or not JSON: the shared reader says which.
        _ => request_body::read(req),
    }
}

/// `PasswordResetRequest`: at most one of `sendLink` and `returnCode`; neither sends a link by
/// email.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelPasswordResetRequest, example = json!({"sendLink": {"notificationType": "NOTIFICATION_TYPE_Unspecified", "urlTemplate": "https://example.com/password/changey?userID={{.UserID}}&code={{.Code}}&orgID={{.OrgID}}"}}))]
pub struct PasswordResetBody {
    /// The user, on the Connect path (required there; its schema adds it). On the REST path the
    /// path's `userId` is the user and this is ignored, as Zitadel's gateway does.
    #[serde(alias = "user_id")]
    #[schema(ignore)]
    pub user_id: Option<String>,
    /// Send the user a message: a link to the reset page, or a code in `urlTemplate`'s link.
    #[serde(alias = "send_link")]
    pub send_link: Option<SendLink>,
    /// `{}`: send nothing and return the code as `verificationCode`. Needs `password:write` as
    /// well: a returned code sets any password.
    #[serde(alias = "return_code")]
    #[schema(value_type = Option<Object>)]
    pub return_code: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Zitadel's `SendPasswordResetLink`: the channel, and the link the code goes in.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelSendLink)]
pub struct SendLink {
    /// `NOTIFICATION_TYPE_Unspecified` (email), `NOTIFICATION_TYPE_Email` or
    /// `NOTIFICATION_TYPE_SMS`, or their numbers 0, 1, 2.
    #[serde(alias = "notification_type")]
    #[schema(value_type = Option<String>)]
    pub notification_type: Option<NotificationType>,
    /// `{{.UserID}}`, `{{.Code}}`, `{{.OrgID}}`, `{{.LoginName}}`; same allow-list as v1.
    #[serde(alias = "url_template")]
    pub url_template: Option<String>,
}

/// Zitadel's `NotificationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationType {
    /// 0: email.
    Unspecified,
    /// 1.
    Email,
    /// 2: needs the SMS gateway.
    Sms,
}

impl<'de> Deserialize<'de> for NotificationType {
    /// By name or by number, as protojson reads an enum.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Number(i64),
        }
        match Raw::deserialize(d)? {
            Raw::Number(0) => Ok(Self::Unspecified),
            Raw::Number(1) => Ok(Self::Email),
            Raw::Number(2) => Ok(Self::Sms),
            Raw::Name(n) if n == "NOTIFICATION_TYPE_Unspecified" => Ok(Self::Unspecified),
            Raw::Name(n) if n == "NOTIFICATION_TYPE_Email" => Ok(Self::Email),
            Raw::Name(n) if n == "NOTIFICATION_TYPE_SMS" => Ok(Self::Sms),
            Raw::Name(_) | Raw::Number(_) => Err(D::Error::custom("unknown notificationType")),
        }
    }
}

impl PasswordResetBody {
    /// What to issue: the code back, or a message on the chosen channel.
    pub fn issue(self) -> Result<AdminIssue, ZitadelError> {
        match (self.send_link, self.return_code) {
            (Some(_), Some(_)) => Err(ZitadelError::InvalidRequest(
                "Give only one of sendLink and returnCode".into(),
            )),
            (None, Some(_)) => Ok(AdminIssue::ReturnCode),
            (link, None) => {
                let link = link.unwrap_or_default();
                let channel = match link.notification_type {
                    None | Some(NotificationType::Unspecified | NotificationType::Email) => {
                        Channel::Email
                    }
                    Some(NotificationType::Sms) => Channel::Sms,
                };
                Ok(AdminIssue::SendLink {
                    channel,
                    url_template: link.url_template,
                })
            }
        }
    }
}

/// `SetPasswordRequest`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelSetPasswordRequest, example = json!({"newPassword": {"password": "violet tractor melts quietly", "changeRequired": false}, "verificationCode": "482901"}))]
pub struct SetPasswordBody {
    /// The user, on the Connect path (required there; its schema adds it); ignored on the REST
    /// path.
    #[serde(alias = "user_id")]
    #[schema(ignore)]
    pub user_id: Option<String>,
    /// The password to set; the policy applies.
    #[serde(alias = "new_password")]
    #[schema(required = true, nullable = false)]
    pub new_password: Option<NewPassword>,
    /// The code from `returnCode`; used up. Needs `password:reset`. One of `verificationCode`
    /// and `currentPassword` (a `oneof`): both is 400 `INVALID_ARGUMENT`, as Zitadel answers,
    /// with nothing used up.
    #[serde(alias = "verification_code")]
    pub verification_code: Option<String>,
    /// The user's current password instead of a code. Needs `password:write` (checking it
    /// would otherwise be a password-guessing oracle).
    #[serde(alias = "current_password")]
    pub current_password: Option<String>,
}

/// Zitadel's `Password`: the new password, and whether the user must change it at next login.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelNewPassword)]
pub struct NewPassword {
    /// The password in clear; only its hash is stored.
    #[schema(required = true, nullable = false)]
    pub password: Option<String>,
    /// Accepted; enforcing a change at next login is the host's.
    #[serde(alias = "change_required")]
    pub change_required: Option<bool>,
}

impl SetPasswordBody {
    /// The new password and how the caller proves the right to set it: a code, the current
    /// password, or neither (the caller's scope is the proof). Both members of the `oneof` is
    /// refused, as Zitadel's protojson refuses a second member, before anything is looked at.
    pub fn into_parts(self) -> Result<(String, PasswordProof), ZitadelError> {
        let new = self.new_password.unwrap_or_default();
        let password = new.password.ok_or_else(|| {
            ZitadelError::InvalidRequest("newPassword.password is required".into())
        })?;
        if new.change_required == Some(true) {
            tracing::info!(
                "changeRequired asked for: enforcing it is the host application's login"
            );
        }
        let proof = match (self.verification_code, self.current_password) {
            (Some(_), Some(_)) => {
                return Err(ZitadelError::InvalidRequest(
                    "only one of verificationCode and currentPassword may be set".into(),
                ));
            }
            (Some(code), None) => PasswordProof::Code(code),
            (None, Some(current)) => PasswordProof::CurrentPassword(current),
            (None, None) => PasswordProof::Trusted,
        };
        Ok((password, proof))
    }
}

/// Zitadel's `Details` of the change just made: v1's, in camelCase.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelDetails, example = json!({"sequence": "2", "changeDate": "2025-03-05T21:29:22.155Z", "resourceOwner": "69629023906488334", "creationDate": "2025-03-05T21:29:22.155Z"}))]
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

/// `PasswordResetResponse`: the change, and the code when `returnCode` asked for it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ZitadelPasswordResetResponse)]
pub struct PasswordResetResponse {
    /// The change just made.
    pub details: Details,
    /// Only with `returnCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
}

/// `SetPasswordResponse`: the change.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ZitadelSetPasswordResponse, example = json!({"details": {"sequence": "3", "changeDate": "2025-03-05T21:29:22.155Z", "resourceOwner": "69629023906488334", "creationDate": "2025-03-05T21:29:22.155Z"}}))]
pub struct SetPasswordResponse {
    /// The change just made.
    pub details: Details,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn reset(json: &str) -> Result<AdminIssue, String> {
        serde_json::from_str::<PasswordResetBody>(json)
            .map_err(|e| e.to_string())
            .and_then(|b| b.issue().map_err(|e| e.to_string()))
    }

    #[test]
    fn both_names_enums_by_name_or_number_and_null_as_unset() {
        for json in [
            r#"{"returnCode": {}}"#,
            r#"{"return_code": {}}"#,
            r#"{"return_code": {"future": 1}, "sendLink": null, "userId": "x", "extra": [1]}"#,
        ] {
            assert!(matches!(reset(json), Ok(AdminIssue::ReturnCode)), "{json}");
        }
        for (json, sms) in [
            (r#"{"sendLink": {"notificationType": 2}}"#, true),
            (
                r#"{"send_link": {"notification_type": "NOTIFICATION_TYPE_SMS"}}"#,
                true,
            ),
            (
                r#"{"sendLink": {"notificationType": 1, "urlTemplate": null}}"#,
                false,
            ),
            (r#"{"sendLink": {"notificationType": null}}"#, false),
            (r#"{"returnCode": null}"#, false),
            ("{}", false),
        ] {
            match reset(json) {
                Ok(AdminIssue::SendLink {
                    channel,
                    url_template: None,
                }) => assert_eq!(channel == Channel::Sms, sms, "{json}"),
                other => panic!("{json}: {other:?}"),
            }
        }
        for json in [
            r#"{"sendLink": {"notificationType": 3}}"#,
            r#"{"sendLink": {"notificationType": "SMS"}}"#,
            r#"{"returnCode": {}, "return_code": {}}"#,
            r#"{"returnCode": {}, "sendLink": {}}"#,
            r#"{"returnCode": true}"#,
        ] {
            assert!(reset(json).is_err(), "{json}");
        }
    }

    #[test]
    fn one_member_of_the_proof_oneof() {
        let body: SetPasswordBody = serde_json::from_str(
            r#"{"new_password": {"password": "p", "change_required": null}, "verification_code": "123"}"#,
        )
        .unwrap();
        let (password, proof) = body.into_parts().unwrap();
        assert_eq!(password, "p");
        assert!(matches!(proof, PasswordProof::Code(c) if c == "123"));
        let both: SetPasswordBody = serde_json::from_str(
            r#"{"newPassword": {"password": "p"}, "currentPassword": "c", "verification_code": "123"}"#,
        )
        .unwrap();
        assert!(both.into_parts().is_err());
        let none: SetPasswordBody = serde_json::from_str(r#"{"newPassword": null}"#).unwrap();
        assert!(none.into_parts().is_err());
    }
}

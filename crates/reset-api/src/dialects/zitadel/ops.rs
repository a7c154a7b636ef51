//! The two operations, each written once behind both front doors (the REST paths and the
//! Connect methods): authorize the bearer token (which counts failed credentials and applies
//! the per-IP limits), read the body, act through the core. The doors differ only in where the
//! user id comes from and in how the answer is written.

use reset_core::AdminAction;

use super::error::ZitadelError;
use super::wire::{
    self, PasswordResetBody, PasswordResetResponse, SetPasswordBody, SetPasswordResponse,
};
use crate::api::Api;
use crate::request::ApiRequest;

const VIA: &str = "zitadel";

/// Where a call names its user.
#[derive(Debug)]
pub enum UserId {
    /// The REST path's `{userId}`, percent-decoded (`None`: not UTF-8). A `userId` in the body
    /// is ignored, as Zitadel's gateway lets the path win.
    Path(Option<String>),
    /// The request message's `userId` (Connect).
    Body,
}

impl UserId {
    fn resolve(self, in_body: Option<String>) -> Result<String, ZitadelError> {
        match self {
            Self::Path(Some(id)) => Ok(id),
            Self::Path(None) => Err(ZitadelError::InvalidRequest(
                "userId is not valid UTF-8".into(),
            )),
            Self::Body => in_body
                .filter(|id| !id.is_empty())
                .ok_or_else(|| ZitadelError::InvalidRequest("userId is required".into())),
        }
    }
}

/// `PasswordReset`: issue a code for the user, sent as a link or returned.
pub async fn password_reset(
    api: &Api,
    req: &ApiRequest,
    user: UserId,
) -> Result<PasswordResetResponse, ZitadelError> {
    let ctx = api.context(req, VIA);
    let session = api
        .service()
        .authorize(req.header("authorization"), AdminAction::Issue, &ctx)
        .await?;
    let mut body: PasswordResetBody = wire::read(req)?;
    let id = user.resolve(body.user_id.take())?;
    let how = body.issue()?;
    let issued = api.service().admin_issue(&session, &id, how, &ctx).await?;
    Ok(PasswordResetResponse {
        details: issued.details.into(),
        verification_code: issued.code,
    })
}

/// `SetPassword`: with a verification code, the current password, or the token's
/// `password:write` alone.
pub async fn set_password(
    api: &Api,
    req: &ApiRequest,
    user: UserId,
) -> Result<SetPasswordResponse, ZitadelError> {
    let ctx = api.context(req, VIA);
    let session = api
        .service()
        .authorize(req.header("authorization"), AdminAction::SetPassword, &ctx)
        .await?;
    let mut body: SetPasswordBody = wire::read(req)?;
    let id = user.resolve(body.user_id.take())?;
    let (password, proof) = body.into_parts()?;
    let details = api
        .service()
        .admin_set_password(&session, &id, &password, proof, &ctx)
        .await?;
    Ok(SetPasswordResponse {
        details: details.into(),
    })
}

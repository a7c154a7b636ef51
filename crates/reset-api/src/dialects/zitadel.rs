//! Zitadel v2 (`docs/compat.md`, section 4), with a bearer admin token, through two front doors
//! over the same two operations (`ops`):
//! - REST, under the prefix (`/v2`), as the 1.x SDKs and Zitadel's gateway:
//!   `POST /users/{userId}/password_reset` (`sendLink` or `returnCode`; none sends a link by
//!   email) and `POST /users/{userId}/password`. Errors are
//!   `{"code": <gRPC status>, "message", "details": [{"@type", "reason"}]}`.
//! - Connect ([`connect`]), as the 4.x SDKs: `POST /zitadel.user.v2.UserService/PasswordReset`
//!   and `/SetPassword` beside the prefix, the user id in the body; Connect's errors.
//!
//! Bodies are read as Zitadel's gateway reads them (`wire`); only JSON is served, other media
//! types (gRPC, binary protobuf) get 415 in the door's shape.

pub mod connect;
mod error;
mod ops;
mod wire;

pub use error::{
    ConnectErrorBody, ConnectErrorDetail, ErrorBody, ErrorDetail, ReasonDebug, ZitadelError,
};
pub use wire::{
    Details, NewPassword, NotificationType, PasswordResetBody, PasswordResetResponse, SendLink,
    SetPasswordBody, SetPasswordResponse,
};

use ops::UserId;
use serde::Serialize;

use crate::api::Api;
use crate::request::ApiRequest;
use crate::response::ApiResponse;

fn answer<T: Serialize>(result: Result<T, ZitadelError>) -> ApiResponse {
    match result {
        Ok(message) => ApiResponse::json(200, &message),
        Err(e) => e.rest(),
    }
}

/// `POST /v2/users/{userId}/password_reset`; `id` is the path's, decoded (`None`: not UTF-8).
pub async fn password_reset(api: &Api, req: &ApiRequest, id: Option<String>) -> ApiResponse {
    answer(ops::password_reset(api, req, UserId::Path(id)).await)
}

/// `POST /v2/users/{userId}/password`.
pub async fn set_password(api: &Api, req: &ApiRequest, id: Option<String>) -> ApiResponse {
    answer(ops::set_password(api, req, UserId::Path(id)).await)
}

/// 404 in Zitadel's REST shape (5 NOT_FOUND).
pub fn not_found() -> ApiResponse {
    ZitadelError::NotFound.rest()
}

/// 405 in Zitadel's REST shape (12 UNIMPLEMENTED).
pub fn method_not_allowed() -> ApiResponse {
    ZitadelError::MethodNotAllowed.rest()
}

/// 408 in Zitadel's REST shape (4 DEADLINE_EXCEEDED; the caller closes the connection).
pub fn request_timeout() -> ApiResponse {
    ZitadelError::RequestTimeout.rest()
}

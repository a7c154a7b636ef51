//! Zitadel's Connect front door, as the 4.x SDKs call it: `POST
//! {base}/zitadel.user.v2.UserService/PasswordReset` and `…/SetPassword`, the request message as
//! proto3 JSON with the user id inside (`{"userId": …, "returnCode": {}}`), a bearer token,
//! 200 with the response message as JSON. `Connect-Protocol-Version` may be absent (the Python
//! SDK sends none). Errors are Connect's, as `application/json`; binary protobuf
//! (`application/proto`) is not served (415 in that shape).

use serde::Serialize;

use super::error::ZitadelError;
use super::ops::{self, UserId};
use crate::api::Api;
use crate::request::ApiRequest;
use crate::response::ApiResponse;

/// Where the service is mounted (beside the dialect's REST prefix): kept with the other mounts.
pub use crate::mounts::{SERVICE, service_prefix};

fn answer<T: Serialize>(result: Result<T, ZitadelError>) -> ApiResponse {
    match result {
        Ok(message) => ApiResponse::json(200, &message),
        Err(e) => e.connect(),
    }
}

/// `PasswordReset`.
pub async fn password_reset(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(ops::password_reset(api, req, UserId::Body).await)
}

/// `SetPassword`.
pub async fn set_password(api: &Api, req: &ApiRequest) -> ApiResponse {
    answer(ops::set_password(api, req, UserId::Body).await)
}

/// An unknown method of the service: 404 `unimplemented`.
pub fn not_found() -> ApiResponse {
    ZitadelError::UnknownMethod.connect()
}

/// A method other than POST: 405 `unimplemented` (the router adds `Allow`).
pub fn method_not_allowed() -> ApiResponse {
    ZitadelError::MethodNotAllowed.connect()
}

/// A body that did not arrive in time: 408 `deadline_exceeded` (the caller closes the
/// connection).
pub fn request_timeout() -> ApiResponse {
    ZitadelError::RequestTimeout.connect()
}

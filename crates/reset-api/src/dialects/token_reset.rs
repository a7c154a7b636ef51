//! What Misskey's `POST /api/reset-password` and Unleash's `POST /auth/reset/password` have in
//! common: both take `{token, password}`, use the token up and set the password. Each dialect
//! keeps its own body type (its OpenAPI schema has its name and examples), its success status and
//! its error shape.

use reset_core::{ResetError, SecretInput};

use crate::api::Api;
use crate::request::ApiRequest;

/// Uses `token` up and sets `password` on its account; `via` is the dialect's name, for the
/// client context.
pub(crate) async fn complete_with_token(
    api: &Api,
    req: &ApiRequest,
    via: &str,
    token: String,
    password: &str,
) -> Result<(), ResetError> {
    api.service()
        .complete(SecretInput::Token(token), password, &api.context(req, via))
        .await
}

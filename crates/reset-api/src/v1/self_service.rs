//! The self-service routes: request, verify, complete, cancel.

use chrono::SecondsFormat;
use reset_core::{Channel, Delivery, RequestInput, SecretInput};

use crate::api::Api;
use crate::problem::{INVALID_REQUEST, Problem};
use crate::request::ApiRequest;
use crate::request_body::parse;
use crate::response::ApiResponse;
use crate::v1::wire::{
    CancelBody, ChannelDto, DeliveryDto, ResetRequestBody, SecretFields, VerifyResponse,
};

const VIA: &str = "v1";

/// `POST /v1/password-reset/request`: 202 once the limits are counted, whatever the account;
/// the work that depends on the account runs after the answer.
pub async fn request(api: &Api, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let body: ResetRequestBody = parse(req)?;
    let input = RequestInput {
        username: body.username,
        email: body.email,
        delivery: match body.delivery.unwrap_or_default() {
            DeliveryDto::Link => Delivery::Link,
            DeliveryDto::Code => Delivery::Code,
        },
        channel: match body.channel.unwrap_or_default() {
            ChannelDto::Email => Channel::Email,
            ChannelDto::Sms => Channel::Sms,
        },
        locale: body.locale,
        all_addresses: false,
        synchronous: false,
    };
    api.service().request(input, &api.context(req, VIA)).await?;
    Ok(ApiResponse::empty(202))
}

/// `POST /v1/password-reset/verify`: whether a token or code is live, without using it up.
pub async fn verify(api: &Api, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let fields: SecretFields = parse(req)?;
    if fields.new_password.is_some() {
        return Err(Problem::new(
            INVALID_REQUEST,
            "unknown field `new_password`: verify never changes the password",
        ));
    }
    let input = secret_input(fields)?;
    let verified = api.service().verify(input, &api.context(req, VIA)).await?;
    Ok(ApiResponse::json(
        200,
        &VerifyResponse {
            valid: true,
            expires_at: verified
                .expires_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            delivery: match verified.delivery {
                Delivery::Link => DeliveryDto::Link,
                Delivery::Code => DeliveryDto::Code,
            },
        },
    ))
}

/// `POST /v1/password-reset/complete`: uses the secret up and sets the new password (204).
pub async fn complete(api: &Api, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let mut fields: SecretFields = parse(req)?;
    let Some(password) = fields.new_password.take() else {
        return Err(Problem::new(
            INVALID_REQUEST,
            "missing field `new_password`",
        ));
    };
    let input = secret_input(fields)?;
    api.service()
        .complete(input, &password, &api.context(req, VIA))
        .await?;
    Ok(ApiResponse::empty(204))
}

/// `POST /v1/password-reset/cancel`: 204 whatever the token; a live one kills its request's
/// secrets.
pub async fn cancel(api: &Api, req: &ApiRequest) -> Result<ApiResponse, Problem> {
    let body: CancelBody = parse(req)?;
    api.service()
        .cancel(&body.token, &api.context(req, VIA))
        .await?;
    Ok(ApiResponse::empty(204))
}

/// Exactly one of `token` and `code`; a code needs `username` or `email`, a token neither.
fn secret_input(f: SecretFields) -> Result<SecretInput, Problem> {
    let invalid = |detail: &str| Problem::new(INVALID_REQUEST, detail);
    match (f.token, f.code) {
        (Some(_), Some(_)) => Err(invalid("send either `token` or `code`, not both")),
        (None, None) => Err(invalid("`token` or `code` is required")),
        (Some(token), None) => {
            if f.username.is_some() || f.email.is_some() {
                return Err(invalid(
                    "`username` and `email` go with `code`, not with `token`",
                ));
            }
            Ok(SecretInput::Token(token))
        }
        (None, Some(code)) => {
            if f.username.is_none() && f.email.is_none() {
                return Err(invalid(
                    "a `code` needs the `username` or `email` it was sent to",
                ));
            }
            Ok(SecretInput::Code {
                username: f.username,
                email: f.email,
                code,
            })
        }
    }
}

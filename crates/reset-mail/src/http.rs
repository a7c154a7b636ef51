//! The HTTP couriers: SMS through the operator's gateway, and webhook events to a host
//! application. Both POST JSON signed as Standard Webhooks (see [`crate::Signer`]), with the
//! outbox message id as `webhook-id`, so a receiver can drop a retry it already handled.

use std::time::Duration;

use chrono::Utc;
use reset_core::store::OutboxMessage;
use serde::Serialize;

use crate::signature::Signer;
use crate::transport::DeliveryError;

/// How long one POST may take before it counts as failed (and is retried).
const TIMEOUT: Duration = Duration::from_secs(10);

/// Signed JSON POSTs.
#[derive(Debug, Clone)]
pub struct HttpCourier {
    client: reqwest::Client,
    signer: Signer,
}

/// The body POSTed to the SMS gateway (`RESET_SMS_WEBHOOK_URL`).
#[derive(Debug, Serialize)]
pub struct SmsPayload<'a> {
    /// The outbox message's id (also the `webhook-id` header), to drop retries already handled.
    pub message_id: &'a str,
    /// The phone number.
    pub recipient: &'a str,
    /// The rendered message.
    pub text: &'a str,
    /// The language it was rendered in (`en`, `ja` or `de`).
    pub locale: &'a str,
    /// `reset_link`, `reset_code` or `password_changed`.
    pub kind: &'a str,
}

impl<'a> SmsPayload<'a> {
    /// The body for `message`, rendered as `text`.
    pub fn new(message: &'a OutboxMessage, text: &'a str) -> Self {
        Self {
            message_id: &message.id,
            recipient: &message.recipient,
            text,
            locale: crate::render::language(&message.locale),
            kind: message.kind.as_str(),
        }
    }
}

impl HttpCourier {
    /// A courier that signs with `signer`; fails only when the HTTP client cannot be built.
    pub fn new(signer: Signer) -> Result<Self, DeliveryError> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirect would turn the POST into a body-less GET: only a 2xx counts.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("reset-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DeliveryError::Transport(e.to_string()))?;
        Ok(Self { client, signer })
    }

    /// POSTs `body` to `url`, with the current span's `traceparent` when tracing is on; any
    /// answer but 2xx is a failure to retry.
    pub async fn post(
        &self,
        url: &str,
        message: &OutboxMessage,
        body: &impl Serialize,
    ) -> Result<(), DeliveryError> {
        let body = serde_json::to_vec(body).map_err(|e| DeliveryError::Build(e.to_string()))?;
        let timestamp = Utc::now().timestamp();
        let mut request = self.client.post(url);
        // The receiver joins our trace (the `send` span) when tracing is on.
        if let Some(traceparent) = reset_core::trace_context::current() {
            request = request.header("traceparent", traceparent);
        }
        let response = request
            .header("content-type", "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                self.signer.sign(&message.id, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| {
                DeliveryError::Transport(format!("POST {}: {}", redacted(url), e.without_url()))
            })?;
        let status = response.status();
        let failure = format!("POST {}: HTTP {}", redacted(url), status.as_u16());
        match status.as_u16() {
            200..=299 => Ok(()),
            // This message is refused for good (malformed, gone); a 401/403/404 or a 5xx is
            // a configuration or an outage the operator fixes, and the message waits for it.
            400 | 410 | 413 | 422 => Err(DeliveryError::Refused(failure)),
            _ => Err(DeliveryError::Transport(failure)),
        }
    }
}

/// `url` without credentials or query (gateways often carry a key in either), for errors that
/// end up in logs, the outbox and the audit trail.
fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "<invalid URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_never_carry_credentials_or_keys() {
        assert_eq!(
            super::redacted("https://user:pw@sms.example/send?api_key=k"),
            "https://sms.example/send"
        );
    }
}

//! Every way out of the outbox, chosen by the message's channel: mail, SMS, webhook.

use reset_core::Channel;
use reset_core::store::OutboxMessage;
use tracing::Instrument as _;

use crate::http::{HttpCourier, SmsPayload};
use crate::render::Renderer;
use crate::transport::{DeliveryError, MailTransport};

/// The SMS gateway: the operator's HTTP endpoint (Ory Kratos' HTTP courier does the same).
#[derive(Debug, Clone)]
pub struct SmsGateway {
    /// The gateway's endpoint, which each SMS is POSTed to.
    pub url: String,
    /// Signs and POSTs the SMS bodies.
    pub http: HttpCourier,
}

/// The configured transports. Without an SMS gateway or webhook signer, messages of that
/// channel fail permanently (and land in the dead-letter state).
#[derive(Debug, Clone)]
pub struct Couriers {
    /// Where email messages go.
    pub mail: MailTransport,
    /// Where SMS messages go, when a gateway is configured.
    pub sms: Option<SmsGateway>,
    /// Signs and POSTs webhook events to the URL each message was queued for.
    pub webhooks: Option<HttpCourier>,
}

impl Couriers {
    /// Mail only.
    pub fn mail(mail: MailTransport) -> Self {
        Self {
            mail,
            sms: None,
            webhooks: None,
        }
    }

    /// A decoy's dry run of [`Self::deliver`] (see [`OutboxMessage::decoy`]): the message is
    /// rendered and built as for its channel, then dropped; nothing leaves the process.
    pub fn dry_run(
        &self,
        message: &OutboxMessage,
        renderer: &Renderer,
    ) -> Result<(), DeliveryError> {
        match message.channel {
            Channel::Email => self.mail.dry_run(message, &renderer.render(message)?),
            Channel::Sms => {
                let text = renderer.render_sms(message)?;
                let body = SmsPayload::new(message, &text);
                serde_json::to_vec(&body)
                    .map(drop)
                    .map_err(|e| DeliveryError::Build(e.to_string()))
            }
            Channel::Webhook => serde_json::to_vec(&message.payload.event)
                .map(drop)
                .map_err(|e| DeliveryError::Build(e.to_string())),
        }
    }

    /// Delivers one message; `Ok` once the other side accepted it.
    pub async fn deliver(
        &self,
        message: &OutboxMessage,
        renderer: &Renderer,
    ) -> Result<(), DeliveryError> {
        let render = || tracing::info_span!("render");
        let send = || tracing::info_span!("send", reset.channel = message.channel.as_str());
        match message.channel {
            Channel::Email => {
                let rendered = render().in_scope(|| renderer.render(message))?;
                self.mail.send(message, &rendered).instrument(send()).await
            }
            Channel::Sms => {
                let gateway = self.sms.as_ref().ok_or(DeliveryError::NoChannel("sms"))?;
                let text = render().in_scope(|| renderer.render_sms(message))?;
                let body = SmsPayload::new(message, &text);
                gateway
                    .http
                    .post(&gateway.url, message, &body)
                    .instrument(send())
                    .await
            }
            Channel::Webhook => {
                let courier = self
                    .webhooks
                    .as_ref()
                    .ok_or(DeliveryError::NoChannel("webhook"))?;
                let event = message.payload.event.as_ref().ok_or_else(|| {
                    DeliveryError::Build("a webhook message without an event".into())
                })?;
                courier
                    .post(&message.recipient, message, event)
                    .instrument(send())
                    .await
            }
        }
    }
}

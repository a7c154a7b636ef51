#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod couriers;
mod decoy;
mod http;
mod render;
mod signature;
mod transport;
pub mod worker;

pub use couriers::{Couriers, SmsGateway};
pub use http::{HttpCourier, SmsPayload};
pub use render::{RenderError, Rendered, Renderer};
pub use signature::{BadSecret, Signer};
pub use transport::{DeliveryError, MailTransport, prune_mail_files};

#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod render;
mod transport;
pub mod worker;

pub use render::{RenderError, Rendered, Renderer};
pub use transport::{DeliveryError, MailTransport};

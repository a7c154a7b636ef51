#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod json_log;
pub mod otlp;
pub mod propagation;
pub mod subscriber;

pub use error::TelemetryError;
pub use subscriber::{LogFormat, Telemetry, TelemetryOptions, init};

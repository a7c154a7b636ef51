#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod json_log;
pub mod otlp;
pub mod propagation;
pub mod subscriber;

pub use subscriber::{LogFormat, Telemetry, TelemetryError, TelemetryOptions, init};

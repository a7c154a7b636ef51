//! Why telemetry could not start. A leaf, shared by the subscriber and the OTLP exporter.

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The environment asks for an OTLP protocol other than `http/protobuf`, the one built in.
    #[error(
        "OTEL_EXPORTER_OTLP_PROTOCOL={0} is not built in: use http/protobuf (an OpenTelemetry \
         Collector accepts it on port 4318)"
    )]
    Protocol(String),
    /// The OTLP exporter could not be built from the environment.
    #[error("the OTLP exporter cannot start: {0}")]
    Exporter(String),
    /// The process has a global `tracing` subscriber already.
    #[error("a tracing subscriber is installed already")]
    AlreadyInstalled,
}

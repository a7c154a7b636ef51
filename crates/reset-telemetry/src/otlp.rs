//! The tracer provider, from the standard `OTEL_*` variables (read as every OpenTelemetry SDK
//! reads them; the SDK and the OTLP exporter read most of them themselves). Off unless an OTLP
//! endpoint is set.

use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::error::TelemetryError;

/// The service name when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES` gives one.
pub const DEFAULT_SERVICE_NAME: &str = "reset-server";

/// The variables tracing reads, as `reset-server --help` lists them after the settings (the
/// README's "Operating it" lists the same).
pub const HELP: &str = "\
OpenTelemetry traces (off unless an OTLP endpoint is set; read as every OpenTelemetry SDK reads them):
  OTEL_EXPORTER_OTLP_ENDPOINT         OTLP/HTTP base URL; /v1/traces is appended
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the traces URL, used as given
  OTEL_EXPORTER_OTLP_PROTOCOL         http/protobuf (the default, and the one built in)
  OTEL_EXPORTER_OTLP_HEADERS          headers for the collector, k=v,k2=v2
  OTEL_SERVICE_NAME                   service.name [default: reset-server]
  OTEL_RESOURCE_ATTRIBUTES            more resource attributes, k=v,k2=v2
  OTEL_TRACES_SAMPLER                 parentbased_always_on (default), traceidratio, parentbased_traceidratio, always_off, ...
  OTEL_TRACES_SAMPLER_ARG             the ratio of the ratio samplers
  OTEL_SDK_DISABLED                   true turns tracing off";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether the environment asks for traces: an OTLP endpoint is set and the SDK is not
/// disabled.
pub fn enabled() -> bool {
    let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let exporter_none = var("OTEL_TRACES_EXPORTER").is_some_and(|v| v == "none");
    let endpoint = var("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some();
    endpoint && !disabled && !exporter_none
}

/// The provider exporting in batches (the SDK's own thread) over OTLP/HTTP with protobuf.
pub fn provider() -> Result<SdkTracerProvider, TelemetryError> {
    match var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL")) {
        None => {}
        Some(p) if p == "http/protobuf" => {}
        Some(other) => return Err(TelemetryError::Protocol(other)),
    }
    // The exporter's client needs a process-wide rustls provider: ring, as everywhere else in
    // the server (a provider installed already stays).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build())
}

/// The environment's resource, named `reset-server` unless it names the service itself.
fn resource() -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&opentelemetry::Key::new("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let mut builder = Resource::builder()
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if !named {
        builder = builder.with_service_name(DEFAULT_SERVICE_NAME);
    }
    builder.build()
}

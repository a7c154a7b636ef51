//! The process's one `tracing` subscriber: the log (text or JSON, filtered by `RESET_LOG`) and,
//! when the environment asks for it, the OpenTelemetry layer.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::error::TelemetryError;
use crate::json_log::JsonWithTraceIds;
use crate::otlp;
use crate::propagation::W3cPropagation;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, with `trace_id` and `span_id` when tracing is on.
    Json,
}

/// What [`init`] needs from the settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct TelemetryOptions {
    /// How log lines are written.
    pub log_format: LogFormat,
    /// Believe a caller's `traceparent` (see [`W3cPropagation::accept_remote_parent`]).
    pub accept_remote_parent: bool,
}

/// Keeps the exporter running; flushes the spans still buffered when dropped (at shutdown).
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn tracing(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.force_flush();
            let _ = provider.shutdown();
        }
    }
}

/// Our own spans at info and above, and nothing else, go to the traces: the HTTP stacks' and
/// the exporter's own spans would be noise (or, for the exporter, a loop).
fn ours(meta: &tracing::Metadata<'_>) -> bool {
    meta.target().starts_with("reset_") && *meta.level() <= tracing::Level::INFO
}

/// Installs the global subscriber, and the trace-context propagation when tracing is on.
pub fn init(options: TelemetryOptions) -> Result<Telemetry, TelemetryError> {
    let filter = || EnvFilter::try_from_env("RESET_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let log = match options.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(crate::json_log::fields())
            .event_format(JsonWithTraceIds::default())
            .with_writer(std::io::stderr)
            .with_filter(filter())
            .boxed(),
    };
    let provider = if otlp::enabled() {
        Some(otlp::provider()?)
    } else {
        None
    };
    let traces = provider.as_ref().map(|p| {
        // No code locations, threads or busy/idle times: a span carries what it declares.
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("reset-server"))
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_filter(tracing_subscriber::filter::filter_fn(ours))
    });
    tracing_subscriber::registry()
        .with(log)
        .with(traces)
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    if provider.is_some() {
        reset_core::trace_context::install(Box::new(W3cPropagation::new(
            options.accept_remote_parent,
        )));
    }
    Ok(Telemetry { provider })
}

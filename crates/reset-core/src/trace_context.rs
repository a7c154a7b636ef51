//! Trace context across the places a reset passes through, without tying the core to a tracing
//! backend: the W3C `traceparent` of the current span (kept with each outbox row, so a delivery
//! joins the request's trace), a remote parent for a span (an incoming `traceparent`), and a
//! link from one span to another trace (an outbox round to the messages it claimed).
//!
//! The crates call the free functions here; they do nothing until a process installs a
//! [`Propagation`] once at start (`reset-telemetry` installs the OpenTelemetry one when an
//! exporter is configured). An embedder with OpenTelemetry of its own installs an
//! implementation over it the same way.
//!
//! Nothing here carries personal data: a `traceparent` is a version, two random ids and flags.

use std::sync::OnceLock;

/// How spans learn and carry trace context. Implemented over a tracing backend.
pub trait Propagation: Send + Sync + 'static {
    /// The current span's context as a `traceparent` header value; `None` when the span is
    /// not sampled or not recorded.
    fn current(&self) -> Option<String>;
    /// Makes the remote context `traceparent` (with its `tracestate`, if any) the parent of
    /// `span`, which has not been entered yet. An implementation may refuse remote parents (at
    /// a public edge, a caller's `traceparent` is not to be believed).
    fn adopt(&self, span: &tracing::Span, traceparent: &str, tracestate: Option<&str>);
    /// Makes `traceparent` the parent of `span`: our own context, read back from the outbox.
    fn resume(&self, span: &tracing::Span, traceparent: &str);
    /// Links `span` to the span `traceparent` names.
    fn link(&self, span: &tracing::Span, traceparent: &str);
}

static INSTALLED: OnceLock<Box<dyn Propagation>> = OnceLock::new();

/// Installs the process's propagation; `false` when one was installed already (the first
/// stays).
pub fn install(propagation: Box<dyn Propagation>) -> bool {
    INSTALLED.set(propagation).is_ok()
}

/// The current span's `traceparent`, when a propagation is installed and the span is sampled.
pub fn current() -> Option<String> {
    INSTALLED.get().and_then(|p| p.current())
}

/// See [`Propagation::adopt`]; a no-op without a propagation.
pub fn adopt(span: &tracing::Span, traceparent: &str, tracestate: Option<&str>) {
    if let Some(p) = INSTALLED.get() {
        p.adopt(span, traceparent, tracestate);
    }
}

/// See [`Propagation::resume`]; a no-op without a propagation.
pub fn resume(span: &tracing::Span, traceparent: &str) {
    if let Some(p) = INSTALLED.get() {
        p.resume(span, traceparent);
    }
}

/// See [`Propagation::link`]; a no-op without a propagation.
pub fn link(span: &tracing::Span, traceparent: &str) {
    if let Some(p) = INSTALLED.get() {
        p.link(span, traceparent);
    }
}

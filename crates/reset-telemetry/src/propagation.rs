//! W3C Trace Context over `tracing-opentelemetry`: the implementation of
//! [`reset_core::trace_context::Propagation`] the server installs when tracing is on.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use reset_core::trace_context::Propagation;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// `traceparent` and `tracestate` in and out of spans.
#[derive(Debug, Default)]
pub struct W3cPropagation {
    /// Whether a caller's `traceparent` becomes the parent of its request's span. Off at a
    /// public edge: a stranger's trace ids would otherwise pick which traces are sampled.
    pub accept_remote_parent: bool,
    propagator: TraceContextPropagator,
}

impl W3cPropagation {
    /// A propagation that believes callers' `traceparent` only when `accept_remote_parent` says so.
    pub fn new(accept_remote_parent: bool) -> Self {
        Self {
            accept_remote_parent,
            propagator: TraceContextPropagator::new(),
        }
    }

    /// The context a `traceparent` (and `tracestate`) names; `None` when it is malformed.
    fn extract(
        &self,
        traceparent: &str,
        tracestate: Option<&str>,
    ) -> Option<opentelemetry::Context> {
        let mut carrier = HashMap::new();
        carrier.insert("traceparent".to_owned(), traceparent.to_owned());
        if let Some(state) = tracestate {
            carrier.insert("tracestate".to_owned(), state.to_owned());
        }
        let cx = self.propagator.extract(&carrier);
        cx.span().span_context().is_valid().then_some(cx)
    }
}

impl Propagation for W3cPropagation {
    fn current(&self) -> Option<String> {
        let cx = tracing::Span::current().context();
        if !cx.span().span_context().is_valid() {
            return None;
        }
        let mut carrier = HashMap::new();
        self.propagator.inject_context(&cx, &mut carrier);
        carrier.remove("traceparent")
    }

    fn adopt(&self, span: &tracing::Span, traceparent: &str, tracestate: Option<&str>) {
        if !self.accept_remote_parent {
            return;
        }
        if let Some(cx) = self.extract(traceparent, tracestate) {
            let _ = span.set_parent(cx);
        }
    }

    fn resume(&self, span: &tracing::Span, traceparent: &str) {
        if let Some(cx) = self.extract(traceparent, None) {
            let _ = span.set_parent(cx);
        }
    }

    fn link(&self, span: &tracing::Span, traceparent: &str) {
        if let Some(cx) = self.extract(traceparent, None) {
            span.add_link(cx.span().span_context().clone());
        }
    }
}

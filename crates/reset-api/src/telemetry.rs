//! How one request is observed: a server span named by the route's pattern, with the
//! OpenTelemetry HTTP attributes and the dialect, a child of the caller's `traceparent` when the
//! process believes callers (see `reset_core::trace_context`); and the request-duration
//! histogram (`http_server_request_duration_seconds`, the OpenTelemetry name).
//!
//! Only the method, the route pattern (never the raw path), the status and the dialect are
//! recorded: a known and an unknown identifier get the same span, field for field.

use std::future::Future;
use std::time::Instant;

use tracing::Instrument as _;

use crate::request::ApiRequest;
use crate::response::ApiResponse;

/// The methods kept as sent; any other is `_OTHER` (OpenTelemetry's rule), so a client cannot
/// grow the metric's label set.
const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The method as recorded.
fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("_OTHER")
}

/// Runs `answer` for `req` inside its server span and records its duration. `route` is the
/// matched pattern (`None`: no route matched), `dialect` the surface that answers (`v1` or a
/// dialect's name).
pub(crate) async fn observe(
    req: &ApiRequest,
    route: Option<&str>,
    dialect: &'static str,
    answer: impl Future<Output = ApiResponse>,
) -> ApiResponse {
    let method = method_label(&req.method);
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let span = tracing::info_span!(
        "HTTP request",
        otel.name = %name,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        http.route = route,
        http.response.status_code = tracing::field::Empty,
        reset.dialect = dialect,
    );
    if let Some(traceparent) = req.header("traceparent") {
        reset_core::trace_context::adopt(&span, traceparent, req.header("tracestate"));
    }
    let started = Instant::now();
    let response = answer.instrument(span.clone()).await;
    span.record("http.response.status_code", response.status);
    if response.status >= 500 {
        span.record("otel.status_code", "error");
    }
    metrics::histogram!(
        "http_server_request_duration_seconds",
        "http_request_method" => method,
        "http_route" => route.unwrap_or("unmatched").to_owned(),
        "http_response_status_code" => response.status.to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::method_label;

    #[test]
    fn unknown_methods_are_other() {
        assert_eq!(method_label("POST"), "POST");
        assert_eq!(method_label("BREW"), "_OTHER");
        assert_eq!(method_label("post"), "_OTHER");
    }
}

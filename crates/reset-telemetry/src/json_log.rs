//! One JSON object per log line, in `tracing-subscriber`'s JSON shape (`timestamp`, `level`,
//! `target`, `fields`, `span`, `spans`), plus `trace_id` and `span_id` when the line is written
//! inside a span that OpenTelemetry traces, so an aggregator can jump from a line to its trace.

use std::fmt;

use opentelemetry::trace::TraceContextExt as _;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Json, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON formatter with the trace ids.
pub struct JsonWithTraceIds {
    inner: Format<Json>,
}

impl Default for JsonWithTraceIds {
    fn default() -> Self {
        Self {
            inner: tracing_subscriber::fmt::format().json(),
        }
    }
}

/// The trace and span ids of the OpenTelemetry span behind `id`, as hex, when it is valid.
fn trace_ids(id: &tracing::span::Id) -> Option<(String, String)> {
    // Outside scoped dispatchers (the server installs a global one), this is the subscriber
    // formatting this very line.
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let cx = tracing_opentelemetry::get_otel_context(id, &dispatch)?;
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid()
        .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}

impl<S, N> FormatEvent<S, N> for JsonWithTraceIds
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.inner
            .format_event(ctx, Writer::new(&mut line), event)?;
        let ids = ctx
            .lookup_current()
            .map(|span| span.id())
            .and_then(|id| trace_ids(&id));
        let Some((trace_id, span_id)) = ids else {
            return writer.write_str(&line);
        };
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line.trim_end()) {
            Ok(mut object) => {
                object.insert("trace_id".into(), trace_id.into());
                object.insert("span_id".into(), span_id.into());
                let text = serde_json::to_string(&object).map_err(|_| fmt::Error)?;
                writeln!(writer, "{text}")
            }
            Err(_) => writer.write_str(&line),
        }
    }
}

/// The field formatter the JSON lines need.
pub fn fields() -> JsonFields {
    JsonFields::new()
}

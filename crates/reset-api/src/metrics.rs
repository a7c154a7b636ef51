//! `GET /metrics`: Prometheus text, served only by [`Api::metrics_only`](crate::Api::metrics_only)
//! on a listener of its own (the server's `metrics_bind`), never among the public routes: the
//! outbox and delivery series move only when a real account is asked for, an account-existence
//! oracle to anyone who can scrape them.
//!
//! Counters come through the `metrics` facade from anywhere in the process (responses here,
//! deliveries in the outbox worker), into whatever recorder the process has. Metrics are
//! opt-in: [`install_prometheus`] installs ours, and only where no recorder is installed, so a
//! host application's recorder is never replaced (ours then count in its own, exported its
//! way). Without ours, `/metrics` shows only the gauges read at scrape time. The outbox gauges
//! are read from the database, so every instance sharing a database reports the same queue.
//!
//! - `reset_http_responses_total{route, status}`: answers, by route pattern (`unmatched` for
//!   404s) and status;
//! - `reset_outbox_messages{state}`: `pending`, `retrying` (of pending), `dead`, `sent`, and
//!   `reset_outbox_readable` (1, or 0 when the database could not be read for them);
//! - `reset_outbox_delivered_total`, `reset_outbox_failed_total`, `reset_outbox_dead_total`
//!   `{channel}`: the worker's deliveries, failures and dead-lettered messages in this process;
//! - `reset_breach_check_unavailable_total`: breached-password checks that could not run;
//! - `reset_issue_pending`: reset requests answered 202 whose transaction has not finished (for
//!   instance while waiting for the database), and `reset_issue_retries_total`,
//!   `reset_issue_dropped_total`: their retries, and those given up after
//!   `RESET_ISSUE_RETRY_SECS`;
//! - `http_server_request_duration_seconds{http_request_method, http_route,
//!   http_response_status_code}` (histogram, the OpenTelemetry name): time to answer, by route
//!   pattern;
//! - `reset_outbox_delivery_latency_seconds{channel}` (histogram): from queueing to the other
//!   side's acceptance, per delivered message;
//! - `reset_outbox_oldest_pending_age_seconds`: how long the oldest pending message has waited
//!   (0 when none), read at scrape time;
//! - `reset_ready`: 1 when the instance is ready (as `/readyz`), else 0.
//!
//! Histograms have the buckets of [`BUCKETS`]: from 5 ms (a request) to 10 minutes (a delivery
//! through retries).

use std::sync::OnceLock;

use bytes::Bytes;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::api::Api;
use crate::response::ApiResponse;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The upper bounds (seconds) of every histogram's buckets.
pub const BUCKETS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Installs the process-wide Prometheus recorder for `GET /metrics` (on
/// [`Api::metrics_only`]'s listener), once. `false` when another recorder is installed
/// already: it is left alone, and our series count in it.
pub fn install_prometheus() -> bool {
    install().is_some()
}

/// The recorder installed by [`install_prometheus`], if it was.
fn installed() -> Option<&'static PrometheusHandle> {
    HANDLE.get().and_then(Option::as_ref)
}

fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .and_then(PrometheusBuilder::install_recorder)
        {
            Ok(handle) => {
                register_counters();
                Some(handle)
            }
            Err(e) => {
                tracing::info!(error = %e, "a metrics recorder is already installed; /metrics shows only the outbox gauges");
                None
            }
        })
        .as_ref()
}

/// Registers the counters at 0, so that they are scraped before their first event: a rule
/// such as `increase(reset_issue_dropped_total[15m]) > 0` then sees the first drop after a
/// start (a series born at 1 shows no increase).
fn register_counters() {
    for channel in ["email", "sms", "webhook"] {
        for name in [
            "reset_outbox_delivered_total",
            "reset_outbox_failed_total",
            "reset_outbox_dead_total",
        ] {
            metrics::counter!(name, "channel" => channel).increment(0);
        }
    }
    for name in [
        "reset_breach_check_unavailable_total",
        "reset_issue_retries_total",
        "reset_issue_dropped_total",
    ] {
        metrics::counter!(name).increment(0);
    }
}

/// Counts one answer.
pub(crate) fn record_response(route: String, status: u16) {
    metrics::counter!("reset_http_responses_total", "route" => route, "status" => status.to_string())
        .increment(1);
}

/// The scrape.
pub async fn render(api: &Api) -> ApiResponse {
    let mut text = String::new();
    text.push_str(
        "# HELP reset_issue_pending Accepted reset requests whose transaction has not finished.\n",
    );
    text.push_str("# TYPE reset_issue_pending gauge\n");
    text.push_str(&format!(
        "reset_issue_pending {}\n",
        api.service().pending_issues()
    ));
    let ready = api.service().ready().await.is_ok();
    text.push_str("# HELP reset_ready Whether this instance is ready (as /readyz).\n");
    text.push_str("# TYPE reset_ready gauge\n");
    text.push_str(&format!("reset_ready {}\n", u8::from(ready)));
    let stats = api.service().outbox_stats().await;
    text.push_str("# HELP reset_outbox_readable Whether the outbox counts could be read.\n");
    text.push_str("# TYPE reset_outbox_readable gauge\n");
    text.push_str(&format!(
        "reset_outbox_readable {}\n",
        u8::from(stats.is_ok())
    ));
    match stats {
        Ok(s) => {
            text.push_str("# HELP reset_outbox_messages Outbox messages by state.\n");
            text.push_str("# TYPE reset_outbox_messages gauge\n");
            for (state, n) in [
                ("pending", s.pending),
                ("retrying", s.retrying),
                ("dead", s.dead),
                ("sent", s.sent),
            ] {
                text.push_str(&format!("reset_outbox_messages{{state=\"{state}\"}} {n}\n"));
            }
            let age = s.oldest_pending.map_or(0.0, |queued| {
                (chrono::Utc::now() - queued)
                    .to_std()
                    .map_or(0.0, |d| d.as_secs_f64())
            });
            text.push_str("# HELP reset_outbox_oldest_pending_age_seconds How long the oldest pending message has waited (0 when none).\n");
            text.push_str("# TYPE reset_outbox_oldest_pending_age_seconds gauge\n");
            text.push_str(&format!("reset_outbox_oldest_pending_age_seconds {age}\n"));
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the outbox"),
    }
    if let Some(handle) = installed() {
        text.push_str(&handle.render());
    }
    ApiResponse::bytes(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        Bytes::from(text),
    )
}

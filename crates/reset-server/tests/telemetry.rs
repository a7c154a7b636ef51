//! OpenTelemetry, end to end: the real binary on each framework exports over OTLP/HTTP to a
//! receiver inside the test (the protobuf decoded with `opentelemetry-proto`), with mail going to
//! a real SMTP server and events to a real webhook endpoint. One whole reset must show one
//! linked trace from the request to the SMTP hand-off; no exported attribute and no JSON log line
//! may carry a value the test used (username, address, account id, token, password); and the
//! request spans of a known and an unknown identifier must compare equal.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use prost::Message as _;
use reset_testkit::process::{SmtpSink, free_port, text_part, token_after};

mod common;
use common::{Server, add_alice, command};

/// One exported span, flattened.
#[derive(Debug, Clone)]
struct Span {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    kind: i32,
    start: u64,
    attributes: BTreeMap<String, String>,
    links: Vec<String>,
    /// The names of its events (log lines inside it).
    events: Vec<String>,
}

#[derive(Default)]
struct Received {
    spans: Vec<Span>,
    /// Every attribute value exported, resource and links included.
    values: Vec<String>,
    /// The resource of each export.
    resources: Vec<BTreeMap<String, String>>,
    /// The `traceparent` headers webhooks arrived with.
    webhook_traceparents: Vec<String>,
}

fn text(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn flat(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

/// A collector on a free port: `POST /v1/traces` (OTLP/HTTP, protobuf) and `POST /hook` (a
/// webhook endpoint).
async fn receiver() -> (u16, Arc<Mutex<Received>>) {
    let got = Arc::new(Mutex::new(Received::default()));
    let traces = {
        let got = got.clone();
        move |body: Bytes| async move {
            let request = ExportTraceServiceRequest::decode(body).unwrap();
            let mut got = got.lock().unwrap();
            for resource in request.resource_spans {
                if let Some(r) = &resource.resource {
                    got.values.extend(flat(&r.attributes).into_values());
                    got.resources.push(flat(&r.attributes));
                }
                for scope in resource.scope_spans {
                    for s in scope.spans {
                        let attributes = flat(&s.attributes);
                        got.values.extend(attributes.values().cloned());
                        for link in &s.links {
                            got.values.extend(flat(&link.attributes).into_values());
                        }
                        for event in &s.events {
                            got.values.push(event.name.clone());
                            got.values.extend(flat(&event.attributes).into_values());
                        }
                        got.spans.push(Span {
                            trace_id: hex(&s.trace_id),
                            span_id: hex(&s.span_id),
                            parent: hex(&s.parent_span_id),
                            name: s.name.clone(),
                            kind: s.kind,
                            start: s.start_time_unix_nano,
                            attributes,
                            links: s.links.iter().map(|l| hex(&l.trace_id)).collect(),
                            events: s.events.iter().map(|e| e.name.clone()).collect(),
                        });
                    }
                }
            }
            axum::http::StatusCode::OK
        }
    };
    let hook = {
        let got = got.clone();
        move |headers: HeaderMap| async move {
            if let Some(tp) = headers.get("traceparent") {
                let tp = tp.to_str().unwrap().to_owned();
                got.lock().unwrap().webhook_traceparents.push(tp);
            }
            axum::http::StatusCode::NO_CONTENT
        }
    };
    let app = axum::Router::new()
        .route("/v1/traces", axum::routing::post(traces))
        .route("/hook", axum::routing::post(hook));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, got)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// POSTs JSON with a `traceparent`; returns the status.
async fn post_traced(base: &str, path: &str, body: serde_json::Value, traceparent: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .header("traceparent", traceparent)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Waits until `done` holds over what was received (up to 15 s).
async fn until(got: &Arc<Mutex<Received>>, done: impl Fn(&Received) -> bool) {
    for _ in 0..300 {
        if done(&got.lock().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The spans of `trace_id`, by start.
fn of_trace(got: &Received, trace_id: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = got
        .spans
        .iter()
        .filter(|s| s.trace_id == trace_id)
        .cloned()
        .collect();
    spans.sort_by_key(|s| s.start);
    spans
}

fn named<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} in {:#?}", names(spans)))
}

fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

/// The spans a request's answer and write leave (delivery aside), as comparable shapes: name,
/// kind, and attributes with the batch size's value set aside (the load of the moment).
fn request_path(spans: &[Span]) -> BTreeSet<String> {
    const DELIVERY: &[&str] = &["outbox deliver", "render", "send", "outbox claim"];
    spans
        .iter()
        .filter(|s| !DELIVERY.contains(&s.name.as_str()))
        .map(|s| {
            let mut attributes = s.attributes.clone();
            if let Some(size) = attributes.get_mut("db.operation.batch.size") {
                *size = "n".into();
            }
            let mut events = s.events.clone();
            events.sort();
            format!("{} {} {attributes:?} {events:?}", s.name, s.kind)
        })
        .collect()
}

async fn a_whole_reset_is_one_trace(framework: &str, accept_traceparent: bool) {
    let (otlp_port, got) = receiver().await;
    let sink = SmtpSink::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let breach_file = dir.path().join("pwned.txt");
    // One breached password (SHA-1 of "password"), so the check runs and finds this one clean.
    std::fs::write(
        &breach_file,
        "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:3861493\n",
    )
    .unwrap();
    let port = free_port();
    let configured = || {
        let mut c = command(dir.path(), None, port);
        c.env("RESET_FRAMEWORK", framework)
            .env("RESET_LOG_FORMAT", "json")
            .env("RESET_MAIL_TRANSPORT", "smtp")
            .env("RESET_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
            .env(
                "RESET_WEBHOOK_URLS",
                format!("http://127.0.0.1:{otlp_port}/hook"),
            )
            .env("RESET_WEBHOOK_SECRET", "a-webhook-secret-of-some-length")
            .env("RESET_BREACH_FILE", &breach_file)
            .env(
                "RESET_TRACE_ACCEPT_TRACEPARENT",
                accept_traceparent.to_string(),
            )
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{otlp_port}"),
            )
            .env("OTEL_BSP_SCHEDULE_DELAY", "50");
        c
    };
    let user_id = add_alice(configured());
    let _server = Server::start(configured(), dir.path(), "server", port).await;
    let base = format!("http://127.0.0.1:{port}");

    // A known account: the request, its delivery, and the completion.
    let caller = ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331");
    let traceparent = format!("00-{}-{}-01", caller.0, caller.1);
    let body = serde_json::json!({"username": "alice"});
    assert_eq!(
        post_traced(&base, "/v1/password-reset/request", body, &traceparent).await,
        202
    );
    let mails = sink.wait_for(1, 15).await;
    assert_eq!(mails.len(), 1, "the message was delivered");
    let mail = text_part(&mails[0]);
    let token = token_after(&mail, "http://127.0.0.1:8080/reset-password?token=");
    let new_password = "violet-Tangerine-42-orbit";
    let complete = serde_json::json!({"token": token, "new_password": new_password});
    let other = format!("00-{}-{}-01", "1".repeat(32), "2".repeat(16));
    assert_eq!(
        post_traced(&base, "/v1/password-reset/complete", complete, &other).await,
        204
    );

    // Find the known request's trace: the server span of the first request.
    until(&got, |r| {
        ["send", "password hash", "POST /v1/password-reset/complete"]
            .iter()
            .all(|n| r.spans.iter().any(|s| s.name == *n))
    })
    .await;
    let request_trace = {
        let r = got.lock().unwrap();
        let mut servers: Vec<&Span> = r
            .spans
            .iter()
            .filter(|s| s.name == "POST /v1/password-reset/request")
            .collect();
        servers.sort_by_key(|s| s.start);
        servers
            .first()
            .unwrap_or_else(|| panic!("{:#?}", names(&r.spans)))
            .trace_id
            .clone()
    };
    if accept_traceparent {
        assert_eq!(
            request_trace, caller.0,
            "the caller's traceparent is the parent"
        );
    } else {
        assert_ne!(
            request_trace, caller.0,
            "a caller's traceparent is not believed"
        );
    }
    until(&got, |r| {
        let names: Vec<&str> = r
            .spans
            .iter()
            .filter(|s| s.trace_id == request_trace)
            .map(|s| s.name.as_str())
            .collect();
        [
            "send",
            "render",
            "outbox deliver",
            "store issue",
            "reset issue",
        ]
        .iter()
        .all(|n| names.contains(n))
    })
    .await;

    {
        let r = got.lock().unwrap();
        let spans = of_trace(&r, &request_trace);
        // The tree: request → issue → store; delivery resumed in the same trace, the send
        // beneath it.
        let server = named(&spans, "POST /v1/password-reset/request");
        assert_eq!(server.kind, 2, "SERVER");
        assert_eq!(server.attributes["http.request.method"], "POST");
        assert_eq!(
            server.attributes["http.route"],
            "/v1/password-reset/request"
        );
        assert_eq!(server.attributes["http.response.status_code"], "202");
        assert_eq!(server.attributes["reset.dialect"], "v1");
        if accept_traceparent {
            assert_eq!(server.parent, caller.1);
        }
        let issue = named(&spans, "reset issue");
        assert_eq!(issue.parent, server.span_id);
        let store = named(&spans, "store issue");
        assert_eq!(store.parent, issue.span_id);
        assert!(
            store.attributes.contains_key("db.operation.batch.size"),
            "{store:?}"
        );
        let deliver = named(&spans, "outbox deliver");
        assert_eq!(deliver.attributes["reset.channel"], "email");
        assert_eq!(deliver.attributes["reset.outcome"], "delivered");
        let send = spans
            .iter()
            .find(|s| s.name == "send" && s.parent == deliver.span_id)
            .unwrap_or_else(|| panic!("no send under the delivery: {spans:#?}"));
        assert_eq!(send.attributes["reset.channel"], "email");
        assert!(
            spans
                .iter()
                .any(|s| s.name == "render" && s.parent == deliver.span_id)
        );
        // The round that claimed it links to the request's trace.
        assert!(
            r.spans
                .iter()
                .any(|s| s.name == "outbox claim" && s.links.contains(&request_trace)),
            "no claim links to the request's trace"
        );
        // The completion: the breach check and the hash under its server span.
        let complete = r
            .spans
            .iter()
            .find(|s| s.name == "POST /v1/password-reset/complete")
            .unwrap();
        let breach = r
            .spans
            .iter()
            .find(|s| s.name == "breach check" && s.trace_id == complete.trace_id)
            .unwrap_or_else(|| panic!("{:#?}", names(&r.spans)));
        assert_eq!(breach.attributes["reset.breach.outcome"], "clean");
        assert!(
            r.spans
                .iter()
                .any(|s| s.name == "password hash" && s.trace_id == complete.trace_id)
        );
    }

    // The webhook for the request carries the trace.
    until(&got, |r| {
        r.webhook_traceparents
            .iter()
            .any(|tp| tp.contains(&request_trace))
    })
    .await;
    assert!(
        got.lock()
            .unwrap()
            .webhook_traceparents
            .iter()
            .any(|tp| tp.contains(&request_trace)),
        "a webhook carries the request's trace"
    );

    // An unknown identifier: the same request-path spans as the known one, attribute for
    // attribute. Each is sent with a traceparent of its own, to find its trace.
    let mut shapes = Vec::new();
    for (i, username) in ["alice", "nobody"].into_iter().enumerate() {
        let trace = format!("{:032x}", 0xabc0 + i);
        let tp = format!("00-{trace}-{}-01", "3".repeat(16));
        let body = serde_json::json!({"username": username});
        assert_eq!(
            post_traced(&base, "/v1/password-reset/request", body, &tp).await,
            202
        );
        let found = |r: &Received| {
            let server = r.spans.iter().find(|s| {
                s.name == "POST /v1/password-reset/request"
                    && s.parent == "3".repeat(16)
                    && (!accept_traceparent || s.trace_id == trace)
            });
            server.is_some_and(|server| {
                r.spans
                    .iter()
                    .any(|s| s.trace_id == server.trace_id && s.name == "store issue")
            })
        };
        if accept_traceparent {
            until(&got, found).await;
            let r = got.lock().unwrap();
            shapes.push(request_path(&of_trace(&r, &trace)));
        } else {
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
    }
    if accept_traceparent {
        assert!(!shapes[0].is_empty());
        assert_eq!(shapes[0], shapes[1], "known vs unknown request spans");
    }

    // Nothing personal or secret in any exported value, nor in the log.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let forbidden = [
        "alice",
        "alice@example.com",
        "nobody",
        user_id.as_str(),
        token.as_str(),
        new_password,
    ];
    let r = got.lock().unwrap();
    for value in &r.values {
        for f in forbidden {
            assert!(
                !value.contains(f),
                "an exported attribute holds {f:?}: {value}"
            );
        }
    }
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    for f in forbidden {
        assert!(!log.contains(f), "the log holds {f:?}:\n{log}");
    }
    // Log lines inside traced spans carry their trace.
    let traced_lines = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["trace_id"].is_string() && v["span_id"].is_string())
        .count();
    assert!(traced_lines > 0, "no log line has a trace_id:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_exports_one_trace_per_reset() {
    a_whole_reset_is_one_trace("axum", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_exports_one_trace_per_reset() {
    a_whole_reset_is_one_trace("actix", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_exports_one_trace_per_reset_and_can_refuse_callers_traceparents() {
    a_whole_reset_is_one_trace("warp", false).await;
}

/// The standard variables work as in every OpenTelemetry SDK: the service name and resource
/// attributes from `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`, `reset-server` by default;
/// `OTEL_TRACES_SAMPLER=always_off` exports no span; without an endpoint nothing is exported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_variables_are_read() {
    let (otlp_port, got) = receiver().await;
    let endpoint = format!("http://127.0.0.1:{otlp_port}");
    let run = |extra: &[(&str, &str)]| {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut c = command(dir.path(), None, port);
        c.env("OTEL_BSP_SCHEDULE_DELAY", "50");
        for (k, v) in extra {
            c.env(k, v);
        }
        (dir, port, c)
    };
    let request = |port: u16| async move {
        let base = format!("http://127.0.0.1:{port}");
        post_traced(
            &base,
            "/v1/password-reset/request",
            serde_json::json!({"username": "someone"}),
            &format!("00-{}-{}-01", "4".repeat(32), "5".repeat(16)),
        )
        .await
    };

    // Named by the environment.
    let (dir, port, c) = run(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_SERVICE_NAME", "reset-eu"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=test",
        ),
    ]);
    let server = Server::start(c, dir.path(), "named", port).await;
    assert_eq!(request(port).await, 202);
    until(&got, |r| !r.resources.is_empty()).await;
    drop(server);
    {
        let mut r = got.lock().unwrap();
        let resource = r.resources.first().cloned().unwrap();
        assert_eq!(resource["service.name"], "reset-eu");
        assert_eq!(resource["deployment.environment.name"], "test");
        *r = Received::default();
    }

    // Named by default.
    let (dir, port, c) = run(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]);
    let server = Server::start(c, dir.path(), "default", port).await;
    assert_eq!(request(port).await, 202);
    until(&got, |r| !r.resources.is_empty()).await;
    drop(server);
    {
        let mut r = got.lock().unwrap();
        assert_eq!(r.resources[0]["service.name"], "reset-server");
        *r = Received::default();
    }

    // A protocol not built in stops the start, saying what to use.
    let (_dir, _port, mut c) = run(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    let out = c.arg("serve").output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("use http/protobuf"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Sampled away, and off.
    for extra in [
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_TRACES_SAMPLER", "always_off"),
        ],
        vec![],
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_SDK_DISABLED", "true"),
        ],
    ] {
        let (dir, port, c) = run(&extra);
        let server = Server::start(c, dir.path(), "quiet", port).await;
        assert_eq!(request(port).await, 202);
        tokio::time::sleep(Duration::from_millis(800)).await;
        drop(server);
        assert!(
            got.lock().unwrap().spans.is_empty(),
            "{extra:?} exported spans"
        );
    }
}

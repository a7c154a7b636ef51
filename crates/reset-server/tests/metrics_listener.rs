//! `/metrics` lives on its own listener (`RESET_METRICS_BIND`), never on the public one: its
//! outbox and delivery series move only when a real account is asked for, so whoever can scrape
//! them can tell which accounts exist. Through the real binary, on every framework: the public
//! listener answers `/metrics` like any unknown path, the metrics listener serves Prometheus text
//! and nothing else, and it stops with the server.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, add_alice, command};
use reset_testkit::process::free_port;

/// The server in `dir` on `framework`, with the metrics listener on `metrics_port`.
fn configured(dir: &std::path::Path, framework: &str, port: u16, metrics_port: u16) -> Command {
    let mut c = command(dir, None, port);
    c.env("RESET_FRAMEWORK", framework)
        .env("RESET_METRICS_BIND", format!("127.0.0.1:{metrics_port}"));
    c
}

/// An answer as a client sees it: status, headers but `date`, body.
async fn seen(r: reqwest::Response) -> (u16, Vec<(String, String)>, String) {
    let mut headers: Vec<(String, String)> = r
        .headers()
        .iter()
        .filter(|(n, _)| n.as_str() != "date")
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (r.status().as_u16(), headers, r.text().await.unwrap())
}

/// Asserts `r` is v1's "no such route" 404 (problem+json, code `not_found`).
async fn assert_unrouted(r: reqwest::Response, what: &str) {
    assert_eq!(r.status(), 404, "{what}");
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json"),
        "{what}"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "not_found", "{what}: {body}");
}

/// Messages in the outbox (pending, dead and sent), from a scrape.
fn outbox_total(scrape: &str) -> u64 {
    ["pending", "dead", "sent"]
        .iter()
        .map(|state| {
            let series = format!("reset_outbox_messages{{state=\"{state}\"}} ");
            scrape
                .lines()
                .find_map(|l| l.strip_prefix(series.as_str()))
                .unwrap_or_else(|| panic!("no {series} in {scrape}"))
                .trim()
                .parse::<u64>()
                .unwrap()
        })
        .sum()
}

async fn scrape(http: &reqwest::Client, metrics: &str) -> String {
    let r = http.get(format!("{metrics}/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    r.text().await.unwrap()
}

async fn only_on_its_own_listener(framework: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let server = Server::start(
        configured(dir.path(), framework, port, metrics_port),
        dir.path(),
        framework,
        port,
    )
    .await;
    let (base, metrics) = (
        format!("http://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{metrics_port}"),
    );
    let http = reqwest::Client::new();

    let r = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_unrouted(r, "GET /metrics on the public listener").await;
    let text = scrape(&http, &metrics).await;
    assert!(text.contains("reset_outbox_messages"), "{text}");
    assert!(text.contains("reset_issue_pending "), "{text}");
    for (method, path) in [
        ("GET", "/readyz"),
        ("GET", "/openapi.json"),
        ("POST", "/v1/password-reset/request"),
        ("POST", "/api/request-reset-password"),
    ] {
        let r = http
            .request(method.parse().unwrap(), format!("{metrics}{path}"))
            .header("content-type", "application/json")
            .body(r#"{"username":"alice"}"#)
            .send()
            .await
            .unwrap();
        assert_unrouted(r, &format!("{method} {path} on the metrics listener")).await;
    }

    // It stops with the server: SIGTERM, exit 0, the port closed.
    let mut server = server;
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(10)).await;
    let log = std::fs::read_to_string(dir.path().join(format!("{framework}.log"))).unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "exit {status:?}: {log}"
    );
    assert!(
        log.contains("metrics listening") && log.contains(&format!("127.0.0.1:{metrics_port}")),
        "the address is logged: {log}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", metrics_port)).is_err(),
        "the metrics listener outlived the server"
    );
}

macro_rules! on_every_framework {
    ($($framework:ident),*) => {
        mod only_on_its_own_listener {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $framework() {
                    super::only_on_its_own_listener(stringify!($framework)).await;
                }
            )*
        }
    };
}

on_every_framework!(actix, axum, warp);

/// The server in `dir` on axum with alice added and a metrics listener: the server, its public
/// base URL and its metrics base URL.
async fn with_alice_on_axum(dir: &std::path::Path) -> (Server, String, String) {
    let (port, metrics_port) = (free_port(), free_port());
    add_alice(configured(dir, "axum", port, metrics_port));
    let server = Server::start(
        configured(dir, "axum", port, metrics_port),
        dir,
        "server",
        port,
    )
    .await;
    (
        server,
        format!("http://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{metrics_port}"),
    )
}

/// The public listener answers a known and an unknown account alike, and has no `/metrics` to
/// tell them apart by; the metrics listener's outbox series do move for the known one only,
/// which is why it must stay private.
#[tokio::test(flavor = "multi_thread")]
async fn public_answers_do_not_tell_accounts_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base, metrics) = with_alice_on_axum(dir.path()).await;
    let http = reqwest::Client::new();
    assert_eq!(outbox_total(&scrape(&http, &metrics).await), 0);

    let mut answers = Vec::new();
    for username in ["alice", "nobody-at-all"] {
        let r = http
            .post(format!("{base}/v1/password-reset/request"))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "username": username }).to_string())
            .send()
            .await
            .unwrap();
        answers.push(seen(r).await);
    }
    assert_eq!(answers[0].0, 202, "{answers:?}");
    assert_eq!(answers[0], answers[1], "known and unknown answered alike");
    let r = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_unrouted(r, "GET /metrics on the public listener").await;

    // The private series: one message, alice's; none for the unknown account.
    let mut total = 0;
    for _ in 0..200 {
        total = outbox_total(&scrape(&http, &metrics).await);
        if total > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(total, 1, "alice's message, and only hers");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox_total(&scrape(&http, &metrics).await), 1);
}

/// `deploy/observability/series.txt` lists the series the dashboard and the alert rules may
/// name (`scripts/check-observability.sh` holds them to it); each is in a real scrape, after one
/// reset delivered: as itself, or as a histogram's `_bucket`, `_sum` and `_count`. `up` is
/// Prometheus' own.
#[tokio::test(flavor = "multi_thread")]
async fn the_dashboards_series_are_all_exported() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base, metrics) = with_alice_on_axum(dir.path()).await;
    let http = reqwest::Client::new();
    common::request_alice(&base).await;
    reset_testkit::process::newest_mail(&dir.path().join("data/mail")).await;

    let listed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../deploy/observability/series.txt"),
    )
    .unwrap();
    let mut text = String::new();
    for _ in 0..100 {
        text = scrape(&http, &metrics).await;
        if text.contains("reset_outbox_delivery_latency_seconds_bucket") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exported: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    for name in listed
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != "up")
    {
        let histogram = ["_bucket", "_sum", "_count"]
            .iter()
            .all(|suffix| exported.contains(format!("{name}{suffix}").as_str()));
        assert!(
            exported.contains(name) || histogram,
            "{name} is not exported; the scrape:\n{text}"
        );
    }
    // Counters exist from the start, so an alert sees their first event.
    assert!(text.contains("reset_issue_dropped_total 0"), "{text}");
    assert!(
        text.contains("reset_outbox_dead_total{channel=\"sms\"} 0"),
        "{text}"
    );
}

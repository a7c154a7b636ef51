//! The log at its default level tells no more than the answer does: a reset request for a known
//! account and one for an unknown identifier leave the same lines (level, message, field names),
//! through delivery with the file transport, on each store (each served by another framework).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use reset_testkit::process::{free_port, newest_mail};

mod common;
use common::{Server, add_alice, command, post};

/// The log's lines from byte `from` on, each as (level, target, message, field names): what
/// stays when the values (ids, times) are set aside.
fn shapes(log: &Path, from: usize) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut counted = BTreeMap::new();
    for line in text[from..].lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let fields = v["fields"].as_object().cloned().unwrap_or_default();
        let names: Vec<&String> = fields.keys().filter(|k| *k != "message").collect();
        let shape = format!(
            "{} {} {:?} {names:?}",
            v["level"],
            v["target"],
            fields.get("message")
        );
        *counted.entry(shape).or_insert(0) += 1;
    }
    counted
}

async fn known_and_unknown_requests_log_alike(db: Option<&str>, framework: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    add_alice(command(dir.path(), db, port));
    let mut serve = command(dir.path(), db, port);
    serve
        .env("RESET_LOG_FORMAT", "json")
        .env("RESET_FRAMEWORK", framework);
    let _server = Server::start(serve, dir.path(), "server", port).await;
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.path().join("server.log");
    let settle = Duration::from_millis(1500);

    let mut seen = Vec::new();
    for (i, body) in [
        serde_json::json!({"username": "alice"}),
        serde_json::json!({"username": "nobody"}),
        serde_json::json!({"email": "alice@example.com"}),
        serde_json::json!({"email": "nobody@example.com"}),
    ]
    .into_iter()
    .enumerate()
    {
        let from = std::fs::read_to_string(&log).unwrap().len();
        assert_eq!(post(&base, "/v1/password-reset/request", body).await, 202);
        if i == 0 {
            // The worker has delivered the known account's message.
            newest_mail(&dir.path().join("data/mail")).await;
        }
        tokio::time::sleep(settle).await;
        seen.push(shapes(&log, from));
    }
    assert!(
        seen[0].keys().any(|k| k.contains("reset request written")),
        "the request line is at info: {:?}",
        seen[0]
    );
    assert_eq!(seen[0], seen[1], "known vs unknown username");
    assert_eq!(seen[2], seen[3], "known vs unknown address");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_axum() {
    known_and_unknown_requests_log_alike(None, "axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_actix() {
    let Some(db) = reset_testkit::TestDb::postgres().await else {
        return;
    };
    known_and_unknown_requests_log_alike(Some(db.url()), "actix").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_warp() {
    let Some(db) = reset_testkit::TestDb::mysql().await else {
        return;
    };
    known_and_unknown_requests_log_alike(Some(db.url()), "warp").await;
}

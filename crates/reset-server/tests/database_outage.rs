//! A real outage of PostgreSQL under a stream of requests (a TCP proxy between the server and
//! the database cuts every connection, then comes back): requests that find the database gone
//! answer 503 with `Retry-After` (never 500), and every request answered 202 gets its secret and
//! its message exactly once when the database is back.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use reset_testkit::process::free_port;
use reset_testkit::proxy::Proxy;

mod common;
use common::{Server, command, run};

const USERS: usize = 30;

/// The recipients of the mail files in `dir` (their `To:` lines).
fn recipients(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|mail| {
            mail.lines()
                .find_map(|l| l.strip_prefix("To: ").map(|to| to.trim().to_owned()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_loses_no_accepted_request() {
    let Some(db) = reset_testkit::TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    run(command(dir.path(), Some(db.url()), port), &["migrate"]);
    for i in 0..USERS {
        run(
            command(dir.path(), Some(db.url()), port),
            &[
                "user",
                "add",
                "--username",
                &format!("user{i}"),
                "--email",
                &format!("user{i}@example.com"),
            ],
        );
    }
    let mut proxy = Proxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let mut serve = command(dir.path(), Some(&proxy.route(db.url())), port);
    serve
        .env("RESET_LIMIT_REQUEST_PER_IP", "0")
        .env("RESET_DB_MAX_CONNECTIONS", "4");
    let _server = Server::start(serve, dir.path(), "server", port).await;

    // All requests at once; the database goes away as soon as the first answer is in, so some
    // accepted requests still have their transaction to run.
    let first = Arc::new(tokio::sync::Notify::new());
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..USERS)
        .map(|i| {
            let (http, first) = (http.clone(), first.clone());
            tokio::spawn(async move {
                let r = http
                    .post(format!("http://127.0.0.1:{port}/v1/password-reset/request"))
                    .header("content-type", "application/json")
                    .body(format!(r#"{{"email":"user{i}@example.com"}}"#))
                    .send()
                    .await
                    .unwrap();
                first.notify_one();
                let retry_after = r.headers().get("retry-after").is_some();
                (i, r.status().as_u16(), retry_after)
            })
        })
        .collect();
    first.notified().await;
    proxy.cut();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Requests during the outage: 503 with Retry-After, in v1's shape.
    let down = http
        .post(format!("http://127.0.0.1:{port}/v1/password-reset/request"))
        .header("content-type", "application/json")
        .body(r#"{"email":"user0@example.com"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 503);
    assert!(down.headers().get("retry-after").is_some());
    assert!(down.text().await.unwrap().contains("service_unavailable"));
    proxy.restore().await;

    for (i, status, retry_after) in &answers {
        assert!(
            *status == 202 || (*status == 503 && *retry_after),
            "user{i}: {status}"
        );
    }
    let accepted: Vec<String> = answers
        .iter()
        .filter(|(_, s, _)| *s == 202)
        .map(|(i, _, _)| format!("user{i}@example.com"))
        .collect();
    assert!(!accepted.is_empty());
    let mail = dir.path().join("data/mail");
    for _ in 0..600 {
        if accepted.iter().all(|a| recipients(&mail).contains(a)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = recipients(&mail);
    for a in &accepted {
        let n = got.iter().filter(|r| *r == a).count();
        assert_eq!(n, 1, "{a}: {n} messages");
    }
    assert_eq!(
        got.len(),
        accepted.len(),
        "nothing sent for refused requests: {got:?}"
    );
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    eprintln!(
        "{} of {USERS} accepted; {} transaction retries while the database was away",
        accepted.len(),
        log.matches("waits for the database").count()
    );
    assert!(!log.contains("reset request dropped"), "{log}");
}

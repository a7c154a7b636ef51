//! SIGTERM with stuck clients, on the real binary and each framework: idle and slow connections
//! are closed at once, a request in flight still gets its answer, one stuck in its body is cut
//! at the end of the grace period, the process exits 0 in time, and every accepted reset request
//! is written.

#![allow(clippy::unwrap_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use reset_core::Store as _;
use reset_testkit::process::free_port;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

mod common;
use common::{Server, add_alice, command, request_alice, store_in};

const GRACE: Duration = Duration::from_secs(2);

/// Reads until the server closes the connection; `None` if still open after `within`.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(within, read).await.is_ok();
    let got = String::from_utf8_lossy(&got).into_owned();
    if !closed {
        eprintln!("still open after {within:?}, got {got:?}");
    }
    closed.then_some(got)
}

fn request_head(length: usize) -> String {
    format!(
        "POST /v1/password-reset/request HTTP/1.1\r\nhost: reset.test\r\n\
         content-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    )
}

async fn sigterm_with_stuck_clients(framework: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    add_alice(command(dir.path(), None, port));
    let mut serve = command(dir.path(), None, port);
    serve
        .env("RESET_FRAMEWORK", framework)
        // Long client deadlines: here the shutdown has to close the stuck clients.
        .env("RESET_HEADER_TIMEOUT_SECS", "60")
        .env("RESET_BODY_TIMEOUT_SECS", "60")
        .env("RESET_KEEPALIVE_SECS", "60")
        .env("RESET_SHUTDOWN_GRACE_SECS", GRACE.as_secs().to_string());
    let mut server = Server::start(serve, dir.path(), "server", port).await;
    let base = format!("http://127.0.0.1:{port}");
    let addr = format!("127.0.0.1:{port}");

    // Idle after one request.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /v1/not-a-route HTTP/1.1\r\nhost: reset.test\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    assert!(idle.read(&mut buf).await.unwrap() > 0);
    // Half a request's headers.
    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"POST /v1/password-reset/request HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // In flight: headers sent, the body finished after SIGTERM.
    let body = br#"{"username":"alice"}"#;
    let mut in_flight = TcpStream::connect(&addr).await.unwrap();
    in_flight
        .write_all(request_head(body.len()).as_bytes())
        .await
        .unwrap();
    in_flight.write_all(&body[..5]).await.unwrap();
    // Stuck: the body never comes.
    let mut stuck = TcpStream::connect(&addr).await.unwrap();
    stuck.write_all(request_head(100).as_bytes()).await.unwrap();
    stuck.write_all(b"{").await.unwrap();
    // Accepted just before the signal.
    request_alice(&base).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let pid = server.0.id().to_string();
    let signalled = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    for (name, conn) in [("idle", &mut idle), ("half-sent", &mut half)] {
        let closed = until_closed(conn, GRACE / 2).await;
        assert_eq!(
            closed.as_deref(),
            Some(""),
            "{name}: closed at once, unanswered"
        );
    }
    in_flight.write_all(&body[5..]).await.unwrap();
    let answer = until_closed(&mut in_flight, GRACE)
        .await
        .expect("closed after its answer");
    assert!(answer.starts_with("HTTP/1.1 202 "), "{answer}");
    let cut = until_closed(&mut stuck, GRACE * 2).await;
    assert!(cut.is_some(), "the stuck connection is cut");

    let mut status = None;
    while signalled.elapsed() < GRACE + Duration::from_secs(3) {
        if let Some(s) = server.0.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "exit: {status:?}\n{log}"
    );
    assert!(log.contains("cut=1"), "{log}");

    // Both accepted reset requests were written: delivered, or waiting in the outbox.
    let stats = store_in(dir.path()).await.outbox_stats().await.unwrap();
    assert_eq!(stats.pending + stats.sent, 2, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn axum() {
    sigterm_with_stuck_clients("axum").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn actix() {
    sigterm_with_stuck_clients("actix").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn warp() {
    sigterm_with_stuck_clients("warp").await;
}

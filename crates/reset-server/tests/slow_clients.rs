//! SIGTERM with stuck clients, on the real binary and each framework: idle and slow connections
//! are closed at once, a request in flight still gets its answer, one stuck in its body is cut
//! at the end of the grace period, the process exits 0 in time, and every accepted reset request
//! is written.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use reset_core::Outbox as _;
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

    let signalled = Instant::now();
    server.sigterm();
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

    let status = server
        .wait_exit((GRACE + Duration::from_secs(3)).saturating_sub(signalled.elapsed()))
        .await;
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

/// 2,000 connections that send half a request's headers and then nothing: each framework, on
/// its default connection cap, keeps answering a normal client promptly, and closes the slow
/// ones at the header timeout.
async fn two_thousand_slow_clients(framework: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut serve = command(dir.path(), None, port);
    serve
        .env("RESET_FRAMEWORK", framework)
        .env("RESET_HEADER_TIMEOUT_SECS", "3")
        // All from one address: without this, the per-address cap would close most at once.
        .env("RESET_MAX_CONNECTIONS_PER_IP", "0");
    let _server = Server::start(serve, dir.path(), "server", port).await;
    let mut slow = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"POST /v1/password-reset/request HTTP/1.1\r\nhost: reset.te")
            .await
            .unwrap();
        slow.push(s);
    }
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/healthz");
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        let started = Instant::now();
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        worst = worst.max(started.elapsed());
    }
    eprintln!("{framework}: /healthz beside 2,000 slow connections, worst of 5: {worst:?}");
    // The target is 100 ms (issue 17); the bound here leaves room for a busy 2-core CI machine.
    assert!(worst < Duration::from_secs(1), "{worst:?}");
    let mut closed = 0;
    for s in &mut slow {
        if until_closed(s, Duration::from_secs(6)).await.is_some() {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 2000,
        "every slow connection closed at the header timeout"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn axum_beside_two_thousand_slow_clients() {
    two_thousand_slow_clients("axum").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn actix_beside_two_thousand_slow_clients() {
    two_thousand_slow_clients("actix").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn warp_beside_two_thousand_slow_clients() {
    two_thousand_slow_clients("warp").await;
}

/// The server's resident memory in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// 500 connections (from ten loopback addresses, within the per-address cap) that pipeline four
/// requests for the 1.4 MB Swagger UI bundle and never read: no connection holds a copy of its
/// answer (memory stays within a bound far below 500 copies), a normal client is answered
/// throughout, and the write deadline closes every one.
async fn five_hundred_pinned_pipelines(framework: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut serve = command(dir.path(), None, port);
    serve
        .env("RESET_FRAMEWORK", framework)
        .env("RESET_WRITE_TIMEOUT_SECS", "4")
        .env("RESET_KEEPALIVE_SECS", "60");
    let server = Server::start(serve, dir.path(), "server", port).await;
    let pid = server.0.id();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/healthz");
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let before = rss_kib(pid);
    let pipelined = "GET /docs/swagger-ui-bundle.js HTTP/1.1\r\nhost: reset.test\r\n\r\n".repeat(4);
    let mut pinned = Vec::with_capacity(500);
    let started = Instant::now();
    for i in 0..500 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let from = format!("127.0.1.{}:0", 10 + i % 10);
        socket.bind(from.parse().unwrap()).unwrap();
        let mut c = socket
            .connect(format!("127.0.0.1:{port}").parse().unwrap())
            .await
            .unwrap();
        c.write_all(pipelined.as_bytes()).await.unwrap();
        pinned.push(c);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let during = rss_kib(pid);
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let grew_mib = during.saturating_sub(before) / 1024;
    eprintln!(
        "{framework}: 500 pinned pipelines: RSS {before} KiB -> {during} KiB (+{grew_mib} MiB)"
    );
    // One copy of the bundle per connection would be ~700 MiB; buffers alone are far less.
    assert!(grew_mib < 150, "+{grew_mib} MiB");
    let left = Duration::from_secs(4 + 3).saturating_sub(started.elapsed());
    tokio::time::sleep(left).await;
    let mut closed = 0;
    for c in &mut pinned {
        if until_closed(c, Duration::from_secs(2)).await.is_some() {
            closed += 1;
        }
    }
    assert_eq!(
        closed, 500,
        "every pinned connection closed by the write deadline"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn axum_five_hundred_pinned_pipelines() {
    five_hundred_pinned_pipelines("axum").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn actix_five_hundred_pinned_pipelines() {
    five_hundred_pinned_pipelines("actix").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn warp_five_hundred_pinned_pipelines() {
    five_hundred_pinned_pipelines("warp").await;
}

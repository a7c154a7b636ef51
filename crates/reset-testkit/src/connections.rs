//! Slow, idle and stuck clients, over raw sockets: each adapter's `serve` holds the same
//! deadlines and cap (`reset_api::connections`), with short limits so that nothing waits long.

use std::time::{Duration, Instant};

use reset_api::ServeLimits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::db::TestDb;
use crate::server::{Spawn, TestServer};

/// How much later than its deadline a connection may close.
const SLACK: Duration = Duration::from_secs(2);

fn limits() -> ServeLimits {
    ServeLimits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        keepalive: Duration::from_secs(2),
        write_timeout: Duration::from_secs(2),
        max_connections: 4,
        max_connections_per_ip: 0,
        shutdown_grace: Duration::from_secs(2),
    }
}

async fn connect(s: &TestServer) -> TcpStream {
    TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Reads until the server closes the connection (end of stream or reset); `None` if it is
/// still open after `within`.
async fn until_closed(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    within: Duration,
) -> Option<Vec<u8>> {
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
    tokio::time::timeout(within, read).await.ok()?;
    Some(got)
}

/// One whole response (headers and `content-length` body) from `stream`, or `None` if it does
/// not come within `within`.
async fn response(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let read = async {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&got).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (n, v) = l.split_once(':')?;
                        n.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + length {
                    return Some(text);
                }
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

const GET: &[u8] = b"GET /v1/not-a-route HTTP/1.1\r\nhost: reset.test\r\n\r\n";
const HALF: &[u8] = b"POST /v1/password-reset/request HTTP/1.1\r\nhost: reset.test\r\n";

/// Silent, half-sent and slowloris connections are closed unanswered at the header deadline.
pub async fn half_sent_headers_are_closed(db: TestDb, spawn: Spawn) {
    let l = limits();
    let s = TestServer::start_limited(db, spawn, l).await;
    let started = Instant::now();
    let mut silent = connect(&s).await;
    let mut half = connect(&s).await;
    half.write_all(HALF).await.expect("write");
    // A slowloris: a header line every 200 ms, never the blank line.
    let (mut dribble, mut writer) = connect(&s).await.into_split();
    writer.write_all(HALF).await.expect("write");
    let dribbler = tokio::spawn(async move {
        while writer.write_all(b"x-slow: 1\r\n").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    for (name, closed) in [
        (
            "silent",
            until_closed(&mut silent, l.header_timeout + SLACK).await,
        ),
        (
            "half",
            until_closed(&mut half, l.header_timeout + SLACK).await,
        ),
        (
            "dribbling",
            until_closed(&mut dribble, l.header_timeout + SLACK).await,
        ),
    ] {
        let bytes = closed.unwrap_or_else(|| panic!("the {name} connection is still open"));
        assert!(
            bytes.is_empty(),
            "{name}: closed unanswered, got {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    assert!(
        started.elapsed() >= l.header_timeout / 2,
        "closed before the deadline"
    );
    dribbler.abort();
}

/// Where a stalled body is answered, and what its 408 must say: v1's problem, the shape of the
/// dialect whose route it is, or the page's.
const STALLED: &[(&str, &str)] = &[
    ("/v1/password-reset/request", r#""code":"request_timeout""#),
    ("/api/request-reset-password", r#""code":"REQUEST_TIMEOUT""#),
    (
        "/api/auth/forgotPassword/sendEmail",
        r#""error_code":"request_timeout""#,
    ),
    (
        "/auth/reset/password-email",
        r#""name":"RequestTimeoutError""#,
    ),
    ("/v2/users/u1/password_reset", r#""code":4,"#),
    (
        "/zitadel.user.v2.UserService/PasswordReset",
        r#""code":"deadline_exceeded""#,
    ),
    ("/reset-password", "The form could not be read."),
];

/// A stalled body gets 408 at the body deadline, in the route's own shape and with the same
/// bytes on every adapter.
pub async fn stalled_body_gets_408(db: TestDb, spawn: Spawn) {
    let l = limits();
    let s = TestServer::start_limited(db, spawn, l).await;
    // A few at once (within the cap of 4 connections), so the test waits for the deadline once
    // per round, not once per path.
    for round in STALLED.chunks(3) {
        let mut stalled = Vec::new();
        for (path, _) in round {
            let mut c = connect(&s).await;
            let head = format!(
                "POST {path} HTTP/1.1\r\nhost: reset.test\r\n\
                 content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"email\":"
            );
            c.write_all(head.as_bytes()).await.expect("write");
            stalled.push(c);
        }
        for ((path, marker), mut c) in round.iter().zip(stalled) {
            let raw = until_closed(&mut c, l.body_timeout + SLACK)
                .await
                .unwrap_or_else(|| panic!("{path}: still open after the body deadline"));
            let raw = String::from_utf8(raw).expect("utf-8");
            let (head, body) = raw.split_once("\r\n\r\n").expect("a response");
            assert!(head.starts_with("HTTP/1.1 408 "), "{path}: {raw}");
            assert!(body.contains(marker), "{path}: {body}");
            // The same bytes on every adapter (but `date`, and the order of distinct headers).
            let expected = s.api.body_timeout_response(path);
            assert_eq!(body.as_bytes(), &expected.body[..], "{path}");
            let mut got: Vec<String> = head
                .lines()
                .skip(1)
                .map(str::to_ascii_lowercase)
                .filter(|l| !l.starts_with("date:"))
                .collect();
            got.sort();
            let mut want: Vec<String> = expected
                .headers
                .iter()
                .map(|(n, v)| format!("{n}: {v}").to_ascii_lowercase())
                .chain([format!("content-length: {}", expected.body.len())])
                .collect();
            want.sort();
            assert_eq!(got, want, "{path}");
            assert!(want.contains(&"connection: close".to_owned()), "{path}");
        }
    }
}

/// An idle kept-alive connection is closed at the keep-alive deadline, and half a request after a
/// whole one at the header deadline.
pub async fn idle_keepalive_is_closed(db: TestDb, spawn: Spawn) {
    let l = limits();
    let s = TestServer::start_limited(db, spawn, l).await;
    let mut c = connect(&s).await;
    c.write_all(GET).await.expect("write");
    let first = response(&mut c, SLACK).await.expect("a response");
    assert!(first.starts_with("HTTP/1.1 404 "), "{first}");
    // Kept alive: a second request on the same connection is answered.
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.write_all(GET).await.expect("write");
    assert!(response(&mut c, SLACK).await.is_some(), "kept alive");
    // Idle: open past the header deadline (idleness has its own), closed after keep-alive.
    let idle = Instant::now();
    let early = l.header_timeout + Duration::from_millis(300);
    assert!(
        until_closed(&mut c, early).await.is_none(),
        "closed before the keep-alive deadline"
    );
    let closed = until_closed(&mut c, l.keepalive + SLACK - early).await;
    assert_eq!(closed, Some(Vec::new()), "closed unanswered");
    assert!(idle.elapsed() >= l.keepalive / 2);

    // Half a request after a whole one: the header deadline counts from its first byte.
    let mut c = connect(&s).await;
    c.write_all(GET).await.expect("write");
    assert!(response(&mut c, SLACK).await.is_some());
    c.write_all(HALF).await.expect("write");
    assert_eq!(
        until_closed(&mut c, l.header_timeout + SLACK).await,
        Some(Vec::new())
    );
}

/// Slow clients under the connection cap do not delay a healthy one; at the cap a new connection
/// waits until the slow ones are closed.
pub async fn connection_cap_holds(db: TestDb, spawn: Spawn) {
    let l = limits();
    let s = TestServer::start_limited(db, spawn, l).await;
    let mut slow = Vec::new();
    for _ in 0..l.max_connections / 2 {
        let mut c = connect(&s).await;
        c.write_all(HALF).await.expect("write");
        slow.push(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Slow clients hold their share; a healthy one is served at once.
    let mut healthy = connect(&s).await;
    let asked = Instant::now();
    healthy.write_all(GET).await.expect("write");
    let r = response(&mut healthy, SLACK).await.expect("a response");
    let took = asked.elapsed();
    assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
    assert!(took < Duration::from_millis(100), "took {took:?}");
    drop(healthy);

    // At the cap, a new connection waits in the listen backlog: not answered (nor closed)
    // until the slow ones are closed at their header deadline.
    while slow.len() < l.max_connections {
        let mut c = connect(&s).await;
        c.write_all(HALF).await.expect("write");
        slow.push(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut waiting = connect(&s).await;
    waiting.write_all(GET).await.expect("write");
    let asked = Instant::now();
    let r = response(&mut waiting, l.header_timeout * 2 + SLACK)
        .await
        .expect("answered once the slow ones are closed");
    assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
    assert!(
        asked.elapsed() >= l.header_timeout / 2,
        "answered past the cap after {:?}",
        asked.elapsed()
    );
}

/// A connection from `from` (a loopback address of its own) with a small receive buffer.
async fn connect_from(s: &TestServer, from: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    socket
        .bind(format!("{from}:0").parse().expect("address"))
        .expect("bind");
    let to = s
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("server address");
    socket.connect(to).await.expect("connect")
}

/// Clients that pipeline requests for a large answer and never read: the server cannot write,
/// so no read deadline fires; the write deadline closes them. One address cannot hold the cap
/// (its connections past its share are closed at once), and a client from another address is
/// answered at once throughout.
pub async fn pinned_pipelines_are_closed(db: TestDb, spawn: Spawn) {
    let l = ServeLimits {
        max_connections: 8,
        max_connections_per_ip: 4,
        keepalive: Duration::from_secs(30),
        ..limits()
    };
    let s = TestServer::start_limited(db, spawn, l).await;
    let pipelined = "GET /docs/swagger-ui-bundle.js HTTP/1.1\r\nhost: reset.test\r\n\r\n".repeat(4);
    // One more than the address's share. Which one is refused depends on the order the server
    // admits them in (actix admits on its worker threads), so each is told apart by a peek:
    // a served one has its answer waiting, the refused one is closed unanswered.
    let mut pinned = Vec::new();
    for _ in 0..=l.max_connections_per_ip {
        let mut c = connect_from(&s, "127.0.0.2").await;
        let _ = c.write_all(pipelined.as_bytes()).await;
        pinned.push(c);
    }
    let started = Instant::now();
    let mut refused = 0;
    for c in &pinned {
        let mut first = [0u8; 1];
        match tokio::time::timeout(SLACK, c.peek(&mut first)).await {
            Ok(Ok(0) | Err(_)) => refused += 1,
            Ok(Ok(_)) => {}
            Err(_) => panic!("a connection neither served nor closed"),
        }
    }
    assert_eq!(refused, 1, "one past the address's share is closed at once");

    // Another address is served at once while the pinned connections wait. The target is
    // 100 ms; the bound leaves room for a 2-core CI machine running the rest of the suite.
    let mut worst = Duration::ZERO;
    while started.elapsed() < l.write_timeout {
        let mut healthy = connect(&s).await;
        let asked = Instant::now();
        healthy.write_all(GET).await.expect("write");
        let r = response(&mut healthy, SLACK).await.expect("a response");
        assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
        worst = worst.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("beside pinned pipelines, worst answer: {worst:?}");
    assert!(worst < Duration::from_millis(500), "took {worst:?}");

    // By the write deadline (and some slack) each pinned connection is closed: reading now
    // drains what the kernel held and meets the end at once (open, it would go on for the
    // keep-alive's 30 s after its four answers).
    tokio::time::sleep_until((started + l.write_timeout + SLACK).into()).await;
    for (i, mut c) in pinned.into_iter().enumerate() {
        assert!(
            until_closed(&mut c, Duration::from_secs(1)).await.is_some(),
            "pinned connection {i} is still open"
        );
    }
    // And the address's share is free again.
    let mut again = connect_from(&s, "127.0.0.2").await;
    again.write_all(GET).await.expect("write");
    assert!(response(&mut again, SLACK).await.is_some());
}

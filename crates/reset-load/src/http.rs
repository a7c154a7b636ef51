//! The load's HTTP side: one POST, and many clients hammering one route for a while.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::join_all;
use http_body_util::{BodyExt as _, Empty, Full, combinators::BoxBody};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use crate::stats::Stats;

pub async fn post(http: &reqwest::Client, base: &str, path: &str, body: String) -> u16 {
    http.post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// `clients` loops sending to `path` for `seconds` (client `i` to `bases[i % n]`): a POST of
/// `body` as JSON, or a GET when `body` is `None`. A `{n}` in the body becomes 0, 1, …, `spread` − 1 in turn over all
/// clients (requests spread over that many accounts).
///
/// Each client is one keep-alive HTTP/1.1 connection driven by hyper's bare connection API, not
/// a pooled `reqwest` client: the load generator shares the machine's cores with the server and
/// the database, and `reqwest`'s per-request work (URL parsing, its pool, its header map) was a
/// visible share of them (docs/benchmarks.md, "The load generator's own share"). A connection
/// that fails counts a status 0 and is opened again.
pub async fn hammer(
    bases: &[String],
    path: &str,
    body: Option<&str>,
    clients: usize,
    seconds: u64,
    spread: usize,
) -> Stats {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let turn = Arc::new(AtomicUsize::new(0));
    let targets: Vec<Option<Target>> = bases.iter().map(|b| Target::of(b, path)).collect();
    let tasks = (0..clients).map(|i| {
        let (target, body, turn) = (
            targets[i % targets.len()].clone(),
            body.map(|b| match b.split_once("{n}") {
                Some((head, tail)) => (head.to_owned(), Some(tail.to_owned())),
                None => (b.to_owned(), None),
            }),
            turn.clone(),
        );
        async move {
            let Some(Target { authority, path }) = target else {
                // Not a base this client can speak to: every request fails.
                return vec![(Duration::ZERO, 0)];
            };
            let mut lat = Vec::new();
            let mut conn = None;
            while Instant::now() < deadline {
                let t = Instant::now();
                let request = match &body {
                    Some((head, tail)) => {
                        let text = match tail {
                            Some(tail) => {
                                let n = turn.fetch_add(1, Ordering::Relaxed) % spread.max(1);
                                format!("{head}{n}{tail}")
                            }
                            None => head.clone(),
                        };
                        hyper::Request::post(&path)
                            .header("host", &authority)
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(text)).boxed())
                    }
                    None => hyper::Request::get(&path)
                        .header("host", &authority)
                        .body(Empty::new().boxed()),
                };
                let status = match request {
                    Ok(request) => send(&mut conn, &authority, request).await,
                    Err(_) => 0,
                };
                lat.push((t.elapsed(), status));
            }
            lat
        }
    });
    let latencies = join_all(tasks).await.into_iter().flatten().collect();
    Stats::from(latencies, start.elapsed())
}

type Body = BoxBody<Bytes, std::convert::Infallible>;

/// Where a client sends: `host:port` and the whole path (the base's own path first).
#[derive(Clone)]
struct Target {
    authority: String,
    path: String,
}

impl Target {
    /// For a base URL such as `http://127.0.0.1:8080` or `http://lb/reset` (port 80 when none
    /// is given); `None` for anything but plain `http` (this client speaks no TLS).
    fn of(base: &str, path: &str) -> Option<Self> {
        let uri: hyper::Uri = base.parse().ok()?;
        if uri.scheme_str() != Some("http") {
            eprintln!("reset-load: {base}: only http:// bases can be measured");
            return None;
        }
        let host = uri.host()?;
        let port = uri.port_u16().unwrap_or(80);
        Some(Self {
            authority: format!("{host}:{port}"),
            path: format!("{}{path}", uri.path().trim_end_matches('/')),
        })
    }
}

/// Sends `request` on the client's connection (opened first if there is none, or if the server
/// closed it) and reads the whole answer, so the connection is ready for the next; the status,
/// or 0 on any failure (the connection is then dropped, and the next request opens a new one).
async fn send(
    conn: &mut Option<http1::SendRequest<Body>>,
    authority: &str,
    request: hyper::Request<Body>,
) -> u16 {
    // The connection takes the next request only once it has finished the last one; one the
    // server closed while idle is opened again (nothing was sent on it yet).
    let ready = match conn.as_mut() {
        Some(sender) => sender.ready().await.is_ok(),
        None => false,
    };
    if !ready {
        *conn = connect(authority).await;
    }
    let Some(sender) = conn.as_mut() else {
        return 0;
    };
    let answer = async {
        let response = sender.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        response.into_body().collect().await.ok()?;
        Some(status)
    };
    match answer.await {
        Some(status) => status,
        None => {
            *conn = None;
            0
        }
    }
}

async fn connect(authority: &str) -> Option<http1::SendRequest<Body>> {
    let stream = tokio::net::TcpStream::connect(authority).await.ok()?;
    stream.set_nodelay(true).ok()?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.ok()?;
    tokio::spawn(connection);
    Some(sender)
}

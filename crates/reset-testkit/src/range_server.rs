//! A real range API on loopback (the Pwned Passwords protocol) for the breach-check tests:
//! padded answers holding a few known hashes, and the ways a real one fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeMode {
    /// 200 with the known suffixes of the prefix and padding lines (count 0).
    Serve,
    /// 404 for every prefix.
    NotFound,
    /// 200 with a line that is not `SUFFIX:COUNT`.
    Malformed,
    /// Waits this long before answering.
    Slow(Duration),
}

/// A running range server; it stops with the runtime.
#[derive(Clone)]
pub struct RangeServer {
    /// `http://127.0.0.1:PORT`: the base URL a checker takes.
    pub base: String,
    mode: Arc<Mutex<RangeMode>>,
    /// Requests seen, as paths (what left the checker).
    pub paths: Arc<Mutex<Vec<String>>>,
    /// Whether each request carried `Add-Padding: true`.
    pub padded: Arc<Mutex<Vec<bool>>>,
}

impl RangeServer {
    /// Serves the SHA-1 hashes (40 upper-case hex digits) of `known` with their counts.
    pub async fn start(known: &[(String, u64)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let mut by_prefix: HashMap<String, Vec<(String, u64)>> = HashMap::new();
        for (hash, count) in known {
            let (p, s) = hash.split_at(5);
            by_prefix
                .entry(p.to_owned())
                .or_default()
                .push((s.to_owned(), *count));
        }
        let server = Self {
            base,
            mode: Arc::new(Mutex::new(RangeMode::Serve)),
            paths: Arc::default(),
            padded: Arc::default(),
        };
        let (s, by_prefix) = (server.clone(), Arc::new(by_prefix));
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (s, by_prefix) = (s.clone(), by_prefix.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut got = 0;
                    while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") && got < buf.len() {
                        match conn.read(&mut buf[got..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got += n,
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..got]).to_string();
                    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                    let padded = head
                        .lines()
                        .any(|l| l.to_ascii_lowercase().replace(' ', "") == "add-padding:true");
                    s.paths
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(path.clone());
                    s.padded
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(padded);
                    let mode = *s.mode.lock().unwrap_or_else(|e| e.into_inner());
                    let (status, body) = match mode {
                        RangeMode::NotFound => ("404 Not Found", String::new()),
                        RangeMode::Malformed => {
                            ("200 OK", "this is not a range answer\r\n".to_owned())
                        }
                        RangeMode::Slow(wait) => {
                            tokio::time::sleep(wait).await;
                            ("200 OK", answer(&by_prefix, &path))
                        }
                        RangeMode::Serve => ("200 OK", answer(&by_prefix, &path)),
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(response.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        server
    }

    /// Changes how the server answers, from the next request on.
    pub fn set_mode(&self, mode: RangeMode) {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode;
    }
}

/// The known suffixes of the path's prefix and 100 padding lines, CRLF-separated as the real
/// API sends them.
fn answer(by_prefix: &HashMap<String, Vec<(String, u64)>>, path: &str) -> String {
    let prefix = path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let mut lines: Vec<String> = (0..100u32)
        .map(|i| format!("{:035X}:0", u128::from(i) * 7_919 + 1))
        .collect();
    for (suffix, count) in by_prefix.get(&prefix).into_iter().flatten() {
        lines.push(format!("{suffix}:{count}"));
    }
    lines.sort();
    lines.join("\r\n")
}

/// A base URL where nothing listens (a port bound, then released).
pub async fn closed_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    base
}

//! The framework-free request an adapter builds.

use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _};

/// Request bodies larger than this get 413 (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A request body as the adapter read it: read at most `MAX_BODY_BYTES + 1` bytes, and report
/// `TooLarge` when there was more.
#[derive(Clone)]
pub enum Body {
    /// The whole body, within [`MAX_BODY_BYTES`] (empty when the request had none).
    Bytes(Bytes),
    /// There was more than [`MAX_BODY_BYTES`]; the route answers 413.
    TooLarge,
    /// The connection failed while the body was read.
    Unreadable,
}

/// One HTTP request, as every adapter hands it over. Its `Debug` shows neither header values
/// nor the body, which may carry secrets.
#[derive(Clone)]
pub struct ApiRequest {
    /// Upper-case method name (`GET`, `POST`, …).
    pub method: String,
    /// The path below the mount prefix, starting with `/`, not decoded.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// Header names lower-cased; repeated headers appear repeatedly.
    pub headers: Vec<(String, String)>,
    /// The body, read with [`read_body`] (or [`Api::read_body`](crate::Api::read_body)).
    pub body: Body,
    /// The socket peer, for rate limits and the audit trail.
    pub peer: Option<SocketAddr>,
}

impl std::fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = match &self.body {
            Body::Bytes(b) => format!("{} bytes", b.len()),
            Body::TooLarge => "too large".to_owned(),
            Body::Unreadable => "unreadable".to_owned(),
        };
        f.debug_struct("ApiRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("body", &body)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl ApiRequest {
    /// The first value of a header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a request body from an adapter's chunk stream: at most `MAX_BODY_BYTES` bytes, else
/// `TooLarge` (reading stops there, whether or not a length was declared); a failed read is
/// `Unreadable`. Every adapter reads its body with this, so the limit is enforced once.
pub async fn read_body<B: Buf, E>(mut chunks: impl Stream<Item = Result<B, E>> + Unpin) -> Body {
    let mut buf = BytesMut::new();
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(mut c) if buf.len() + c.remaining() <= MAX_BODY_BYTES => {
                while c.has_remaining() {
                    let part = c.chunk();
                    let n = part.len();
                    buf.extend_from_slice(part);
                    c.advance(n);
                }
            }
            Ok(_) => return Body::TooLarge,
            Err(_) => return Body::Unreadable,
        }
    }
    Body::Bytes(buf.freeze())
}

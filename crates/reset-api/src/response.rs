//! The framework-free response an adapter writes back.

use bytes::Bytes;
use serde::Serialize;

/// One HTTP response: status, headers and body, to be written as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Header names in lower case, in the order to write them; a name may repeat.
    pub headers: Vec<(&'static str, String)>,
    /// The body, written as is (empty for `HEAD` and for answers without one).
    pub body: Bytes,
}

/// Headers on every response: nothing here may be cached, sniffed or framed.
const COMMON: [(&str, &str); 4] = [
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
];

impl ApiResponse {
    fn new(status: u16, content_type: Option<&str>, body: Bytes) -> Self {
        let mut headers: Vec<(&'static str, String)> =
            COMMON.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        if let Some(ct) = content_type {
            headers.push(("content-type", ct.to_owned()));
        }
        Self {
            status,
            headers,
            body,
        }
    }

    /// A JSON body.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        Self::json_as(status, "application/json", value)
    }

    /// A JSON body with a given media type (`application/problem+json`).
    pub fn json_as(status: u16, content_type: &str, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Self::new(status, Some(content_type), Bytes::from(body))
    }

    /// Raw bytes of a media type.
    pub fn bytes(status: u16, content_type: &str, body: Bytes) -> Self {
        Self::new(status, Some(content_type), body)
    }

    /// No body (202, 204).
    pub fn empty(status: u16) -> Self {
        Self::new(status, None, Bytes::new())
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds `Retry-After` (seconds) when there is a wait to tell.
    pub fn with_retry_after(self, secs: Option<u64>) -> Self {
        match secs {
            Some(secs) => self.with_header("retry-after", secs.to_string()),
            None => self,
        }
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

//! Helpers shared by the dialect scenarios.

use crate::server::Reply;

/// A password the default policy accepts.
pub const STRONG: &str = "violet tractor melts quietly";
/// Another one the policy accepts, for a second change.
pub const STRONG2: &str = "copper lantern drifts eastward";

/// A JSON answer: status, media type and the exact body.
pub fn assert_json(r: &Reply, status: u16, body: serde_json::Value) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), body);
}

/// An answer without a body.
pub fn assert_empty(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.is_empty());
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

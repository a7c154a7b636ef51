//! The fixed start of every test clock.

/// Every test server's clock starts here, so that answers which carry a time (`expires_at`,
/// `Retry-After`) are the same bytes on every adapter.
pub fn start_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default()
}

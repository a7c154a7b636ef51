//! The breached-password check's port: how often a password was seen in known breaches
//! (NIST 800-63B asks verifiers to refuse those). `reset-breach` implements it over the Pwned
//! Passwords range API (k-anonymity: only five hex digits of the SHA-1 leave the server) and
//! over an offline corpus file.

use async_trait::async_trait;

/// Looks passwords up in a breach corpus.
///
/// An implementation must never report "not seen" for a lookup that failed: a wrong line, a
/// timeout or an unreadable file is [`BreachError::Unavailable`], and the service's
/// [`BreachPolicy::fail_closed`] decides what that means.
///
/// ```
/// use async_trait::async_trait;
/// use reset_core::breach::{BreachChecker, BreachError};
///
/// /// A fixed list, as a test might use.
/// struct Known(Vec<&'static str>);
///
/// #[async_trait]
/// impl BreachChecker for Known {
///     async fn times_seen(&self, password: &str) -> Result<u64, BreachError> {
///         Ok(u64::from(self.0.contains(&password)))
///     }
/// }
/// ```
#[async_trait]
pub trait BreachChecker: Send + Sync {
    /// How many times `password` was seen in breaches (0: never).
    async fn times_seen(&self, password: &str) -> Result<u64, BreachError>;
}

/// A lookup that could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum BreachError {
    /// The source could not be reached or read, or answered something malformed.
    #[error("breach check unavailable: {0}")]
    Unavailable(String),
}

/// What the service does with a checker's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreachPolicy {
    /// A password seen at least this often is refused (default 1).
    pub min_count: u64,
    /// When the checker is unavailable: `true` answers 503 with `Retry-After`; `false` (the
    /// default) lets the password through, with an audit event and a counter.
    pub fail_closed: bool,
    /// The `Retry-After` of that 503, in seconds.
    pub retry_after_secs: u64,
}

impl Default for BreachPolicy {
    fn default() -> Self {
        Self {
            min_count: 1,
            fail_closed: false,
            retry_after_secs: 30,
        }
    }
}

//! The service's errors: each variant is one stable machine code of `docs/api.md`.

use serde::Serialize;

/// What went wrong with a reset operation. `reset-api` maps each variant to a status and body,
/// once per API shape.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// The input is malformed (400 `invalid_request`); the text says which field and why.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Unknown, expired, used, cancelled or superseded token (400 `invalid_token`).
    #[error("the token is invalid or expired")]
    InvalidToken,
    /// A wrong code, or no outstanding code for that identifier (400 `code_incorrect`).
    #[error("the code is incorrect")]
    CodeIncorrect {
        /// Tries left for the identifier before it is refused.
        attempts_remaining: u32,
    },
    /// The code has had all its tries (429 `attempts_exhausted`).
    #[error("the code has had all its tries")]
    AttemptsExhausted {
        /// Seconds until the caller may try again (`Retry-After`).
        retry_after_secs: u64,
    },
    /// Too many requests for this identifier or client (429 `rate_limited`).
    #[error("too many requests")]
    RateLimited {
        /// Seconds until the counter's window ends (`Retry-After`).
        retry_after_secs: u64,
    },
    /// The new password breaks the policy (422 `weak_password`).
    #[error("the new password does not meet the policy")]
    WeakPassword {
        /// Every rule the password breaks.
        violations: Vec<Violation>,
    },
    /// Administration: no credential was presented (401 `credential_required`).
    #[error("a credential is required")]
    CredentialRequired,
    /// Administration: the credential is unknown or revoked (401 `authentication_failed`).
    #[error("authentication failed")]
    AuthenticationFailed,
    /// Administration: the credential lacks the scope the operation needs (403 `forbidden`).
    #[error("the credential lacks the scope {0}")]
    Forbidden(&'static str),
    /// Administration: no such user (404 `user_not_found`).
    #[error("no such user")]
    UserNotFound,
    /// Administration: the change conflicts with the account's state: a username or address
    /// that is taken, or a disabled account (409 `conflict`).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Administration: accounts live in a directory this service does not manage (LDAP, an
    /// application's table or service); change them there (409 `directory_managed`).
    #[error("accounts are managed in the directory they live in")]
    DirectoryManaged,
    /// Administration: the link template is malformed or leads off the allowed origins
    /// (400 `invalid_url_template`).
    #[error("invalid url template: {0}")]
    InvalidUrlTemplate(String),
    /// A dependency the answer needs is unavailable for now (503 `service_unavailable`, with
    /// `Retry-After`): the database, or the breach check when it fails closed.
    #[error("temporarily unavailable")]
    Unavailable {
        /// Seconds after which trying again may succeed (`Retry-After`).
        retry_after_secs: u64,
    },
    /// The store failed; the cause is logged, never shown.
    #[error(transparent)]
    Store(StoreError),
    /// Hashing failed or its worker died; the cause is logged, never shown.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// A database that cannot be reached is a 503 with `Retry-After` (the client may try again
/// shortly); any other store failure stays an opaque 500.
impl From<StoreError> for ResetError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "the database is unavailable");
                Self::Unavailable {
                    retry_after_secs: UNAVAILABLE_RETRY_AFTER_SECS,
                }
            }
            other => Self::Store(other),
        }
    }
}

/// The `Retry-After` of a 503 for an unreachable database.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl StoreError {
    /// Whether trying again later may succeed (the database could not be reached).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// One broken rule of the password policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Stable machine code: `too_short`, `too_long`, `contains_username`, `contains_email`,
    /// `too_guessable`, `reused`, `breached`.
    pub code: &'static str,
    /// English explanation for people.
    pub message: String,
}

/// A failure of the store port.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or a pooled connection could not be had.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("database error: {0}")]
    Query(String),
    /// A uniqueness rule was broken (a username or an address already taken).
    #[error("already exists: {0}")]
    Conflict(String),
}

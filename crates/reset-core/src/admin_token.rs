//! Administrators' bearer tokens: `rst_` + 32 random bytes (URL-safe base64), shown once at
//! creation; only their keyed hash is stored, and presented tokens are compared in constant
//! time. Each token carries scopes: `password:reset` (send reset secrets, set a password with a
//! code) and `password:write` (set a password without a code, or have a code returned to the
//! caller: either way the caller can choose the password), `users:read` (read and list the
//! built-in directory's accounts) and `users:write` (create, change, switch off and delete them).

use chrono::{DateTime, Utc};

/// Send reset secrets to a user; set a password with a verification code.
pub const SCOPE_RESET: &str = "password:reset";
/// Set a user's password without a verification code; with `password:reset`, have a code
/// returned (`return_code`) instead of sent.
pub const SCOPE_WRITE: &str = "password:write";
/// Read and list the built-in directory's accounts (the user API's `GET`s).
pub const SCOPE_USERS_READ: &str = "users:read";
/// Create, change, switch off and delete the built-in directory's accounts (the answer shows
/// the account written). Grant it as carefully as `password:write`: whoever may change where an
/// account's messages go can have its next reset link sent there.
pub const SCOPE_USERS_WRITE: &str = "users:write";
/// Every scope there is.
pub const SCOPES: [&str; 4] = [
    SCOPE_RESET,
    SCOPE_WRITE,
    SCOPE_USERS_READ,
    SCOPE_USERS_WRITE,
];

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    /// The token's id (a UUIDv7), by which it is listed and revoked.
    pub id: String,
    /// A label for people: the name given at creation, else `token` and the id's first characters.
    pub name: String,
    /// What the token may do: some of [`SCOPES`].
    pub scopes: Vec<String>,
    /// When the token was created.
    pub created_at: DateTime<Utc>,
    /// When the token was revoked; `None` while it is live.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl AdminToken {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// A token to store: its listing and the keyed hash of its secret.
#[derive(Debug, Clone)]
pub struct NewAdminToken {
    /// The token as it will be listed.
    pub token: AdminToken,
    /// The keyed hash of its secret (tagged with the key's id), the only form of it that is stored.
    pub hash: String,
}

//! Administrators' bearer tokens: `rst_` + 32 random bytes (URL-safe base64), shown once at
//! creation; only their keyed hash is stored, and presented tokens are compared in constant
//! time. Each token carries scopes: `password:reset` (send reset secrets, set a password with a
//! code) and `password:write` (set a password without a code, or have a code returned to the
//! caller: either way the caller can choose the password).

use chrono::{DateTime, Utc};

/// Send reset secrets to a user; set a password with a verification code.
pub const SCOPE_RESET: &str = "password:reset";
/// Set a user's password without a verification code; with `password:reset`, have a code
/// returned (`return_code`) instead of sent.
pub const SCOPE_WRITE: &str = "password:write";
/// Every scope there is.
pub const SCOPES: [&str; 2] = [SCOPE_RESET, SCOPE_WRITE];

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl AdminToken {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// A token to store: its listing and the keyed hash of its secret.
#[derive(Debug, Clone)]
pub struct NewAdminToken {
    pub token: AdminToken,
    pub hash: String,
}

//! Administrators' bearer tokens: only keyed hashes are stored.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::admin_token::{AdminToken, NewAdminToken};
use crate::error::StoreError;

/// The admin-token half of a store.
///
/// What an implementation must guarantee: a token is found by its exact hash only; revoking is
/// once (`true` the first time, `false` after, and for an unknown id); a revoked token is still
/// found (with `revoked_at` set) so the caller can refuse it.
///
/// ```text
/// insert(t)  by_hash(t.hash) -> Some((t, hash))  revoke(t.id) -> true  revoke(t.id) -> false
/// ```
#[async_trait]
pub trait AdminTokens: Send + Sync {
    /// Stores a new token (its listing and its secret's hash).
    async fn insert_admin_token(&self, token: NewAdminToken) -> Result<(), StoreError>;

    /// The token with this hash (revoked or not) and its stored hash.
    async fn admin_token_by_hash(
        &self,
        hash: &str,
    ) -> Result<Option<(AdminToken, String)>, StoreError>;

    /// Every token, oldest first.
    async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>, StoreError>;

    /// Revokes a live token; `false` when there was none with this id.
    async fn revoke_admin_token(&self, now: DateTime<Utc>, id: &str) -> Result<bool, StoreError>;
}

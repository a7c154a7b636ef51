//! The host application's hook for ending a user's sessions after a reset.

use async_trait::async_trait;

/// Called once after a password reset completes. Failures are logged, not fatal: the password
/// has already changed.
#[async_trait]
pub trait SessionRevoker: Send + Sync {
    async fn revoke_sessions(&self, user_id: &str) -> Result<(), String>;
}

/// The default: there are no sessions to revoke.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopRevoker;

#[async_trait]
impl SessionRevoker for NoopRevoker {
    async fn revoke_sessions(&self, _user_id: &str) -> Result<(), String> {
        Ok(())
    }
}

//! Creating, listing, revoking and checking administrators' bearer tokens.

use super::{ClientContext, ResetService};
use crate::admin_token::{AdminToken, NewAdminToken, SCOPES};
use crate::error::ResetError;
use crate::rate_limit::{CounterHit, ip_key};
use crate::secret::new_token;

/// What tokens start with, so that they are easy to recognise in a leak scanner.
const PREFIX: &str = "rst_";

impl ResetService {
    /// A new token with `scopes` (each one of [`SCOPES`]); returns it with its secret, which
    /// is shown this once.
    pub async fn create_admin_token(
        &self,
        name: Option<String>,
        scopes: Vec<String>,
    ) -> Result<(AdminToken, String), ResetError> {
        if scopes.is_empty() {
            return Err(ResetError::InvalidRequest("give at least one scope".into()));
        }
        if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
            return Err(ResetError::InvalidRequest(format!(
                "unknown scope {bad:?}; the scopes are {}",
                SCOPES.join(", ")
            )));
        }
        let secret = format!("{PREFIX}{}", new_token(self.rng.as_ref()).expose());
        let id = uuid::Uuid::now_v7().to_string();
        let token = AdminToken {
            name: name.unwrap_or_else(|| format!("token {}", &id[..8])),
            id,
            scopes,
            created_at: self.clock.now(),
            revoked_at: None,
        };
        let record = NewAdminToken {
            token: token.clone(),
            hash: self.admin_hash(&secret),
        };
        self.store.insert_admin_token(record).await?;
        Ok((token, secret))
    }

    /// Every administrator's token, revoked ones included, oldest first.
    pub async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>, ResetError> {
        Ok(self.store.list_admin_tokens().await?)
    }

    /// `false` when there was no such live token.
    pub async fn revoke_admin_token(&self, id: &str) -> Result<bool, ResetError> {
        Ok(self.store.revoke_admin_token(self.clock.now(), id).await?)
    }

    /// The live token an `Authorization` header presents, whatever its scopes (callers go
    /// through [`ResetService::authorize`]). Failed attempts count against the client's per-IP
    /// attempt limit; past it they get `RateLimited` (a valid token still works).
    pub(super) async fn admin_token(
        &self,
        authorization: Option<&str>,
        ctx: &ClientContext,
    ) -> Result<AdminToken, ResetError> {
        match self.find_admin_token(authorization).await {
            Err(ResetError::AuthenticationFailed) => {
                let now = self.clock.now();
                let hits = ctx
                    .ip
                    .map(|ip| CounterHit {
                        key: format!("adm:ip:{}", ip_key(ip)),
                        limit: self.config.rate_limits.attempt_per_ip,
                    })
                    .into_iter()
                    .collect();
                self.enforce(now, hits, &[]).await?;
                Err(ResetError::AuthenticationFailed)
            }
            other => other,
        }
    }

    async fn find_admin_token(
        &self,
        authorization: Option<&str>,
    ) -> Result<AdminToken, ResetError> {
        let header = authorization
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .ok_or(ResetError::CredentialRequired)?;
        let (scheme, secret) = header
            .split_once(' ')
            .ok_or(ResetError::AuthenticationFailed)?;
        let secret = secret.trim();
        if !scheme.eq_ignore_ascii_case("bearer")
            || !secret.starts_with(PREFIX)
            || secret.len() > 200
        {
            return Err(ResetError::AuthenticationFailed);
        }
        let store = self.store.clone();
        let found = self
            .under_every_key(
                "admin",
                secret,
                |hash| {
                    let store = store.clone();
                    async move { store.admin_token_by_hash(&hash).await }
                },
                |hash, (_, stored): &(AdminToken, String)| hash.matches(stored),
            )
            .await?;
        match found {
            Some((token, _)) if token.revoked_at.is_none() => Ok(token),
            _ => Err(ResetError::AuthenticationFailed),
        }
    }

    fn admin_hash(&self, secret: &str) -> String {
        self.key.hash("admin", secret).0
    }
}

//! The service's tunables, with the defaults `docs/api.md` promises.

use serde::{Deserialize, Serialize};

use crate::password::HasherConfig;
use crate::policy::PolicyConfig;
use crate::rate_limit::{Limit, RateLimits};
use crate::store::Retention;

/// Everything about resets that an operator may tune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetConfig {
    /// Link token lifetime in seconds (default 30 minutes).
    pub link_ttl_secs: u64,
    /// Code lifetime in seconds (default 10 minutes).
    pub code_ttl_secs: u64,
    /// Digits in a code (default 6).
    pub code_digits: usize,
    /// Tries per code, on verify and complete together (default 12).
    pub code_max_attempts: u32,
    /// Code tries (right or wrong) per account across requests before new codes stop being issued
    /// (default 30 a day; links are still issued).
    pub guess_budget: Limit,
    /// The share of an account's guess budget that the tries of one client address may spend
    /// (default 10 a day): past it that address's tries find no code and spend no more of the
    /// account's budget, so a stranger cannot spend it all from one address and stop the
    /// owner's codes (docs/api.md, "Abuse and lockout").
    pub guess_budget_per_ip: Limit,
    /// The public base URL that links are built from; never the request's Host header.
    pub public_url: String,
    /// Whether an SMS courier is configured (else `channel: sms` sends nothing).
    pub sms_enabled: bool,
    /// Endpoints that receive every event (see [`crate::message::EventType`]); none by default.
    pub webhook_urls: Vec<String>,
    /// Origins (`https://app.example.com`) an administrator's `url_template` may lead to,
    /// beside `public_url`'s.
    pub allowed_link_origins: Vec<String>,
    /// The self-service rate limits, per identifier, client address and account.
    pub rate_limits: RateLimits,
    /// How long an accepted reset request keeps trying to reach an unavailable database before
    /// it is dropped (logged and counted), in seconds (default 60).
    pub issue_retry_secs: u64,
    /// How long spent secrets, counters, delivered mail and audit events are kept.
    pub retention: Retention,
    /// The password policy new passwords are held to.
    pub policy: PolicyConfig,
    /// The argon2id cost of password hashes.
    pub hasher: HasherConfig,
}

impl Default for ResetConfig {
    fn default() -> Self {
        Self {
            link_ttl_secs: 30 * 60,
            code_ttl_secs: 10 * 60,
            code_digits: 6,
            code_max_attempts: 12,
            guess_budget: Limit::new(30, 24 * 60 * 60),
            guess_budget_per_ip: Limit::new(10, 24 * 60 * 60),
            public_url: "http://127.0.0.1:8080".into(),
            sms_enabled: false,
            webhook_urls: Vec::new(),
            allowed_link_origins: Vec::new(),
            rate_limits: RateLimits::default(),
            issue_retry_secs: 60,
            retention: Retention::default(),
            policy: PolicyConfig::default(),
            hasher: HasherConfig::default(),
        }
    }
}

impl ResetConfig {
    /// The page a link token opens.
    pub fn reset_link(&self, token: &str) -> String {
        format!(
            "{}/reset-password?token={token}",
            self.public_url.trim_end_matches('/')
        )
    }

    /// The "this wasn't me" page.
    pub fn cancel_link(&self, token: &str) -> String {
        format!(
            "{}/reset-password/cancel?token={token}",
            self.public_url.trim_end_matches('/')
        )
    }
}

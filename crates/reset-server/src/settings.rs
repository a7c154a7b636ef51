//! The resolved settings: defaults, then the TOML file, then RESET_* variables and flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use figment::Figment;
use figment::providers::{Format as _, Serialized, Toml};
use ipnet::IpNet;
use reset_api::ServeLimits;
use reset_api::dialects::{Dialects, Mount};
use reset_core::breach::BreachPolicy;
use reset_core::store::Retention;
use reset_core::{HasherConfig, Limit, PolicyConfig, RateLimits, ResetConfig};
use serde::{Deserialize, Serialize};

use crate::cli::SettingsArgs;

/// Seconds in a day: the retention settings are in days.
const DAY: u64 = 24 * 60 * 60;

/// Every setting, with its default. See `reset-server --help` for each one's meaning.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub bind: String,
    pub metrics_bind: Option<String>,
    pub database_url: String,
    pub framework: String,
    pub data_dir: PathBuf,
    pub secret_key: Option<String>,
    pub public_url: String,
    pub mail_transport: String,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    pub smtp_url: Option<String>,
    pub template_dir: Option<PathBuf>,
    pub trusted_proxies: String,
    pub migrate_on_start: bool,
    pub db_max_connections: usize,
    pub header_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub keepalive_secs: u64,
    pub max_connections: usize,
    pub shutdown_grace_secs: u64,
    pub link_ttl_secs: u64,
    pub code_ttl_secs: u64,
    pub code_digits: usize,
    pub code_max_attempts: u32,
    pub guess_budget_per_day: u32,
    pub limit_request_per_identifier: u32,
    pub limit_request_per_ip: u32,
    pub limit_attempt_per_ip: u32,
    pub limit_window_secs: u64,
    pub limit_send_per_account: u32,
    pub limit_send_per_account_per_day: u32,
    pub retention_secrets_days: u64,
    pub retention_sent_days: u64,
    pub retention_dead_days: u64,
    pub retention_audit_days: u64,
    pub sweep_interval_secs: u64,
    pub issue_retry_secs: u64,
    pub breach_api_url: Option<String>,
    pub breach_file: Option<PathBuf>,
    pub breach_min_count: u64,
    pub breach_timeout_ms: u64,
    pub breach_fail_closed: bool,
    pub password_min_length: usize,
    pub password_max_length: usize,
    pub password_min_score: u8,
    pub password_history: u32,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub outbox_poll_ms: u64,
    pub outbox_max_age_secs: u64,
    pub outbox_max_attempts: u32,
    pub outbox_retry_base_ms: u64,
    pub sms_webhook_url: Option<String>,
    pub sms_webhook_secret: Option<String>,
    pub webhook_urls: String,
    pub webhook_secret: Option<String>,
    pub allowed_link_origins: String,
    pub dialect_misskey: bool,
    pub dialect_misskey_prefix: String,
    pub dialect_forgot_password: bool,
    pub dialect_forgot_password_prefix: String,
    pub forgot_password_hide_unknown: bool,
    pub dialect_unleash: bool,
    pub dialect_unleash_prefix: String,
    pub dialect_zitadel: bool,
    pub dialect_zitadel_prefix: String,
    pub log_format: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("metrics_bind", &self.metrics_bind)
            .field("database_url", &self.database_url)
            .field("framework", &self.framework)
            .field("public_url", &self.public_url)
            .field("mail_transport", &self.mail_transport)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        let core = ResetConfig::default();
        let dialects = Dialects::default();
        let limits = ServeLimits::default();
        Self {
            bind: "127.0.0.1:8080".into(),
            metrics_bind: None,
            database_url: "sqlite://data/reset.db".into(),
            framework: "axum".into(),
            data_dir: "data".into(),
            secret_key: None,
            public_url: core.public_url,
            mail_transport: "file".into(),
            mail_dir: "data/mail".into(),
            mail_from: "Password reset <no-reply@localhost>".into(),
            smtp_url: None,
            template_dir: None,
            trusted_proxies: String::new(),
            migrate_on_start: true,
            db_max_connections: 16,
            header_timeout_secs: limits.header_timeout.as_secs(),
            body_timeout_secs: limits.body_timeout.as_secs(),
            keepalive_secs: limits.keepalive.as_secs(),
            max_connections: limits.max_connections,
            shutdown_grace_secs: limits.shutdown_grace.as_secs(),
            link_ttl_secs: core.link_ttl_secs,
            code_ttl_secs: core.code_ttl_secs,
            code_digits: core.code_digits,
            code_max_attempts: core.code_max_attempts,
            guess_budget_per_day: core.guess_budget.max,
            limit_request_per_identifier: core.rate_limits.request_per_identifier.max,
            limit_request_per_ip: core.rate_limits.request_per_ip.max,
            limit_attempt_per_ip: core.rate_limits.attempt_per_ip.max,
            limit_window_secs: core.rate_limits.request_per_ip.window_secs,
            limit_send_per_account: core.rate_limits.send_per_account.max,
            limit_send_per_account_per_day: core.rate_limits.send_per_account_per_day.max,
            retention_secrets_days: core.retention.secrets_secs / DAY,
            retention_sent_days: core.retention.outbox_sent_secs / DAY,
            retention_dead_days: core.retention.outbox_dead_secs / DAY,
            retention_audit_days: core.retention.audit_secs / DAY,
            sweep_interval_secs: 300,
            issue_retry_secs: core.issue_retry_secs,
            breach_api_url: None,
            breach_file: None,
            breach_min_count: BreachPolicy::default().min_count,
            breach_timeout_ms: 1500,
            breach_fail_closed: false,
            password_min_length: core.policy.min_length,
            password_max_length: core.policy.max_length,
            password_min_score: core.policy.min_score,
            password_history: core.policy.history,
            argon2_memory_kib: core.hasher.memory_kib,
            argon2_iterations: core.hasher.iterations,
            argon2_parallelism: core.hasher.parallelism,
            outbox_poll_ms: 500,
            outbox_max_age_secs: 3600,
            outbox_max_attempts: 12,
            outbox_retry_base_ms: 5000,
            sms_webhook_url: None,
            sms_webhook_secret: None,
            webhook_urls: String::new(),
            webhook_secret: None,
            allowed_link_origins: String::new(),
            dialect_misskey: dialects.misskey.enabled,
            dialect_misskey_prefix: dialects.misskey.prefix,
            dialect_forgot_password: dialects.forgot_password.enabled,
            dialect_forgot_password_prefix: dialects.forgot_password.prefix,
            forgot_password_hide_unknown: dialects.forgot_password_hide_unknown,
            dialect_unleash: dialects.unleash.enabled,
            dialect_unleash_prefix: dialects.unleash.prefix,
            dialect_zitadel: dialects.zitadel.enabled,
            dialect_zitadel_prefix: dialects.zitadel.prefix,
            log_format: "text".into(),
        }
    }
}

impl Settings {
    /// Defaults, overridden by the TOML file, overridden by flags and RESET_* variables.
    pub fn load(config: Option<&Path>, args: &SettingsArgs) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = config {
            anyhow::ensure!(
                path.is_file(),
                "the config file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file(path));
        }
        let settings: Settings = figment
            .merge(Serialized::defaults(args))
            .extract()
            .context("invalid settings")?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (4..=10).contains(&self.code_digits),
            "code_digits must be 4 to 10"
        );
        anyhow::ensure!(
            self.password_min_score <= 4,
            "password_min_score must be 0 to 4"
        );
        anyhow::ensure!(
            self.password_min_length <= self.password_max_length,
            "password_min_length exceeds password_max_length"
        );
        anyhow::ensure!(
            self.header_timeout_secs >= 1
                && self.body_timeout_secs >= 1
                && self.keepalive_secs >= 1,
            "header_timeout_secs, body_timeout_secs and keepalive_secs must be at least 1"
        );
        anyhow::ensure!(
            self.max_connections >= 1,
            "max_connections must be at least 1"
        );
        anyhow::ensure!(
            self.code_max_attempts >= 1,
            "code_max_attempts must be at least 1"
        );
        url::Url::parse(&self.public_url).context("public_url must be an absolute URL")?;
        self.trusted_proxies()?;
        for prefix in [
            &self.dialect_misskey_prefix,
            &self.dialect_forgot_password_prefix,
            &self.dialect_unleash_prefix,
            &self.dialect_zitadel_prefix,
        ] {
            anyhow::ensure!(
                prefix.starts_with('/') && !prefix.contains(['?', '#', ' ']),
                "dialect prefixes start with / (got {prefix:?})"
            );
        }
        if let Some(url) = &self.sms_webhook_url {
            http_url(url).context("sms_webhook_url")?;
            anyhow::ensure!(
                self.sms_webhook_secret.is_some(),
                "sms_webhook_url needs sms_webhook_secret (RESET_SMS_WEBHOOK_SECRET) to sign with"
            );
        }
        for url in self.webhook_urls() {
            http_url(&url).context("webhook_urls")?;
        }
        for origin in list(&self.allowed_link_origins) {
            http_url(&origin).context("allowed_link_origins")?;
        }
        anyhow::ensure!(
            self.webhook_urls().is_empty() || self.webhook_secret.is_some(),
            "webhook_urls needs webhook_secret (RESET_WEBHOOK_SECRET) to sign with"
        );
        Ok(())
    }

    /// The dialects to mount, and where.
    pub fn dialects(&self) -> Dialects {
        let mount = |enabled: bool, prefix: &str| Mount {
            enabled,
            prefix: prefix.to_owned(),
        };
        Dialects {
            misskey: mount(self.dialect_misskey, &self.dialect_misskey_prefix),
            forgot_password: mount(
                self.dialect_forgot_password,
                &self.dialect_forgot_password_prefix,
            ),
            forgot_password_hide_unknown: self.forgot_password_hide_unknown,
            unleash: mount(self.dialect_unleash, &self.dialect_unleash_prefix),
            zitadel: mount(self.dialect_zitadel, &self.dialect_zitadel_prefix),
        }
    }

    /// The webhook endpoints, from the comma-separated setting.
    pub fn webhook_urls(&self) -> Vec<String> {
        list(&self.webhook_urls)
    }

    /// The trusted proxies as networks (a bare IP is a /32 or /128).
    pub fn trusted_proxies(&self) -> anyhow::Result<Vec<IpNet>> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .with_context(|| format!("trusted_proxies: {s:?} is not an IP or CIDR"))
            })
            .collect()
    }

    /// The HTTP server's deadlines, connection cap and shutdown grace (every adapter's).
    pub fn serve_limits(&self) -> ServeLimits {
        ServeLimits {
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            keepalive: Duration::from_secs(self.keepalive_secs),
            max_connections: self.max_connections,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
        }
    }

    /// What the service does with the breach check's answers.
    pub fn breach_policy(&self) -> BreachPolicy {
        BreachPolicy {
            min_count: self.breach_min_count.max(1),
            fail_closed: self.breach_fail_closed,
            ..BreachPolicy::default()
        }
    }

    /// The core's configuration.
    pub fn reset_config(&self) -> ResetConfig {
        let window = self.limit_window_secs;
        ResetConfig {
            link_ttl_secs: self.link_ttl_secs,
            code_ttl_secs: self.code_ttl_secs,
            code_digits: self.code_digits,
            code_max_attempts: self.code_max_attempts,
            guess_budget: Limit::new(self.guess_budget_per_day, 24 * 60 * 60),
            public_url: self.public_url.clone(),
            sms_enabled: self.sms_webhook_url.is_some(),
            webhook_urls: self.webhook_urls(),
            allowed_link_origins: list(&self.allowed_link_origins),
            rate_limits: RateLimits {
                request_per_identifier: Limit::new(self.limit_request_per_identifier, window),
                request_per_ip: Limit::new(self.limit_request_per_ip, window),
                attempt_per_ip: Limit::new(self.limit_attempt_per_ip, window),
                send_per_account: Limit::new(self.limit_send_per_account, 15 * 60),
                send_per_account_per_day: Limit::new(self.limit_send_per_account_per_day, DAY),
            },
            issue_retry_secs: self.issue_retry_secs,
            retention: Retention {
                secrets_secs: self.retention_secrets_days.saturating_mul(DAY),
                outbox_sent_secs: self.retention_sent_days.saturating_mul(DAY),
                outbox_dead_secs: self.retention_dead_days.saturating_mul(DAY),
                audit_secs: self.retention_audit_days.saturating_mul(DAY),
            },
            policy: PolicyConfig {
                min_length: self.password_min_length,
                max_length: self.password_max_length,
                min_score: self.password_min_score,
                history: self.password_history,
                forbid_identity: true,
            },
            hasher: HasherConfig {
                memory_kib: self.argon2_memory_kib,
                iterations: self.argon2_iterations,
                parallelism: self.argon2_parallelism,
            },
        }
    }
}

/// The items of a comma-separated setting.
fn list(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An absolute `http` or `https` URL.
fn http_url(s: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(s).with_context(|| format!("{s:?} is not an absolute URL"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https"),
        "{s:?} is not an http(s) URL"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("reset.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\ncode_digits = 8\n").expect("write");
        let args = SettingsArgs {
            code_digits: Some(7),
            ..SettingsArgs::default()
        };
        let s = Settings::load(Some(&file), &args).expect("load");
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.code_digits, 7);
        assert_eq!(s.database_url, "sqlite://data/reset.db");
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("reset.toml");
        std::fs::write(&file, "bnid = \"x\"\n").expect("write");
        assert!(Settings::load(Some(&file), &SettingsArgs::default()).is_err());
        let args = SettingsArgs {
            trusted_proxies: Some("10.0.0.0/8, nope".into()),
            ..SettingsArgs::default()
        };
        assert!(Settings::load(None, &args).is_err());
        let args = SettingsArgs {
            trusted_proxies: Some("10.0.0.0/8, 127.0.0.1".into()),
            ..SettingsArgs::default()
        };
        assert_eq!(
            Settings::load(None, &args)
                .expect("load")
                .trusted_proxies()
                .expect("nets")
                .len(),
            2
        );
    }
}

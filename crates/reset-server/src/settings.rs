//! The resolved settings: defaults, then the TOML file, then RESET_* variables and flags.
//!
//! Every setting is declared once, in the `settings!` list below: a doc line, a key, a type and
//! a default. To add one, add a line there and read it from [`Settings`] where it is used; its
//! flag, `RESET_*` variable, TOML key, default and help line follow (see [`declare`]). Then add
//! it to the README's configuration table, which a test here keeps in step.

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

pub mod declare;

use declare::settings;

/// Seconds in a day: the retention settings are in days.
const DAY: u64 = 24 * 60 * 60;

// Every setting, declared once: its doc is its help line; its key is the `Settings` field, the
// TOML key, the flag (`--`, with `-` for `_`) and the variable (`RESET_`, in capitals).
settings! {
    // Defaults owned by other crates, read from their own `Default`s.
    let core = ResetConfig::default();
    let limits = ServeLimits::default();
    let dialects = Dialects::default();
    let ldap = reset_ldap::LdapOptions::default();

    /// Address to listen on
    bind: String = "127.0.0.1:8080".into();
    /// Address of a second listener that serves only GET /metrics (Prometheus text). Keep it
    /// private: its outbox and delivery series move only when a real account is asked for
    metrics_bind: Option<String> = None, shown "off";
    /// postgres://…, mysql://… or sqlite://path. PostgreSQL: sslmode, sslrootcert, several
    /// hosts with target_session_attrs=read-write, pgbouncer=true behind a transaction pooler;
    /// MySQL: ssl-mode, ssl-ca (docs/deploy.md)
    database_url: String = "sqlite://data/reset.db".into(), secret = true;
    /// PostgreSQL: URL of the LISTEN connection and the migrations, which need a session of
    /// their own (PostgreSQL itself when database_url goes through a transaction pooler)
    database_listen_url: Option<String> = None, shown "database_url", secret = true;
    /// Web framework serving the routes: actix, axum or warp
    framework: String = "axum".into();
    /// Folder for the generated secret key
    data_dir: PathBuf = "data".into();
    /// Base64 key (≥ 32 bytes) for the secrets' HMAC
    secret_key: Option<String> = None, shown "generated into the data folder", secret = true;
    /// Several keys for a rotation, ID=BASE64 comma-separated, the active one first (instead of
    /// secret_key; the key file holds them when neither is set)
    secret_keys: Option<String> = None, secret = true;
    /// Base URL of links in messages (never taken from the Host header)
    public_url: String = core.public_url;
    /// file, log or smtp
    mail_transport: String = "file".into();
    /// Folder of the file transport's .eml files
    mail_dir: PathBuf = "data/mail".into();
    /// Sender of messages
    mail_from: String = "Password reset <no-reply@localhost>".into();
    /// SMTP server for mail_transport = smtp: smtp://host:port, smtps://…,
    /// smtp://user:pass@host?tls=required
    smtp_url: Option<String> = None, secret = true;
    /// Send the SMTP URL's credentials over a connection without TLS (plain smtp:// or
    /// tls=opportunistic); refused at start otherwise. Only for a relay on the same host
    smtp_allow_plaintext_auth: bool = false;
    /// Folder of template overrides: <lang>/<kind>.{subject.txt,txt,html,sms.txt} (lang: en, ja,
    /// de; kind: reset_link, reset_code, password_changed)
    template_dir: Option<PathBuf> = None, shown "built-in only";
    /// Comma-separated proxies (IP or CIDR) whose X-Forwarded-For is believed
    trusted_proxies: String = String::new();
    /// Apply migrations when serving starts
    migrate_on_start: bool = true;
    /// Where accounts live: builtin (the users table in database_url), ldap (ldap_* below), sql
    /// (an application's own table, sql_* below) or http (a team's own account service,
    /// http_directory_* below)
    directory: String = "builtin".into();
    /// LDAP server for directory = ldap: ldap://host:389, or ldaps://host:636
    ldap_url: Option<String> = None;
    /// Upgrade an ldap:// connection with StartTLS before binding
    ldap_starttls: bool = false;
    /// PEM file of the CA of the LDAP server's certificate (default: the public roots)
    ldap_ca_file: Option<PathBuf> = None, shown "public roots";
    /// DN the service binds as to search, and to write passwords
    ldap_bind_dn: String = String::new();
    /// Its password
    ldap_bind_password: Option<String> = None, secret = true;
    /// A file holding its password (instead of ldap_bind_password)
    ldap_bind_password_file: Option<PathBuf> = None;
    /// Where accounts are searched (the whole subtree)
    ldap_base_dn: String = String::new();
    /// Filter for a username ({username} is replaced, escaped per RFC 4515)
    ldap_username_filter: String = ldap.username_filter;
    /// Filter for an email address ({email} is replaced, escaped per RFC 4515)
    ldap_email_filter: String = ldap.email_filter;
    /// Attribute that identifies an account for good
    ldap_id_attribute: String = ldap.id_attribute;
    /// Attribute holding the username
    ldap_username_attribute: String = ldap.username_attribute;
    /// Attribute holding the email addresses
    ldap_email_attribute: String = ldap.email_attribute;
    /// Attribute holding the language messages are sent in (empty: none)
    ldap_locale_attribute: String = ldap.locale_attribute.unwrap_or_default();
    /// Attribute holding the phone number SMS go to (empty: none)
    ldap_phone_attribute: String = ldap.phone_attribute.unwrap_or_default();
    /// How a new password is written: password_modify (RFC 3062; the directory hashes it) or
    /// replace:SCHEME (userPassword replaced: plaintext, bcrypt, argon2id)
    ldap_password_write: String = "password_modify".into();
    /// Seconds one LDAP connection, bind or search may take; then 503
    ldap_timeout_secs: u64 = ldap.timeout.as_secs();
    /// The application's database for directory = sql: postgres://…, mysql://… or sqlite://…
    sql_directory_url: Option<String> = None, secret = true;
    /// Finds an account by :username; returns the columns id, username, email as text (and locale, phone when selected)
    sql_find_by_username: Option<String> = None;
    /// Finds an account by :email; the same columns
    sql_find_by_email: Option<String> = None;
    /// Finds an account by :id; the same columns
    sql_find_by_id: Option<String> = None;
    /// Stores :password for :id (one row)
    sql_set_password: Option<String> = None;
    /// Scheme :password is encoded in: argon2id, bcrypt[:COST], pbkdf2_sha256[:ITERATIONS]
    /// (Django's) or plaintext
    sql_password_scheme: String = "argon2id".into();
    /// Base URL of the account service for directory = http (POST /find, /get, /set-password)
    http_directory_url: Option<String> = None;
    /// Signing secret of its calls (whsec_<base64>, or ≥ 16 characters; Standard Webhooks)
    http_directory_secret: Option<String> = None, secret = true;
    /// Scheme a new password is sent in: argon2id, bcrypt[:COST], pbkdf2_sha256[:ITERATIONS] or
    /// plaintext (for a service that hashes it itself)
    http_directory_password_scheme: String = "argon2id".into();
    /// Milliseconds one call may take; then 503
    http_directory_timeout_ms: u64 = 5000;
    /// PostgreSQL / MySQL pool size (PostgreSQL: plus one connection for LISTEN)
    db_max_connections: usize = 16;
    /// Seconds a client has to send a request's headers (from connecting, or from the first
    /// byte of a later request); then the connection is closed unanswered
    header_timeout_secs: u64 = limits.header_timeout.as_secs();
    /// Seconds a client has to send a request's body, from the end of its headers; then 408
    /// and the connection is closed
    body_timeout_secs: u64 = limits.body_timeout.as_secs();
    /// Seconds an idle keep-alive connection stays open between requests
    keepalive_secs: u64 = limits.keepalive.as_secs();
    /// Seconds a client may take none of a response before its connection is closed
    write_timeout_secs: u64 = limits.write_timeout.as_secs();
    /// Connections served at once; past it new ones wait in the listen backlog
    max_connections: usize = limits.max_connections, shown "the open-file soft limit less 64, at least 64";
    /// Connections from one client address at once (IPv6: one /64); past it a new one is closed
    /// (0 = no such cap; the trusted proxies are exempt)
    max_connections_per_ip: usize = limits.max_connections_per_ip;
    /// Seconds requests in flight get to finish on SIGTERM/SIGINT before their connections are
    /// cut; idle and slow connections are closed at once
    shutdown_grace_secs: u64 = limits.shutdown_grace.as_secs();
    /// Link lifetime in seconds
    link_ttl_secs: u64 = core.link_ttl_secs;
    /// Code lifetime in seconds
    code_ttl_secs: u64 = core.code_ttl_secs;
    /// Digits per code, 4..=10
    code_digits: usize = core.code_digits;
    /// Tries per code
    code_max_attempts: u32 = core.code_max_attempts;
    /// Code tries per account per day before codes stop being issued
    guess_budget_per_day: u32 = core.guess_budget.max;
    /// The share of an account's daily guess budget that one client address's code tries may
    /// spend; past it they find no code (a stranger cannot spend the owner's budget alone)
    guess_budget_per_ip_per_day: u32 = core.guess_budget_per_ip.max;
    /// Reset requests per identifier per window, 0 = off
    limit_request_per_identifier: u32 = core.rate_limits.request_per_identifier.max;
    /// Reset requests per client IP per window, 0 = off
    limit_request_per_ip: u32 = core.rate_limits.request_per_ip.max;
    /// verify/complete/cancel calls per client IP per window, 0 = off
    limit_attempt_per_ip: u32 = core.rate_limits.attempt_per_ip.max;
    /// Rate-limit window in seconds
    limit_window_secs: u64 = core.rate_limits.request_per_ip.window_secs;
    /// Messages to one account (all its identifiers, addresses and dialects) per 15 minutes;
    /// past it requests are answered as usual and nothing is sent, 0 = off
    limit_send_per_account: u32 = core.rate_limits.send_per_account.max;
    /// Messages to one account per day, 0 = off
    limit_send_per_account_per_day: u32 = core.rate_limits.send_per_account_per_day.max;
    /// Messages to one account on the requests of one client address per 15 minutes (the cap
    /// a stranger reaches first, leaving the owner the rest of the account's), 0 = off
    limit_send_per_account_from_ip: u32 = core.rate_limits.send_per_account_from_ip.max;
    /// Messages to one account on the requests of one client address per day, 0 = off
    limit_send_per_account_from_ip_per_day: u32 = core.rate_limits.send_per_account_from_ip_per_day.max;
    /// Secrets administrators may issue for one account per hour (links and codes, sent or
    /// returned), 0 = off; their codes also fall under the account's guess budget
    limit_admin_issue_per_account: u32 = core.rate_limits.admin_issue_per_account.max;
    /// Days an expired reset secret is kept before the sweep deletes it
    retention_secrets_days: u64 = core.retention.secrets_secs / DAY;
    /// Days a delivered outbox row is kept
    retention_sent_days: u64 = core.retention.outbox_sent_secs / DAY;
    /// Days a dead-lettered outbox row is kept
    retention_dead_days: u64 = core.retention.outbox_dead_secs / DAY;
    /// Days an audit event is kept
    retention_audit_days: u64 = core.retention.audit_secs / DAY;
    /// Seconds between retention sweeps, 0 = no sweep
    sweep_interval_secs: u64 = 300;
    /// Seconds an accepted reset request keeps waiting for an unreachable database (with
    /// backoff) before it is dropped, logged and counted
    issue_retry_secs: u64 = core.issue_retry_secs;
    /// Breached-password check through a Pwned Passwords range API, e.g.
    /// https://api.pwnedpasswords.com (only 5 hex digits of each password's SHA-1 are sent)
    breach_api_url: Option<String> = None, shown "off";
    /// Breached-password check against an offline corpus (sorted SHA1HEX:COUNT lines, as the
    /// Pwned Passwords downloader writes them)
    breach_file: Option<PathBuf> = None, shown "off";
    /// Refuse a password seen in breaches at least this often
    breach_min_count: u64 = BreachPolicy::default().min_count;
    /// Range API timeout in milliseconds
    breach_timeout_ms: u64 = 1500;
    /// When the check cannot run: true answers 503 with Retry-After, false lets the password
    /// through with an audit event and a counter
    breach_fail_closed: bool = false;
    /// Fewest characters in a new password
    password_min_length: usize = core.policy.min_length;
    /// Most characters in a new password
    password_max_length: usize = core.policy.max_length;
    /// Lowest zxcvbn score, 0..=4
    password_min_score: u8 = core.policy.min_score;
    /// Refuse the last N passwords, 0 = off
    password_history: u32 = core.policy.history;
    /// argon2id memory in KiB
    argon2_memory_kib: u32 = core.hasher.memory_kib;
    /// argon2id iterations
    argon2_iterations: u32 = core.hasher.iterations;
    /// argon2id lanes
    argon2_parallelism: u32 = core.hasher.parallelism;
    /// Outbox poll interval in milliseconds: a safety net, since a queued message wakes the
    /// worker at once (this process's own; other instances' through LISTEN/NOTIFY on PostgreSQL;
    /// on MySQL other instances' messages wait for the poll)
    outbox_poll_ms: u64 = 5000;
    /// Undelivered messages older than this are dead-lettered, in seconds
    outbox_max_age_secs: u64 = 3600;
    /// Failed tries before a message is dead-lettered
    outbox_max_attempts: u32 = 12;
    /// First retry delay in milliseconds; doubles per failure, up to an hour
    outbox_retry_base_ms: u64 = 5000;
    /// SMS gateway: a signed JSON POST {message_id, recipient, text, locale, kind} per message;
    /// enables channel = sms
    sms_webhook_url: Option<String> = None;
    /// Signing secret for the SMS gateway (whsec_<base64>, or ≥ 16 characters)
    sms_webhook_secret: Option<String> = None, secret = true;
    /// The SMS gateway's previous signing secret, during a rotation: both signatures are sent
    sms_webhook_previous_secret: Option<String> = None, secret = true;
    /// Comma-separated URLs that receive every event (password_reset.requested|completed|cancelled,
    /// password.changed), signed as Standard Webhooks
    webhook_urls: String = String::new();
    /// Signing secret for webhooks (whsec_<base64>, or ≥ 16 characters)
    webhook_secret: Option<String> = None, secret = true;
    /// The webhooks' previous signing secret, during a rotation: both signatures are sent
    webhook_previous_secret: Option<String> = None, secret = true;
    /// Comma-separated origins (https://app.example.com) an admin's url_template may link to;
    /// the public URL's is always allowed
    allowed_link_origins: String = String::new();
    /// Mount the Misskey dialect (request-reset-password, reset-password)
    dialect_misskey: bool = dialects.misskey.enabled;
    /// Prefix of the Misskey dialect
    dialect_misskey_prefix: String = dialects.misskey.prefix;
    /// Mount the code-based forgot-password dialect (sendEmail, checkCode, resetPassword)
    dialect_forgot_password: bool = dialects.forgot_password.enabled;
    /// Prefix of the forgot-password dialect
    dialect_forgot_password_prefix: String = dialects.forgot_password.prefix;
    /// Answer unknown usernames in the forgot-password dialect as known ones, instead of its 404
    forgot_password_hide_unknown: bool = dialects.forgot_password_hide_unknown;
    /// Mount the Unleash dialect (password, validate, password-email)
    dialect_unleash: bool = dialects.unleash.enabled;
    /// Prefix of the Unleash dialect
    dialect_unleash_prefix: String = dialects.unleash.prefix;
    /// Mount the Zitadel v2 dialect (users/{userId}/password_reset, users/{userId}/password, and
    /// the Connect methods zitadel.user.v2.UserService/PasswordReset and SetPassword; bearer)
    dialect_zitadel: bool = dialects.zitadel.enabled;
    /// Prefix of the Zitadel dialect's REST paths; its Connect service sits at this prefix
    /// without its last /v2
    dialect_zitadel_prefix: String = dialects.zitadel.prefix;
    /// text or json (one object per line, with trace_id and span_id when tracing is on)
    log_format: String = "text".into();
    /// Make a caller's W3C traceparent the parent of its request's span (when tracing is on);
    /// false at a public edge, where callers' trace ids are not to be believed
    trace_accept_traceparent: bool = true;
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("metrics_bind", &self.metrics_bind)
            .field(
                "database_url",
                &reset_diesel::redact_url(&self.database_url),
            )
            .field("framework", &self.framework)
            .field("public_url", &self.public_url)
            .field("mail_transport", &self.mail_transport)
            .finish_non_exhaustive()
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
            write_timeout: Duration::from_secs(self.write_timeout_secs.max(1)),
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
        }
    }

    /// The LDAP directory's options (`directory = ldap`).
    pub fn ldap_options(&self) -> anyhow::Result<reset_ldap::LdapOptions> {
        let url = self
            .ldap_url
            .clone()
            .context("directory = ldap needs ldap_url (RESET_LDAP_URL)")?;
        let bind_password = match (&self.ldap_bind_password, &self.ldap_bind_password_file) {
            (Some(p), None) => p.clone(),
            (None, Some(file)) => std::fs::read_to_string(file)
                .with_context(|| format!("reading ldap_bind_password_file {}", file.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            (None, None) => String::new(),
            (Some(_), Some(_)) => {
                anyhow::bail!("set ldap_bind_password or ldap_bind_password_file, not both")
            }
        };
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Ok(reset_ldap::LdapOptions {
            url,
            tls: if self.ldap_starttls {
                reset_ldap::Tls::StartTls
            } else {
                reset_ldap::Tls::Url
            },
            ca_file: self.ldap_ca_file.clone(),
            bind_dn: self.ldap_bind_dn.clone(),
            bind_password,
            base_dn: self.ldap_base_dn.clone(),
            username_filter: self.ldap_username_filter.clone(),
            email_filter: self.ldap_email_filter.clone(),
            id_attribute: self.ldap_id_attribute.clone(),
            username_attribute: self.ldap_username_attribute.clone(),
            email_attribute: self.ldap_email_attribute.clone(),
            locale_attribute: optional(&self.ldap_locale_attribute),
            phone_attribute: optional(&self.ldap_phone_attribute),
            password_write: self.ldap_password_write.parse()?,
            timeout: Duration::from_secs(self.ldap_timeout_secs.max(1)),
        })
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
            guess_budget_per_ip: Limit::new(self.guess_budget_per_ip_per_day, 24 * 60 * 60),
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
                send_per_account_from_ip: Limit::new(self.limit_send_per_account_from_ip, 15 * 60),
                send_per_account_from_ip_per_day: Limit::new(
                    self.limit_send_per_account_from_ip_per_day,
                    DAY,
                ),
                admin_issue_per_account: Limit::new(self.limit_admin_issue_per_account, 60 * 60),
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

/// An absolute http(s) URL of at most 2,048 characters (the longest recipient every store
/// keeps: MySQL's `outbox.recipient`).
fn http_url(s: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        s.chars().count() <= 2048,
        "a URL of more than 2,048 characters"
    );
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

    /// A webhook URL longer than every store keeps as a recipient is refused at start.
    #[test]
    fn webhook_urls_fit_every_store() {
        let settings = Settings {
            webhook_urls: format!("https://hooks.example/{}", "a".repeat(2048)),
            webhook_secret: Some("a raw webhook secret of some length".into()),
            ..Settings::default()
        };
        let e = settings.validate().expect_err("too long");
        assert!(format!("{e:#}").contains("2,048"), "{e:#}");
    }

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

    /// Each setting's flag as clap built it from the declaration.
    fn flags() -> Vec<clap::Arg> {
        use clap::Args as _;
        SettingsArgs::augment_args(clap::Command::new("reset-server"))
            .get_arguments()
            .cloned()
            .collect()
    }

    /// What a flag's help line gives as its default.
    fn default_in_help(flag: &clap::Arg) -> Option<String> {
        let help = flag.get_help()?.to_string();
        let (_, default) = help.rsplit_once(" [default: ")?;
        let default = default.strip_suffix(']')?;
        (!default.is_empty()).then(|| default.trim_matches('"').to_owned())
    }

    #[test]
    fn every_setting_has_its_flag_variable_key_and_default_in_its_help_line() {
        let flags = flags();
        assert_eq!(flags.len(), DECLARED.len());
        let defaults = serde_json::to_value(Settings::default()).expect("serialise");
        let mut keys: Vec<&str> = defaults
            .as_object()
            .expect("a table")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut declared: Vec<&str> = DECLARED.iter().map(|d| d.key).collect();
        declared.sort_unstable();
        assert_eq!(keys, declared, "the TOML keys are the declared keys");
        for (flag, d) in flags.iter().zip(DECLARED) {
            assert_eq!(flag.get_id().as_str(), d.key);
            assert_eq!(flag.get_long(), Some(d.key.replace('_', "-").as_str()));
            assert_eq!(d.variable, format!("RESET_{}", d.key.to_uppercase()));
            assert_eq!(flag.get_env().and_then(|v| v.to_str()), Some(d.variable));
            assert!(flag.is_global_set(), "{}: not global", d.key);
            let Some(default) = default_in_help(flag) else {
                panic!("{}: no [default: …] in its help line", d.key);
            };
            // A default in words (`shown`) replaces a value that says nothing or varies.
            let value = declare::shown(&defaults[d.key]);
            assert!(
                default == value.trim_matches('"') || value == "none" || d.key == "max_connections",
                "{}: help says {default:?}, the default is {value}",
                d.key
            );
        }
    }

    #[test]
    fn secrets_are_never_printed_by_the_help() {
        for flag in flags() {
            let secret = [
                "database_url",
                "database_listen_url",
                "ldap_bind_password",
                "sql_directory_url",
                "http_directory_secret",
                "secret_key",
                "secret_keys",
                "smtp_url",
                "sms_webhook_secret",
                "sms_webhook_previous_secret",
                "webhook_secret",
                "webhook_previous_secret",
            ]
            .contains(&flag.get_id().as_str());
            assert_eq!(flag.is_hide_env_values_set(), secret, "{}", flag.get_id());
        }
    }

    /// The OpenTelemetry variables `reset-server --help` lists are the README's, in its
    /// Configuration section.
    #[test]
    fn the_readme_lists_the_opentelemetry_variables_of_the_help() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
                .expect("README.md");
        let section = readme
            .split("\n## ")
            .find(|s| s.starts_with("Configuration"))
            .expect("a Configuration section");
        let helped: Vec<&str> = reset_telemetry::otlp::HELP
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.starts_with("OTEL_"))
            .collect();
        assert!(helped.len() >= 8, "{helped:?}");
        for name in helped {
            let stem = name.strip_suffix("_ARG").unwrap_or(name);
            assert!(
                section.contains(&format!("`{stem}`")),
                "{name} is not in the README"
            );
        }
    }

    /// The README's configuration table lists every setting under its variable, with the
    /// default of the help line, and nothing else. A row may shorten its variables:
    /// `RESET_LINK_TTL_SECS` / `RESET_CODE_TTL_SECS`, `RESET_PASSWORD_MIN_LENGTH` /
    /// `_MAX_LENGTH` (the suffix replaces the first one's end), `RESET_DIALECT_<NAME>`.
    #[test]
    fn the_readme_lists_every_setting_with_its_default() {
        let readme =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
                .expect("README.md");
        let section = readme
            .split("\n## ")
            .find(|s| s.starts_with("Configuration"))
            .expect("a Configuration section");
        let rows: Vec<Vec<&str>> = section
            .lines()
            .filter(|l| l.starts_with("| `RESET_"))
            .map(|l| l.split('|').map(str::trim).collect())
            .collect();
        // `RESET_DIALECT_<NAME>` matches `RESET_DIALECT_MISSKEY` and the like.
        let fits = |name: &str, pattern: &str| match pattern.split_once("<NAME>") {
            Some((pre, post)) => {
                name.len() > pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post)
            }
            None => name == pattern,
        };
        let ticked = |cell: &str| -> Vec<String> {
            cell.split(" / ")
                .map(|p| p.trim().trim_matches('`').to_owned())
                .collect()
        };
        let flags = flags();
        let mut used = vec![false; rows.len()];
        for (flag, d) in flags.iter().zip(DECLARED) {
            let mut found = false;
            for (row, used) in rows.iter().zip(&mut used) {
                let names = ticked(row[1]);
                // From the right: `_PREFIX` is a closer fit than `RESET_DIALECT_<NAME>`.
                let at = names.iter().rposition(|piece| {
                    fits(d.variable, piece)
                        || piece.starts_with('_')
                            && d.variable.strip_suffix(piece.as_str()).is_some_and(|stem| {
                                let first = &names[0];
                                fits(stem, first) || first.starts_with(&format!("{stem}_"))
                            })
                });
                if let Some(at) = at {
                    found = true;
                    *used = true;
                    let defaults: Vec<&str> = row[2].split(" / ").map(str::trim).collect();
                    let readme_default = defaults
                        .get(at)
                        .filter(|_| defaults.len() == names.len())
                        .and_then(|v| v.strip_prefix('`')?.strip_suffix('`'));
                    if let Some(readme_default) = readme_default {
                        assert_eq!(
                            Some(readme_default),
                            default_in_help(flag).as_deref(),
                            "README's default of {}",
                            d.variable
                        );
                    }
                } else if row[3..].join("|").contains(&format!("`{}`", d.variable)) {
                    found = true;
                }
            }
            assert!(found, "README's configuration table lacks {}", d.variable);
        }
        for (row, used) in rows.iter().zip(used) {
            assert!(
                used,
                "README lists a setting the server does not have: {}",
                row[1]
            );
        }
    }
}

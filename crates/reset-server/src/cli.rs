//! The command line. Every setting is a flag, a `RESET_*` variable and a key of the optional
//! TOML file (`--config`), in that order of precedence.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

/// A self-hostable password-reset service.
///
/// With no command, `serve` runs: on SQLite at data/reset.db, mail written to data/mail.
#[derive(Debug, Parser)]
#[command(name = "reset-server", version, max_term_width = 100)]
pub struct Cli {
    /// A TOML file of settings (keys as the flags, with `_` for `-`); flags and RESET_*
    /// variables override it.
    #[arg(long, env = "RESET_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub settings: SettingsArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage admin tokens (bearer credentials of the admin API and the Zitadel dialect).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Inspect and re-queue outbox messages.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (shown this once; only its hash is kept).
    Create {
        /// password:reset (issue resets, set a password with a code) or password:write (set a
        /// password without one); repeat for both.
        #[arg(long = "scope", required = true, value_parser = ["password:reset", "password:write"])]
        scopes: Vec<String>,
        /// A name to recognise it by in `token list`.
        #[arg(long)]
        name: Option<String>,
    },
    /// List tokens: id, name, scopes, created, revoked.
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List messages, newest first: id, state, kind, channel, recipient, tries, queued, last error.
    List {
        /// Only messages in this state.
        #[arg(long, value_parser = ["pending", "retrying", "dead", "sent"])]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Queue dead-lettered messages again, as new (no tries, maximum age counted afresh). Reset
    /// links and codes are not retried: their secrets were dropped; the user asks again.
    Retry {
        /// The messages to retry.
        #[arg(required_unless_present = "all_dead", conflicts_with = "all_dead")]
        ids: Vec<String>,
        /// Every dead-lettered message.
        #[arg(long)]
        all_dead: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account and print its id.
    Add {
        #[arg(long)]
        username: String,
        /// An address of the account (repeat for several; the first gets notices). An account
        /// needs an address or a phone number (an SMS-only account has no address).
        #[arg(long = "email", required_unless_present = "phone")]
        emails: Vec<String>,
        /// Initial password (not held to the policy).
        #[arg(long)]
        password: Option<String>,
        /// A phone number for SMS resets.
        #[arg(long)]
        phone: Option<String>,
        /// Preferred message language (en, ja, de).
        #[arg(long)]
        locale: Option<String>,
    },
    /// List accounts.
    List,
}

/// The settings that flags and RESET_* variables may set; unset ones come from the TOML file,
/// then from the defaults shown.
#[derive(Debug, Clone, Default, Args, Serialize)]
#[command(next_help_heading = "Settings")]
pub struct SettingsArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "RESET_BIND", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// Address of a second listener that serves only GET /metrics (Prometheus text). Keep it
    /// private: its outbox and delivery series move only when a real account is asked for
    /// [default: off]
    #[arg(long, env = "RESET_METRICS_BIND", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_bind: Option<String>,
    /// postgres://… or sqlite://path [default: sqlite://data/reset.db]
    #[arg(long, env = "RESET_DATABASE_URL", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Web framework serving the routes: actix, axum or warp [default: axum]
    #[arg(long, env = "RESET_FRAMEWORK", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Folder for the generated secret key [default: data]
    #[arg(long, env = "RESET_DATA_DIR", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Base64 key (≥ 32 bytes) for the secrets' HMAC; generated into the data folder when unset
    #[arg(long, env = "RESET_SECRET_KEY", global = true, hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// Base URL of links in messages (never taken from the Host header) [default: http://127.0.0.1:8080]
    #[arg(long, env = "RESET_PUBLIC_URL", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// file, log or smtp [default: file]
    #[arg(long, env = "RESET_MAIL_TRANSPORT", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_transport: Option<String>,
    /// Folder of the file transport's .eml files [default: data/mail]
    #[arg(long, env = "RESET_MAIL_DIR", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_dir: Option<PathBuf>,
    /// Sender of messages [default: "Password reset <no-reply@localhost>"]
    #[arg(long, env = "RESET_MAIL_FROM", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_from: Option<String>,
    /// SMTP server for mail_transport = smtp: smtp://host:port, smtps://…, smtp://user:pass@host?tls=required
    #[arg(long, env = "RESET_SMTP_URL", global = true, hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// Folder of template overrides: <lang>/<kind>.{subject.txt,txt,html,sms.txt} (lang: en, ja, de; kind: reset_link, reset_code, password_changed) [default: built-in only]
    #[arg(long, env = "RESET_TEMPLATE_DIR", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_dir: Option<PathBuf>,
    /// Comma-separated proxies (IP or CIDR) whose X-Forwarded-For is believed [default: none]
    #[arg(long, env = "RESET_TRUSTED_PROXIES", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_proxies: Option<String>,
    /// Apply migrations when serving starts [default: true]
    #[arg(long, env = "RESET_MIGRATE_ON_START", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrate_on_start: Option<bool>,
    /// PostgreSQL pool size [default: 16]
    #[arg(long, env = "RESET_DB_MAX_CONNECTIONS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers (from connecting, or from the first
    /// byte of a later request); then the connection is closed unanswered [default: 10]
    #[arg(long, env = "RESET_HEADER_TIMEOUT_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a client has to send a request's body, from the end of its headers; then 408
    /// and the connection is closed [default: 15]
    #[arg(long, env = "RESET_BODY_TIMEOUT_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_timeout_secs: Option<u64>,
    /// Seconds an idle keep-alive connection stays open between requests [default: 30]
    #[arg(long, env = "RESET_KEEPALIVE_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive_secs: Option<u64>,
    /// Connections served at once; past it new ones wait in the listen backlog [default: the
    /// open-file limit less 64]
    #[arg(long, env = "RESET_MAX_CONNECTIONS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<usize>,
    /// Seconds requests in flight get to finish on SIGTERM/SIGINT before their connections are
    /// cut; idle and slow connections are closed at once [default: 20]
    #[arg(long, env = "RESET_SHUTDOWN_GRACE_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_grace_secs: Option<u64>,
    /// Link lifetime in seconds [default: 1800]
    #[arg(long, env = "RESET_LINK_TTL_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_ttl_secs: Option<u64>,
    /// Code lifetime in seconds [default: 600]
    #[arg(long, env = "RESET_CODE_TTL_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_ttl_secs: Option<u64>,
    /// Digits per code, 4..=10 [default: 6]
    #[arg(long, env = "RESET_CODE_DIGITS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_digits: Option<usize>,
    /// Tries per code [default: 12]
    #[arg(long, env = "RESET_CODE_MAX_ATTEMPTS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_max_attempts: Option<u32>,
    /// Code tries per account per day before codes stop being issued [default: 30]
    #[arg(long, env = "RESET_GUESS_BUDGET_PER_DAY", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guess_budget_per_day: Option<u32>,
    /// Reset requests per identifier per window, 0 = off [default: 5]
    #[arg(long, env = "RESET_LIMIT_REQUEST_PER_IDENTIFIER", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_request_per_identifier: Option<u32>,
    /// Reset requests per client IP per window, 0 = off [default: 50]
    #[arg(long, env = "RESET_LIMIT_REQUEST_PER_IP", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_request_per_ip: Option<u32>,
    /// verify/complete/cancel calls per client IP per window, 0 = off [default: 100]
    #[arg(long, env = "RESET_LIMIT_ATTEMPT_PER_IP", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_attempt_per_ip: Option<u32>,
    /// Rate-limit window in seconds [default: 900]
    #[arg(long, env = "RESET_LIMIT_WINDOW_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_window_secs: Option<u64>,
    /// Messages to one account (all its identifiers, addresses and dialects) per 15 minutes;
    /// past it requests are answered as usual and nothing is sent, 0 = off [default: 3]
    #[arg(long, env = "RESET_LIMIT_SEND_PER_ACCOUNT", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_send_per_account: Option<u32>,
    /// Messages to one account per day, 0 = off [default: 10]
    #[arg(long, env = "RESET_LIMIT_SEND_PER_ACCOUNT_PER_DAY", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_send_per_account_per_day: Option<u32>,
    /// Days an expired reset secret is kept before the sweep deletes it [default: 1]
    #[arg(long, env = "RESET_RETENTION_SECRETS_DAYS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_secrets_days: Option<u64>,
    /// Days a delivered outbox row is kept [default: 7]
    #[arg(long, env = "RESET_RETENTION_SENT_DAYS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_sent_days: Option<u64>,
    /// Days a dead-lettered outbox row is kept [default: 30]
    #[arg(long, env = "RESET_RETENTION_DEAD_DAYS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_dead_days: Option<u64>,
    /// Days an audit event is kept [default: 90]
    #[arg(long, env = "RESET_RETENTION_AUDIT_DAYS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_audit_days: Option<u64>,
    /// Seconds between retention sweeps, 0 = no sweep [default: 300]
    #[arg(long, env = "RESET_SWEEP_INTERVAL_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep_interval_secs: Option<u64>,
    /// Seconds an accepted reset request keeps waiting for an unreachable database (with
    /// backoff) before it is dropped, logged and counted [default: 60]
    #[arg(long, env = "RESET_ISSUE_RETRY_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_retry_secs: Option<u64>,
    /// Breached-password check through a Pwned Passwords range API, e.g.
    /// https://api.pwnedpasswords.com (only 5 hex digits of each password's SHA-1 are sent);
    /// off when unset
    #[arg(long, env = "RESET_BREACH_API_URL", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_api_url: Option<String>,
    /// Breached-password check against an offline corpus (sorted SHA1HEX:COUNT lines, as the
    /// Pwned Passwords downloader writes them); off when unset
    #[arg(long, env = "RESET_BREACH_FILE", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_file: Option<std::path::PathBuf>,
    /// Refuse a password seen in breaches at least this often [default: 1]
    #[arg(long, env = "RESET_BREACH_MIN_COUNT", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_min_count: Option<u64>,
    /// Range API timeout in milliseconds [default: 1500]
    #[arg(long, env = "RESET_BREACH_TIMEOUT_MS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_timeout_ms: Option<u64>,
    /// When the check cannot run: true answers 503 with Retry-After, false lets the password
    /// through with an audit event and a counter [default: false]
    #[arg(long, env = "RESET_BREACH_FAIL_CLOSED", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach_fail_closed: Option<bool>,
    /// Fewest characters in a new password [default: 8]
    #[arg(long, env = "RESET_PASSWORD_MIN_LENGTH", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_min_length: Option<usize>,
    /// Most characters in a new password [default: 256]
    #[arg(long, env = "RESET_PASSWORD_MAX_LENGTH", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_max_length: Option<usize>,
    /// Lowest zxcvbn score, 0..=4 [default: 3]
    #[arg(long, env = "RESET_PASSWORD_MIN_SCORE", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_min_score: Option<u8>,
    /// Refuse the last N passwords, 0 = off [default: 0]
    #[arg(long, env = "RESET_PASSWORD_HISTORY", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_history: Option<u32>,
    /// argon2id memory in KiB [default: 19456]
    #[arg(long, env = "RESET_ARGON2_MEMORY_KIB", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_memory_kib: Option<u32>,
    /// argon2id iterations [default: 2]
    #[arg(long, env = "RESET_ARGON2_ITERATIONS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_iterations: Option<u32>,
    /// argon2id lanes [default: 1]
    #[arg(long, env = "RESET_ARGON2_PARALLELISM", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argon2_parallelism: Option<u32>,
    /// Outbox poll interval in milliseconds [default: 500]
    #[arg(long, env = "RESET_OUTBOX_POLL_MS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_poll_ms: Option<u64>,
    /// Undelivered messages older than this are dead-lettered, in seconds [default: 3600]
    #[arg(long, env = "RESET_OUTBOX_MAX_AGE_SECS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_max_age_secs: Option<u64>,
    /// Failed tries before a message is dead-lettered [default: 12]
    #[arg(long, env = "RESET_OUTBOX_MAX_ATTEMPTS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_max_attempts: Option<u32>,
    /// First retry delay in milliseconds; doubles per failure, up to an hour [default: 5000]
    #[arg(long, env = "RESET_OUTBOX_RETRY_BASE_MS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_retry_base_ms: Option<u64>,
    /// SMS gateway: a signed JSON POST {message_id, recipient, text, locale, kind} per message; enables channel = sms [default: none]
    #[arg(long, env = "RESET_SMS_WEBHOOK_URL", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_webhook_url: Option<String>,
    /// Signing secret for the SMS gateway (whsec_<base64>, or ≥ 16 characters) [default: none]
    #[arg(
        long,
        env = "RESET_SMS_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_webhook_secret: Option<String>,
    /// Comma-separated URLs that receive every event (password_reset.requested|completed|cancelled, password.changed), signed as Standard Webhooks [default: none]
    #[arg(long, env = "RESET_WEBHOOK_URLS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_urls: Option<String>,
    /// Signing secret for webhooks (whsec_<base64>, or ≥ 16 characters) [default: none]
    #[arg(
        long,
        env = "RESET_WEBHOOK_SECRET",
        global = true,
        hide_env_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    /// Comma-separated origins (https://app.example.com) an admin's url_template may link to; the public URL's is always allowed [default: none]
    #[arg(long, env = "RESET_ALLOWED_LINK_ORIGINS", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_link_origins: Option<String>,
    /// Mount the Misskey dialect (request-reset-password, reset-password) [default: true]
    #[arg(long, env = "RESET_DIALECT_MISSKEY", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_misskey: Option<bool>,
    /// Prefix of the Misskey dialect [default: /api]
    #[arg(long, env = "RESET_DIALECT_MISSKEY_PREFIX", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_misskey_prefix: Option<String>,
    /// Mount the code-based forgot-password dialect (sendEmail, checkCode, resetPassword) [default: true]
    #[arg(long, env = "RESET_DIALECT_FORGOT_PASSWORD", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_forgot_password: Option<bool>,
    /// Prefix of the forgot-password dialect [default: /api/auth/forgotPassword]
    #[arg(long, env = "RESET_DIALECT_FORGOT_PASSWORD_PREFIX", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_forgot_password_prefix: Option<String>,
    /// Answer unknown usernames in the forgot-password dialect as known ones, instead of its 404 [default: false]
    #[arg(long, env = "RESET_FORGOT_PASSWORD_HIDE_UNKNOWN", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forgot_password_hide_unknown: Option<bool>,
    /// Mount the Unleash dialect (password, validate, password-email) [default: true]
    #[arg(long, env = "RESET_DIALECT_UNLEASH", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_unleash: Option<bool>,
    /// Prefix of the Unleash dialect [default: /auth/reset]
    #[arg(long, env = "RESET_DIALECT_UNLEASH_PREFIX", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_unleash_prefix: Option<String>,
    /// Mount the Zitadel v2 dialect (users/{userId}/password_reset, users/{userId}/password; bearer) [default: true]
    #[arg(long, env = "RESET_DIALECT_ZITADEL", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_zitadel: Option<bool>,
    /// Prefix of the Zitadel dialect [default: /v2]
    #[arg(long, env = "RESET_DIALECT_ZITADEL_PREFIX", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_zitadel_prefix: Option<String>,
    /// text or json [default: text]
    #[arg(long, env = "RESET_LOG_FORMAT", global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
}

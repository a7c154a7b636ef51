//! The command line. Every setting is a flag, a `RESET_*` variable and a key of the optional
//! TOML file (`--config`), in that order of precedence.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The settings as flags and `RESET_*` variables, made from the one list in `settings.rs`.
pub use crate::settings::SettingsArgs;

/// A self-hostable password-reset service.
///
/// With no command, `serve` runs: on SQLite at data/reset.db, mail written to data/mail.
#[derive(Debug, Parser)]
#[command(name = "reset-server", version, max_term_width = 100, after_help = reset_telemetry::otlp::HELP)]
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
    /// Exit 0 when the server on this machine's RESET_BIND answers GET /readyz with 200 (a
    /// container health check that needs no curl in the image).
    Healthcheck,
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
    /// Rotate the server's keys in the data folder's key file (every instance must read the
    /// same file; restart them after each step).
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List the keys: id, whether active, and the live reset secrets and admin tokens under
    /// each.
    List,
    /// Add a fresh random key, not active yet (activate it once every instance has it).
    Add {
        /// Its id (default: k2, k3, … after the highest).
        #[arg(long)]
        id: Option<String>,
    },
    /// Make a key the active one: new secrets and admin tokens are hashed under it; the others
    /// still check what they hashed.
    Activate { id: String },
    /// Remove a key. Refused while live reset secrets or admin tokens were hashed under it
    /// (they would stop working), unless --force; never the active key.
    Retire {
        id: String,
        /// Retire it even though secrets or tokens still need it (they stop working).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (shown this once; only its hash is kept).
    Create {
        /// password:reset (issue resets, set a password with a code), password:write (set a
        /// password without one), users:read (read and list accounts) or users:write (create,
        /// change, switch off and delete them); repeat for several.
        #[arg(long = "scope", required = true, value_parser = reset_core::admin_token::SCOPES)]
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
    /// Create accounts from a file (CSV with a header row, or JSON lines): username, emails,
    /// phone, locale, password_hash (argon2id or bcrypt, kept as it is), disabled. Every
    /// record is checked first; any refusal (listed with its line) writes nothing unless
    /// --skip-refused. The accounts are written in one transaction: all or none.
    Import {
        /// The file.
        file: std::path::PathBuf,
        /// csv or jsonl (default: from the file's extension).
        #[arg(long, value_enum)]
        format: Option<crate::import_file::Format>,
        /// Check everything, write nothing, and say what would be imported.
        #[arg(long)]
        dry_run: bool,
        /// Import the records that pass, leaving out the refused ones (still listed).
        #[arg(long)]
        skip_refused: bool,
    },
}

//! `ResetService`: the operations of a password reset, over the ports.

mod accounts;
pub use accounts::{AccountPage, AccountPatch, ImportRecord, ImportReport, Refusal};
mod admin;
mod admin_tokens;
mod cancel;
pub use admin::{AdminAction, AdminIssue, AdminIssued, AdminSession, ChangeDetails, PasswordProof};
mod complete;
mod inspect;
pub use inspect::AccountSummary;
mod request;
mod resolve;
mod sweep;
mod users;
pub use users::UserInput;
mod verify;

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

use crate::breach::{BreachChecker, BreachPolicy};
use crate::clock::{Clock, SystemClock};
use crate::config::ResetConfig;
use crate::directory::{EnabledOnly, UserDirectory};
use crate::error::ResetError;
use crate::estimates::Estimates;
use crate::keyring::Keyring;
use crate::message::{Channel, Delivery};
use crate::password::PasswordHasher;
use crate::policy::PasswordPolicy;
use crate::rate_limit::CounterHit;
use crate::rng::{OsSecretRng, SecretRng};
use crate::store::{Accounts, OutboxStats, Store};

/// Who is calling: the client IP (already resolved through trusted proxies) and the API
/// surface the call came through, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct ClientContext {
    /// The client's address, when the surface knows it; counted by the per-address limits.
    pub ip: Option<IpAddr>,
    /// `v1`, or a dialect's name.
    pub via: String,
}

/// A reset request as submitted.
#[derive(Debug, Clone, Default)]
pub struct RequestInput {
    /// The username as typed.
    pub username: Option<String>,
    /// The email address as typed.
    pub email: Option<String>,
    /// A link or a code.
    pub delivery: Delivery,
    /// Email or SMS.
    pub channel: Channel,
    /// The language the message is wanted in, else the account's.
    pub locale: Option<String>,
    /// Send to every address of the account, not just the one named (a dialect's promise).
    pub all_addresses: bool,
    /// Write the secret before answering, so a call right after the answer finds it. Only for
    /// surfaces whose answers already say whether the account exists: elsewhere the answer
    /// must not wait for account-dependent work.
    pub synchronous: bool,
}

/// A secret as submitted: a link token, or a code with the account it was sent to.
#[derive(Clone)]
pub enum SecretInput {
    /// A link token.
    Token(String),
    /// A code, with the identifiers of the account it was sent to.
    Code {
        /// The username as typed.
        username: Option<String>,
        /// The email address as typed.
        email: Option<String>,
        /// The code as typed.
        code: String,
    },
    /// A code for the account with this id (administrators name the user by id).
    UserCode {
        /// The account's id.
        user_id: String,
        /// The code as typed.
        code: String,
    },
}

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token(<redacted>)"),
            Self::Code {
                username, email, ..
            } => f
                .debug_struct("Code")
                .field("username", username)
                .field("email", email)
                .finish_non_exhaustive(),
            Self::UserCode { user_id, .. } => f
                .debug_struct("UserCode")
                .field("user_id", user_id)
                .finish_non_exhaustive(),
        }
    }
}

/// A secret that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// When the secret expires.
    pub expires_at: DateTime<Utc>,
    /// Whether it was a link token or a code.
    pub delivery: Delivery,
}

/// The ports a [`ResetService`] runs on: a store and a directory, on the system clock and the
/// OS random source unless a test swaps them.
///
/// ```
/// # use std::sync::Arc;
/// # use reset_core::{ManualClock, Ports, SeededRng, Store, UserDirectory};
/// # fn ports(store: Arc<dyn Store>, directory: Arc<dyn UserDirectory>) -> Ports {
/// let start = chrono::Utc::now();
/// Ports::new(store, directory)
///     .with_clock(Arc::new(ManualClock::new(start)))
///     .with_rng(Arc::new(SeededRng::new(7)))
/// # }
/// ```
#[derive(Clone)]
pub struct Ports {
    store: Arc<dyn Store>,
    directory: Arc<dyn UserDirectory>,
    accounts: Option<Arc<dyn Accounts>>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn SecretRng>,
}

impl Ports {
    /// `directory` is where accounts live: `reset-diesel`'s own table (often the same value as
    /// `store`), or the host application's. It also ends a user's sessions after a reset.
    pub fn new(store: Arc<dyn Store>, directory: Arc<dyn UserDirectory>) -> Self {
        Self {
            store,
            directory,
            accounts: None,
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsSecretRng),
        }
    }

    /// The built-in directory's administration (`reset-diesel`'s store, usually the same value
    /// as `directory`): the user API and `user import` work on it. Without it they answer
    /// `DirectoryManaged`: a host's directory manages its accounts itself.
    #[must_use]
    pub fn with_accounts(mut self, accounts: Arc<dyn Accounts>) -> Self {
        self.accounts = Some(accounts);
        self
    }

    /// Another clock (tests: [`ManualClock`](crate::ManualClock)).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Another random source (tests: [`SeededRng`](crate::SeededRng)).
    #[must_use]
    pub fn with_rng(mut self, rng: Arc<dyn SecretRng>) -> Self {
        self.rng = rng;
        self
    }
}

/// The password-reset operations. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct ResetService {
    store: Arc<dyn Store>,
    /// The directory with disabled accounts left out ([`EnabledOnly`]).
    directory: Arc<dyn UserDirectory>,
    /// The built-in directory's administration, when accounts live there.
    accounts: Option<Arc<dyn Accounts>>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn SecretRng>,
    /// The server's keys: the active one hashes new secrets, all of them check old ones.
    key: Keyring,
    hasher: PasswordHasher,
    /// Account-free password checks, on a low-priority thread apart from the hashers.
    estimates: Estimates,
    policy: PasswordPolicy,
    config: Arc<ResetConfig>,
    /// Permits for accepted requests whose transaction has not run yet.
    pending: Arc<Semaphore>,
    /// The runtime the service was built on: background work runs there, not on whichever
    /// runtime a request arrived on (actix-web gives each worker its own, dropped at shutdown).
    home: Option<tokio::runtime::Handle>,
    /// The breached-password check, when one is configured.
    breach: Option<(Arc<dyn BreachChecker>, BreachPolicy)>,
}

/// Accepted reset requests whose transaction may wait at once; beyond, callers wait for a permit.
const MAX_PENDING_ISSUES: u32 = 1024;

impl std::fmt::Debug for ResetService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ResetService {
    /// Fails only when the argon2 parameters are out of range.
    pub fn new(
        ports: Ports,
        key: impl Into<Keyring>,
        config: ResetConfig,
    ) -> Result<Self, argon2::Error> {
        let hasher = PasswordHasher::new(config.hasher, ports.rng.clone())?;
        Ok(Self {
            store: ports.store,
            directory: Arc::new(EnabledOnly(ports.directory)),
            accounts: ports.accounts,
            clock: ports.clock,
            rng: ports.rng,
            key: key.into(),
            hasher,
            estimates: Estimates::start(),
            policy: PasswordPolicy::new(config.policy.clone()),
            config: Arc::new(config),
            pending: Arc::new(Semaphore::new(MAX_PENDING_ISSUES as usize)),
            home: tokio::runtime::Handle::try_current().ok(),
            breach: None,
        })
    }

    /// Refuses new passwords that `checker` has seen in breaches, as `policy` says.
    #[must_use]
    pub fn with_breach_check(
        mut self,
        checker: Arc<dyn BreachChecker>,
        policy: BreachPolicy,
    ) -> Self {
        self.breach = Some((checker, policy));
        self
    }

    /// The configuration the service runs with.
    pub fn config(&self) -> &ResetConfig {
        &self.config
    }

    /// Where the service finds accounts (disabled ones left out).
    pub fn directory(&self) -> &Arc<dyn UserDirectory> {
        &self.directory
    }

    /// The service's password hasher (and its permits), for hashing elsewhere in the process.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The policy's shortest password, for forms' `minlength`.
    pub fn min_password_length(&self) -> usize {
        self.policy.config().min_length
    }

    /// The service's clock's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The try counter of one identifier (`nocode:…` keys) for one client address: as many tries
    /// as a code has, in a window as long as a code lives. Per address, so that a request from
    /// one address restarts that address's tries only: a caller watching `attempts_remaining`
    /// cannot see that someone else asked (the code's own tries and the guess budget still bind
    /// across addresses).
    fn try_counter(&self, key: &str, from: Option<IpAddr>) -> CounterHit {
        CounterHit {
            key: format!("{key}|{}", crate::rate_limit::client_key(from)),
            limit: crate::rate_limit::Limit::new(
                self.config.code_max_attempts,
                self.config.code_ttl_secs,
            ),
        }
    }

    /// Counts one verify/complete/cancel call against the client's IP.
    async fn limit_attempt(
        &self,
        ctx: &ClientContext,
        now: DateTime<Utc>,
    ) -> Result<(), ResetError> {
        let hits = ctx
            .ip
            .map(|ip| CounterHit {
                key: format!("try:ip:{}", crate::rate_limit::ip_key(ip)),
                limit: self.config.rate_limits.attempt_per_ip,
            })
            .into_iter()
            .collect();
        self.enforce(now, hits, &[]).await
    }

    /// Bumps the counters that are on, and when none is over, restarts `then_restart`, in one
    /// transaction; `RateLimited` when any is over.
    async fn enforce(
        &self,
        now: DateTime<Utc>,
        mut hits: Vec<CounterHit>,
        then_restart: &[CounterHit],
    ) -> Result<(), ResetError> {
        hits.retain(|h| !h.limit.is_off());
        if hits.is_empty() && then_restart.is_empty() {
            return Ok(());
        }
        let states = self.store.hit(now, &hits, then_restart).await?;
        let retry_after = states
            .iter()
            .zip(&hits)
            .filter(|(state, hit)| state.exceeds(&hit.limit))
            .map(|(state, _)| state.resets_in_secs.max(1))
            .max();
        match retry_after {
            Some(retry_after_secs) => Err(ResetError::RateLimited { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Runs `work` in the background on the service's home runtime.
    fn spawn_home(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        match &self.home {
            Some(home) => drop(home.spawn(work)),
            None => drop(tokio::spawn(work)),
        }
    }

    /// `Ok` when the store answers and every migration is applied (`/readyz`).
    pub async fn ready(&self) -> Result<(), ResetError> {
        Ok(self.store.ready().await?)
    }

    /// The outbox's messages by state, read from the store at each call (`/metrics`): every
    /// instance sharing a database reports the same queue.
    pub async fn outbox_stats(&self) -> Result<OutboxStats, ResetError> {
        Ok(self.store.outbox_stats().await?)
    }

    /// Accepted reset requests whose transaction has not finished yet.
    pub fn pending_issues(&self) -> usize {
        (MAX_PENDING_ISSUES as usize).saturating_sub(self.pending.available_permits())
    }

    /// Waits until every accepted reset request has been written (before shutdown, and in
    /// tests before reading the outbox).
    pub async fn settle(&self) {
        if let Ok(all) = self.pending.acquire_many(MAX_PENDING_ISSUES).await {
            drop(all);
        }
    }
}

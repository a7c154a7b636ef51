//! [`Builder`]: from a store (or a database URL), a directory, a mail transport and a key to a
//! running [`Api`] and its [`Worker`], the way every embedder and `reset-server` assemble it.
//!
//! ```no_run
//! # async fn app(users: std::sync::Arc<dyn reset::UserDirectory>) -> Result<(), Box<dyn std::error::Error>> {
//! // features = ["axum", "sqlite"]
//! let (api, worker) = reset::Builder::new()
//!     .database_url("sqlite://data/reset.db")
//!     .directory(users)
//!     .mail(reset::MailTransport::file("data/mail".into(), "App <no-reply@example.com>")?)
//!     .key(reset::SecretKey::from_base64(&std::env::var("RESET_SECRET_KEY")?)?)
//!     .public_url("https://app.example.com/auth")
//!     .build()
//!     .await?;
//! // Mount `api` (reset_axum::router(api)), serve, then: worker.shutdown().await;
//! # drop(api); worker.shutdown().await; Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use reset_api::{Api, ApiOptions, PeerAddress, ServeLimits};
use reset_core::breach::{BreachChecker, BreachPolicy};
use reset_core::keyring::Keyring;
use reset_core::store::Outbox;
use reset_core::{Accounts, Ports, ResetConfig, ResetService, Store, UserDirectory};
use reset_mail::worker::WorkerOptions;
use reset_mail::{Couriers, MailTransport, Renderer};
use tokio::sync::watch;

use crate::worker::{MailFiles, Worker, sweep_every};

/// A background task as the builder spawns it.
type BoxedTask = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Why [`Builder::build`] failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A part every API needs was not given.
    #[error("the builder needs {0}")]
    Missing(&'static str),
    /// The database could not be opened or migrated.
    #[error("the store: {0}")]
    Store(String),
    /// A setting cannot be used (argon2 parameters, templates).
    #[error("the configuration: {0}")]
    Config(String),
}

/// Where reset state lives.
enum StoreSource {
    /// A Diesel store opened from a URL (`sqlite://`, `postgres://`, `mysql://`).
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    Url(String),
    /// The application's own implementation.
    Own(Arc<dyn Store>),
}

/// Assembles an [`Api`] and its [`Worker`]. Required: a store ([`Builder::database_url`] or
/// [`Builder::store`]) and a key; a directory unless the Diesel store's own users table is
/// meant.
pub struct Builder {
    store: Option<StoreSource>,
    directory: Option<Arc<dyn UserDirectory>>,
    accounts: Option<Arc<dyn Accounts>>,
    couriers: Option<Couriers>,
    renderer: Option<Renderer>,
    key: Option<Keyring>,
    config: ResetConfig,
    options: ApiOptions,
    limits: Option<ServeLimits>,
    worker: WorkerOptions,
    sweep: Duration,
    breach: Option<(Arc<dyn BreachChecker>, BreachPolicy)>,
    migrate: bool,
    metrics: bool,
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    pool: reset_diesel::PoolOptions,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// Nothing chosen yet: the defaults of [`ResetConfig`], [`ApiOptions`] and
    /// [`WorkerOptions`], migrations applied, a sweep every 5 minutes, no metrics recorder.
    pub fn new() -> Self {
        Self {
            store: None,
            directory: None,
            accounts: None,
            couriers: None,
            renderer: None,
            key: None,
            config: ResetConfig::default(),
            options: ApiOptions::default(),
            limits: None,
            worker: WorkerOptions::default(),
            sweep: Duration::from_secs(300),
            breach: None,
            migrate: true,
            metrics: false,
            #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
            pool: reset_diesel::PoolOptions::default(),
        }
    }

    /// Reset state in the database at `url`, through `reset-diesel` (migrated at build unless
    /// [`Builder::migrate`] says not to). Its users table is the directory unless
    /// [`Builder::directory`] names another.
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    #[must_use]
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.store = Some(StoreSource::Url(url.into()));
        self
    }

    /// The Diesel store's pool (PostgreSQL, MySQL).
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    #[must_use]
    pub fn pool(mut self, pool: reset_diesel::PoolOptions) -> Self {
        self.pool = pool;
        self
    }

    /// Reset state in a store of the application's own (it must pass
    /// `reset_testkit::store_contract`); it is not migrated. A directory is then required.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(StoreSource::Own(store));
        self
    }

    /// Where accounts live: the application's users.
    #[must_use]
    pub fn directory(mut self, directory: Arc<dyn UserDirectory>) -> Self {
        self.directory = Some(directory);
        self
    }

    /// The built-in directory's administration (the user API, `user import`) beside a store of
    /// the application's own. With `database_url` and no directory of the application's, the
    /// store's own users table is both, without this call.
    #[must_use]
    pub fn accounts(mut self, accounts: Arc<dyn Accounts>) -> Self {
        self.accounts = Some(accounts);
        self
    }

    /// Mail only (file, log or SMTP). Without a transport or couriers no outbox worker runs
    /// here: messages wait in the outbox for a worker elsewhere on the same database (for
    /// instance `reset-server`).
    #[must_use]
    pub fn mail(self, transport: MailTransport) -> Self {
        self.couriers(Couriers::mail(transport))
    }

    /// Mail, the SMS gateway and the webhooks.
    #[must_use]
    pub fn couriers(mut self, couriers: Couriers) -> Self {
        self.couriers = Some(couriers);
        self
    }

    /// The message templates (default: the built-in ones).
    #[must_use]
    pub fn renderer(mut self, renderer: Renderer) -> Self {
        self.renderer = Some(renderer);
        self
    }

    /// The key (or keys, during a rotation) every stored secret hash is keyed with; every
    /// instance on one database must share it.
    #[must_use]
    pub fn key(mut self, key: impl Into<Keyring>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Lifetimes, limits, policy (default: [`ResetConfig::default`]).
    #[must_use]
    pub fn config(mut self, config: ResetConfig) -> Self {
        self.config = config;
        self
    }

    /// Where the application is reached, mount prefix included: the base of the links in
    /// messages.
    #[must_use]
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.config.public_url = url.into();
        self
    }

    /// HTTP options: trusted proxies, dialects.
    #[must_use]
    pub fn api_options(mut self, options: ApiOptions) -> Self {
        self.options = options;
        self
    }

    /// The connection deadlines and caps an adapter's `serve` applies.
    #[must_use]
    pub fn limits(mut self, limits: ServeLimits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Serve requests that come without the client's address, with the limits per address
    /// off. Without this, such a request is answered 500 naming the fix (see [`PeerAddress`]).
    #[must_use]
    pub fn without_peer_addresses(mut self) -> Self {
        self.options.peer_address = PeerAddress::NotNeeded;
        self
    }

    /// The outbox worker's pacing.
    #[must_use]
    pub fn worker_options(mut self, options: WorkerOptions) -> Self {
        self.worker = options;
        self
    }

    /// How often the retention sweep runs (zero: never).
    #[must_use]
    pub fn sweep_every(mut self, interval: Duration) -> Self {
        self.sweep = interval;
        self
    }

    /// The breached-password check.
    #[must_use]
    pub fn breach_check(mut self, checker: Arc<dyn BreachChecker>, policy: BreachPolicy) -> Self {
        self.breach = Some((checker, policy));
        self
    }

    /// Whether the Diesel store is migrated at build (default `true`).
    #[must_use]
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// Install our Prometheus recorder for `GET /metrics` (serve [`Api::metrics_only`] on a
    /// private listener). Off by default; never replaces a recorder the application installed
    /// (our series then count in that one).
    #[must_use]
    pub fn metrics(mut self, metrics: bool) -> Self {
        self.metrics = metrics;
        self
    }

    /// Opens (and migrates) the store, builds the service and the API, and starts the outbox
    /// worker and the sweep on the current runtime.
    pub async fn build(self) -> Result<(Api, Worker), BuildError> {
        let key = self
            .key
            .ok_or(BuildError::Missing("a key (Builder::key)"))?;
        let mut accounts = self.accounts;
        let (store, directory) = match self.store {
            #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
            Some(StoreSource::Url(url)) => {
                let diesel = reset_diesel::DieselStore::connect(&url, self.pool.clone())
                    .await
                    .map_err(|e| {
                        BuildError::Store(format!("{}: {e}", reset_diesel::redact_url(&url)))
                    })?;
                if self.migrate {
                    let applied = diesel
                        .migrate()
                        .await
                        .map_err(|e| BuildError::Store(format!("migrations: {e}")))?;
                    if applied > 0 {
                        tracing::info!(applied, "migrations applied");
                    }
                }
                let diesel = Arc::new(diesel);
                let directory: Arc<dyn UserDirectory> = match self.directory {
                    Some(d) => d,
                    None => {
                        accounts.get_or_insert_with(|| diesel.clone());
                        diesel.clone()
                    }
                };
                (diesel as Arc<dyn Store>, directory)
            }
            Some(StoreSource::Own(store)) => {
                let directory = self.directory.ok_or(BuildError::Missing(
                    "a directory (Builder::directory) beside the application's own store",
                ))?;
                (store, directory)
            }
            None => {
                return Err(BuildError::Missing(
                    "a store (Builder::database_url or Builder::store)",
                ));
            }
        };
        let mut ports = Ports::new(store.clone(), directory);
        if let Some(accounts) = accounts {
            ports = ports.with_accounts(accounts);
        }
        let mut service = ResetService::new(ports, key, self.config)
            .map_err(|e| BuildError::Config(format!("argon2 parameters: {e}")))?;
        if let Some((checker, policy)) = self.breach {
            service = service.with_breach_check(checker, policy);
        }
        if self.metrics && !reset_api::install_prometheus() {
            tracing::info!("a metrics recorder is installed already: ours count in it");
        }
        let mut api = Api::new(service.clone(), self.options);
        if let Some(limits) = self.limits {
            api = api.with_limits(limits);
        }

        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        // Each task holds the sender too: a dropped `Worker` must not stop it.
        let keeping = |stop: &Arc<watch::Sender<bool>>, task: BoxedTask| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let _open = stop;
                task.await;
            })
        };
        let mut tasks = Vec::new();
        let mut mail_files = None;
        if let Some(couriers) = self.couriers {
            let renderer = match self.renderer {
                Some(r) => r,
                None => Renderer::new(None).map_err(|e| BuildError::Config(e.to_string()))?,
            };
            mail_files = couriers.mail.file_dir().map(|dir| MailFiles {
                dir: dir.to_owned(),
                keep: Duration::from_secs(service.config().retention.outbox_sent_secs),
            });
            let outbox: Arc<dyn Outbox> = store;
            tasks.push(keeping(
                &stop,
                Box::pin(reset_mail::worker::run(
                    outbox,
                    couriers,
                    Arc::new(renderer),
                    self.worker,
                    stopped,
                )),
            ));
        }
        if !self.sweep.is_zero() {
            tasks.push(keeping(
                &stop,
                Box::pin(sweep_every(
                    service.clone(),
                    mail_files,
                    self.sweep,
                    stop.subscribe(),
                )),
            ));
        }
        Ok((api, Worker::new(service, stop, tasks)))
    }
}

//! A running server for one scenario: a store on its own database, the service on a manual
//! clock, the API served by the adapter under test on a real socket.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use futures::StreamExt as _;
use reset_api::{Api, ApiOptions, ServeLimits};
use reset_core::breach::{BreachChecker, BreachPolicy};
use reset_core::store::OutboxMessage;
use reset_core::{
    ManualClock, Outbox as _, Ports, ResetConfig, ResetService, SecretKey, Store, UserDirectory,
    UserInput,
};
use reset_diesel::{DieselStore, PoolOptions};

use crate::db::TestDb;

/// How an adapter serves: take the bound listener and the API, serve until the runtime ends.
pub type Spawn = fn(tokio::net::TcpListener, Api);

/// A host application's directory standing in front of the store's own.
pub type WrapDirectory = fn(Arc<DieselStore>) -> Arc<dyn UserDirectory>;

/// What a scenario sets beyond the core's config and the API options.
#[derive(Default)]
struct Extras {
    directory: Option<WrapDirectory>,
    limits: Option<ServeLimits>,
    breach: Option<(Arc<dyn BreachChecker>, BreachPolicy)>,
}

/// One server under test.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`: where the adapter serves.
    pub base: String,
    /// The service's clock, which scenarios advance.
    pub clock: Arc<ManualClock>,
    /// The store on the test's database, for scenarios that inspect or change it.
    pub store: Arc<DieselStore>,
    /// The API the adapter serves, and through it the service.
    pub api: Api,
    /// The client that sends the scenario's requests.
    pub http: reqwest::Client,
    inbox: Mutex<Vec<OutboxMessage>>,
    /// Decoys claimed by [`TestServer::messages`] so far.
    decoys: std::sync::atomic::AtomicUsize,
    _db: TestDb,
}

/// A response as the suite compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers as received, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Reads a whole response.
    pub async fn read(r: reqwest::Response) -> Self {
        let status = r.status().as_u16();
        let headers = r
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        Reply {
            status,
            headers,
            body: r.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
        }
    }

    /// The body as JSON; panics if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The value of the first header called `name` (lower case), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The problem's `code`.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    /// Status, headers (but `date`, sorted: the order of distinct headers carries no meaning
    /// and actix-web does not keep it) and body: what must not differ between two answers.
    pub fn comparable(&self) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(n, _)| n != "date")
            .cloned()
            .collect();
        headers.sort();
        (self.status, headers, self.body.clone())
    }
}

pub use crate::clock::start_time;

/// Settings that keep the suite fast and deterministic; scenarios tweak them.
pub fn test_config() -> ResetConfig {
    let mut c = ResetConfig::default();
    c.rate_limits.attempt_per_ip.max = 10_000;
    c.rate_limits.request_per_ip.max = 10_000;
    // Scenarios send many messages to one account; `send_cap_counts_the_account` checks the
    // real caps.
    c.rate_limits.send_per_account.max = 1000;
    c.rate_limits.send_per_account_per_day.max = 1000;
    c.rate_limits.send_per_account_from_ip.max = 1000;
    // Every test client is 127.0.0.1; the lockout scenarios check the real share.
    c.guess_budget_per_ip.max = 1000;
    c.rate_limits.send_per_account_from_ip_per_day.max = 1000;
    c.public_url = "https://reset.example".into();
    c.allowed_link_origins = vec![
        "https://app.example.com".into(),
        "https://example.com".into(),
    ];
    c
}

impl TestServer {
    /// A migrated server on the test config and the default API options.
    pub async fn start(db: TestDb, spawn: Spawn) -> Self {
        Self::start_with(db, spawn, test_config(), ApiOptions::default()).await
    }

    /// A migrated server on `config` and `options`.
    pub async fn start_with(
        db: TestDb,
        spawn: Spawn,
        config: ResetConfig,
        options: ApiOptions,
    ) -> Self {
        Self::start_inner(db, spawn, config, options, true, Extras::default()).await
    }

    /// A server whose accounts are found through `directory` (wrapping the store's own).
    pub async fn start_with_directory(db: TestDb, spawn: Spawn, directory: WrapDirectory) -> Self {
        Self::start_extras(
            db,
            spawn,
            Extras {
                directory: Some(directory),
                ..Extras::default()
            },
        )
        .await
    }

    /// A migrated server on the test config, with `extras`.
    async fn start_extras(db: TestDb, spawn: Spawn, extras: Extras) -> Self {
        Self::start_inner(
            db,
            spawn,
            test_config(),
            ApiOptions::default(),
            true,
            extras,
        )
        .await
    }

    /// A server whose database has no tables yet (for readiness checks).
    pub async fn start_unmigrated(db: TestDb, spawn: Spawn) -> Self {
        Self::start_inner(
            db,
            spawn,
            test_config(),
            ApiOptions::default(),
            false,
            Extras::default(),
        )
        .await
    }

    /// A server whose adapter serves with `limits` (short deadlines, a small cap).
    pub async fn start_limited(db: TestDb, spawn: Spawn, limits: ServeLimits) -> Self {
        Self::start_extras(
            db,
            spawn,
            Extras {
                limits: Some(limits),
                ..Extras::default()
            },
        )
        .await
    }

    /// A server whose password policy includes `checker`'s breach check.
    pub async fn start_with_breach(
        db: TestDb,
        spawn: Spawn,
        checker: Arc<dyn BreachChecker>,
        policy: BreachPolicy,
    ) -> Self {
        Self::start_extras(
            db,
            spawn,
            Extras {
                breach: Some((checker, policy)),
                ..Extras::default()
            },
        )
        .await
    }

    async fn start_inner(
        db: TestDb,
        spawn: Spawn,
        config: ResetConfig,
        options: ApiOptions,
        migrate: bool,
        extras: Extras,
    ) -> Self {
        let store = Arc::new(
            DieselStore::connect(db.url(), PoolOptions {
                    max_connections: 8,
                    ..PoolOptions::default()
                })
                .await
                .expect("connect"),
        );
        if migrate {
            store.migrate().await.expect("migrate");
        }
        let clock = Arc::new(ManualClock::new(start_time()));
        // The store's own table is also administered (the user API) unless a test puts another
        // directory in front of it.
        let ports = match extras.directory {
            Some(wrap) => Ports::new(store.clone(), wrap(store.clone())),
            None => Ports::new(store.clone(), store.clone()).with_accounts(store.clone()),
        }
        .with_clock(clock.clone());
        let key = SecretKey::new(vec![42; 32]).expect("key");
        let mut service = ResetService::new(ports, key, config).expect("service");
        if let Some((checker, policy)) = extras.breach {
            service = service.with_breach_check(checker, policy);
        }
        // Every test client is on 127.0.0.1 and some scenarios open a hundred connections at
        // once: no per-address cap unless the scenario's limits set one
        // (`pinned_pipelines_are_closed` does).
        let limits = extras.limits.unwrap_or(ServeLimits {
            max_connections_per_ip: 0,
            ..ServeLimits::default()
        });
        let api = Api::new(service, options).with_limits(limits);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        spawn(listener, api.clone());
        Self {
            base,
            clock,
            store,
            api,
            http: reqwest::Client::new(),
            inbox: Mutex::new(Vec::new()),
            decoys: std::sync::atomic::AtomicUsize::new(0),
            _db: db,
        }
    }

    /// Creates a user with a password and returns its id.
    pub async fn user(&self, username: &str, emails: &[&str]) -> String {
        let input = UserInput {
            username: username.into(),
            emails: emails.iter().map(|e| (*e).to_owned()).collect(),
            password: Some("initial password for tests".into()),
            ..UserInput::default()
        };
        let new = self
            .api
            .service()
            .prepare_user(input)
            .await
            .expect("prepare user");
        self.store
            .create_user(self.api.service().now(), new)
            .await
            .expect("create user")
            .id
    }

    /// A new admin token with `scopes`, as `Authorization` header value.
    pub async fn admin_token(&self, scopes: &[&str]) -> String {
        let (_, secret) = self
            .api
            .service()
            .create_admin_token(None, scopes.iter().map(|s| (*s).to_owned()).collect())
            .await
            .expect("admin token");
        format!("Bearer {secret}")
    }

    /// POSTs JSON with an `Authorization` header.
    pub async fn post_as(&self, auth: &str, path: &str, json: serde_json::Value) -> Reply {
        self.send(
            "POST",
            path,
            Some("application/json"),
            json.to_string().into_bytes(),
            &[("authorization", auth)],
        )
        .await
    }

    /// Sends a raw request.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        for (n, v) in extra {
            req = req.header(*n, *v);
        }
        Reply::read(req.send().await.expect("request")).await
    }

    /// POSTs JSON.
    pub async fn post(&self, path: &str, json: serde_json::Value) -> Reply {
        self.send(
            "POST",
            path,
            Some("application/json"),
            json.to_string().into_bytes(),
            &[],
        )
        .await
    }

    /// POSTs `json` as if for the client `forwarded_for`, through a trusted proxy (the server's
    /// options must trust 127.0.0.1 for the header to be believed).
    pub async fn post_from(
        &self,
        path: &str,
        json: serde_json::Value,
        forwarded_for: &str,
    ) -> Reply {
        self.send(
            "POST",
            path,
            Some("application/json"),
            json.to_string().into_bytes(),
            &[("x-forwarded-for", forwarded_for)],
        )
        .await
    }

    /// GETs `path`.
    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, Vec::new(), &[]).await
    }

    /// Every message queued so far, in order (claimed from the outbox and marked sent, as the
    /// worker would). Decoy messages (an unknown identifier's) are marked sent too, and left
    /// out: nobody receives them.
    pub async fn messages(&self) -> Vec<OutboxMessage> {
        self.api.service().settle().await;
        let far = self.clock.now_plus_days(1);
        let mut fresh = Vec::new();
        loop {
            let batch = self
                .store
                .claim_outbox(far, 1000, 3600)
                .await
                .expect("claim");
            let more = batch.len() == 1000;
            // Marked as the worker does, several at a time (the stores share their commits).
            futures::stream::iter(&batch)
                .for_each_concurrent(16, |m| async move {
                    self.store.outbox_sent(far, &m.id).await.expect("mark sent");
                })
                .await;
            let (decoys, real): (Vec<_>, Vec<_>) = batch.into_iter().partition(|m| m.decoy);
            self.decoys
                .fetch_add(decoys.len(), std::sync::atomic::Ordering::Relaxed);
            fresh.extend(real);
            if !more {
                break;
            }
        }
        fresh.sort_by(|a, b| a.id.cmp(&b.id));
        let mut inbox = self.inbox.lock().unwrap_or_else(|e| e.into_inner());
        inbox.extend(fresh);
        inbox.clone()
    }

    /// How many decoy messages and events have been queued so far (see [`Self::messages`]).
    pub async fn decoys(&self) -> usize {
        self.messages().await;
        self.decoys.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The newest message to `recipient`.
    pub async fn last_message_to(&self, recipient: &str) -> OutboxMessage {
        self.messages()
            .await
            .into_iter()
            .rev()
            .find(|m| m.recipient == recipient)
            .expect("a message")
    }

    /// The token in the newest link message to `recipient`.
    pub async fn last_token(&self, recipient: &str) -> String {
        let m = self.last_message_to(recipient).await;
        m.payload.link_token().expect("a link message").to_owned()
    }

    /// The code in the newest code message to `recipient`.
    pub async fn last_code(&self, recipient: &str) -> String {
        self.last_message_to(recipient)
            .await
            .payload
            .code
            .expect("a code message")
    }
}

/// A clock helper for claiming everything queued.
trait NowPlus {
    fn now_plus_days(&self, days: i64) -> chrono::DateTime<Utc>;
}

impl NowPlus for ManualClock {
    fn now_plus_days(&self, days: i64) -> chrono::DateTime<Utc> {
        use reset_core::Clock as _;
        self.now() + chrono::Duration::days(days)
    }
}

/// The store as the core's port, for scenarios that inspect it.
pub fn as_store(s: &TestServer) -> &dyn Store {
    s.store.as_ref()
}

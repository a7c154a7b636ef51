//! What the three example programs share: the host application's own users table, and the
//! wiring of the reset crates around it. Each `src/bin/*_app.rs` only mounts the routes under
//! `/auth` in its framework, beside the application's own `POST /login`.
//!
//! The application keeps its accounts in its own SQLite file (`app.db`, table `accounts`),
//! and implements [`UserDirectory`] over it; `reset-diesel` keeps the reset secrets, outbox,
//! rate limits and audit trail in a second file (`reset.db`), or in the PostgreSQL or MySQL
//! database `RESET_DATABASE_URL` names. Mail goes to `.eml` files.

#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::sql_types::Text;
use diesel::{Connection as _, QueryableByName, RunQueryDsl as _, SqliteConnection};
use reset::mail::worker::WorkerOptions;
use reset::{Api, MailTransport, SecretKey};
use reset_core::password::verify_password;
use reset_core::store::User;
use reset_core::{AccountLookup, StoreError, UserDirectory};

/// The application's own account row.
#[derive(QueryableByName)]
struct Account {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    login: String,
    #[diesel(sql_type = Text)]
    email: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    pw_hash: Option<String>,
}

impl Account {
    fn into_user(self) -> User {
        User {
            id: self.id,
            username: self.login,
            emails: vec![self.email],
            password_hash: self.pw_hash,
            org_id: "example".into(),
            locale: None,
            phone: None,
            password_changed_at: None,
            sequence: 0,
            created_at: Utc::now(),
            disabled: false,
        }
    }
}

/// The host application's users table, reached through its own connection.
#[derive(Clone)]
pub struct HostUsers {
    conn: Arc<Mutex<SqliteConnection>>,
}

impl HostUsers {
    /// Opens (and on first run creates and seeds) `accounts` in `path`: one user, `alice`,
    /// `alice@example.com`, with no password yet.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn =
            SqliteConnection::establish(&path.to_string_lossy()).context("opening app.db")?;
        diesel::sql_query(
            "CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE, \
             email TEXT NOT NULL UNIQUE, pw_hash TEXT)",
        )
        .execute(&mut conn)?;
        diesel::sql_query("INSERT OR IGNORE INTO accounts (id, login, email) VALUES ('u-1', 'alice', 'alice@example.com')")
            .execute(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Adds an account (the application's own sign-up, in short): `u-<login>`, no password.
    pub async fn add(&self, login: &str, email: &str) -> Result<(), StoreError> {
        let (login, email) = (login.to_lowercase(), email.to_lowercase());
        self.with(move |c| {
            diesel::sql_query("INSERT INTO accounts (id, login, email) VALUES (?1, ?2, ?3)")
                .bind::<Text, _>(format!("u-{login}"))
                .bind::<Text, _>(&login)
                .bind::<Text, _>(&email)
                .execute(c)
        })
        .await
        .map(|_| ())
    }

    /// Runs a query on the application's connection, off the async runtime.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut SqliteConnection) -> diesel::QueryResult<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
        .map_err(|e| StoreError::Query(e.to_string()))
    }

    async fn one(
        &self,
        sql: &'static str,
        a: String,
        b: String,
    ) -> Result<Option<User>, StoreError> {
        let rows: Vec<Account> = self
            .with(move |c| {
                diesel::sql_query(sql)
                    .bind::<Text, _>(a)
                    .bind::<Text, _>(b)
                    .load(c)
            })
            .await?;
        Ok(rows.into_iter().next().map(Account::into_user))
    }

    /// The application's own login check, against the hash the reset wrote.
    pub async fn login(&self, login: &str, password: &str) -> bool {
        let lookup = AccountLookup {
            username: Some(login.to_lowercase()),
            email: None,
        };
        match self.find(&lookup).await {
            Ok(Some(user)) => user
                .password_hash
                .is_some_and(|h| verify_password(password, &h)),
            _ => false,
        }
    }
}

#[async_trait]
impl UserDirectory for HostUsers {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        // Either name may be absent (''); both must match when both are given.
        let sql = "SELECT id, login, email, pw_hash FROM accounts \
                   WHERE (?1 = '' OR lower(login) = ?1) AND (?2 = '' OR lower(email) = ?2)";
        let (u, e) = (
            lookup.username.clone().unwrap_or_default(),
            lookup.email.clone().unwrap_or_default(),
        );
        if u.is_empty() && e.is_empty() {
            return Ok(None);
        }
        self.one(sql, u, e).await
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let id = id.to_owned();
        let rows: Vec<Account> = self
            .with(move |c| {
                diesel::sql_query("SELECT id, login, email, pw_hash FROM accounts WHERE id = ?1")
                    .bind::<Text, _>(id)
                    .load(c)
            })
            .await?;
        Ok(rows.into_iter().next().map(Account::into_user))
    }

    /// The application checks logins with argon2id (`reset_core::password::verify_password`),
    /// so it stores the hash; one on bcrypt would store `PasswordScheme::Bcrypt`'s encoding.
    async fn set_password(
        &self,
        id: &str,
        change: &reset_core::PasswordChange<'_>,
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (id, hash) = (id.to_owned(), change.argon2id().to_owned());
        self.with(move |c| {
            diesel::sql_query("UPDATE accounts SET pw_hash = ?1 WHERE id = ?2")
                .bind::<Text, _>(hash)
                .bind::<Text, _>(id)
                .execute(c)
        })
        .await
        .map(|_| ())
    }

    /// The example keeps no server-side sessions (its login answers a yes or a no).
    async fn revoke_sessions(&self, _id: &str) -> Result<reset_core::SessionsEnded, StoreError> {
        Ok(reset_core::SessionsEnded::NoneKept)
    }
}

/// The reset API over the application's users, and its worker (mail as `.eml` files in
/// `data/mail`); the reset state in `data/reset.db`, or in `RESET_DATABASE_URL`. `public_url`
/// is where the application is reached, prefix included.
pub async fn reset_api(
    users: HostUsers,
    data: &Path,
    public_url: &str,
) -> anyhow::Result<(Api, reset::Worker)> {
    // The reset state may live elsewhere than the accounts: `postgres://…` or `mysql://…`.
    let url = std::env::var("RESET_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", data.join("reset.db").display()));
    let mail = MailTransport::file(data.join("mail"), "Example app <no-reply@example.com>")?;
    // A real application loads its key from its secret store; the example keeps a fixed one.
    let key = SecretKey::new(b"example key: replace me in production!".to_vec())?;
    Ok(reset::Builder::new()
        .database_url(url)
        .directory(Arc::new(users))
        .mail(mail)
        .key(key)
        .public_url(public_url)
        .worker_options(WorkerOptions {
            poll: Duration::from_millis(100),
            ..WorkerOptions::default()
        })
        .build()
        .await?)
}

/// The `POST /login` body of the example applications.
#[derive(serde::Deserialize)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// Where the example listens: `PORT` (default 3000).
pub fn port() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000)
}

/// Where the example keeps its files: `DATA_DIR` (default `data/example`).
pub fn data_dir() -> std::path::PathBuf {
    std::env::var("DATA_DIR")
        .unwrap_or_else(|_| "data/example".into())
        .into()
}

/// Opens the application's users and the reset API for an app served on `port` with the
/// routes under `/auth`.
pub async fn setup(port: u16) -> anyhow::Result<(HostUsers, Api, reset::Worker)> {
    let data = data_dir();
    let users = HostUsers::open(&data.join("app.db"))?;
    let (api, worker) = reset_api(
        users.clone(),
        &data,
        &format!("http://127.0.0.1:{port}/auth"),
    )
    .await?;
    Ok((users, api, worker))
}

#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reset_core::store::User;
use reset_core::{
    AccountLookup, PasswordChange, PasswordScheme, SessionsEnded, StoreError, UserDirectory,
};
use reset_mail::Signer;
use serde::{Deserialize, Serialize};

/// The directory's settings.
#[derive(Clone)]
pub struct HttpDirectoryOptions {
    /// The service's base URL (`https://accounts.internal/reset`); the calls go to `/find`,
    /// `/get` and `/set-password` below it.
    pub base_url: String,
    /// Signs every call (Standard Webhooks).
    pub signer: Signer,
    /// The scheme a new password is sent in.
    pub scheme: PasswordScheme,
    /// How long one call may take; past it, the directory is unavailable.
    pub timeout: Duration,
}

impl std::fmt::Debug for HttpDirectoryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpDirectoryOptions")
            .field("base_url", &self.base_url)
            .field("scheme", &self.scheme)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why the directory cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpDirectoryError {
    /// The base URL is not http(s).
    #[error("HTTP directory URL {0:?}: use https://… (or http:// on a private network)")]
    Url(String),
    /// The HTTP client could not be built.
    #[error("HTTP directory client: {0}")]
    Client(String),
}

/// Accounts behind a team's own service.
#[derive(Debug)]
pub struct HttpDirectory {
    options: HttpDirectoryOptions,
    http: reqwest::Client,
}

/// An account as the service sends it.
#[derive(Debug, Deserialize)]
struct Account {
    id: String,
    username: String,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Serialize)]
struct Find<'a> {
    username: Option<&'a str>,
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct Get<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct SetPassword<'a> {
    id: &'a str,
    scheme: &'static str,
    password: &'a str,
}

fn scheme_name(scheme: PasswordScheme) -> &'static str {
    match scheme {
        PasswordScheme::Argon2id => "argon2id",
        PasswordScheme::Bcrypt { .. } => "bcrypt",
        PasswordScheme::Pbkdf2Sha256 { .. } => "pbkdf2_sha256",
        PasswordScheme::Plaintext => "plaintext",
    }
}

fn unavailable(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("HTTP directory {what}: {detail}"))
}

impl HttpDirectory {
    /// A directory calling `options.base_url` (checked; the service is first asked at the
    /// first call).
    pub fn new(options: HttpDirectoryOptions) -> Result<Self, HttpDirectoryError> {
        if !(options.base_url.starts_with("https://") || options.base_url.starts_with("http://")) {
            return Err(HttpDirectoryError::Url(options.base_url));
        }
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            // An account service answers; it does not send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| HttpDirectoryError::Client(e.to_string()))?;
        Ok(Self { options, http })
    }

    /// POSTs `body` to `path`, signed; the answer's status and body.
    async fn call(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), StoreError> {
        let body = serde_json::to_vec(body).map_err(|e| unavailable(path, e))?;
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let timestamp = Utc::now().timestamp();
        let signature = self.options.signer.sign(&id, timestamp, &body);
        let url = format!("{}{path}", self.options.base_url.trim_end_matches('/'));
        let answer = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable(path, e))?;
        let status = answer.status();
        let bytes = answer.bytes().await.map_err(|e| unavailable(path, e))?;
        Ok((status, bytes.to_vec()))
    }

    /// An account call: `None` on 404, the account on 200, unavailable on anything else.
    async fn account(&self, path: &str, body: &impl Serialize) -> Result<Option<User>, StoreError> {
        let (status, bytes) = self.call(path, body).await?;
        match status.as_u16() {
            404 => Ok(None),
            200 => {
                let account: Account =
                    serde_json::from_slice(&bytes).map_err(|e| unavailable(path, e))?;
                Ok(Some(user(account).ok_or_else(|| {
                    unavailable(path, "an account without a valid username")
                })?))
            }
            other => Err(unavailable(path, format!("answered {other}"))),
        }
    }
}

fn user(a: Account) -> Option<User> {
    User::from_directory(a.id, &a.username, a.emails, a.locale, a.phone)
}

#[async_trait]
impl UserDirectory for HttpDirectory {
    async fn find(&self, lookup: &AccountLookup) -> Result<Option<User>, StoreError> {
        let body = Find {
            username: lookup.username.as_deref(),
            email: lookup.email.as_deref(),
        };
        self.account("/find", &body).await
    }

    async fn by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.account("/get", &Get { id }).await
    }

    async fn set_password(
        &self,
        id: &str,
        change: &PasswordChange<'_>,
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let scheme = self.options.scheme;
        let password = scheme
            .encode_off_runtime(change)
            .await
            .map_err(|e| StoreError::Query(e.to_string()))?;
        let body = SetPassword {
            id,
            scheme: scheme_name(scheme),
            password: &password,
        };
        let (status, _) = self.call("/set-password", &body).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(unavailable("/set-password", format!("answered {status}")))
        }
    }

    /// The service ends the account's sessions when it sets the password (its contract);
    /// nothing is kept here.
    async fn revoke_sessions(&self, _id: &str) -> Result<SessionsEnded, StoreError> {
        Ok(SessionsEnded::NoneKept)
    }
}

//! The HTTP conformance scenarios for an application that mounts the reset routes: run them
//! against its base URL in its own CI, with a way to create accounts and read the messages it
//! sent (juniper's `run_http_test_suite` is the model). Nothing here needs our test servers,
//! our store or a Diesel backend.
//!
//! ```ignore
//! struct MyApp { base: String, data: std::path::PathBuf }
//! #[async_trait::async_trait]
//! impl reset_testkit::http_suite::Host for MyApp {
//!     fn base_url(&self) -> String { format!("{}/auth", self.base) }
//!     async fn create_account(&self, username: &str, email: &str) { /* insert a user */ }
//!     async fn messages_to(&self, email: &str) -> Vec<String> { /* the mails sent there */ }
//! }
//! reset_testkit::http_suite::run(&MyApp { … }).await; // panics naming the failed scenario
//! ```
//!
//! Each scenario makes its own accounts (names from a random run id), so the suite can run
//! against a database that holds other data, and more than once. It sends 13 reset requests from
//! one address, within the default per-address limit (50 per window).

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What the suite needs from the application under test.
#[async_trait]
pub trait Host: Send + Sync {
    /// Where the reset routes are mounted, without a trailing slash (e.g.
    /// `http://127.0.0.1:3000/auth`).
    fn base_url(&self) -> String;
    /// Creates an account with this username and address, with no password or any password.
    async fn create_account(&self, username: &str, email: &str);
    /// The plain-text bodies of the messages delivered to `email` so far, oldest first.
    async fn messages_to(&self, email: &str) -> Vec<String>;
    /// Whether `password` now logs `username` in through the application's own login, if the
    /// application can tell (`None`: not checked).
    async fn logs_in(&self, _username: &str, _password: &str) -> Option<bool> {
        None
    }
    /// The id the directory gives `username`'s account, for the routes that name a user by id
    /// (Zitadel's), if the application can tell (`None`: those scenarios cannot run).
    async fn account_id(&self, _username: &str) -> Option<String> {
        None
    }
}

/// A password the default policy accepts.
const STRONG: &str = "violet tractor melts quietly 42";

/// Every scenario, by name.
pub const SCENARIOS: &[&str] = &[
    "ops_routes",
    "link_flow",
    "code_flow",
    "weak_password_keeps_the_secret",
    "cancel_link",
    "unknown_accounts_answer_alike",
    "malformed_requests",
    "routing_errors",
];

/// Runs every scenario against `host`; panics naming the first that fails.
pub async fn run(host: &dyn Host) {
    for name in SCENARIOS {
        run_one(host, name).await;
    }
}

/// Runs the scenario `name` (one of [`SCENARIOS`]); panics with its name if it fails.
pub async fn run_one(host: &dyn Host, name: &str) {
    let suite = Suite::new(host);
    let outcome = match name {
        "ops_routes" => suite.ops_routes().await,
        "link_flow" => suite.link_flow().await,
        "code_flow" => suite.code_flow().await,
        "weak_password_keeps_the_secret" => suite.weak_password_keeps_the_secret().await,
        "cancel_link" => suite.cancel_link().await,
        "unknown_accounts_answer_alike" => suite.unknown_accounts_answer_alike().await,
        "malformed_requests" => suite.malformed_requests().await,
        "routing_errors" => suite.routing_errors().await,
        other => Err(format!("no such scenario: {other}")),
    };
    if let Err(why) = outcome {
        panic!("reset HTTP suite, scenario {name}: {why}");
    }
}

/// A scenario's result: `Err` says what went wrong.
pub(crate) type Outcome = Result<(), String>;

pub(crate) fn check(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok { Ok(()) } else { Err(what()) }
}

/// An answer as the suite reads it.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    content_type: String,
    allow: Option<String>,
    pub(crate) body: Value,
    text: String,
}

pub(crate) struct Suite<'a> {
    pub(crate) host: &'a dyn Host,
    base: String,
    http: reqwest::Client,
    run: String,
}

impl<'a> Suite<'a> {
    pub(crate) fn new(host: &'a dyn Host) -> Self {
        Self {
            host,
            base: host.base_url().trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            run: uuid::Uuid::new_v4().simple().to_string()[..10].to_owned(),
        }
    }

    /// A fresh account: (username, email).
    pub(crate) async fn account(&self, what: &str) -> (String, String) {
        let username = format!("{what}-{}", self.run);
        let email = format!("{username}@example.com");
        self.host.create_account(&username, &email).await;
        (username, email)
    }

    async fn send(&self, method: &str, path: &str, body: Option<String>) -> Result<Answer, String> {
        self.send_as(None, method, path, body).await
    }

    /// POSTs JSON with an `Authorization` header (an admin token).
    pub(crate) async fn post_as(
        &self,
        auth: &str,
        path: &str,
        body: Value,
    ) -> Result<Answer, String> {
        self.send_as(Some(auth), "POST", path, Some(body.to_string()))
            .await
    }

    async fn send_as(
        &self,
        auth: Option<&str>,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<Answer, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_default();
        let allow = header("allow");
        let text = response.text().await.map_err(|e| e.to_string())?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            content_type,
            allow,
            body,
            text,
        })
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> Result<Answer, String> {
        self.send("POST", path, Some(body.to_string())).await
    }

    /// Waits up to 10 s for the `n`th message to `email`.
    pub(crate) async fn message(&self, email: &str, n: usize) -> Result<String, String> {
        for _ in 0..200 {
            let messages = self.host.messages_to(email).await;
            if messages.len() >= n {
                return Ok(messages[n - 1].clone());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("message {n} to {email} never arrived"))
    }

    async fn request(&self, body: Value) -> Outcome {
        let a = self.post("/v1/password-reset/request", body).await?;
        check(a.status == StatusCode::ACCEPTED, || {
            format!("request: expected 202, got {a:?}")
        })
    }

    fn problem(a: &Answer, status: u16, code: &str) -> Outcome {
        check(
            a.status.as_u16() == status
                && a.content_type.starts_with("application/problem+json")
                && a.body["code"] == code,
            || format!("expected a {status} problem {code:?}, got {a:?}"),
        )
    }

    async fn ops_routes(&self) -> Outcome {
        for path in ["/healthz", "/readyz"] {
            let a = self.send("GET", path, None).await?;
            check(a.status == StatusCode::OK, || format!("{path}: {a:?}"))?;
        }
        let a = self.send("GET", "/openapi.json", None).await?;
        check(
            a.status == StatusCode::OK && a.body["openapi"].is_string(),
            || format!("/openapi.json: {}", a.status),
        )
    }

    async fn link_flow(&self) -> Outcome {
        let (username, email) = self.account("link").await;
        self.request(json!({"username": username})).await?;
        let token = token_in(&self.message(&email, 1).await?, "reset-password?token=")?;
        let a = self
            .post("/v1/password-reset/verify", json!({"token": token}))
            .await?;
        check(a.status == StatusCode::OK, || format!("verify: {a:?}"))?;
        let complete = json!({"token": token, "new_password": STRONG});
        let a = self
            .post("/v1/password-reset/complete", complete.clone())
            .await?;
        check(a.status == StatusCode::NO_CONTENT, || {
            format!("complete: {a:?}")
        })?;
        let again = self.post("/v1/password-reset/complete", complete).await?;
        Self::problem(&again, 400, "invalid_token")?;
        if let Some(ok) = self.host.logs_in(&username, STRONG).await {
            check(ok, || "the new password does not log in".to_owned())?;
        }
        Ok(())
    }

    async fn code_flow(&self) -> Outcome {
        let (_, email) = self.account("code").await;
        self.request(json!({"email": email, "delivery": "code"}))
            .await?;
        let message = self.message(&email, 1).await?;
        let code = code_in(&message)?;
        let a = self
            .post(
                "/v1/password-reset/verify",
                json!({"email": email, "code": code}),
            )
            .await?;
        check(a.status == StatusCode::OK, || format!("verify: {a:?}"))?;
        let a = self
            .post(
                "/v1/password-reset/complete",
                json!({"email": email, "code": code, "new_password": STRONG}),
            )
            .await?;
        check(a.status == StatusCode::NO_CONTENT, || {
            format!("complete: {a:?}")
        })
    }

    async fn weak_password_keeps_the_secret(&self) -> Outcome {
        let (username, email) = self.account("weak").await;
        self.request(json!({"username": username})).await?;
        let token = token_in(&self.message(&email, 1).await?, "reset-password?token=")?;
        let weak = self
            .post(
                "/v1/password-reset/complete",
                json!({"token": token, "new_password": "password"}),
            )
            .await?;
        Self::problem(&weak, 422, "weak_password")?;
        let a = self
            .post(
                "/v1/password-reset/complete",
                json!({"token": token, "new_password": STRONG}),
            )
            .await?;
        check(a.status == StatusCode::NO_CONTENT, || {
            format!("the secret did not survive a refused password: {a:?}")
        })
    }

    async fn cancel_link(&self) -> Outcome {
        let (username, email) = self.account("cancel").await;
        self.request(json!({"username": username})).await?;
        let message = self.message(&email, 1).await?;
        let token = token_in(&message, "reset-password?token=")?;
        let cancel = token_in(&message, "reset-password/cancel?token=")?;
        let a = self
            .post("/v1/password-reset/cancel", json!({"token": cancel}))
            .await?;
        check(a.status.is_success(), || format!("cancel: {a:?}"))?;
        let a = self
            .post(
                "/v1/password-reset/complete",
                json!({"token": token, "new_password": STRONG}),
            )
            .await?;
        Self::problem(&a, 400, "invalid_token")
    }

    async fn unknown_accounts_answer_alike(&self) -> Outcome {
        let (username, email) = self.account("alike").await;
        let unknown = format!("nobody-{}", self.run);
        for (known, other) in [
            (json!({"username": username}), json!({"username": unknown})),
            (
                json!({"email": email}),
                json!({"email": format!("{unknown}@example.com")}),
            ),
        ] {
            let a = self.post("/v1/password-reset/request", known).await?;
            let b = self.post("/v1/password-reset/request", other).await?;
            check(
                a.status == b.status && a.text == b.text && a.content_type == b.content_type,
                || format!("a known and an unknown account answered differently: {a:?} / {b:?}"),
            )?;
        }
        self.message(&email, 2).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stray = self
            .host
            .messages_to(&format!("{unknown}@example.com"))
            .await;
        check(stray.is_empty(), || {
            format!("an unknown address got {} message(s)", stray.len())
        })
    }

    async fn malformed_requests(&self) -> Outcome {
        for body in [
            "{not json".to_owned(),
            json!({"username": "x", "surprise": true}).to_string(),
            String::new(),
            json!({}).to_string(),
        ] {
            let a = self
                .send("POST", "/v1/password-reset/request", Some(body.clone()))
                .await?;
            Self::problem(&a, 400, "invalid_request").map_err(|e| format!("{body:?}: {e}"))?;
        }
        Ok(())
    }

    async fn routing_errors(&self) -> Outcome {
        let a = self.send("GET", "/v1/no-such-route", None).await?;
        Self::problem(&a, 404, "not_found")?;
        let a = self.send("GET", "/v1/password-reset/request", None).await?;
        Self::problem(&a, 405, "method_not_allowed")?;
        check(a.allow.as_deref() == Some("POST"), || {
            format!("405 without Allow: POST: {a:?}")
        })
    }
}

/// The code in a message: a word of 4 to 10 digits (punctuation around it aside). Not any run
/// of digits: a link's random token may hold one.
pub(crate) fn code_in(message: &str) -> Result<String, String> {
    message
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .find(|w| (4..=10).contains(&w.len()) && w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_owned)
        .ok_or_else(|| format!("no code in the message:\n{message}"))
}

/// The token after `marker` (`reset-password?token=`) in a message.
pub(crate) fn token_in(message: &str, marker: &str) -> Result<String, String> {
    let at = message
        .find(marker)
        .ok_or_else(|| format!("no {marker} in the message:\n{message}"))?;
    Ok(message[at + marker.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect())
}

/// Reads the `.eml` files a file transport wrote into `dir`: the plain-text bodies of those
/// addressed to `email`, oldest first. For hosts that deliver with `MailTransport::file`.
pub fn eml_messages_to(dir: &std::path::Path, email: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, path)| std::fs::read(path).ok())
        .filter_map(|raw| {
            let mail = mailparse::parse_mail(&raw).ok()?;
            let to = mail
                .headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case("to"))?
                .get_value();
            to.to_lowercase()
                .contains(&email.to_lowercase())
                .then(|| crate::process::text_part(&raw))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{code_in, token_in};

    #[test]
    fn the_code_is_a_word_of_digits_not_a_run_inside_a_token() {
        let m = "Your password reset code is: 042917\n\nIt is valid for 10 minutes.\n\
                 https://x.example/reset-password/cancel?token=ab1234567cd";
        assert_eq!(code_in(m).unwrap(), "042917");
        let m = "https://x.example/reset-password/cancel?token=1234567\nCode: 042917.";
        assert_eq!(code_in(m).unwrap(), "042917");
        assert!(code_in("no code here, 12 minutes").is_err());
    }

    #[test]
    fn tokens_end_at_the_first_character_outside_base64url() {
        let m = "Open https://x.example/auth/reset-password?token=Ab_-9z\nor cancel: \
                 https://x.example/auth/reset-password/cancel?token=C4n.";
        assert_eq!(token_in(m, "reset-password?token=").unwrap(), "Ab_-9z");
        assert_eq!(token_in(m, "reset-password/cancel?token=").unwrap(), "C4n");
        assert!(token_in("nothing", "reset-password?token=").is_err());
    }
}

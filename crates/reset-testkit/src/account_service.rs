//! A team's own account service, as `reset-http-directory` calls it: `POST /find`, `/get` and
//! `/set-password`, each signature checked (Standard Webhooks), accounts in memory. It can be
//! told to fail (500), to hang past any timeout, or be dropped to stop answering at all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use reset_mail::Signer;
use serde_json::{Value, json};

/// How the service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As its contract says.
    Normal,
    /// 500 to everything.
    Failing,
    /// Answers after 30 s.
    Hanging,
}

/// One account: id, username, email, and the last password set (scheme, value).
#[derive(Debug, Clone)]
pub struct Account {
    /// Its id.
    pub id: String,
    /// Its username.
    pub username: String,
    /// Its address.
    pub email: String,
    /// The last `set-password` call's scheme and value.
    pub password: Option<(String, String)>,
}

#[derive(Clone)]
struct Shared {
    accounts: Arc<Mutex<Vec<Account>>>,
    mode: Arc<Mutex<Mode>>,
    signer: Signer,
}

/// The service, on a loopback port, until dropped.
pub struct AccountService {
    /// Its base URL.
    pub url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AccountService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AccountService {
    /// Starts one that checks signatures with `secret`.
    pub async fn start(secret: &str) -> Self {
        let shared = Shared {
            accounts: Arc::default(),
            mode: Arc::new(Mutex::new(Mode::Normal)),
            signer: Signer::new(secret).expect("a signing secret"),
        };
        let app = axum::Router::new()
            .route("/find", post(find))
            .route("/get", post(get))
            .route("/set-password", post(set_password))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, shared, task }
    }

    /// Adds an account; returns its id.
    pub fn add(&self, username: &str, email: &str) -> String {
        let id = format!("acct-{}", uuid::Uuid::new_v4().simple());
        self.shared.accounts.lock().expect("lock").push(Account {
            id: id.clone(),
            username: username.to_owned(),
            email: email.to_owned(),
            password: None,
        });
        id
    }

    /// The account named `username`.
    pub fn account(&self, username: &str) -> Option<Account> {
        self.shared
            .accounts
            .lock()
            .expect("lock")
            .iter()
            .find(|a| a.username == username)
            .cloned()
    }

    /// From now on, answers as `mode` says.
    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().expect("lock") = mode;
    }
}

/// The signature check and the failure modes, before any call's own work.
async fn gate(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let mode = *shared.mode.lock().expect("lock");
    match mode {
        Mode::Failing => return Some(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        Mode::Hanging => tokio::time::sleep(Duration::from_secs(30)).await,
        Mode::Normal => {}
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signed = match (
        header("webhook-id"),
        header("webhook-timestamp").and_then(|t| t.parse().ok()),
        header("webhook-signature"),
    ) {
        (Some(id), Some(ts), Some(sig)) => shared.signer.verify(id, ts, body, sig),
        _ => false,
    };
    (!signed).then(|| StatusCode::UNAUTHORIZED.into_response())
}

fn json_of(a: &Account) -> Response {
    let body = json!({ "id": a.id, "username": a.username, "emails": [a.email], "locale": null, "phone": null });
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn find(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = gate(&shared, &headers, &body).await {
        return refused;
    }
    let Ok(q) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let (username, email) = (q["username"].as_str(), q["email"].as_str());
    let accounts = shared.accounts.lock().expect("lock");
    let found = accounts.iter().find(|a| {
        (username.is_some() || email.is_some())
            && username.is_none_or(|u| u.eq_ignore_ascii_case(&a.username))
            && email.is_none_or(|e| e.eq_ignore_ascii_case(&a.email))
    });
    match found {
        Some(a) => json_of(a),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn get(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = gate(&shared, &headers, &body).await {
        return refused;
    }
    let Ok(q) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let accounts = shared.accounts.lock().expect("lock");
    match accounts
        .iter()
        .find(|a| Some(a.id.as_str()) == q["id"].as_str())
    {
        Some(a) => json_of(a),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn set_password(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = gate(&shared, &headers, &body).await {
        return refused;
    }
    let Ok(q) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut accounts = shared.accounts.lock().expect("lock");
    match accounts
        .iter_mut()
        .find(|a| Some(a.id.as_str()) == q["id"].as_str())
    {
        Some(a) => {
            a.password = Some((
                q["scheme"].as_str().unwrap_or_default().to_owned(),
                q["password"].as_str().unwrap_or_default().to_owned(),
            ));
            StatusCode::NO_CONTENT.into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

//! Running the real binary in a temporary folder: commands, a server that dies with the test,
//! and JSON posts.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reset_testkit::process::wait_ready;

pub const BIN: &str = env!("CARGO_BIN_EXE_reset-server");

/// `reset-server` in `dir` with a clean environment, listening on `port`, polling the outbox
/// every 50 ms; on `database_url` when given (else the SQLite default in `dir/data`).
pub fn command(dir: &Path, database_url: Option<&str>, port: u16) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RESET_BIND", format!("127.0.0.1:{port}"))
        .env("RESET_OUTBOX_POLL_MS", "50");
    if let Some(url) = database_url {
        c.env("RESET_DATABASE_URL", url);
    }
    c
}

/// A server process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// Spawns `serve` from `command`, logging to `dir/<name>.log`, and waits for `/readyz`.
    pub async fn start(mut command: Command, dir: &Path, name: &str, port: u16) -> Self {
        let log_path = dir.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let server = Self(
            command
                .arg("serve")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let up = wait_ready(
            &reqwest::Client::new(),
            &format!("http://127.0.0.1:{port}/readyz"),
        )
        .await;
        assert!(
            up,
            "{name} did not start: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        server
    }
}

impl Server {
    /// Sends SIGTERM (asserting that `kill` could).
    pub fn sigterm(&self) {
        let pid = self.0.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Waits up to `within` for the process to exit: its status, or `None` if it still runs.
    pub async fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs `command` with `args`, asserting success; returns standard output.
pub fn run(mut command: Command, args: &[&str]) -> String {
    let out = command.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `reset-server token create` with both password scopes, as an `Authorization` value.
pub fn password_admin(command: Command) -> String {
    let token = run(
        command,
        &[
            "token",
            "create",
            "--scope",
            "password:reset",
            "--scope",
            "password:write",
        ],
    );
    format!("Bearer {}", token.trim())
}

/// `reset-server user add` for alice@example.com; returns the printed id.
pub fn add_alice(command: Command) -> String {
    run(
        command,
        &[
            "user",
            "add",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
        ],
    )
    .trim()
    .to_owned()
}

/// POSTs `body` as JSON; returns the status.
pub async fn post(base: &str, path: &str, body: serde_json::Value) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

/// Asks for alice's reset through the library, in this process, as a process without a worker
/// (a CLI command, another instance) would: its message reaches the servers' workers only
/// through the store (`LISTEN`/`NOTIFY` on PostgreSQL). Keep the service returned while waiting:
/// its store tells the other instances after the commit, from a task that ends with it.
pub async fn request_alice_in_process(
    settings: reset_server::settings::Settings,
) -> reset_core::ResetService {
    let store = reset_server::wiring::store(&settings).await.unwrap();
    let service = reset_server::wiring::service(&settings, store)
        .await
        .unwrap();
    let request = reset_core::RequestInput {
        username: Some("alice".into()),
        ..Default::default()
    };
    service
        .request(request, &reset_core::ClientContext::default())
        .await
        .unwrap();
    service.settle().await;
    service
}

/// The token of the newest reset link mailed to `email` (as `.eml` files in `mail_dir`),
/// waiting up to 5 s for it.
pub async fn mailed_token(mail_dir: &Path, email: &str) -> String {
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = reset_testkit::http_suite::eml_messages_to(mail_dir, email);
        if !mails.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reset_testkit::process::token_after(
        mails.last().expect("a mail"),
        "http://127.0.0.1:8080/reset-password?token=",
    )
}

/// Asks the server at `base` to reset alice's password (202).
pub async fn request_alice(base: &str) {
    let body = serde_json::json!({"username": "alice"});
    assert_eq!(post(base, "/v1/password-reset/request", body).await, 202);
}

/// The SQLite database of a server run in `dir` (its default `data/reset.db`).
pub async fn store_in(dir: &Path) -> reset_diesel::DieselStore {
    let url = format!("sqlite://{}", dir.join("data/reset.db").display());
    reset_diesel::DieselStore::connect(&url, reset_diesel::PoolOptions::default())
        .await
        .unwrap()
}

/// Polls `check` every 50 ms for up to `secs` seconds.
pub async fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 20 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

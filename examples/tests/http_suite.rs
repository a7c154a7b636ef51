//! The reset routes as each example application mounts them pass the HTTP conformance suite
//! through its public entry point (`reset_testkit::http_suite`), as a team would run it against
//! its own application: accounts made through the application's own table, messages read from
//! the `.eml` files its mail transport writes.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

use async_trait::async_trait;
use reset_examples::HostUsers;
use reset_testkit::http_suite::{self, Host};
use reset_testkit::process::{KillOnDrop, free_port, wait_ready};

/// One example application, started as a user would.
struct ExampleApp {
    base: String,
    data: PathBuf,
    users: HostUsers,
    _process: KillOnDrop,
}

#[async_trait]
impl Host for ExampleApp {
    fn base_url(&self) -> String {
        format!("{}/auth", self.base)
    }

    async fn create_account(&self, username: &str, email: &str) {
        self.users.add(username, email).await.unwrap();
    }

    async fn messages_to(&self, email: &str) -> Vec<String> {
        http_suite::eml_messages_to(&self.data.join("mail"), email)
    }

    async fn logs_in(&self, username: &str, password: &str) -> Option<bool> {
        let r = reqwest::Client::new()
            .post(format!("{}/login", self.base))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .ok()?;
        Some(r.status() == 200)
    }
}

async fn start(bin: &str, data: &std::path::Path) -> ExampleApp {
    let port = free_port();
    let process = Command::new(bin)
        .env("PORT", port.to_string())
        .env("DATA_DIR", data)
        .env_remove("RESET_DATABASE_URL")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        wait_ready(&reqwest::Client::new(), &format!("{base}/auth/readyz")).await,
        "{bin} did not start"
    );
    ExampleApp {
        base,
        data: data.to_owned(),
        users: HostUsers::open(&data.join("app.db")).unwrap(),
        _process: KillOnDrop(process),
    }
}

async fn passes(bin: &str) {
    let data = tempfile::tempdir().unwrap();
    let app = start(bin, data.path()).await;
    http_suite::run(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_app() {
    passes(env!("CARGO_BIN_EXE_axum-app")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_app() {
    passes(env!("CARGO_BIN_EXE_actix-app")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_app() {
    passes(env!("CARGO_BIN_EXE_warp-app")).await;
}

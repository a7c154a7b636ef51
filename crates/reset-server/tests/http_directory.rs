//! The server over a team's own account service (`RESET_DIRECTORY=http`, a real service on
//! loopback): the HTTP conformance scenarios pass with the accounts there, the new password
//! arrives as the argon2id hash the service's logins check, and with the service failing a
//! reset link is answered 503 with `Retry-After`.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use async_trait::async_trait;
use common::{Server, command};
use reset_testkit::account_service::{AccountService, Mode};
use reset_testkit::http_suite::{self, Host};
use reset_testkit::process::free_port;

const SECRET: &str = "whsec_c2VjcmV0LWZvci10aGUtYWNjb3VudC1zZXJ2aWNl";

struct OverHttp<'a> {
    base: String,
    dir: PathBuf,
    service: &'a AccountService,
}

#[async_trait]
impl Host for OverHttp<'_> {
    fn base_url(&self) -> String {
        self.base.clone()
    }

    async fn create_account(&self, username: &str, email: &str) {
        self.service.add(username, email);
    }

    async fn messages_to(&self, email: &str) -> Vec<String> {
        http_suite::eml_messages_to(&self.dir.join("data/mail"), email)
    }

    async fn logs_in(&self, username: &str, password: &str) -> Option<bool> {
        let (scheme, hash) = self.service.account(username)?.password?;
        Some(scheme == "argon2id" && reset_core::password::verify_password(password, &hash))
    }

    async fn account_id(&self, username: &str) -> Option<String> {
        Some(self.service.account(username)?.id)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_resets_passwords_through_an_account_service() {
    let service = AccountService::start(SECRET).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let over_http = |port: u16| {
        let mut c = command(dir.path(), None, port);
        c.env("RESET_DIRECTORY", "http")
            .env("RESET_HTTP_DIRECTORY_URL", &service.url)
            .env("RESET_HTTP_DIRECTORY_SECRET", SECRET)
            .env("RESET_HTTP_DIRECTORY_TIMEOUT_MS", "1000");
        c
    };
    let server = Server::start(over_http(port), dir.path(), "http-directory", port).await;
    let host = OverHttp {
        base: format!("http://127.0.0.1:{port}"),
        dir: dir.path().to_owned(),
        service: &service,
    };
    http_suite::run(&host).await;
    let admin = common::password_admin(over_http(free_port()));
    reset_testkit::dialect_suite::run(&host, &admin).await;

    // A link followed while the service fails: 503 with Retry-After, and nothing changed.
    service.add("dora", "dora@example.com");
    let http = reqwest::Client::new();
    let reply = http
        .post(format!("{}/v1/password-reset/request", host.base))
        .json(&serde_json::json!({"username": "dora"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 202);
    let token = common::mailed_token(&dir.path().join("data/mail"), "dora@example.com").await;
    service.set_mode(Mode::Failing);
    let reply = http
        .post(format!("{}/v1/password-reset/complete", host.base))
        .json(
            &serde_json::json!({"token": token, "new_password": "violet tractor melts quietly 42"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 503, "the account service fails");
    assert!(reply.headers().contains_key("retry-after"));
    assert!(service.account("dora").and_then(|a| a.password).is_none());
    drop(server);
}

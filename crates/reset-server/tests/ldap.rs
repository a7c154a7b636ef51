//! The server over an LDAP directory (`RESET_DIRECTORY=ldap`, a real slapd): the HTTP
//! conformance scenarios pass with the accounts in LDAP, a completed reset lets the user bind
//! with the new password (the suite's login check is an LDAP bind), a reset through every
//! dialect (Misskey, forgot-password, Unleash, Zitadel) does too, and with the directory down
//! a reset link is answered 503 with `Retry-After`, never "invalid".

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use async_trait::async_trait;
use common::{Server, command};
use reset_testkit::dialect_suite;
use reset_testkit::http_suite::{self, Host};
use reset_testkit::process::free_port;
use reset_testkit::slapd::{ADMIN, ADMIN_PASSWORD, BASE, Slapd};

/// `reset-server` in `dir` with its accounts in `slapd`.
fn over_ldap(dir: &Path, slapd: &Slapd, port: u16) -> Command {
    let mut c = command(dir, None, port);
    c.env("RESET_DIRECTORY", "ldap")
        .env("RESET_LDAP_URL", slapd.url())
        .env("RESET_LDAP_BIND_DN", ADMIN)
        .env("RESET_LDAP_BIND_PASSWORD", ADMIN_PASSWORD)
        .env("RESET_LDAP_BASE_DN", format!("ou=people,{BASE}"))
        .env("RESET_LDAP_TIMEOUT_SECS", "2");
    c
}

struct OverLdap<'a> {
    base: String,
    dir: PathBuf,
    slapd: &'a Slapd,
}

#[async_trait]
impl Host for OverLdap<'_> {
    fn base_url(&self) -> String {
        self.base.clone()
    }

    async fn create_account(&self, username: &str, email: &str) {
        self.slapd
            .add_person(username, email, "an initial password of no interest");
    }

    async fn messages_to(&self, email: &str) -> Vec<String> {
        http_suite::eml_messages_to(&self.dir.join("data/mail"), email)
    }

    async fn logs_in(&self, username: &str, password: &str) -> Option<bool> {
        Some(self.slapd.binds(username, password))
    }

    async fn account_id(&self, username: &str) -> Option<String> {
        Some(self.slapd.entry_uuid(username))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_resets_passwords_in_ldap() {
    let Some(slapd) = Slapd::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(
        over_ldap(dir.path(), &slapd, port),
        dir.path(),
        "ldap",
        port,
    )
    .await;
    let host = OverLdap {
        base: format!("http://127.0.0.1:{port}"),
        dir: dir.path().to_owned(),
        slapd: &slapd,
    };
    http_suite::run(&host).await;
    // An administrator's token (Zitadel's routes), made as an operator makes one.
    let admin = common::password_admin(over_ldap(dir.path(), &slapd, free_port()));
    dialect_suite::run(&host, &admin).await;
    let base = host.base.clone();
    drop(host);

    // A link mailed while the directory was up, followed while it is down: 503, and the link
    // still works once it is back.
    let http = reqwest::Client::new();
    let reply = http
        .post(format!("{base}/v1/password-reset/request"))
        .json(&serde_json::json!({"username": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 202);
    let token = common::mailed_token(&dir.path().join("data/mail"), "alice@example.com").await;
    drop(slapd);
    let reply = http
        .post(format!("{base}/v1/password-reset/complete"))
        .json(
            &serde_json::json!({"token": token, "new_password": "violet tractor melts quietly 42"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 503, "the directory is down");
    assert!(reply.headers().contains_key("retry-after"));
    drop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn user_commands_refuse_an_ldap_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), None, 0)
        .env("RESET_DIRECTORY", "ldap")
        .env("RESET_LDAP_URL", "ldap://127.0.0.1:1")
        .args(["user", "add", "--username", "x", "--email", "x@example.com"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("managed in the directory itself"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

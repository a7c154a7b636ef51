//! The binary as a user runs it: `user add`, `serve` on the defaults (SQLite in ./data, mail
//! files in ./data/mail), the README's walk-through over HTTP, then SIGTERM. And the same on
//! PostgreSQL.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};

use reset_testkit::process::{free_port, newest_mail, token_after, wait_ready};
use std::time::Duration;

mod common;
use common::{BIN, Server, add_alice, command, post, request_alice};

async fn walk_through(database_url: Option<&str>, framework: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let id = add_alice(command(dir.path(), database_url, port));
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let child = command(dir.path(), database_url, port)
        .env("RESET_FRAMEWORK", framework)
        .stderr(log)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let up = wait_ready(&http, &format!("{base}/readyz")).await;
    assert!(
        up,
        "server did not start: {}",
        std::fs::read_to_string(dir.path().join("server.log")).unwrap()
    );
    if database_url.is_none() {
        assert!(dir.path().join("data/reset.db").exists());
        assert!(dir.path().join("data/secret.key").exists());
    }

    let r = http
        .post(format!("{base}/v1/password-reset/request"))
        .header("content-type", "application/json")
        .body(r#"{"email":"alice@example.com"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let mail = newest_mail(&dir.path().join("data/mail")).await;
    let token = token_after(&mail, "http://127.0.0.1:8080/reset-password?token=");
    let token = token.as_str();

    let r = http
        .post(format!("{base}/v1/password-reset/complete"))
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"token": token, "new_password": "violet tractor melts quietly"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let out = command(dir.path(), database_url, port)
        .args(["user", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("alice@example.com"));

    // Graceful shutdown on SIGTERM, exit status 0.
    let mut server = server;
    server.sigterm();
    let status = server.wait_exit(Duration::from_secs(5)).await;
    assert!(status.is_some_and(|s| s.success()), "exit: {status:?}");

    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
    assert!(
        log.contains("listening") && log.contains(&format!("framework={framework}")),
        "{log}"
    );
    assert!(!log.contains(token), "the token must never be logged");
    assert!(
        log.contains("RESET_FORGOT_PASSWORD_HIDE_UNKNOWN=true"),
        "the revealing forgot-password default is announced: {log}"
    );
}

macro_rules! walk_through_tests {
    ($($framework:ident),*) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $framework() {
                    super::walk_through(None, stringify!($framework)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $framework() {
                    let Some(db) = reset_testkit::TestDb::postgres().await else { return };
                    super::walk_through(Some(db.url()), stringify!($framework)).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $framework() {
                    let Some(db) = reset_testkit::TestDb::mysql().await else { return };
                    super::walk_through(Some(db.url()), stringify!($framework)).await;
                }
            )*
        }
    };
}

walk_through_tests!(actix, axum, warp);

#[test]
fn help_lists_every_setting_and_its_variable() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for var in [
        "RESET_DATABASE_URL",
        "RESET_BIND",
        "RESET_SECRET_KEY",
        "RESET_MAIL_TRANSPORT",
        "RESET_MAIL_DIR",
        "RESET_PUBLIC_URL",
        "RESET_CONFIG",
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
}

#[test]
fn openapi_command_prints_the_committed_document() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    let committed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/reset.v1.json"))
            .unwrap();
    assert_eq!(out.stdout, committed);
}

#[test]
fn bad_settings_fail_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), Some("mssql://nope"), free_port())
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn flags_beat_variables_which_beat_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("reset.toml"),
        "database_url = \"sqlite://from-file.db\"\n",
    )
    .unwrap();
    let migrate = |env: Option<&str>, flag: Option<&str>| {
        let mut c = command(dir.path(), env, free_port());
        c.args(["--config", "reset.toml", "migrate"]);
        if let Some(f) = flag {
            c.args(["--database-url", f]);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    migrate(None, None);
    assert!(dir.path().join("from-file.db").exists());
    migrate(Some("sqlite://from-env.db"), None);
    assert!(dir.path().join("from-env.db").exists());
    migrate(Some("sqlite://from-env.db"), Some("sqlite://from-flag.db"));
    assert!(dir.path().join("from-flag.db").exists());
}

/// Starts the server in `dir` delivering over SMTP to `smtp_port`, with `alice` added.
async fn serve_with_smtp(dir: &Path, smtp_port: u16) -> (Server, String) {
    let port = free_port();
    let smtp = |c: &mut Command| {
        c.env("RESET_MAIL_TRANSPORT", "smtp")
            .env("RESET_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"));
    };
    let mut add = command(dir, None, port);
    smtp(&mut add);
    add_alice(add);
    let mut serve = command(dir, None, port);
    smtp(&mut serve);
    let server = Server(
        serve
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_ready(&reqwest::Client::new(), &format!("{base}/readyz")).await);
    (server, base)
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_arrives_over_smtp_and_its_link_completes_the_reset() {
    let Some(sink) = reset_testkit::process::SmtpSink::start(0).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve_with_smtp(dir.path(), sink.port).await;
    request_alice(&base).await;
    let raw = sink.wait_for(1, 10).await;
    assert_eq!(raw.len(), 1);
    let mail = mailparse::parse_mail(&raw[0]).unwrap();
    let header = |n: &str| {
        mail.headers
            .iter()
            .find(|h| h.get_key_ref().eq_ignore_ascii_case(n))
            .map(|h| h.get_value())
    };
    assert_eq!(header("To").as_deref(), Some("alice@example.com"));
    assert_eq!(header("Subject").as_deref(), Some("Reset your password"));
    assert!(header("From").is_some_and(|f| f.contains("no-reply@localhost")));
    assert!(header("Content-Type").is_some_and(|c| c.starts_with("multipart/alternative")));
    let html = reset_testkit::process::html_part(&raw[0]).expect("an HTML part");
    // minijinja escapes "/" in attributes as &#x2f;, which is valid HTML.
    assert!(
        html.contains("<a href=\"http:") && html.contains("reset-password?token="),
        "{html}"
    );
    let token = token_after(
        &reset_testkit::process::text_part(&raw[0]),
        "http://127.0.0.1:8080/reset-password?token=",
    );
    let complete =
        serde_json::json!({"token": token, "new_password": "violet tractor melts quietly"});
    assert_eq!(
        post(&base, "/v1/password-reset/complete", complete).await,
        204
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn smtp_down_at_request_time_delivers_exactly_once_when_back() {
    let Some(mut sink) = reset_testkit::process::SmtpSink::start(0).await else {
        return;
    };
    sink.stop();
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = serve_with_smtp(dir.path(), sink.port).await;
    let started = std::time::Instant::now();
    request_alice(&base).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the answer never waits for SMTP"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    sink.resume().await;
    // The worker retries after its backoff (5 s for the first retry).
    assert_eq!(sink.wait_for(1, 15).await.len(), 1);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sink.received().len(), 1, "delivered exactly once");
}

/// An SMS-only account has a phone and no address; an account with neither is refused.
#[test]
fn user_add_takes_a_phone_alone() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = command(dir.path(), None, port)
        .args(["user", "add", "--username", "sms", "--phone", "+15550100"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = command(dir.path(), None, port)
        .args(["user", "add", "--username", "nothing"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "an account needs an address or a phone"
    );
    // The same bounds on every store: a phone MySQL's column could not hold is refused here too.
    let long = format!("+{}", "1".repeat(64));
    let out = command(dir.path(), None, port)
        .args(["user", "add", "--username", "long", "--phone", &long])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`phone` must be 1 to 64 characters"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `reset-server healthcheck` (the image's health check, with no curl in it): 0 while the
/// server on RESET_BIND is ready, non-zero once it is gone.
#[tokio::test(flavor = "multi_thread")]
async fn healthcheck_follows_readyz() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server::start(command(dir.path(), None, port), dir.path(), "server", port).await;
    let check = || {
        command(dir.path(), None, port)
            .env("RESET_BIND", format!("0.0.0.0:{port}"))
            .arg("healthcheck")
            .output()
            .unwrap()
    };
    let up = check();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    drop(server);
    let down = check();
    assert!(!down.status.success());
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("cannot reach"),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}

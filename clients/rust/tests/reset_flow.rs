//! A whole reset through the generated client against a live server, started in-process from
//! the binary's own library on a fresh SQLite database with mail written to files: request,
//! read the mail file, verify, complete, and the typed `invalid_token` problem on a second
//! complete.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap_free::args;
use reset_client::Error;
use reset_client::prelude::*;
use reset_client::types::{
    CompleteBody, CompleteTokenBody, ResetRequestBody, ResetRequestBodyUsername, TokenBody,
    VerifyBody,
};

/// Command lines for `reset-server`, without reading the environment for anything but what
/// clap does itself.
mod clap_free {
    pub fn args<'a>(dir: &'a str, port: u16, rest: &[&'a str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            "reset-server".into(),
            "--data-dir".into(),
            format!("{dir}/data"),
            "--database-url".into(),
            format!("sqlite://{dir}/data/reset.db"),
            "--bind".into(),
            format!("127.0.0.1:{port}"),
            "--public-url".into(),
            format!("http://127.0.0.1:{port}"),
            "--framework".into(),
            "axum".into(),
            "--mail-transport".into(),
            "file".into(),
            "--mail-dir".into(),
            format!("{dir}/data/mail"),
        ];
        a.extend(rest.iter().map(|s| (*s).to_owned()));
        a
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The reset token in the newest mail file of `dir` not in `before`, waiting for the outbox.
async fn token_from_mail(dir: &Path, before: &[PathBuf]) -> String {
    for _ in 0..200 {
        let mut fresh: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        fresh.retain(|p| p.extension().is_some_and(|e| e == "eml") && !before.contains(p));
        for path in fresh {
            let raw = std::fs::read(&path).unwrap();
            let mail = mailparse::parse_mail(&raw).unwrap();
            let mut parts = vec![&mail];
            parts.extend(mail.subparts.iter());
            for part in parts {
                if part.ctype.mimetype != "text/plain" {
                    continue;
                }
                let text = part.get_body().unwrap();
                if let Some(at) = text.find("reset-password?token=") {
                    let token: String = text[at + "reset-password?token=".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    return token;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no reset mail in {}", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_reset_with_typed_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap().to_owned();
    let port = free_port();

    // `reset-server user add`, then `serve` (polling the outbox every 50 ms).
    let add = args(
        &dir,
        port,
        &[
            "user",
            "add",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
        ],
    );
    reset_server::run(clap::Parser::try_parse_from(add).unwrap())
        .await
        .unwrap();
    let cli: reset_server::cli::Cli =
        clap::Parser::try_parse_from(args(&dir, port, &["serve"])).unwrap();
    let mut settings = reset_server::settings::Settings::load(None, &cli.settings).unwrap();
    settings.outbox_poll_ms = 50;
    let serve = || tokio::spawn(reset_server::serve::serve(settings.clone()));
    let mut server = serve();

    let client = Client::new(&format!("http://127.0.0.1:{port}"));
    let mut last = None;
    for _ in 0..200 {
        if server.is_finished() {
            // `user add`'s connections close in the background; until then SQLite may answer
            // "database is locked" to the server's first connection. Start it again.
            let stopped = format!("{:?}", server.await);
            assert!(stopped.contains("locked"), "the server stopped: {stopped}");
            server = serve();
        }
        match client.readyz().send().await {
            Ok(_) => {
                last = None;
                break;
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(last.is_none(), "the server did not become ready: {last:?}");

    let mail_dir = PathBuf::from(&dir).join("data/mail");
    let before: Vec<PathBuf> = std::fs::read_dir(&mail_dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let requested = client
        .request_password_reset()
        .body(
            ResetRequestBody::builder()
                .username(Some("alice".parse::<ResetRequestBodyUsername>().unwrap())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(requested.status(), 202);

    let token = token_from_mail(&mail_dir, &before).await;
    assert_eq!(token.len(), 43, "{token}");

    let verified = client
        .verify_password_reset()
        .body(VerifyBody::TokenBody(TokenBody {
            token: token.clone(),
        }))
        .send()
        .await
        .unwrap();
    assert!(verified.valid);

    let complete = || {
        client
            .complete_password_reset()
            .body(CompleteBody::TokenBody(CompleteTokenBody {
                token: token.clone(),
                new_password: "violet tractor melts quietly".to_owned(),
            }))
            .send()
    };
    let done = complete().await.unwrap();
    assert_eq!(done.status(), 204);

    // The secret is used up: the second complete is a typed problem, not raw bytes.
    match complete().await {
        Err(Error::ErrorResponse(problem)) => {
            assert_eq!(problem.status(), 400);
            assert_eq!(problem.code, "invalid_token");
            assert_eq!(problem.id, "0d3b9a52-5e77-4f0a-8c1d-7e2a4b6c9f02");
        }
        other => panic!("expected the invalid_token problem, got {other:?}"),
    }
    server.abort();
}

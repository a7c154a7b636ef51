//! Each example program, started as a user would, driven through one full reset: request under
//! /auth, read the mail, complete, then log in through the application's own route.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

use reset_testkit::process::{KillOnDrop, free_port, newest_mail, token_after, wait_ready};

/// A whole reset through the example `bin`, its reset state in SQLite or in `db`.
async fn full_reset(bin: &str, db: Option<&reset_testkit::TestDb>) {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = Command::new(bin);
    command
        .env("PORT", port.to_string())
        .env("DATA_DIR", data.path())
        .stdout(Stdio::null());
    match db {
        Some(db) => command.env("RESET_DATABASE_URL", db.url()),
        None => command.env_remove("RESET_DATABASE_URL"),
    };
    let _app = KillOnDrop(command.spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    assert!(
        wait_ready(&http, &format!("{base}/auth/readyz")).await,
        "{bin} did not start"
    );

    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let new_password = "violet tractor melts quietly";
    assert_eq!(
        post(
            "/login",
            serde_json::json!({"username": "alice", "password": new_password})
        )
        .await
        .unwrap()
        .status(),
        401
    );
    let r = post(
        "/auth/v1/password-reset/request",
        serde_json::json!({"email": "alice@example.com"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 202);
    let mail = newest_mail(&data.path().join("mail")).await;
    let token = token_after(&mail, &format!("{base}/auth/reset-password?token="));
    let r = post(
        "/auth/v1/password-reset/complete",
        serde_json::json!({"token": token, "new_password": new_password}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    // The application's own login now accepts the new password, from its own table.
    assert_eq!(
        post(
            "/login",
            serde_json::json!({"username": "alice", "password": new_password})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        post(
            "/login",
            serde_json::json!({"username": "alice", "password": "wrong"})
        )
        .await
        .unwrap()
        .status(),
        401
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn axum_app() {
    full_reset(env!("CARGO_BIN_EXE_axum-app"), None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn actix_app() {
    full_reset(env!("CARGO_BIN_EXE_actix-app"), None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn warp_app() {
    full_reset(env!("CARGO_BIN_EXE_warp-app"), None).await;
}

/// The reset state in MySQL (and the accounts in the application's own SQLite file).
#[tokio::test(flavor = "multi_thread")]
async fn axum_app_on_mysql() {
    let Some(db) = reset_testkit::TestDb::mysql().await else {
        return;
    };
    full_reset(env!("CARGO_BIN_EXE_axum-app"), Some(&db)).await;
}
